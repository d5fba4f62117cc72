package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// stackFileConfig reads Pulumi.<stack>.yaml and returns its config as the
// engine passes it to the program: scalars as strings, structured values
// as JSON.
func stackFileConfig(tb testing.TB, stackName string) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi."+stackName+".yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		tb.Fatalf("Pulumi.%s.yaml: %v", stackName, err)
	}
	out := map[string]string{}
	for k, v := range file.Config {
		switch v := v.(type) {
		case string:
			out[k] = v
		case map[string]any, []any:
			j, err := json.Marshal(v)
			if err != nil {
				tb.Fatalf("%s: %v", k, err)
			}
			out[k] = string(j)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

func TestStackFilesBuild(t *testing.T) {
	tests := []struct {
		stack string
		check func(t *testing.T, s *Stack, m *mocks)
	}{
		{"dev", func(t *testing.T, s *Stack, m *mocks) {
			t.Helper()
			if !s.Config.CreateConnectInstance || len(m.all(tInstance)) != 1 || len(m.all(tPhoneNumber)) != 1 {
				t.Error("dev should create its Connect instance and claim a number")
			}
		}},
		{"prod", func(t *testing.T, s *Stack, m *mocks) {
			t.Helper()
			if !s.Config.Protection.Full() || !s.Config.EnableWAF {
				t.Errorf("prod: protection %q, WAF %v; want full and on", s.Config.Protection, s.Config.EnableWAF)
			}
			for _, tb := range m.all(tTable) {
				if !tb.retain {
					t.Errorf("prod table %s is not retained on delete", tb.name)
				}
			}
		}},
		{"local", func(t *testing.T, s *Stack, m *mocks) {
			t.Helper()
			if s.Config.AuthorizerCacheTTL != 0 || s.Region != mockRegion {
				t.Errorf("local: authorizer TTL %d; want 0", s.Config.AuthorizerCacheTTL)
			}
			if len(s.Config.Contacts) != 1 || s.Config.Contacts[0].ID != "C-1" {
				t.Fatalf("local contacts = %+v, want C-1", s.Config.Contacts)
			}
			for _, ch := range contact.Channels {
				if !s.Config.Contacts[0].Uses(ch) {
					t.Errorf("local C-1 does not use %s", ch)
				}
			}
			if got := len(s.Config.APIClients); got != 1 {
				t.Errorf("local has %d API clients, want 1", got)
			}
			if n := len(m.all(tTopic)); n != 2 {
				t.Errorf("local has %d topics, want 2 (sms, email)", n)
			}
		}},
		{"localstack", func(t *testing.T, s *Stack, _ *mocks) {
			t.Helper()
			if s.Voice != nil {
				t.Error("localstack uses Connect, which LocalStack does not emulate")
			}
			cfg := stackFileConfig(t, "localstack")
			var endpoints []map[string]string
			if err := json.Unmarshal([]byte(cfg["aws:endpoints"]), &endpoints); err != nil || len(endpoints) != 1 {
				t.Fatalf("aws:endpoints = %s (%v)", cfg["aws:endpoints"], err)
			}
			for _, svc := range []string{"apigateway", "cloudwatchlogs", "dynamodb", "iam", "kms", "lambda", "sns", "sts"} {
				if !strings.HasPrefix(endpoints[0][svc], "http://localhost:4566") {
					t.Errorf("aws:endpoints has no LocalStack endpoint for %s", svc)
				}
			}
			for _, k := range []string{"aws:skipCredentialsValidation", "aws:skipRequestingAccountId", "aws:s3UsePathStyle"} {
				if cfg[k] != "true" {
					t.Errorf("%s = %q, want true", k, cfg[k])
				}
			}
			if cfg["aws:accessKey"] != "test" || cfg["aws:secretKey"] != "test" {
				t.Error("localstack should use the test keys")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			cfg := stackFileConfig(t, tt.stack)
			if _, ok := cfg[key(names.ConfigContacts)]; !ok {
				t.Fatalf("Pulumi.%s.yaml has no contacts", tt.stack)
			}
			s, m := mustRun(t, tt.stack, cfg)
			tt.check(t, s, m)
		})
	}
}
