package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Tests of the asynchronous path's infrastructure (issue 13): the bus,
// the rule and its target, the queues and the redrive policy, the queues'
// key and policies, the worker and the dead-letter handler with their
// mappings, least privilege, and the configuration keys.

func TestAsyncBusRuleAndQueues(t *testing.T) {
	for _, tt := range []struct {
		receives string
		want     float64
	}{{"", names.DefaultAsyncMaxReceiveCount}, {"3", 3}} {
		t.Run("maxReceiveCount "+fmt.Sprint(tt.want), func(t *testing.T) {
			cfg := baseConfig(t)
			if tt.receives != "" {
				cfg[key(names.ConfigAsyncMaxReceiveCount)] = tt.receives
			}
			_, m := mustRun(t, "dev", cfg)
			bus, rule, target := m.byName(t, tEventBus, "async-bus"), m.byName(t, tEventRule, "async-rule"), m.byName(t, tEventTarget, "async-target")
			queue, dlq, k := m.byName(t, tQueue, "async-queue"), m.byName(t, tQueue, "async-dlq"), m.byName(t, tKey, "async-key")
			var pattern map[string][]string
			if err := json.Unmarshal([]byte(rule.str("eventPattern")), &pattern); err != nil {
				t.Fatal(err)
			}
			var redrive map[string]any
			if err := json.Unmarshal([]byte(queue.str("redrivePolicy")), &redrive); err != nil {
				t.Fatal(err)
			}
			checks := []struct{ field, got, want string }{
				{"bus name", bus.str("name"), "a2p-alerts-dev-alerts"},
				{"rule bus", rule.str("eventBusName"), bus.out("name")},
				{"rule pattern", fmt.Sprint(pattern), fmt.Sprint(map[string][]string{"source": {names.EventSource}, "detail-type": {names.EventDetailTypeAccepted}})},
				{"target rule", target.str("rule"), rule.out("name")},
				{"target bus", target.str("eventBusName"), bus.out("name")},
				{"target arn", target.str("arn"), queue.out("arn")},
				{"target dead letters", propString(target.obj("deadLetterConfig"), "arn"), dlq.out("arn")},
				{"target max event age", fmt.Sprint(target.obj("retryPolicy")["maximumEventAgeInSeconds"].NumberValue()), "3600"},
				{"queue name", queue.str("name"), "a2p-alerts-dev-alert-queue"},
				{"queue key", queue.str("kmsMasterKeyId"), k.out("arn")},
				{"queue visibility (6 x the worker's timeout)", fmt.Sprint(queue.inputs["visibilityTimeoutSeconds"].NumberValue()), fmt.Sprint(6 * WorkerTimeout.Seconds())},
				{"redrive target", fmt.Sprint(redrive["deadLetterTargetArn"]), dlq.out("arn")},
				{"redrive maxReceiveCount", fmt.Sprint(redrive["maxReceiveCount"]), fmt.Sprint(tt.want)},
				{"dlq name", dlq.str("name"), "a2p-alerts-dev-alert-dlq"},
				{"dlq key", dlq.str("kmsMasterKeyId"), k.out("arn")},
				{"dlq retention", fmt.Sprint(dlq.inputs["messageRetentionSeconds"].NumberValue()), "1.2096e+06"},
				{"dlq visibility", fmt.Sprint(dlq.inputs["visibilityTimeoutSeconds"].NumberValue()), fmt.Sprint(6 * DeadLetterTimeout.Seconds())},
				{"key rotation", fmt.Sprint(k.inputs["enableKeyRotation"].BoolValue()), "true"},
				{"key alias", m.byName(t, "aws:kms/alias:Alias", "async-key-alias").str("name"), "alias/a2p-alerts-dev-queue"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
		})
	}
}

// TestAsyncKeyAndQueuePolicies: EventBridge may use the queues' key and
// send to the queues for the stack's rule only; everything else is the
// account's IAM policies.
func TestAsyncKeyAndQueuePolicies(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	ruleARN := m.byName(t, tEventRule, "async-rule").out("arn")
	onlyRule := fmt.Sprint(map[string]map[string]any{"ArnEquals": {"aws:SourceArn": ruleARN}})
	doc := decodePolicy(t, m.byName(t, tKey, "async-key").str("policy"))
	if len(doc.Statement) != 2 {
		t.Fatalf("key policy %+v, want the account root and the rule", doc)
	}
	root, events := doc.Statement[0], doc.Statement[1]
	if fmt.Sprint(root.Principal) != fmt.Sprint(map[string]any{"AWS": "arn:aws:iam::" + mockAccount + ":root"}) {
		t.Errorf("first statement %+v, want the account root", root)
	}
	if fmt.Sprint(events.Principal) != fmt.Sprint(map[string]any{"Service": "events.amazonaws.com"}) ||
		!slices.Equal(events.Action, []string{"kms:GenerateDataKey", "kms:Decrypt"}) || fmt.Sprint(events.Condition) != onlyRule {
		t.Errorf("EventBridge statement %+v, want GenerateDataKey and Decrypt for the rule only", events)
	}
	for policy, queue := range map[string]string{"async-queue-policy": "async-queue", "async-dlq-policy": "async-dlq"} {
		p := m.byName(t, tQueuePolicy, policy)
		q := m.byName(t, tQueue, queue)
		if p.str("queueUrl") != q.out("url") {
			t.Errorf("%s is on %q, want %q", policy, p.str("queueUrl"), q.out("url"))
		}
		doc := decodePolicy(t, p.str("policy"))
		st := doc.Statement[0]
		if len(doc.Statement) != 1 || st.Effect != effectAllow || !slices.Equal(st.Action, []string{"sqs:SendMessage"}) ||
			!slices.Equal(st.Resource, []string{q.out("arn")}) || fmt.Sprint(st.Condition) != onlyRule ||
			fmt.Sprint(st.Principal) != fmt.Sprint(map[string]any{"Service": "events.amazonaws.com"}) {
			t.Errorf("%s = %+v, want SendMessage by EventBridge for the rule only", policy, doc)
		}
	}
}

func TestAsyncMappings(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	for fn, queue := range map[string]string{names.FunctionWorker: "async-queue", names.FunctionDeadLetter: "async-dlq"} {
		mp := m.byName(t, tMapping, "functions-"+fn+"-mapping")
		var types []string
		for _, v := range mp.inputs["functionResponseTypes"].ArrayValue() {
			types = append(types, v.StringValue())
		}
		checks := []struct{ field, got, want string }{
			{"eventSourceArn", mp.str("eventSourceArn"), m.byName(t, tQueue, queue).out("arn")},
			{"functionName", mp.str("functionName"), m.byName(t, tFunction, "functions-"+fn).out("arn")},
			{"batchSize", fmt.Sprint(mp.inputs["batchSize"].NumberValue()), "10"},
			{"maximumBatchingWindowInSeconds", fmt.Sprint(mp.inputs["maximumBatchingWindowInSeconds"].NumberValue()), "0"},
			{"functionResponseTypes", fmt.Sprint(types), "[ReportBatchItemFailures]"},
			{"enabled", fmt.Sprint(mp.inputs["enabled"].BoolValue()), "true"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s mapping %s = %q, want %q", fn, c.field, c.got, c.want)
			}
		}
	}
}

func TestAsyncFunctionsEnvironment(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigAsyncRetryDelay)] = "10s"
	_, m := mustRun(t, "dev", cfg)
	worker, dead, proc := functionEnv(t, m, names.FunctionWorker), functionEnv(t, m, names.FunctionDeadLetter), functionEnv(t, m, names.FunctionProcessor)
	checks := []struct{ field, got, want string }{
		{"processor bus", proc[names.EnvEventBus], m.byName(t, tEventBus, "async-bus").out("name")},
		{"worker queue", worker[names.EnvAlertQueueURL], m.byName(t, tQueue, "async-queue").out("url")},
		{"worker retry delay", worker[names.EnvRetryDelay], "10s"},
		{"worker delivery timeout", worker[names.EnvDeliveryTimeout], FormatDuration(WorkerTimeout)},
		{"dead-letter delivery timeout (the worker's)", dead[names.EnvDeliveryTimeout], FormatDuration(WorkerTimeout)},
		{"worker alerts table", worker[names.EnvAlertsTable], proc[names.EnvAlertsTable]},
		{"dead-letter alerts table", dead[names.EnvAlertsTable], proc[names.EnvAlertsTable]},
		{"worker metrics", worker[names.EnvMetricsNamespace], proc[names.EnvMetricsNamespace]},
		{"dead-letter metrics", dead[names.EnvMetricsNamespace], proc[names.EnvMetricsNamespace]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if WorkerTimeout < ProcessorTimeout {
		t.Errorf("worker timeout %s is shorter than the processor's %s: the same channels must fit", WorkerTimeout, ProcessorTimeout)
	}
}

// TestWorkerAndDeadLetterPoliciesAreLeastPrivilege lists every grant.
func TestWorkerAndDeadLetterPoliciesAreLeastPrivilege(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	arn := func(typ, name string) string { return m.byName(t, typ, name).out("arn") }
	alerts, alertsKey, queueKey := arn(tTable, "data-alerts"), arn(tKey, "data-alerts-key"), arn(tKey, "async-key")
	common := func(fn, queue string) map[string]bool {
		logs := arn(tLogGroup, "functions-"+fn+"-logs") + ":*"
		return map[string]bool{
			"dynamodb:PutItem " + alerts: true, "dynamodb:Query " + alerts: true,
			"kms:Decrypt " + alertsKey: true, "kms:Encrypt " + alertsKey: true, "kms:GenerateDataKey* " + alertsKey: true, "kms:DescribeKey " + alertsKey: true,
			"sqs:ReceiveMessage " + arn(tQueue, queue): true, "sqs:DeleteMessage " + arn(tQueue, queue): true, "sqs:GetQueueAttributes " + arn(tQueue, queue): true,
			"kms:Decrypt " + queueKey:      true,
			"logs:CreateLogStream " + logs: true, "logs:PutLogEvents " + logs: true,
			"xray:PutTraceSegments *": true, "xray:PutTelemetryRecords *": true,
		}
	}
	worker := common(names.FunctionWorker, "async-queue")
	maps.Copy(worker, map[string]bool{
		"sqs:ChangeMessageVisibility " + arn(tQueue, "async-queue"):                                                          true,
		"dynamodb:GetItem " + arn(tTable, "data-contacts"):                                                                   true,
		"kms:GenerateDataKey* " + arn(tKey, "messaging-key"):                                                                 true,
		"kms:Decrypt " + arn(tKey, "messaging-key"):                                                                          true,
		"connect:StartOutboundVoiceContact arn:aws:connect:us-east-1:123456789012:instance/" + testInstanceID + "/contact/*": true,
		// It sets an alert's first escalation timer after delivering it.
		"scheduler:CreateSchedule arn:aws:scheduler:us-east-1:123456789012:schedule/a2p-alerts-dev-escalation/*": true,
		"iam:PassRole arn:aws:iam::123456789012:role/a2p-alerts-dev-scheduler":                                   true,
	})
	for _, topic := range []string{"messaging-C-1-sms", "messaging-C-1-email", "messaging-C-2-sms"} {
		worker["sns:Publish "+arn(tTopic, topic)] = true
	}
	for fn, want := range map[string]map[string]bool{names.FunctionWorker: worker, names.FunctionDeadLetter: common(names.FunctionDeadLetter, "async-dlq")} {
		doc := rolePolicy(t, m, "functions-"+fn+"-policy")
		if got := grants(t, doc); !maps.Equal(got, want) {
			t.Errorf("%s grants\n%v\nwant\n%v", fn, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		for _, st := range doc.Statement {
			if slices.Contains(st.Resource, queueKey) && !strings.Contains(fmt.Sprint(st.Condition), "sqs."+mockRegion+".amazonaws.com") {
				t.Errorf("%s: the queue key is usable other than through SQS: %+v", fn, st.Condition)
			}
		}
		if got, want := m.byName(t, tRolePolicy, "functions-"+fn+"-policy").str("role"), m.byName(t, tRole, "roles-"+fn).out("name"); got != want {
			t.Errorf("%s policy role = %q, want %q", fn, got, want)
		}
	}
}

func TestAsyncConfiguration(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{names.ConfigAsyncMaxReceiveCount, "0", "a2p-alerts:asyncMaxReceiveCount: 0 must be 1 to 1000"},
		{names.ConfigAsyncMaxReceiveCount, "1001", "a2p-alerts:asyncMaxReceiveCount: 1001 must be 1 to 1000"},
		{names.ConfigAsyncMaxReceiveCount, "five", `a2p-alerts:asyncMaxReceiveCount: "five" is not an integer`},
		{names.ConfigAsyncRetryDelay, "-1s", "a2p-alerts:asyncRetryDelay: -1s must be whole seconds from 0s to 12h"},
		{names.ConfigAsyncRetryDelay, "1500ms", "a2p-alerts:asyncRetryDelay: 1.5s must be whole seconds"},
		{names.ConfigAsyncRetryDelay, "13h", "a2p-alerts:asyncRetryDelay: 13h0m0s must be whole seconds from 0s to 12h"},
		{names.ConfigAsyncRetryDelay, "soon", `a2p-alerts:asyncRetryDelay: "soon" is not a duration`},
	} {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg[key(tt.key)] = tt.value
			_, m, err := runProgram(t, "dev", cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if m.count() != 0 {
				t.Errorf("the mock saw %d resources, want 0", m.count())
			}
		})
	}
	s, _ := mustRun(t, "dev", baseConfig(t))
	if s.Config.AsyncMaxReceiveCount != 5 || s.Config.AsyncRetryDelay.String() != "30s" {
		t.Errorf("defaults %d, %s; want 5, 30s", s.Config.AsyncMaxReceiveCount, s.Config.AsyncRetryDelay)
	}
}
