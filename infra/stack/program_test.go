package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Resource type tokens the tests look up.
const (
	tTopic        = "aws:sns/topic:Topic"
	tSubscription = "aws:sns/topicSubscription:TopicSubscription"
	tTopicPolicy  = "aws:sns/topicPolicy:TopicPolicy"
	tTable        = "aws:dynamodb/table:Table"
	tTableItem    = "aws:dynamodb/tableItem:TableItem"
	tFunction     = "aws:lambda/function:Function"
	tPermission   = "aws:lambda/permission:Permission"
	tRole         = "aws:iam/role:Role"
	tRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	tLogGroup     = "aws:cloudwatch/logGroup:LogGroup"
	tKey          = "aws:kms/key:Key"
	tStage        = "aws:apigateway/stage:Stage"
	tMethod       = "aws:apigateway/method:Method"
	tAuthorizer   = "aws:apigateway/authorizer:Authorizer"
	tValidator    = "aws:apigateway/requestValidator:RequestValidator"
	tModel        = "aws:apigateway/model:Model"
	tIntegration  = "aws:apigateway/integration:Integration"
	tDeployment   = "aws:apigateway/deployment:Deployment"
	tSettings     = "aws:apigateway/methodSettings:MethodSettings"
	tAccount      = "aws:apigateway/account:Account"
	tContactFlow  = "aws:connect/contactFlow:ContactFlow"
	tInstance     = "aws:connect/instance:Instance"
	tPhoneNumber  = "aws:connect/phoneNumber:PhoneNumber"
	tWebACL       = "aws:wafv2/webAcl:WebAcl"
	tWebACLAssoc  = "aws:wafv2/webAclAssociation:WebAclAssociation"
	tAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tMetricFilter = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
	// Types of the asynchronous path (issue 13).
	tEventBus    = "aws:cloudwatch/eventBus:EventBus"
	tEventRule   = "aws:cloudwatch/eventRule:EventRule"
	tEventTarget = "aws:cloudwatch/eventTarget:EventTarget"
	tQueue       = "aws:sqs/queue:Queue"
	tQueuePolicy = "aws:sqs/queuePolicy:QueuePolicy"
	tMapping     = "aws:lambda/eventSourceMapping:EventSourceMapping"
	// Issue 12.
	tScheduleGroup     = "aws:scheduler/scheduleGroup:ScheduleGroup"
	tLambdaAssociation = "aws:connect/lambdaFunctionAssociation:LambdaFunctionAssociation"
)

const testInstanceID = "11111111-2222-3333-4444-555555555555"

// contactC1 uses all three channels; contactC2 texts only.
func contactC1() map[string]any {
	return map[string]any{
		"id": "C-1", "name": "Dr One",
		"callPhone": "+15555550100", "smsPhone": "+15555550101", "email": "c-1@example.org",
		"preferences": map[string]any{"H": "call", "M": "sms", "L": "email"},
	}
}

func contactC2() map[string]any {
	return map[string]any{
		"id": "C-2", "name": "Dr Two", "smsPhone": "+15555550102",
		"preferences": map[string]any{"H": "sms", "M": "sms", "L": "sms"},
	}
}

// baseConfig is a valid configuration: two contacts (all three channels
// between them), one client, an existing Connect instance.
func baseConfig(tb testing.TB, contacts ...map[string]any) map[string]string {
	tb.Helper()
	if contacts == nil {
		contacts = []map[string]any{contactC1(), contactC2()}
	}
	return map[string]string{
		key(names.ConfigContacts):          mustJSON(tb, contacts),
		key(names.ConfigAPIClients):        mustJSON(tb, []map[string]any{{"name": "ehr", "sha256": testHash("ehr")}}),
		key(names.ConfigConnectInstanceID): testInstanceID,
		key(names.ConfigSourcePhoneNumber): "+15555550199",
		key(names.ConfigPHIDetectors):      mustJSON(tb, []string{"nhs_number"}),
		// The default escalation policies reach a fail-safe contact.
		key(names.ConfigFailSafeContact): fmt.Sprint(contacts[len(contacts)-1]["id"]),
	}
}

func TestInventoryFollowsChannelsInUse(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))

	// Topics exist exactly where some priority uses the channel.
	gotTopics := contactTopicNames(m)
	sort.Strings(gotTopics)
	wantTopics := []string{"messaging-C-1-email", "messaging-C-1-sms", "messaging-C-2-sms"}
	if !slices.Equal(gotTopics, wantTopics) {
		t.Errorf("topics = %v, want %v", gotTopics, wantTopics)
	}
	wantSubs := map[string][2]string{
		"messaging-C-1-sms-subscription":   {"sms", "+15555550101"},
		"messaging-C-1-email-subscription": {"email", "c-1@example.org"},
		"messaging-C-2-sms-subscription":   {"sms", "+15555550102"},
	}
	subs := m.all(tSubscription)
	if len(subs) != len(wantSubs) {
		t.Errorf("got %d subscriptions %v, want %d", len(subs), m.names(tSubscription), len(wantSubs))
	}
	for name, want := range wantSubs {
		s := m.byName(t, tSubscription, name)
		topic := m.byName(t, tTopic, strings.TrimSuffix(name, "-subscription"))
		if got := [2]string{s.str("protocol"), s.str("endpoint")}; got != want {
			t.Errorf("%s: protocol, endpoint = %v, want %v", name, got, want)
		}
		if got, want := s.str("topic"), topic.out("arn"); got != want {
			t.Errorf("%s: topic = %q, want %q", name, got, want)
		}
	}
	if got, want := len(m.all(tTopicPolicy)), 3+1; got != want { // and the operations topic's
		t.Errorf("got %d topic policies, want %d", got, want)
	}
	// Every topic is encrypted with the key.
	keyARN := m.byName(t, tKey, "messaging-key").out("arn")
	for _, topic := range m.all(tTopic) {
		if got := topic.str("kmsMasterKeyId"); got != keyARN {
			t.Errorf("%s: kmsMasterKeyId = %q, want %q", topic.name, got, keyARN)
		}
	}

	// One item per contact, with the created topics' ARNs.
	items := m.all(tTableItem)
	if got, want := len(items), 2; got != want {
		t.Fatalf("got %d items, want %d", got, want)
	}
	topicARN := func(name string) string { return m.byName(t, tTopic, name).out("arn") }
	wantItems := map[string]map[string]string{
		"data-contact-C-1": {
			names.AttrContactID: "C-1", names.AttrContactName: "Dr One",
			"pref_H": "call", "pref_M": "sms", "pref_L": "email",
			names.AttrCallPhone:     "+15555550100",
			names.AttrSMSTopicARN:   topicARN("messaging-C-1-sms"),
			names.AttrEmailTopicARN: topicARN("messaging-C-1-email"),
			// SMS replies are matched on the number the SMS went to.
			names.AttrSMSPhone: "+15555550101",
		},
		"data-contact-C-2": {
			names.AttrContactID: "C-2", names.AttrContactName: "Dr Two",
			"pref_H": "sms", "pref_M": "sms", "pref_L": "sms",
			names.AttrSMSTopicARN: topicARN("messaging-C-2-sms"),
			names.AttrSMSPhone:    "+15555550102",
		},
	}
	contacts := m.byName(t, tTable, "data-contacts")
	for name, want := range wantItems {
		it := m.byName(t, tTableItem, name)
		if got := decodeItem(t, it.str("item")); !maps.Equal(got, want) {
			t.Errorf("%s: item = %v, want %v", name, got, want)
		}
		if got, want := it.str("tableName"), contacts.out("name"); got != want {
			t.Errorf("%s: tableName = %q, want %q", name, got, want)
		}
		if got, want := it.str("hashKey"), names.AttrContactID; got != want {
			t.Errorf("%s: hashKey = %q, want %q", name, got, want)
		}
	}

	// Calls are used: the flow exists, on the configured instance, and no
	// instance or number is created.
	flow := m.byName(t, tContactFlow, "voice-contact-flow")
	if got := flow.str("instanceId"); got != testInstanceID {
		t.Errorf("contact flow instanceId = %q, want %q", got, testInstanceID)
	}
	if n := len(m.all(tInstance)) + len(m.all(tPhoneNumber)); n != 0 {
		t.Errorf("created %d Connect instances/numbers, want none", n)
	}
}

func TestUnusedChannelsYieldNothing(t *testing.T) {
	cfg := baseConfig(t, contactC2()) // texts only: no call, no email
	delete(cfg, key(names.ConfigConnectInstanceID))
	delete(cfg, key(names.ConfigSourcePhoneNumber))
	s, m := mustRun(t, "dev", cfg)

	if got, want := contactTopicNames(m), []string{"messaging-C-2-sms"}; !slices.Equal(got, want) {
		t.Errorf("topics = %v, want %v", got, want)
	}
	if got, want := len(m.all(tSubscription)), 1; got != want {
		t.Errorf("got %d subscriptions, want %d", got, want)
	}
	for _, typ := range []string{tContactFlow, tInstance, tPhoneNumber} {
		if got := m.all(typ); len(got) != 0 {
			t.Errorf("got %d %s, want none", len(got), typ)
		}
	}
	if s.Voice != nil {
		t.Error("Stack.Voice is set, want nil when nobody is called")
	}
	env := functionEnv(t, m, names.FunctionProcessor)
	for _, k := range []string{names.EnvConnectInstanceID, names.EnvConnectContactFlowID, names.EnvConnectSourcePhone} {
		if _, ok := env[k]; ok {
			t.Errorf("processor env has %s without calls", k)
		}
	}
	doc := rolePolicy(t, m, "functions-processor-policy")
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "connect:") {
				t.Errorf("processor policy grants %s without calls", a)
			}
		}
	}
}

func TestCreatesConnectInstanceAndClaimsNumber(t *testing.T) {
	cfg := baseConfig(t)
	withCreatedInstance(cfg, "US")
	_, m := mustRun(t, "dev", cfg)

	inst := m.byName(t, tInstance, "voice-instance")
	if got := inst.inputs["outboundCallsEnabled"]; !got.IsBool() || !got.BoolValue() {
		t.Errorf("outboundCallsEnabled = %v, want true", got)
	}
	if got := inst.inputs["inboundCallsEnabled"]; !got.IsBool() || got.BoolValue() {
		t.Errorf("inboundCallsEnabled = %v, want false", got)
	}
	if got, want := inst.str("identityManagementType"), "CONNECT_MANAGED"; got != want {
		t.Errorf("identityManagementType = %q, want %q", got, want)
	}
	num := m.byName(t, tPhoneNumber, "voice-phone-number")
	if got, want := [3]string{num.str("countryCode"), num.str("type"), num.str("targetArn")}, [3]string{"US", "DID", inst.out("arn")}; got != want {
		t.Errorf("phone number (country, type, target) = %v, want %v", got, want)
	}
	flow := m.byName(t, tContactFlow, "voice-contact-flow")
	if got, want := flow.str("instanceId"), inst.id; got != want {
		t.Errorf("flow instanceId = %q, want %q", got, want)
	}
	env := functionEnv(t, m, names.FunctionProcessor)
	if got, want := env[names.EnvConnectSourcePhone], num.out("phoneNumber"); got != want {
		t.Errorf("%s = %q, want claimed %q", names.EnvConnectSourcePhone, got, want)
	}
	if got, want := env[names.EnvConnectInstanceID], inst.id; got != want {
		t.Errorf("%s = %q, want %q", names.EnvConnectInstanceID, got, want)
	}
}

func TestContactFlowContent(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigVoice)] = "Amy"
	_, m := mustRun(t, "dev", cfg)
	flow := m.byName(t, tContactFlow, "voice-contact-flow")
	if got, want := flow.str("type"), "CONTACT_FLOW"; got != want {
		t.Errorf("type = %q, want %q", got, want)
	}
	var content ContactFlow
	if err := json.Unmarshal([]byte(flow.str("content")), &content); err != nil {
		t.Fatalf("content is not JSON: %v", err)
	}
	byID := map[string]FlowAction{}
	for _, a := range content.Actions {
		byID[a.Identifier] = a
	}
	// follow takes, from each action, the branch pick chooses.
	follow := func(pick func(FlowAction) string) []string {
		var types []string
		for id := content.StartAction; id != ""; id = pick(byID[id]) {
			a, ok := byID[id]
			if !ok {
				t.Fatalf("action %q not in flow", id)
			}
			types = append(types, a.Type)
			if len(types) > len(content.Actions) {
				t.Fatal("flow loops")
			}
		}
		return types
	}
	// The clinician presses 1: the ack function says acknowledged.
	pressed := func(a FlowAction) string {
		if len(a.Transitions.Conditions) > 0 {
			return a.Transitions.Conditions[0].NextAction
		}
		return a.Transitions.NextAction
	}
	want := []string{"UpdateContactTextToSpeechVoice", "GetParticipantInput", "InvokeLambdaFunction", "Compare", "MessageParticipant", "DisconnectParticipant"}
	if got := follow(pressed); !slices.Equal(got, want) {
		t.Errorf("press 1 = %v, want %v", got, want)
	}
	// Nothing is pressed: the question is asked once more, then the call ends.
	silent := func(a FlowAction) string {
		for _, e := range a.Transitions.Errors {
			if e.ErrorType == flowErrorTimeout {
				return e.NextAction
			}
		}
		return a.Transitions.NextAction
	}
	want = []string{"UpdateContactTextToSpeechVoice", "GetParticipantInput", "GetParticipantInput", "DisconnectParticipant"}
	if got := follow(silent); !slices.Equal(got, want) {
		t.Errorf("no input = %v, want %v", got, want)
	}
	if got, want := byID[content.StartAction].Parameters["TextToSpeechVoice"], "Amy"; got != want {
		t.Errorf("voice = %q, want %q", got, want)
	}
	ask := byID[byID[content.StartAction].Transitions.NextAction]
	if got, _ := ask.Parameters["SSML"].(string); !strings.HasPrefix(got, "<speak>$.Attributes."+names.ConnectMessageAttribute+" ") || !strings.Contains(got, "Press 1") {
		t.Errorf("SSML = %q, want the alert's attribute, then the question", got)
	}
	ack := m.byName(t, tFunction, "functions-"+names.FunctionAck)
	invoke := byID[flowActionAcknowledge]
	if got := invoke.Parameters["LambdaFunctionARN"]; got != ack.out("arn") || invoke.Parameters["InvocationTimeLimitSeconds"] != "8" {
		t.Errorf("the flow invokes %v, want the ack function %s within 8 s", got, ack.out("arn"))
	}
}

func TestTracingEverywhere(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	fns := m.all(tFunction)
	if got, want := len(fns), len(names.Functions); got != want {
		t.Fatalf("got %d functions, want %d", got, want)
	}
	for _, f := range fns {
		if got := propString(f.obj("tracingConfig"), "mode"); got != "Active" {
			t.Errorf("%s: tracingConfig.mode = %q, want Active", f.name, got)
		}
	}
	stage := m.byName(t, tStage, "api-stage")
	if v := stage.inputs["xrayTracingEnabled"]; !v.IsBool() || !v.BoolValue() {
		t.Errorf("stage xrayTracingEnabled = %v, want true", v)
	}
}

func TestFunctions(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	tests := []struct {
		fn       string
		memory   float64
		timeout  float64
		wantEnvs []string
	}{
		{names.FunctionAuthorizer, AuthorizerMemoryMB, AuthorizerTimeout.Seconds(), []string{names.EnvAPIClients, names.EnvLogLevel}},
		{names.FunctionProcessor, ProcessorMemoryMB, ProcessorTimeout.Seconds(), []string{
			names.EnvContactsTable, names.EnvIdempotencyTable, names.EnvIdempotencyTTL, names.EnvLockTimeout,
			names.EnvConnectInstanceID, names.EnvConnectContactFlowID, names.EnvConnectSourcePhone,
			names.EnvPHIDetectors, names.EnvLogLevel, names.EnvGoGC,
			names.EnvAlertsTable, names.EnvAlertRetentionDays, names.EnvMetricsNamespace, names.EnvEventBus,
			names.EnvEscalation, names.EnvAckBaseURL, names.EnvAckGrace,
			names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN,
		}},
		{names.FunctionStatus, StatusMemoryMB, StatusTimeout.Seconds(), []string{names.EnvAlertsTable, names.EnvLogLevel}},
		{names.FunctionWorker, WorkerMemoryMB, WorkerTimeout.Seconds(), []string{
			names.EnvContactsTable, names.EnvConnectInstanceID, names.EnvConnectContactFlowID, names.EnvConnectSourcePhone,
			names.EnvLogLevel, names.EnvAlertsTable, names.EnvAlertRetentionDays, names.EnvMetricsNamespace,
			names.EnvDeliveryTimeout, names.EnvAlertQueueURL, names.EnvRetryDelay,
			names.EnvEscalation, names.EnvAckBaseURL, names.EnvAckGrace,
			names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN,
		}},
		{names.FunctionDeadLetter, DeadLetterMemoryMB, DeadLetterTimeout.Seconds(), []string{
			names.EnvAlertsTable, names.EnvMetricsNamespace, names.EnvDeliveryTimeout, names.EnvLogLevel,
		}},
		{names.FunctionAck, AckMemoryMB, AckTimeout.Seconds(), []string{
			names.EnvAlertsTable, names.EnvLogLevel, names.EnvMetricsNamespace,
			names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN,
		}},
		{names.FunctionEscalate, EscalateMemoryMB, EscalateTimeout.Seconds(), []string{
			names.EnvContactsTable, names.EnvAlertsTable, names.EnvAlertRetentionDays, names.EnvMetricsNamespace, names.EnvLogLevel,
			names.EnvConnectInstanceID, names.EnvConnectContactFlowID, names.EnvConnectSourcePhone,
			names.EnvEscalation, names.EnvAckBaseURL, names.EnvAckGrace,
			names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			f := m.byName(t, tFunction, "functions-"+tt.fn)
			wantName := "a2p-alerts-dev-" + tt.fn
			checks := []struct{ field, got, want string }{
				{"name", f.str("name"), wantName},
				{"runtime", f.str("runtime"), "provided.al2023"},
				{"handler", f.str("handler"), "bootstrap"},
				{"memorySize", fmt.Sprint(f.inputs["memorySize"].NumberValue()), fmt.Sprint(tt.memory)},
				{"timeout", fmt.Sprint(f.inputs["timeout"].NumberValue()), fmt.Sprint(tt.timeout)},
				{"code", filepath.Base(f.inputs["code"].ArchiveValue().Path), tt.fn + ".zip"},
				{"architectures", fmt.Sprint(f.inputs["architectures"].ArrayValue()[0].StringValue()), ArchARM64},
				{"role", f.str("role"), m.byName(t, tRole, "roles-"+tt.fn).out("arn")},
				{"loggingConfig.logGroup", propString(f.obj("loggingConfig"), "logGroup"), "/aws/lambda/" + wantName},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			lg := m.byName(t, tLogGroup, "functions-"+tt.fn+"-logs")
			if got, want := lg.str("name"), "/aws/lambda/"+wantName; got != want {
				t.Errorf("log group name = %q, want %q", got, want)
			}
			if got := lg.inputs["retentionInDays"].NumberValue(); got != DefaultLogRetentionDays {
				t.Errorf("log retention = %v, want %d", got, DefaultLogRetentionDays)
			}
			env := functionEnv(t, m, tt.fn)
			got := slices.Sorted(maps.Keys(env))
			want := slices.Sorted(slices.Values(tt.wantEnvs))
			if !slices.Equal(got, want) {
				t.Errorf("env keys = %v, want %v", got, want)
			}
		})
	}

	auth := functionEnv(t, m, names.FunctionAuthorizer)
	if got, want := auth[names.EnvAPIClients], `[{"client":"ehr","sha256":"`+testHash("ehr")+`","usage_key":"key-value-of-keys-ehr"}]`; got != want {
		t.Errorf("%s = %s, want %s", names.EnvAPIClients, got, want)
	}
	proc := functionEnv(t, m, names.FunctionProcessor)
	// The lock timeout and the function timeout come from one constant.
	if got, want := proc[names.EnvLockTimeout], FormatDuration(ProcessorTimeout); got != want {
		t.Errorf("%s = %q, want %q", names.EnvLockTimeout, got, want)
	}
	wantEnv := map[string]string{
		names.EnvContactsTable:        m.byName(t, tTable, "data-contacts").out("name"),
		names.EnvIdempotencyTable:     m.byName(t, tTable, "data-idempotency").out("name"),
		names.EnvIdempotencyTTL:       names.DefaultIdempotencyTTL,
		names.EnvConnectInstanceID:    testInstanceID,
		names.EnvConnectContactFlowID: m.byName(t, tContactFlow, "voice-contact-flow").out("contactFlowId"),
		names.EnvConnectSourcePhone:   "+15555550199",
		names.EnvPHIDetectors:         "nhs_number",
		names.EnvLogLevel:             DefaultLogLevel,
		names.EnvAlertsTable:          m.byName(t, tTable, "data-alerts").out("name"),
		names.EnvAlertRetentionDays:   "90",
		names.EnvMetricsNamespace:     "a2p-alerts-dev",
		names.EnvGoGC:                 strconv.Itoa(names.ProcessorGCPercent),
	}
	if got := functionEnv(t, m, names.FunctionStatus)[names.EnvAlertsTable]; got != wantEnv[names.EnvAlertsTable] {
		t.Errorf("status %s = %q, want the alerts table", names.EnvAlertsTable, got)
	}
	for k, want := range wantEnv {
		if got := proc[k]; got != want {
			t.Errorf("processor %s = %q, want %q", k, got, want)
		}
	}
}

func TestMethodUsesRequestAuthorizerAndNoValidator(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigAuthorizerCacheTTL)] = "0"
	_, m := mustRun(t, "dev", cfg)

	method := m.byName(t, tMethod, "api-post-notification")
	authz := m.byName(t, tAuthorizer, "api-authorizer")
	model := m.byName(t, tModel, "api-alert-model")
	authFn := m.byName(t, tFunction, "functions-authorizer")
	procFn := m.byName(t, tFunction, "functions-processor")
	integ := m.byName(t, tIntegration, "api-post-notification-integration")

	checks := []struct{ field, got, want string }{
		{"method.httpMethod", method.str("httpMethod"), "POST"},
		{"method.authorization", method.str("authorization"), "CUSTOM"},
		{"method.authorizerId", method.str("authorizerId"), authz.id},
		{"method.requestValidatorId", method.str("requestValidatorId"), ""},
		{"method.apiKeyRequired", fmt.Sprint(method.inputs["apiKeyRequired"].BoolValue()), "true"},
		{"method.requestModels", propString(method.obj("requestModels"), "application/json"), model.out("name")},
		{"authorizer.type", authz.str("type"), "REQUEST"},
		{"authorizer.identitySource", authz.str("identitySource"), "method.request.header.Authorization"},
		{"authorizer.authorizerUri", authz.str("authorizerUri"), authFn.out("invokeArn")},
		{"authorizer.ttl", fmt.Sprint(authz.inputs["authorizerResultTtlInSeconds"].NumberValue()), "0"},
		{"model.contentType", model.str("contentType"), "application/json"},
		{"model.schema", model.str("schema"), string(alert.Schema())},
		{"integration.type", integ.str("type"), "AWS_PROXY"},
		{"integration.integrationHttpMethod", integ.str("integrationHttpMethod"), "POST"},
		{"integration.uri", integ.str("uri"), procFn.out("invokeArn")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}

	// Permissions are scoped to this API.
	exec := m.byName(t, "aws:apigateway/restApi:RestApi", "api").out("executionArn")
	wantPerms := map[string][2]string{
		"api-invoke-processor":  {procFn.out("name"), exec + "/*/POST/notification"},
		"api-invoke-authorizer": {authFn.out("name"), exec + "/authorizers/" + authz.id},
		"api-invoke-status":     {m.byName(t, tFunction, "functions-status").out("name"), exec + "/*/GET/notification/*"},
	}
	ackFn := m.byName(t, tFunction, "functions-ack").out("name")
	wantPerms["api-invoke-ack"] = [2]string{ackFn, exec + "/*/POST/notification/*/ack"}
	wantPerms["api-invoke-ack-link-get"] = [2]string{ackFn, exec + "/*/GET/ack/*"}
	wantPerms["api-invoke-ack-link-post"] = [2]string{ackFn, exec + "/*/POST/ack/*"}
	fromAPI := 0
	for _, p := range m.all(tPermission) {
		if p.str("principal") == apigatewayService {
			fromAPI++
		}
	}
	if got, want := fromAPI, len(wantPerms); got != want {
		t.Errorf("got %d permissions for API Gateway, want %d", got, want)
	}
	for name, want := range wantPerms {
		p := m.byName(t, tPermission, name)
		if got := [2]string{p.str("function"), p.str("sourceArn")}; got != want {
			t.Errorf("%s (function, sourceArn) = %v, want %v", name, got, want)
		}
		if got := p.str("principal"); got != "apigateway.amazonaws.com" {
			t.Errorf("%s principal = %q", name, got)
		}
	}

	// The deployment is redeployed on change, and the stage uses it.
	dep := m.byName(t, tDeployment, "api-deployment")
	if got := propString(dep.obj("triggers"), "redeployment"); len(got) != 64 {
		t.Errorf("deployment trigger = %q, want a SHA-256", got)
	}
	stage := m.byName(t, tStage, "api-stage")
	if got, want := stage.str("deployment"), dep.id; got != want {
		t.Errorf("stage deployment = %q, want %q", got, want)
	}
	access := stage.obj("accessLogSettings")
	if got, want := propString(access, "destinationArn"), m.byName(t, tLogGroup, "api-access-logs").out("arn"); got != want {
		t.Errorf("access log destination = %q, want %q", got, want)
	}
	var format map[string]string
	if err := json.Unmarshal([]byte(propString(access, "format")), &format); err != nil || format["requestId"] != "$context.requestId" {
		t.Errorf("access log format = %q (%v), want JSON with requestId", propString(access, "format"), err)
	}
	settings := m.byName(t, tSettings, "api-method-settings").obj("settings")
	if got := settings["throttlingRateLimit"].NumberValue(); got != DefaultThrottleRateLimit {
		t.Errorf("throttlingRateLimit = %v, want %v", got, DefaultThrottleRateLimit)
	}
	if got := settings["throttlingBurstLimit"].NumberValue(); got != DefaultThrottleBurstLimit {
		t.Errorf("throttlingBurstLimit = %v, want %v", got, DefaultThrottleBurstLimit)
	}
	if got := m.byName(t, tSettings, "api-method-settings").str("methodPath"); got != "*/*" {
		t.Errorf("methodPath = %q, want */*", got)
	}
	if n := len(m.all(tWebACL)) + len(m.all(tAccount)); n != 0 {
		t.Errorf("created %d WAF/account resources by default, want none", n)
	}
}

func TestProcessorPolicyIsLeastPrivilege(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	doc := rolePolicy(t, m, "functions-processor-policy")
	if got, want := m.byName(t, tRolePolicy, "functions-processor-policy").str("role"), m.byName(t, tRole, "roles-processor").out("name"); got != want {
		t.Errorf("policy role = %q, want %q", got, want)
	}

	arn := func(typ, name string) string { return m.byName(t, typ, name).out("arn") }
	contacts, idem, alerts := arn(tTable, "data-contacts"), arn(tTable, "data-idempotency"), arn(tTable, "data-alerts")
	alertsKey := arn(tKey, "data-alerts-key")
	logs := arn(tLogGroup, "functions-processor-logs") + ":*"
	want := map[string]bool{
		// Alert records: conditional Puts in transactions, and a reread
		// after a conflicting write; never an update in place or a
		// delete.
		"dynamodb:PutItem " + alerts: true,
		"dynamodb:Query " + alerts:   true,
		// Escalation timers: create in the stack's group, with its role.
		"scheduler:CreateSchedule arn:aws:scheduler:us-east-1:123456789012:schedule/a2p-alerts-dev-escalation/*": true,
		"iam:PassRole " + arn(tRole, "timers-role"):                                                              true,
		"kms:Decrypt " + alertsKey:                           true,
		"kms:Encrypt " + alertsKey:                           true,
		"kms:GenerateDataKey* " + alertsKey:                  true,
		"kms:DescribeKey " + alertsKey:                       true,
		"dynamodb:GetItem " + contacts:                       true,
		"dynamodb:GetItem " + idem:                           true,
		"dynamodb:PutItem " + idem:                           true,
		"dynamodb:UpdateItem " + idem:                        true,
		"dynamodb:DeleteItem " + idem:                        true,
		"kms:GenerateDataKey* " + arn(tKey, "messaging-key"): true,
		"kms:Decrypt " + arn(tKey, "messaging-key"):          true,
		// Queue accepted alerts (issue 13): its own bus only.
		"events:PutEvents " + arn(tEventBus, "async-bus"):                                                                    true,
		"connect:StartOutboundVoiceContact arn:aws:connect:us-east-1:123456789012:instance/" + testInstanceID + "/contact/*": true,
		"logs:CreateLogStream " + logs: true,
		"logs:PutLogEvents " + logs:    true,
		"xray:PutTraceSegments *":      true,
		"xray:PutTelemetryRecords *":   true,
	}
	for _, topic := range []string{"messaging-C-1-sms", "messaging-C-1-email", "messaging-C-2-sms"} {
		want["sns:Publish "+arn(tTopic, topic)] = true
	}
	got := grants(t, doc)
	for g := range got {
		if !want[g] {
			t.Errorf("policy grants %q, not in the list", g)
		}
	}
	for w := range want {
		if !got[w] {
			t.Errorf("policy lacks %q", w)
		}
	}

	// The authorizer may only log and trace.
	authLogs := arn(tLogGroup, "functions-authorizer-logs") + ":*"
	wantAuth := map[string]bool{
		"logs:CreateLogStream " + authLogs: true,
		"logs:PutLogEvents " + authLogs:    true,
		"xray:PutTraceSegments *":          true,
		"xray:PutTelemetryRecords *":       true,
	}
	if got := grants(t, rolePolicy(t, m, "functions-authorizer-policy")); !maps.Equal(got, wantAuth) {
		t.Errorf("authorizer grants %v, want %v", got, wantAuth)
	}
}

func TestTopicPoliciesOnlyLetDeliveringFunctionsPublish(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	// The worker and the escalate function deliver too: their roles publish.
	roleARNs := []any{m.byName(t, tRole, "roles-processor").out("arn"), m.byName(t, tRole, "roles-worker").out("arn"), m.byName(t, tRole, "roles-escalate").out("arn")}
	for _, p := range m.all(tTopicPolicy) {
		if !strings.HasPrefix(p.name, messagingName+"-") {
			continue // the operations topic's: TestOperationsTopicPolicy
		}
		topicARN := m.byName(t, tTopic, strings.TrimSuffix(p.name, "-policy")).out("arn")
		if got := p.str("arn"); got != topicARN {
			t.Errorf("%s arn = %q, want %q", p.name, got, topicARN)
		}
		var doc PolicyDocument
		if err := json.Unmarshal([]byte(p.str("policy")), &doc); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		var deny *Statement
		for i, st := range doc.Statement {
			if st.Effect == effectAllow && slices.Contains(st.Action, "sns:Publish") {
				t.Errorf("%s allows sns:Publish in the resource policy", p.name)
			}
			if st.Effect == effectDeny {
				deny = &doc.Statement[i]
			}
		}
		if deny == nil {
			t.Fatalf("%s has no Deny statement", p.name)
		}
		if !slices.Equal(deny.Action, []string{"sns:Publish"}) || deny.Principal != "*" || !slices.Equal(deny.Resource, []string{topicARN}) {
			t.Errorf("%s deny = %+v", p.name, deny)
		}
		if got, _ := deny.Condition["ArnNotEquals"]["aws:PrincipalArn"].([]any); !slices.Equal(got, roleARNs) {
			t.Errorf("%s deny exempts %v, want the roles of the processor, the worker and the escalate function %v", p.name, got, roleARNs)
		}
	}
}

func TestProtection(t *testing.T) {
	tests := []struct {
		stack      string
		protection string
		want       bool
	}{
		{"dev", "none", false},
		{"prod", "full", true},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg[key(names.ConfigProtection)] = tt.protection
			_, m := mustRun(t, tt.stack, cfg)
			tables := m.all(tTable)
			if len(tables) != 3 {
				t.Fatalf("got %d tables, want 3", len(tables))
			}
			for _, tb := range tables {
				pitr := tb.obj("pointInTimeRecovery")["enabled"]
				del := tb.inputs["deletionProtectionEnabled"]
				if !pitr.IsBool() || pitr.BoolValue() != tt.want {
					t.Errorf("%s pointInTimeRecovery.enabled = %v, want %v", tb.name, pitr, tt.want)
				}
				if !del.IsBool() || del.BoolValue() != tt.want {
					t.Errorf("%s deletionProtectionEnabled = %v, want %v", tb.name, del, tt.want)
				}
				if tb.retain != tt.want {
					t.Errorf("%s retainOnDelete = %v, want %v", tb.name, tb.retain, tt.want)
				}
				if sse := tb.obj("serverSideEncryption")["enabled"]; !sse.IsBool() || !sse.BoolValue() {
					t.Errorf("%s serverSideEncryption.enabled = %v, want true", tb.name, sse)
				}
				if got := tb.str("billingMode"); got != "PAY_PER_REQUEST" {
					t.Errorf("%s billingMode = %q", tb.name, got)
				}
			}
			if got := m.byName(t, tTable, "data-contacts").str("hashKey"); got != names.AttrContactID {
				t.Errorf("contacts hashKey = %q", got)
			}
			idem := m.byName(t, tTable, "data-idempotency")
			if got := idem.str("hashKey"); got != names.AttrIdempotencyKey {
				t.Errorf("idempotency hashKey = %q", got)
			}
			ttl := idem.obj("ttl")
			if propString(ttl, "attributeName") != names.AttrExpiration || !ttl["enabled"].BoolValue() {
				t.Errorf("idempotency ttl = %v", ttl)
			}
		})
	}
}

func TestOptionalWAFAndAccount(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigEnableWAF)] = "true"
	cfg[key(names.ConfigManageAPIGatewayAccount)] = "true"
	cfg[key(names.ConfigThrottleRateLimit)] = "20"
	_, m := mustRun(t, "prod", cfg)

	acl := m.byName(t, tWebACL, "api-waf")
	if got := acl.str("scope"); got != "REGIONAL" {
		t.Errorf("web acl scope = %q", got)
	}
	rules := acl.inputs["rules"].ArrayValue()
	if got, want := len(rules), len(managedRuleGroups)+2; got != want { // + body-rule counter, rate limit
		t.Errorf("got %d rules, want %d", got, want)
	}
	last := rules[len(rules)-1].ObjectValue()["statement"].ObjectValue()["rateBasedStatement"].ObjectValue()
	if got, want := last["limit"].NumberValue(), float64(20*300); got != want {
		t.Errorf("rate limit = %v, want %v", got, want)
	}
	assoc := m.byName(t, tWebACLAssoc, "api-waf-association")
	if got, want := assoc.str("resourceArn"), m.byName(t, tStage, "api-stage").out("arn"); got != want {
		t.Errorf("association resourceArn = %q, want %q", got, want)
	}
	account := m.byName(t, tAccount, "api-account")
	if got, want := account.str("cloudwatchRoleArn"), m.byName(t, tRole, "api-cloudwatch-role").out("arn"); got != want {
		t.Errorf("account cloudwatchRoleArn = %q, want %q", got, want)
	}
	if !account.retain {
		t.Error("account settings are not retained on delete")
	}
}

func TestEveryChildHasAComponentParent(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	components := map[string]bool{
		RolesType: true, MessagingType: true, VoiceType: true, DataType: true, APIKeysType: true, FunctionsType: true, APIType: true, AlarmsType: true,
		AsyncType:  true,
		TimersType: true,
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range m.records {
		if !r.custom {
			if !components[r.typ] {
				t.Errorf("unexpected component type %s", r.typ)
			}
			seen[r.typ] = true
			continue
		}
		// URN: urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
		parts := strings.Split(r.parent, "::")
		if len(parts) < 3 || !components[strings.Split(parts[2], "$")[len(strings.Split(parts[2], "$"))-1]] {
			t.Errorf("%s %s: parent %q is not a component", r.typ, r.name, r.parent)
		}
	}
	for c := range components {
		if !seen[c] {
			t.Errorf("component %s not registered", c)
		}
	}
	if got, want := slices.Sorted(slices.Values(m.invokes)), []string{"aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getRegion:getRegion"}; !slices.Equal(got, want) {
		t.Errorf("invokes = %v, want %v", got, want)
	}
}

// withCreatedInstance makes cfg create its Connect instance and claim a
// number in country, instead of using an existing instance and number.
func withCreatedInstance(cfg map[string]string, country string) {
	delete(cfg, key(names.ConfigConnectInstanceID))
	delete(cfg, key(names.ConfigSourcePhoneNumber))
	cfg[key(names.ConfigCreateConnectInstance)] = "true"
	cfg[key(names.ConfigClaimPhoneNumberCountry)] = country
}

// contactTopicNames lists the logical names of the contacts' topics,
// sorted (not the operations topic).
func contactTopicNames(m *mocks) []string {
	var out []string
	for _, n := range m.names(tTopic) {
		if strings.HasPrefix(n, messagingName+"-") && n != messagingName+"-sms-replies" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// functionEnv returns the environment of function fn.
func functionEnv(tb testing.TB, m *mocks, fn string) map[string]string {
	tb.Helper()
	f := m.byName(tb, tFunction, "functions-"+fn)
	vars := f.obj("environment")["variables"]
	if !vars.IsObject() {
		tb.Fatalf("%s has no environment variables", fn)
	}
	out := map[string]string{}
	for k, v := range vars.ObjectValue() {
		out[string(k)] = plainValue(v).StringValue()
	}
	return out
}

// rolePolicy decodes the policy of the inline role policy name.
func rolePolicy(tb testing.TB, m *mocks, name string) PolicyDocument {
	tb.Helper()
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(m.byName(tb, tRolePolicy, name).str("policy")), &doc); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return doc
}

// grants flattens a policy into "action resource" pairs. It fails on
// anything but plain Allow statements (the only condition allowed is the
// key's kms:ViaService, on KMS actions), and on a wildcard: in an action
// other than kms:GenerateDataKey* (the key's data-key variants), or a "*"
// resource for an action other than X-Ray's (which AWS requires to be "*").
func grants(tb testing.TB, doc PolicyDocument) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	via := func(service string) string {
		return fmt.Sprint(map[string]map[string]any{"StringEquals": {"kms:ViaService": service + "." + mockRegion + ".amazonaws.com"}})
	}
	for _, st := range doc.Statement {
		kmsOnly := !slices.ContainsFunc(st.Action, func(a string) bool { return !strings.HasPrefix(a, "kms:") })
		cond := fmt.Sprint(st.Condition)
		passToScheduler := fmt.Sprint(map[string]map[string]any{"StringEquals": {"iam:PassedToService": schedulerService}})
		conditionOK := st.Condition == nil || (kmsOnly && (cond == via("sns") || cond == via("dynamodb") || cond == via("sqs"))) ||
			(slices.Equal(st.Action, []string{"iam:PassRole"}) && cond == passToScheduler)
		if slices.Contains(st.Action, "iam:PassRole") && cond != passToScheduler {
			tb.Errorf("statement %s passes a role to any service: %+v", st.Sid, st)
		}
		if st.Effect != effectAllow || st.Principal != nil || !conditionOK {
			tb.Errorf("statement %s is not a plain Allow: %+v", st.Sid, st)
		}
		if kmsOnly && st.Condition == nil {
			tb.Errorf("statement %s grants KMS without the kms:ViaService condition", st.Sid)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") && a != "kms:GenerateDataKey*" {
				tb.Errorf("statement %s: wildcard action %q", st.Sid, a)
			}
			for _, r := range st.Resource {
				if r == "*" && !strings.HasPrefix(a, "xray:") {
					tb.Errorf("statement %s: %s on *", st.Sid, a)
				}
				out[a+" "+r] = true
			}
		}
	}
	return out
}

// decodeItem reads a DynamoDB JSON item of string attributes.
func decodeItem(tb testing.TB, s string) map[string]string {
	tb.Helper()
	var raw map[string]map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		tb.Fatalf("item %q: %v", s, err)
	}
	out := map[string]string{}
	for k, v := range raw {
		if len(v) != 1 || v["S"] == "" {
			tb.Errorf("attribute %s = %v, want one non-empty S", k, v)
		}
		out[k] = v["S"]
	}
	return out
}
