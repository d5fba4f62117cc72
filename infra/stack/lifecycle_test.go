package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Tests of the alert lifecycle's infrastructure (issue 11): the alerts
// table and its key, the status function and its route, least privilege,
// the alarms on alert outcomes, and the new configuration keys.

func TestAlertsTable(t *testing.T) {
	for _, tt := range []struct {
		stack, protection string
		full              bool
		window            float64
	}{{"dev", "none", false, keyDeletionWindowDev}, {"prod", "full", true, keyDeletionWindowProd}} {
		t.Run(tt.stack, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg[key(names.ConfigProtection)] = tt.protection
			cfg[key(names.ConfigAlertRetentionDays)] = "30"
			_, m := mustRun(t, tt.stack, cfg)
			tb := m.byName(t, tTable, "data-alerts")
			k := m.byName(t, tKey, "data-alerts-key")
			checks := []struct{ field, got, want string }{
				{"name", tb.str("name"), "a2p-alerts-" + tt.stack + "-alerts"},
				{"hashKey", tb.str("hashKey"), names.AttrPK},
				{"rangeKey", tb.str("rangeKey"), names.AttrSK},
				{"ttl.attributeName", propString(tb.obj("ttl"), "attributeName"), names.AttrExpiresAt},
				{"ttl.enabled", fmt.Sprint(tb.obj("ttl")["enabled"].BoolValue()), "true"},
				{"sse.enabled", fmt.Sprint(tb.obj("serverSideEncryption")["enabled"].BoolValue()), "true"},
				{"sse.kmsKeyArn", propString(tb.obj("serverSideEncryption"), "kmsKeyArn"), k.out("arn")},
				{"pitr", fmt.Sprint(tb.obj("pointInTimeRecovery")["enabled"].BoolValue()), fmt.Sprint(tt.full)},
				{"deletionProtection", fmt.Sprint(tb.inputs["deletionProtectionEnabled"].BoolValue()), fmt.Sprint(tt.full)},
				{"retainOnDelete", fmt.Sprint(tb.retain), fmt.Sprint(tt.full)},
				{"key rotation", fmt.Sprint(k.inputs["enableKeyRotation"].BoolValue()), "true"},
				{"key deletion window", fmt.Sprint(k.inputs["deletionWindowInDays"].NumberValue()), fmt.Sprint(tt.window)},
				{"key alias", m.byName(t, "aws:kms/alias:Alias", "data-alerts-key-alias").str("name"), "alias/a2p-alerts-" + tt.stack + "-alerts"},
				{"retention env", functionEnv(t, m, names.FunctionProcessor)[names.EnvAlertRetentionDays], "30"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			attrs := map[string]string{}
			for _, a := range tb.inputs["attributes"].ArrayValue() {
				attrs[a.ObjectValue()["name"].StringValue()] = a.ObjectValue()["type"].StringValue()
			}
			if want := map[string]string{names.AttrPK: "S", names.AttrSK: "S"}; !maps.Equal(attrs, want) {
				t.Errorf("attributes = %v, want %v", attrs, want)
			}
			if k.retain != tt.full {
				t.Errorf("key retainOnDelete = %v, want %v: a retained table's items are readable only while its key lives", k.retain, tt.full)
			}
		})
	}
}

// TestAlertsKeyPolicyDelegatesToIAM: the alerts key's policy grants only
// the account (so IAM policies decide); no service principal, no other
// account.
func TestAlertsKeyPolicyDelegatesToIAM(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	doc := decodePolicy(t, m.byName(t, tKey, "data-alerts-key").str("policy"))
	if len(doc.Statement) != 1 {
		t.Fatalf("key policy %+v, want one statement", doc)
	}
	st := doc.Statement[0]
	if fmt.Sprint(st.Principal) != fmt.Sprint(map[string]any{"AWS": "arn:aws:iam::" + mockAccount + ":root"}) || st.Effect != effectAllow {
		t.Errorf("key policy statement %+v, want the account root only", st)
	}
}

func TestStatusFunctionIsReadOnly(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	arn := func(typ, name string) string { return m.byName(t, typ, name).out("arn") }
	alertsKey := arn(tKey, "data-alerts-key")
	logs := arn(tLogGroup, "functions-status-logs") + ":*"
	want := map[string]bool{
		"dynamodb:Query " + arn(tTable, "data-alerts"): true,
		"kms:Decrypt " + alertsKey:                     true,
		"kms:DescribeKey " + alertsKey:                 true,
		"logs:CreateLogStream " + logs:                 true,
		"logs:PutLogEvents " + logs:                    true,
		"xray:PutTraceSegments *":                      true,
		"xray:PutTelemetryRecords *":                   true,
	}
	doc := rolePolicy(t, m, "functions-status-policy")
	if got := grants(t, doc); !maps.Equal(got, want) {
		t.Errorf("status grants %v\nwant %v", got, want)
	}
	if got, want := m.byName(t, tRolePolicy, "functions-status-policy").str("role"), m.byName(t, tRole, "roles-status").out("name"); got != want {
		t.Errorf("policy role = %q, want %q", got, want)
	}
	for _, policy := range []string{"functions-status-policy", "functions-processor-policy"} {
		for _, st := range rolePolicy(t, m, policy).Statement {
			if slices.Contains(st.Resource, alertsKey) &&
				fmt.Sprint(st.Condition) != fmt.Sprint(map[string]map[string]any{"StringEquals": {"kms:ViaService": "dynamodb." + mockRegion + ".amazonaws.com"}}) {
				t.Errorf("%s: the alerts key is usable other than through DynamoDB: %+v", policy, st.Condition)
			}
		}
	}
}

func TestStatusRoute(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	res := m.byName(t, "aws:apigateway/resource:Resource", "api-notification-message-id")
	parent := m.byName(t, "aws:apigateway/resource:Resource", "api-notification")
	method := m.byName(t, tMethod, "api-get-notification")
	integ := m.byName(t, tIntegration, "api-get-notification-integration")
	checks := []struct{ field, got, want string }{
		{"resource.pathPart", res.str("pathPart"), "{" + names.PathParamMessageID + "}"},
		{"resource.parentId", res.str("parentId"), parent.id},
		{"method.httpMethod", method.str("httpMethod"), "GET"},
		{"method.resourceId", method.str("resourceId"), res.id},
		{"method.authorization", method.str("authorization"), "CUSTOM"},
		{"method.authorizerId", method.str("authorizerId"), m.byName(t, tAuthorizer, "api-authorizer").id},
		{"method.apiKeyRequired", fmt.Sprint(method.inputs["apiKeyRequired"].BoolValue()), "true"},
		{"integration.type", integ.str("type"), "AWS_PROXY"},
		{"integration.uri", integ.str("uri"), m.byName(t, tFunction, "functions-status").out("invokeArn")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if got := m.byName(t, tTable, "data-alerts").out("name"); got == "" {
		t.Error("no alerts table name")
	}
}

// TestAuthorizedRoutesMatchTheAPI: the authorizer's Allow policy names
// names.AuthorizedRoutes; they must be exactly the routes behind it.
func TestAuthorizedRoutesMatchTheAPI(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	settings, err := newRestSettings(&APIArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if got := settings.authorizedRoutes(); !slices.Equal(got, names.AuthorizedRoutes) {
		t.Errorf("routes behind the authorizer %v, names.AuthorizedRoutes %v", got, names.AuthorizedRoutes)
	}
	custom := 0
	for _, meth := range m.all(tMethod) {
		if meth.str("authorization") == authorizationCustom {
			custom++
		}
	}
	if custom != len(names.AuthorizedRoutes) {
		t.Errorf("%d methods use the authorizer, names.AuthorizedRoutes lists %d", custom, len(names.AuthorizedRoutes))
	}
}

func TestAlertOutcomeAlarms(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	for id, outcome := range map[string]delivery.Outcome{"alerts-failed": delivery.OutcomeFailed, "alerts-unknown": delivery.OutcomeUnknown} {
		a := m.byName(t, tAlarm, "alarms-"+id)
		dims := map[string]string{}
		for k, v := range a.obj("dimensions") {
			dims[string(k)] = v.StringValue()
		}
		checks := []struct{ field, got, want string }{
			{"namespace", a.str("namespace"), "a2p-alerts-dev"},
			{"namespace = the processor's metrics", a.str("namespace"), functionEnv(t, m, names.FunctionProcessor)[names.EnvMetricsNamespace]},
			{"metricName", a.str("metricName"), names.MetricAlerts},
			{"statistic", a.str("statistic"), "Sum"},
			{"dimensions", fmt.Sprint(dims), fmt.Sprint(map[string]string{names.DimOutcome: string(outcome)})},
			{"threshold", fmt.Sprint(a.inputs["threshold"].NumberValue()), "1"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s %s = %q, want %q", id, c.field, c.got, c.want)
			}
		}
	}
	f := m.byName(t, tMetricFilter, "alarms-filter-processor-alert-not-recorded")
	if got, want := f.str("pattern"), `{ ($.level = "ERROR") && ($.msg = "`+names.LogAlertNotRecorded+`") }`; got != want {
		t.Errorf("pattern %q, want %q", got, want)
	}
}

// TestProcessorTimeoutFitsEveryChannel: the function may try every
// channel to its bound, and answers before API Gateway's 29 s.
func TestProcessorTimeoutFitsEveryChannel(t *testing.T) {
	t.Parallel()
	need := delivery.DefaultBudget.Timeout(len(contact.Channels))
	if ProcessorTimeout < need || ProcessorTimeout >= time.Duration(integrationTimeoutMS)*time.Millisecond {
		t.Errorf("processor timeout %s: want at least %s (every channel) and under the integration's %d ms", ProcessorTimeout, need, integrationTimeoutMS)
	}
}

func TestPreferenceLists(t *testing.T) {
	c := contactC1()
	c["preferences"] = map[string]any{"H": []any{"call", "sms"}, "M": "sms", "L": []any{"email"}}
	_, m := mustRun(t, "dev", baseConfig(t, c, contactC2()))
	item := decodeItem(t, m.byName(t, tTableItem, "data-contact-C-1").str("item"))
	if item["pref_H"] != "call,sms" || item["pref_M"] != "sms" || item["pref_L"] != "email" {
		t.Errorf("item preferences %v, want the ordered lists", item)
	}
	if env := functionEnv(t, m, names.FunctionProcessor); env[names.EnvFallbackOnUnknown] != "" {
		t.Errorf("%s set by default", names.EnvFallbackOnUnknown)
	}
	cfg := baseConfig(t, c, contactC2())
	cfg[key(names.ConfigFallbackOnUnknown)] = "true"
	_, m = mustRun(t, "dev", cfg)
	if env := functionEnv(t, m, names.FunctionProcessor); env[names.EnvFallbackOnUnknown] != "true" {
		t.Errorf("%s = %q, want true", names.EnvFallbackOnUnknown, env[names.EnvFallbackOnUnknown])
	}
}

func decodePolicy(tb testing.TB, s string) PolicyDocument {
	tb.Helper()
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		tb.Fatalf("policy %s: %v", s, err)
	}
	return doc
}
