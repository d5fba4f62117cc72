package stack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// TestUsagePlanPerClient checks point 11: API keys come from the
// authorizer, every method needs one, and each client has its own usage
// plan with its limits, linked to its own key, whose value the authorizer
// returns for it.
func TestUsagePlanPerClient(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigAPIClients)] = mustJSON(t, []map[string]any{
		{"name": "ehr", "sha256": testHash("ehr")},
		{"name": "Lab system (north)", "sha256": testHash("lab"), "rateLimit": 5, "burstLimit": "8", "dailyQuota": 0},
	})
	cfg[key(names.ConfigClientDailyQuota)] = "2000"
	_, m := mustRun(t, "prod", cfg)

	if got := m.byName(t, tRestAPI, "api").str("apiKeySource"); got != "AUTHORIZER" {
		t.Errorf("apiKeySource = %q, want AUTHORIZER", got)
	}
	if v := m.byName(t, tMethod, "api-post-notification").inputs["apiKeyRequired"]; !v.IsBool() || !v.BoolValue() {
		t.Errorf("apiKeyRequired = %v, want true", v)
	}
	stage := m.byName(t, tStage, "api-stage")
	apiID := m.byName(t, tRestAPI, "api").id
	tests := []struct {
		client, logical string
		rate, burst     float64
		quota           float64 // 0: no quota settings
	}{
		{"ehr", "ehr", DefaultThrottleRateLimit / 2, DefaultThrottleBurstLimit / 2, 2000},
		{"Lab system (north)", logicalName("Lab system (north)"), 5, 8, 0},
	}
	var env []token.Client
	if err := json.Unmarshal([]byte(functionEnv(t, m, names.FunctionAuthorizer)[names.EnvAPIClients]), &env); err != nil {
		t.Fatal(err)
	}
	if len(env) != len(tests) {
		t.Fatalf("authorizer has %d clients, want %d", len(env), len(tests))
	}
	for i, tt := range tests {
		key := m.byName(t, tAPIKey, "keys-"+tt.logical)
		plan := m.byName(t, tUsagePlan, "api-plan-"+tt.logical)
		link := m.byName(t, tUsagePlanKey, "api-plan-"+tt.logical+"-key")
		if got, want := key.str("name"), "a2p-alerts-prod-"+tt.client; got != want {
			t.Errorf("%s: key name = %q, want %q", tt.client, got, want)
		}
		if got, want := plan.str("name"), "a2p-alerts-prod-"+tt.client; got != want {
			t.Errorf("%s: plan name = %q, want %q", tt.client, got, want)
		}
		stages := plan.inputs["apiStages"].ArrayValue()
		if len(stages) != 1 || propString(stages[0].ObjectValue(), "apiId") != apiID || propString(stages[0].ObjectValue(), "stage") != stage.str("stageName") {
			t.Errorf("%s: apiStages = %v, want the API's stage", tt.client, stages)
		}
		throttle := plan.obj("throttleSettings")
		if throttle["rateLimit"].NumberValue() != tt.rate || throttle["burstLimit"].NumberValue() != tt.burst {
			t.Errorf("%s: throttle = %v, want rate %v burst %v", tt.client, throttle, tt.rate, tt.burst)
		}
		quota := plan.obj("quotaSettings")
		switch {
		case tt.quota == 0 && quota != nil:
			t.Errorf("%s: quota = %v, want none", tt.client, quota)
		case tt.quota != 0 && (quota["limit"].NumberValue() != tt.quota || propString(quota, "period") != "DAY"):
			t.Errorf("%s: quota = %v, want %v a DAY", tt.client, quota, tt.quota)
		}
		if link.str("keyId") != key.id || link.str("usagePlanId") != plan.id || link.str("keyType") != "API_KEY" {
			t.Errorf("%s: usage plan key = %v, want key %s in plan %s", tt.client, link.inputs, key.id, plan.id)
		}
		if env[i].Name != tt.client || env[i].UsageKey != key.out("value") || env[i].UsageKey == "" {
			t.Errorf("authorizer client %d = %+v, want %s with its key's value %q", i, env[i], tt.client, key.out("value"))
		}
	}
	// The key values are secrets in the state, so the authorizer's
	// environment is too.
	vars := m.byName(t, tFunction, "functions-authorizer").obj("environment")["variables"].ObjectValue()
	if !vars[names.EnvAPIClients].IsSecret() {
		t.Error("the authorizer's environment (with the key values) is not a secret")
	}
}

// TestReservedConcurrency checks point 11's optional reservations.
func TestReservedConcurrency(t *testing.T) {
	cfg := baseConfig(t)
	_, m := mustRun(t, "dev", cfg)
	for _, fn := range []string{names.FunctionAuthorizer, names.FunctionProcessor} {
		if got := m.byName(t, tFunction, "functions-"+fn).inputs["reservedConcurrentExecutions"]; !got.IsNumber() || got.NumberValue() != NoReservedConcurrency {
			t.Errorf("%s: reserved concurrency = %v by default, want %d (none)", fn, got, NoReservedConcurrency)
		}
	}
	cfg[key(names.ConfigAuthorizerReservedConcurrency)] = "20"
	cfg[key(names.ConfigProcessorReservedConcurrency)] = "10"
	_, m = mustRun(t, "dev", cfg)
	for fn, want := range map[string]float64{names.FunctionAuthorizer: 20, names.FunctionProcessor: 10} {
		if got := m.byName(t, tFunction, "functions-"+fn).inputs["reservedConcurrentExecutions"]; !got.IsNumber() || got.NumberValue() != want {
			t.Errorf("%s: reserved concurrency = %v, want %v", fn, got, want)
		}
	}
}

func TestLogicalName(t *testing.T) {
	if got := logicalName("ehr-2_b"); got != "ehr-2_b" {
		t.Errorf("a plain name became %q", got)
	}
	a, b := logicalName("lab system"), logicalName("lab-system")
	if a == b || !strings.HasPrefix(a, "lab-system-") {
		t.Errorf("logicalName(lab system) = %q, logicalName(lab-system) = %q: want distinct, readable names", a, b)
	}
}
