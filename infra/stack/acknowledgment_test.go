package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Tests of the infrastructure of acknowledgment and escalation (issue 12).

const (
	tLambdaPermission = "aws:lambda/permission:Permission"
	escalateARN       = "arn:aws:lambda:us-east-1:123456789012:function:a2p-alerts-dev-escalate"
	schedulesARN      = "arn:aws:scheduler:us-east-1:123456789012:schedule/a2p-alerts-dev-escalation/*"
)

// TestTimersGroupAndRole: one schedule group per stack; a role only
// Scheduler may assume, for this account's schedules of that group, that
// may only invoke the escalate function; and the functions are told both.
func TestTimersGroupAndRole(t *testing.T) {
	s, m := mustRun(t, "dev", baseConfig(t))
	group := m.byName(t, tScheduleGroup, "timers-group")
	if got := group.str("name"); got != "a2p-alerts-dev-escalation" {
		t.Errorf("group name %q", got)
	}
	role := m.byName(t, tRole, "timers-role")
	var trust PolicyDocument
	if err := json.Unmarshal([]byte(role.str("assumeRolePolicy")), &trust); err != nil {
		t.Fatal(err)
	}
	st := trust.Statement[0]
	wantCond := map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": mockAccount},
		"ArnLike":      {"aws:SourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule-group/a2p-alerts-dev-escalation"},
	}
	if len(trust.Statement) != 1 || fmt.Sprint(st.Principal) != fmt.Sprint(map[string]any{"Service": "scheduler.amazonaws.com"}) ||
		fmt.Sprint(st.Condition) != fmt.Sprint(wantCond) {
		t.Errorf("trust %+v", trust)
	}
	if got := grants(t, rolePolicy(t, m, "timers-role-policy")); !maps.Equal(got, map[string]bool{"lambda:InvokeFunction " + escalateARN: true}) {
		t.Errorf("scheduler role grants %v, want only invoking the escalate function", got)
	}
	if got := m.byName(t, tFunction, "functions-escalate").out("arn"); got != escalateARN || s.Timers.EscalateARN != got {
		t.Errorf("the escalate function is %s, the timers target %s", got, s.Timers.EscalateARN)
	}
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate, names.FunctionAck} {
		env := functionEnv(t, m, fn)
		if env[names.EnvScheduleGroup] != group.str("name") || env[names.EnvEscalateFunctionARN] != escalateARN || env[names.EnvSchedulerRoleARN] != role.out("arn") {
			t.Errorf("%s scheduler env %v", fn, env)
		}
	}
}

// TestEscalationSettingsReachTheFunctions: the policies in force (with the
// fail-safe contact), the links' base and the grace.
func TestEscalationSettingsReachTheFunctions(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigEscalation)] = `{"M":"none","H":{"stages":[{"after":"2m","targets":["next-channel"]}],"unacknowledgedAfter":"4m"}}`
	cfg[key(names.ConfigAckGrace)] = "30m"
	_, m := mustRun(t, "dev", cfg)
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate} {
		env := functionEnv(t, m, fn)
		set, err := escalation.ParseSet(env[names.EnvEscalation])
		if err != nil {
			t.Fatal(err)
		}
		h := set.Policies[alert.PriorityHigh]
		if len(h.Stages) != 1 || h.Stages[0].After != 2*time.Minute || set.Policies[alert.PriorityMedium].Enabled() ||
			set.Policies[alert.PriorityLow].Enabled() || set.FailSafe != "C-2" {
			t.Errorf("%s policies %+v", fn, set)
		}
		restAPI := m.byName(t, tRestAPI, "api").id
		if got, want := env[names.EnvAckBaseURL], "https://"+restAPI+".execute-api.us-east-1.amazonaws.com/v1"; got != want {
			t.Errorf("%s links' base %q, want the stage's URL %q", fn, got, want)
		}
		if env[names.EnvAckGrace] != "30m" {
			t.Errorf("%s grace %q", fn, env[names.EnvAckGrace])
		}
	}
	cfg[key(names.ConfigAckBaseURL)] = "https://alerts.example.org/v1/"
	_, m = mustRun(t, "dev", cfg)
	if got := functionEnv(t, m, names.FunctionProcessor)[names.EnvAckBaseURL]; got != "https://alerts.example.org/v1" {
		t.Errorf("links' base %q, want ackBaseUrl", got)
	}
}

// TestNothingToAcknowledge: with every policy none, no timers exist and
// no function may set or cancel one.
func TestNothingToAcknowledge(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigEscalation)] = `{"H":"none","M":"none","L":"none"}`
	delete(cfg, key(names.ConfigFailSafeContact))
	s, m := mustRun(t, "dev", cfg)
	if s.Timers != nil || len(m.all(tScheduleGroup)) != 0 {
		t.Error("timers were created")
	}
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate, names.FunctionAck} {
		if env := functionEnv(t, m, fn); env[names.EnvScheduleGroup] != "" || env[names.EnvEscalation] != "" {
			t.Errorf("%s escalation env %v", fn, env)
		}
		for g := range grants(t, rolePolicy(t, m, "functions-"+fn+"-policy")) {
			if strings.HasPrefix(g, "scheduler:") || strings.HasPrefix(g, "iam:PassRole") {
				t.Errorf("%s may %s", fn, g)
			}
		}
	}
}

// TestAckFunctionIsLeastPrivilege: the ack function reads and writes alert
// records (and their lookups) with the alerts key through DynamoDB,
// deletes timers of the stack's group, logs and traces; nothing else: no
// publish, no call, no contacts.
func TestAckFunctionIsLeastPrivilege(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	arn := func(typ, name string) string { return m.byName(t, typ, name).out("arn") }
	alerts, key := arn(tTable, "data-alerts"), arn(tKey, "data-alerts-key")
	logs := arn(tLogGroup, "functions-ack-logs") + ":*"
	want := map[string]bool{
		"dynamodb:Query " + alerts: true, "dynamodb:GetItem " + alerts: true, "dynamodb:PutItem " + alerts: true,
		"kms:Decrypt " + key: true, "kms:Encrypt " + key: true, "kms:GenerateDataKey* " + key: true, "kms:DescribeKey " + key: true,
		"scheduler:DeleteSchedule " + schedulesARN: true,
		"logs:CreateLogStream " + logs:             true, "logs:PutLogEvents " + logs: true,
		"xray:PutTraceSegments *": true, "xray:PutTelemetryRecords *": true,
	}
	if got := grants(t, rolePolicy(t, m, "functions-ack-policy")); !maps.Equal(got, want) {
		t.Errorf("ack grants %v\nwant %v", got, want)
	}
	if got, want := m.byName(t, tRolePolicy, "functions-ack-policy").str("role"), m.byName(t, tRole, "roles-ack").out("name"); got != want {
		t.Errorf("ack policy role %q, want %q", got, want)
	}
}

// TestEscalateFunctionIsLeastPrivilege: the escalate function delivers
// like the processor, without idempotency records, and sets the next
// timer.
func TestEscalateFunctionIsLeastPrivilege(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	arn := func(typ, name string) string { return m.byName(t, typ, name).out("arn") }
	alerts, key, topicsKey := arn(tTable, "data-alerts"), arn(tKey, "data-alerts-key"), arn(tKey, "messaging-key")
	logs := arn(tLogGroup, "functions-escalate-logs") + ":*"
	want := map[string]bool{
		"dynamodb:GetItem " + arn(tTable, "data-contacts"): true,
		"dynamodb:PutItem " + alerts:                       true, "dynamodb:Query " + alerts: true,
		"kms:Decrypt " + key: true, "kms:Encrypt " + key: true, "kms:GenerateDataKey* " + key: true, "kms:DescribeKey " + key: true,
		"kms:GenerateDataKey* " + topicsKey: true, "kms:Decrypt " + topicsKey: true,
		"connect:StartOutboundVoiceContact arn:aws:connect:us-east-1:123456789012:instance/" + testInstanceID + "/contact/*": true,
		"scheduler:CreateSchedule " + schedulesARN:  true,
		"iam:PassRole " + arn(tRole, "timers-role"): true,
		"logs:CreateLogStream " + logs:              true, "logs:PutLogEvents " + logs: true,
		"xray:PutTraceSegments *": true, "xray:PutTelemetryRecords *": true,
	}
	for _, topic := range []string{"messaging-C-1-sms", "messaging-C-1-email", "messaging-C-2-sms"} {
		want["sns:Publish "+arn(tTopic, topic)] = true
	}
	if got := grants(t, rolePolicy(t, m, "functions-escalate-policy")); !maps.Equal(got, want) {
		t.Errorf("escalate grants %v\nwant %v", got, want)
	}
}

// TestAckRoutes: POST /notification/{message_id}/ack behind the
// authorizer and an API key; GET and POST /ack/{token} without either
// (the token is the credential), throttled; all proxied to the ack
// function.
func TestAckRoutes(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	ackFn := m.byName(t, tFunction, "functions-ack")
	res := func(name string) record { return m.byName(t, tResource, name) }
	ack := res("api-notification-ack")
	if ack.str("pathPart") != "ack" || ack.str("parentId") != res("api-notification-message-id").id {
		t.Errorf("ack resource %v", ack.inputs)
	}
	post := m.byName(t, tMethod, "api-post-ack")
	if post.str("httpMethod") != "POST" || post.str("authorization") != authorizationCustom ||
		post.str("authorizerId") != m.byName(t, tAuthorizer, "api-authorizer").id || !post.inputs["apiKeyRequired"].BoolValue() ||
		post.str("resourceId") != ack.id {
		t.Errorf("POST ack method %v", post.inputs)
	}
	link, token := res("api-ack"), res("api-ack-token")
	if link.str("pathPart") != "ack" || link.str("parentId") != m.byName(t, tRestAPI, "api").out("rootResourceId") ||
		token.str("pathPart") != "{token}" || token.str("parentId") != link.id {
		t.Errorf("link resources %v %v", link.inputs, token.inputs)
	}
	for _, meth := range []string{"GET", "POST"} {
		lm := m.byName(t, tMethod, "api-"+strings.ToLower(meth)+"-ack-link")
		if lm.str("httpMethod") != meth || lm.str("authorization") != "NONE" || lm.str("authorizerId") != "" ||
			lm.inputs["apiKeyRequired"].BoolValue() || lm.str("resourceId") != token.id {
			t.Errorf("%s /ack/{token} %v: want no authorizer and no API key", meth, lm.inputs)
		}
		throttle := m.byName(t, tSettings, "api-"+strings.ToLower(meth)+"-ack-link-throttle")
		st := throttle.obj("settings")
		if throttle.str("methodPath") != "ack/{token}/"+meth || st["throttlingRateLimit"].NumberValue() != linkRateLimit ||
			st["throttlingBurstLimit"].NumberValue() != linkBurstLimit {
			t.Errorf("%s throttle %v", meth, throttle.inputs)
		}
	}
	for _, integ := range []string{"api-post-ack-integration", "api-get-ack-link-integration", "api-post-ack-link-integration"} {
		if i := m.byName(t, tIntegration, integ); i.str("uri") != ackFn.out("invokeArn") || i.str("type") != "AWS_PROXY" {
			t.Errorf("%s %v", integ, i.inputs)
		}
	}
}

// TestConnectInvokesTheAckFunction: the ack function is associated with
// the instance, and only this instance of this account may invoke it.
func TestConnectInvokesTheAckFunction(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	ackFn := m.byName(t, tFunction, "functions-ack")
	assoc := m.byName(t, tLambdaAssociation, "voice-ack-association")
	if assoc.str("instanceId") != testInstanceID || assoc.str("functionArn") != ackFn.out("arn") {
		t.Errorf("association %v", assoc.inputs)
	}
	p := m.byName(t, tLambdaPermission, "voice-ack-invoke-by-connect")
	want := map[string]string{
		"function": ackFn.out("name"), "principal": "connect.amazonaws.com", "action": "lambda:InvokeFunction",
		"sourceArn": "arn:aws:connect:us-east-1:123456789012:instance/" + testInstanceID, "sourceAccount": mockAccount,
	}
	for k, v := range want {
		if got := p.str(k); got != v {
			t.Errorf("permission %s = %q, want %q", k, got, v)
		}
	}
	if len(m.all(tLambdaAssociation)) != 1 {
		t.Error("want one association")
	}
}

// TestTwoWaySMS: with twoWaySms, a replies' topic (encrypted with the
// stack's key, which End User Messaging of this account may use) that only
// End User Messaging of this account may publish to, and the ack function
// subscribed to it, invocable by that topic only. Without it, none.
func TestTwoWaySMS(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	if len(m.all(tLambdaPermission)) != 1+6 || m.names(tTopic)[0] == "messaging-sms-replies" {
		t.Errorf("without twoWaySms: %v", m.names(tLambdaPermission))
	}
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate} {
		if v, ok := functionEnv(t, m, fn)[names.EnvAckReplyCodes]; ok {
			t.Errorf("without twoWaySms, %s's SMS would carry reply codes (%q) nobody can reply with", fn, v)
		}
	}
	cfg := baseConfig(t)
	cfg[key(names.ConfigTwoWaySMS)] = "true"
	_, m = mustRun(t, "dev", cfg)
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate} {
		if v := functionEnv(t, m, fn)[names.EnvAckReplyCodes]; v != "true" {
			t.Errorf("with twoWaySms, %s's %s is %q, want true", fn, names.EnvAckReplyCodes, v)
		}
	}
	topic := m.byName(t, tTopic, "messaging-sms-replies")
	if topic.str("name") != "a2p-alerts-dev-sms-replies" || topic.str("kmsMasterKeyId") != m.byName(t, tKey, "messaging-key").out("arn") {
		t.Errorf("replies topic %v", topic.inputs)
	}
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(m.byName(t, tTopicPolicy, "messaging-sms-replies-policy").str("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	var publish *Statement
	for i, st := range doc.Statement {
		if slices.Contains(st.Action, "sns:Publish") {
			publish = &doc.Statement[i]
		}
	}
	if publish == nil || publish.Effect != effectAllow || fmt.Sprint(publish.Principal) != fmt.Sprint(map[string]any{"Service": "sms-voice.amazonaws.com"}) ||
		fmt.Sprint(publish.Condition) != fmt.Sprint(map[string]map[string]any{"StringEquals": {"aws:SourceAccount": mockAccount}}) {
		t.Errorf("replies topic publish statement %+v", publish)
	}
	ackFn := m.byName(t, tFunction, "functions-ack")
	sub := m.byName(t, tSubscription, "functions-ack-sms-replies")
	if sub.str("protocol") != "lambda" || sub.str("endpoint") != ackFn.out("arn") || sub.str("topic") != topic.out("arn") {
		t.Errorf("subscription %v", sub.inputs)
	}
	p := m.byName(t, tLambdaPermission, "functions-ack-invoke-sms-replies")
	if p.str("principal") != "sns.amazonaws.com" || p.str("sourceArn") != topic.out("arn") || p.str("function") != ackFn.out("name") {
		t.Errorf("permission %v", p.inputs)
	}
	keyDoc := decodePolicy(t, m.byName(t, tKey, "messaging-key").str("policy"))
	if !slices.ContainsFunc(keyDoc.Statement, func(st Statement) bool {
		return st.Sid == "SMSRepliesOfThisAccount" && fmt.Sprint(st.Condition) == fmt.Sprint(map[string]map[string]any{"StringEquals": {"aws:SourceAccount": mockAccount}})
	}) {
		t.Errorf("the key does not let End User Messaging of this account encrypt replies: %+v", keyDoc.Statement)
	}
}

// TestEscalationAlarms: the unacknowledged alarm watches the escalate
// function's metric without dimension; the timer alarm counts the
// processor's and the escalate function's timer-not-set lines, whose
// filter matches the line they write.
func TestEscalationAlarms(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	un := m.byName(t, tAlarm, "alarms-alerts-unacknowledged")
	if un.str("metricName") != names.MetricUnacknowledged || un.str("namespace") != "a2p-alerts-dev" || len(un.obj("dimensions")) != 0 {
		t.Errorf("alerts-unacknowledged %v", un.inputs)
	}
	for _, fn := range []string{names.FunctionProcessor, names.FunctionEscalate} {
		f := m.byName(t, tMetricFilter, "alarms-filter-"+fn+"-timer-not-set")
		if f.str("logGroupName") != "/aws/lambda/a2p-alerts-dev-"+fn || !strings.Contains(f.str("pattern"), names.LogTimerNotSet) {
			t.Errorf("%s timer filter %v", fn, f.inputs)
		}
		mt := f.obj("metricTransformation")
		if propString(mt, "name") != m.byName(t, tAlarm, "alarms-escalation-timer-not-set").str("metricName") {
			t.Errorf("%s filter feeds %s, not the alarm's metric", fn, propString(mt, "name"))
		}
	}
}

// TestEscalationConfig checks the escalation keys' validation.
func TestEscalationConfig(t *testing.T) {
	stage := `{"stages":[{"after":"%s","targets":["next-channel"]}],"unacknowledgedAfter":"%s"}`
	tests := []struct {
		name string
		cfg  map[string]string
		want string // "" when valid
	}{
		{"seconds on a test stack", map[string]string{names.ConfigTestStack: "true", names.ConfigEscalation: `{"H":` + fmt.Sprintf(stage, "2s", "4s") + `}`, names.ConfigAckGrace: "5s"}, ""},
		{"seconds elsewhere", map[string]string{names.ConfigEscalation: `{"H":` + fmt.Sprintf(stage, "30s", "5m") + `}`}, "a2p-alerts:escalation.H.stages[0].after"},
		{"a grace in seconds elsewhere", map[string]string{names.ConfigAckGrace: "90s"}, "a2p-alerts:ackGrace"},
		{"a test stack with full protection", map[string]string{names.ConfigTestStack: "true", names.ConfigProtection: "full"}, "a2p-alerts:testStack"},
		{"no fail-safe contact", map[string]string{names.ConfigFailSafeContact: ""}, "a2p-alerts:failSafeContact"},
		{"an unknown fail-safe contact", map[string]string{names.ConfigFailSafeContact: "C-9"}, "a2p-alerts:failSafeContact"},
		{"an unknown contact target", map[string]string{names.ConfigEscalation: `{"M":{"stages":[{"after":"5m","targets":["contact:C-9"]}],"unacknowledgedAfter":"10m"}}`}, "a2p-alerts:escalation.M.stages[0].targets[0]"},
		{"an unknown target", map[string]string{names.ConfigEscalation: `{"M":{"stages":[{"after":"5m","targets":["pager"]}],"unacknowledgedAfter":"10m"}}`}, "a2p-alerts:escalation.M.stages[0].targets[0]"},
		{"an unknown priority", map[string]string{names.ConfigEscalation: `{"X":"none"}`}, "a2p-alerts:escalation.X"},
		{"a duration that is no duration", map[string]string{names.ConfigEscalation: `{"H":` + fmt.Sprintf(stage, "soon", "5m") + `}`}, "a2p-alerts:escalation.H.stages[0].after"},
		{"an unknown field", map[string]string{names.ConfigEscalation: `{"H":{"stage":[]}}`}, "a2p-alerts:escalation.H.stage"},
		{"an http link base", map[string]string{names.ConfigAckBaseURL: "http://alerts.example.org/v1"}, "a2p-alerts:ackBaseUrl"},
		{"an http link base on a test stack", map[string]string{names.ConfigTestStack: "true", names.ConfigAckBaseURL: "http://localhost:4566/v1"}, ""},
		{"a link base with a query", map[string]string{names.ConfigAckBaseURL: "https://alerts.example.org/v1?x=1"}, "a2p-alerts:ackBaseUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			for k, v := range tt.cfg {
				if v == "" {
					delete(cfg, key(k))
				} else {
					cfg[key(k)] = v
				}
			}
			_, m, err := runProgram(t, "dev", cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want+":")):
				t.Errorf("error %v, want a problem at %s", err, tt.want)
			case tt.want != "" && m.count() != 0:
				t.Errorf("%d resources registered before the refusal", m.count())
			}
		})
	}
}

// TestSecondaryContacts: a contact's secondary must be another configured
// contact; it is written to the contact's item.
func TestSecondaryContacts(t *testing.T) {
	c1 := contactC1()
	c1["secondary"] = "C-2"
	_, m := mustRun(t, "dev", baseConfig(t, c1, contactC2()))
	if got := decodeItem(t, m.byName(t, tTableItem, "data-contact-C-1").str("item"))[names.AttrSecondary]; got != "C-2" {
		t.Errorf("C-1's item secondary %q", got)
	}
	for _, bad := range []string{"C-1", "C-7"} {
		c1["secondary"] = bad
		if _, _, err := runProgram(t, "dev", baseConfig(t, c1, contactC2())); err == nil || !strings.Contains(err.Error(), "contacts[0].secondary") {
			t.Errorf("secondary %s: %v", bad, err)
		}
	}
}

// TestStackOutputs: the new functions, the timers' group, the replies'
// topic and the links' base are stack outputs.
func TestStackOutputs(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigTwoWaySMS)] = "true"
	s, _ := mustRun(t, "dev", cfg)
	if s.Functions.Ack == nil || s.Functions.Escalate == nil || s.Timers == nil || s.Messaging.InboundSMSTopic == nil {
		t.Fatal("the stack lacks a part of issue 12")
	}
}
