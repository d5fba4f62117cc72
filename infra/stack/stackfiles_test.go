package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// stackFileConfig reads Pulumi.<stack>.yaml (and Pulumi.yaml) with
// LoadFile and returns its config as the engine passes it.
func stackFileConfig(tb testing.TB, stackName string) map[string]string {
	tb.Helper()
	sf, err := LoadFile(filepath.Join(repoRoot, "Pulumi."+stackName+".yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if sf.Stack != stackName || sf.Project != "a2p-alerts" {
		tb.Fatalf("Pulumi.%s.yaml loaded as project %q stack %q", stackName, sf.Project, sf.Stack)
	}
	return sf.Config
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
			if len(s.Config.Contacts) != 5 || s.Config.Contacts[0].ID != "C-1" || s.Config.Contacts[1].ID != "C-2" {
				t.Fatalf("local contacts = %+v, want C-1 to C-5", s.Config.Contacts)
			}
			// A test stack whose windows are seconds; C-3 escalates to its
			// registrar C-4 and to the fail-safe C-5.
			if !s.Config.TestStack || s.Config.Escalation[alert.PriorityHigh].Stages[0].After != 5*time.Second ||
				s.Config.Contacts[2].Secondary != "C-4" || s.Config.FailSafeContact != "C-5" {
				t.Errorf("local escalation %+v, fail-safe %q", s.Config.Escalation, s.Config.FailSafeContact)
			}
			// C-2 shows the fallback: its call (to a number the Connect
			// stub refuses) falls back to the SMS.
			if got := s.Config.Contacts[1].Preferences[alert.PriorityHigh]; !slices.Equal(got, []contact.Channel{contact.ChannelCall, contact.ChannelSMS}) {
				t.Errorf("local C-2 H = %v, want [call sms]", got)
			}
			for _, ch := range contact.Channels {
				if !s.Config.Contacts[0].Uses(ch) {
					t.Errorf("local C-1 does not use %s", ch)
				}
			}
			if got := len(s.Config.APIClients); got != 1 {
				t.Errorf("local has %d API clients, want 1", got)
			}
			if n := len(contactTopicNames(m)); n != 9 {
				t.Errorf("local has %d contact topics, want 9 (the sms and email each contact uses)", n)
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
			for _, k := range []string{"aws:skipCredentialsValidation", "aws:s3UsePathStyle"} {
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
			cfg := fillPlaceholders(t, stackFileConfig(t, tt.stack))
			if _, ok := cfg[key(names.ConfigContacts)]; !ok {
				t.Fatalf("Pulumi.%s.yaml has no contacts", tt.stack)
			}
			s, m := mustRun(t, tt.stack, cfg)
			tt.check(t, s, m)
		})
	}
}

func writeStackFiles(t *testing.T, project, stackFile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(project), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Pulumi.local.yaml")
	if err := os.WriteFile(path, []byte(stackFile), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadStackFile(t *testing.T) {
	t.Parallel()
	path := writeStackFiles(t, `
name: a2p-alerts
config:
  protection:
    type: string
    default: full
  logLevel:
    default: INFO
  aws:region:
    value: us-east-1
`, `
config:
  aws:region: eu-west-2
  a2p-alerts:protection: none
  a2p-alerts:enableWaf: false
  a2p-alerts:logRetentionDays: 7
  a2p-alerts:throttleRateLimit: 2.5
  a2p-alerts:contacts:
    - id: alice
      preferences: {H: call, M: sms}
`)
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Project != "a2p-alerts" || got.Stack != "local" || got.Key("x") != "a2p-alerts:x" {
		t.Fatalf("project %q stack %q", got.Project, got.Stack)
	}
	want := map[string]string{
		"aws:region":                   "eu-west-2", // the stack overrides the project's value
		"a2p-alerts:protection":        "none",      // and its default
		"a2p-alerts:logLevel":          "INFO",      // the project's default applies
		"a2p-alerts:enableWaf":         "false",
		"a2p-alerts:logRetentionDays":  "7",
		"a2p-alerts:throttleRateLimit": "2.5",
		"a2p-alerts:contacts":          `[{"id":"alice","preferences":{"H":"call","M":"sms"}}]`,
	}
	if len(got.Config) != len(want) {
		t.Errorf("got %d keys %v, want %d", len(got.Config), got.Config, len(want))
	}
	for k, v := range want {
		if got.Config[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Config[k], v)
		}
	}
}

func TestLoadStackFileRefuses(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ stackFile, want string }{
		"secret":       {"config:\n  a2p-alerts:token:\n    secure: AAABAJ==\n", "secret"},
		"no namespace": {"config:\n  region: x\n", "no namespace"},
		"not yaml":     {"config: [\n", "parse"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeStackFiles(t, "name: a2p-alerts\n", tt.stackFile)
			if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := LoadFile(filepath.Join(repoRoot, "Pulumi.yaml")); err == nil {
		t.Error("LoadFile accepted the project file as a stack file")
	}
}
