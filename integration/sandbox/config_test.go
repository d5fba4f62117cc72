package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()

	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	return path
}

func TestLoadStackConfig(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	path := writeFile(t, dir, "Pulumi.local.yaml", `
config:
  aws:region: eu-west-2
  a2p-alerts:protection: none
  a2p-alerts:enableWaf: false
  a2p-alerts:logRetentionDays: 7
  a2p-alerts:throttleRateLimit: 2.5
  a2p-alerts:contacts:
    - id: alice
      name: Dr Alice
      preferences: {H: call, M: sms}
`)

	got, err := LoadStackConfig(path)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]string{
		"aws:region":                   "eu-west-2",
		"a2p-alerts:protection":        "none",
		"a2p-alerts:enableWaf":         "false",
		"a2p-alerts:logRetentionDays":  "7",
		"a2p-alerts:throttleRateLimit": "2.5",
		"a2p-alerts:contacts":          `[{"id":"alice","name":"Dr Alice","preferences":{"H":"call","M":"sms"}}]`,
	}

	if len(got) != len(want) {
		t.Fatalf("got %d keys %v, want %d", len(got), got, len(want))
	}

	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestLoadStackConfigRefuses(t *testing.T) {
	t.Parallel()

	tests := map[string]struct{ content, want string }{
		"secret":       {"config:\n  a2p-alerts:token:\n    secure: AAABAJ==\n", "secret"},
		"no namespace": {"config:\n  region: x\n", "no namespace"},
		"not yaml":     {"config: [\n", "parse"},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			path := writeFile(t, t.TempDir(), "Pulumi.local.yaml", tt.content)
			if _, err := LoadStackConfig(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLoadStackMergesProjectDefaults(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	writeFile(t, dir, "Pulumi.yaml", `
name: a2p-alerts
runtime: go
config:
  protection:
    type: string
    default: full
  logLevel:
    default: INFO
  aws:region:
    value: us-east-1
`)
	stack := writeFile(t, dir, "Pulumi.local.yaml", "config:\n  a2p-alerts:protection: none\n  aws:region: eu-west-2\n")

	got, err := LoadStack(stack)
	if err != nil {
		t.Fatal(err)
	}

	if got.Project != "a2p-alerts" || got.Stack != "local" {
		t.Fatalf("project %q stack %q", got.Project, got.Stack)
	}

	want := map[string]string{
		"a2p-alerts:protection": "none", // the stack overrides the default
		"a2p-alerts:logLevel":   "INFO", // the project's default applies
		"aws:region":            "eu-west-2",
	}

	for k, v := range want {
		if got.Values[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Values[k], v)
		}
	}

	if _, err := LoadStack(filepath.Join(dir, "Pulumi.yaml")); err == nil {
		t.Fatal("LoadStack accepted the project file as a stack file")
	}
}
