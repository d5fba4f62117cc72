package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// fillPlaceholders returns cfg with what the example stack files leave to
// the user filled, as the README says to: each API client's hash (from
// scripts/gentoken) and an existing Connect instance's id.
func fillPlaceholders(tb testing.TB, cfg map[string]string) map[string]string {
	tb.Helper()
	out := maps.Clone(cfg)
	var clients []map[string]any
	if err := json.Unmarshal([]byte(cfg[key(names.ConfigAPIClients)]), &clients); err != nil {
		tb.Fatalf("apiClients: %v", err)
	}
	for i, c := range clients {
		if h, _ := c["sha256"].(string); placeholder(h) {
			c["sha256"] = token.Hash(fmt.Sprintf("example-token-%d", i))
		}
	}
	out[key(names.ConfigAPIClients)] = mustJSON(tb, clients)
	if placeholder(cfg[key(names.ConfigConnectInstanceID)]) {
		out[key(names.ConfigConnectInstanceID)] = testInstanceID
	}
	return out
}

// TestExampleStackFilesRefuseTheirPlaceholders checks point 4 on the
// example stack files as they are: the program refuses exactly their
// placeholders, before registering anything.
func TestExampleStackFilesRefuseTheirPlaceholders(t *testing.T) {
	tests := map[string][]string{
		"dev":  {"a2p-alerts:apiClients[0].sha256"},
		"prod": {"a2p-alerts:apiClients[0].sha256", "a2p-alerts:apiClients[1].sha256", "a2p-alerts:connectInstanceId"},
	}
	for stackName, want := range tests {
		t.Run(stackName, func(t *testing.T) {
			_, m, err := runProgram(t, stackName, stackFileConfig(t, stackName))
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("error = %v, want a *ConfigError", err)
			}
			var got []string
			for _, p := range cerr.Problems {
				got = append(got, p.Key)
			}
			if slices.Sort(got); !slices.Equal(got, want) {
				t.Errorf("problems at %v, want exactly the placeholders %v", got, want)
			}
			if m.count() != 0 {
				t.Errorf("the mock saw %d resources, want 0", m.count())
			}
		})
	}
}

// TestExampleStackFilesDeployOnAFreshAccount checks points 2 and 8 on the
// stack files: dev sets the account's API Gateway logging role (a fresh
// account has none, and the stage's access logs need it), and the
// LocalStack stack lets the provider read the account id the program's
// ARNs and policies use.
func TestExampleStackFilesDeployOnAFreshAccount(t *testing.T) {
	dev := fillPlaceholders(t, stackFileConfig(t, "dev"))
	if got := dev[key(names.ConfigManageAPIGatewayAccount)]; got != "true" {
		t.Errorf("Pulumi.dev.yaml %s = %q, want true", names.ConfigManageAPIGatewayAccount, got)
	}
	_, m := mustRun(t, "dev", dev)
	m.byName(t, tAccount, "api-account")

	localstack := stackFileConfig(t, "localstack")
	if v, ok := localstack["aws:skipRequestingAccountId"]; ok {
		t.Errorf("Pulumi.localstack.yaml sets aws:skipRequestingAccountId (%q); the program needs the account id", v)
	}
}
