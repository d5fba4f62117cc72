package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// alarmIDs lists the ids of the alarms registered (the logical name
// without the component's "alarms-").
func alarmIDs(m *mocks) []string {
	var out []string
	for _, n := range m.names(tAlarm) {
		out = append(out, strings.TrimPrefix(n, alarmsName+"-"))
	}
	slices.Sort(out)
	return out
}

// TestAlarms checks point 10 on the default configuration (calls, SMS and
// email; no WAF): which alarms exist, what each watches, that each says
// why in one line, and that each notifies the operations topic.
func TestAlarms(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	want := []string{
		"C-1-email-failed", "C-1-sms-failed", "C-2-sms-failed",
		"ack-duration", "ack-errors", "ack-throttles",
		"alert-queue-age", "alerts-failed", "alerts-unacknowledged", "alerts-unknown",
		"api-4xx-rate", "api-5xx",
		"authorizer-duration", "authorizer-errors", "authorizer-throttles",
		"dead-letter-queue-depth", "deadletter-duration", "deadletter-errors", "deadletter-throttles",
		"escalate-duration", "escalate-errors", "escalate-throttles", "escalation-timer-not-set",
		"processor-alert-not-recorded", "processor-duration", "processor-errors", "processor-sent-not-recorded", "processor-throttles",
		"sms-spend",
		"status-duration", "status-errors", "status-throttles",
		"worker-duration", "worker-errors", "worker-throttles",
	}
	if got := alarmIDs(m); !slices.Equal(got, want) {
		t.Errorf("alarms = %v\nwant     %v", got, want)
	}
	topic := m.byName(t, tTopic, "alarms-topic")
	if got, want := topic.str("name"), "a2p-alerts-dev-operations"; got != want {
		t.Errorf("operations topic name = %q, want %q", got, want)
	}
	if got, want := topic.str("kmsMasterKeyId"), m.byName(t, tKey, "messaging-key").out("arn"); got != want {
		t.Errorf("operations topic key = %q, want the stack's key %q", got, want)
	}
	pattern := "a2p-alerts-dev-*"
	for _, a := range m.all(tAlarm) {
		checkAlarm(t, a, topic.out("arn"), pattern)
	}

	// Each alarm watches what the stack built.
	dims := func(id string) map[string]string {
		out := map[string]string{}
		for k, v := range m.byName(t, tAlarm, "alarms-"+id).obj("dimensions") {
			out[string(k)] = v.StringValue()
		}
		return out
	}
	restAPI := m.byName(t, tRestAPI, "api").str("name")
	if got := dims("api-5xx"); got["ApiName"] != restAPI || got["Stage"] != StageName {
		t.Errorf("api-5xx dimensions = %v, want ApiName %s, Stage %s", got, restAPI, StageName)
	}
	for _, fn := range names.Functions {
		for _, kind := range []string{"errors", "throttles", "duration"} {
			if got, want := dims(fn + "-" + kind)["FunctionName"], m.byName(t, tFunction, "functions-"+fn).str("name"); got != want {
				t.Errorf("%s-%s FunctionName = %q, want %q", fn, kind, got, want)
			}
		}
	}
	for _, tp := range []string{"C-1-sms", "C-1-email", "C-2-sms"} {
		if got, want := dims(tp + "-failed")["TopicName"], m.byName(t, tTopic, "messaging-"+tp).str("name"); got != want {
			t.Errorf("%s-failed TopicName = %q, want %q", tp, got, want)
		}
	}
	for id, queue := range map[string]string{"dead-letter-queue-depth": "async-dlq", "alert-queue-age": "async-queue"} {
		if got, want := dims(id), (map[string]string{"QueueName": m.byName(t, "aws:sqs/queue:Queue", queue).str("name")}); !maps.Equal(got, want) {
			t.Errorf("%s dimensions = %v, want %v", id, got, want)
		}
	}
	thresholds := map[string]float64{
		"dead-letter-queue-depth": 1,
		"alert-queue-age":         300,
		"worker-duration":         0.8 * float64(WorkerTimeout.Milliseconds()),
		"processor-duration":      0.8 * float64(ProcessorTimeout.Milliseconds()),
		"authorizer-duration":     0.8 * float64(AuthorizerTimeout.Milliseconds()),
		"sms-spend":               DefaultSMSMonthlySpendLimit * DefaultSMSSpendAlarmPercent / 100,
		"api-4xx-rate":            0.2,
		"api-5xx":                 1,
	}
	for id, want := range thresholds {
		if got := m.byName(t, tAlarm, "alarms-"+id).inputs["threshold"].NumberValue(); got != want {
			t.Errorf("%s threshold = %v, want %v", id, got, want)
		}
	}
	if n := len(m.all(tSubscription)); n != 3 {
		t.Errorf("got %d subscriptions, want 3: no alarm email without %s", n, names.ConfigAlarmEmail)
	}
}

// checkAlarm checks what every alarm must have.
func checkAlarm(tb testing.TB, a record, topicARN, pattern string) {
	tb.Helper()
	name := a.str("name")
	if ok, _ := path.Match(pattern, name); !ok {
		tb.Errorf("alarm %s: name %q does not match %q, which the key and topic policies allow", a.name, name, pattern)
	}
	reason := a.str("alarmDescription")
	if reason == "" || strings.ContainsAny(reason, "\n\r") || len(reason) > 1024 {
		tb.Errorf("alarm %s: description %q must be one non-empty line", a.name, reason)
	}
	for _, k := range []string{"alarmActions", "okActions"} {
		v := a.inputs[resourceKey(k)]
		if !v.IsArray() || len(v.ArrayValue()) != 1 || plainValue(v.ArrayValue()[0]).StringValue() != topicARN {
			tb.Errorf("alarm %s: %s = %v, want the operations topic", a.name, k, v)
		}
	}
	if a.str("treatMissingData") != "notBreaching" || a.str("comparisonOperator") != "GreaterThanOrEqualToThreshold" {
		tb.Errorf("alarm %s: treatMissingData %q, comparison %q", a.name, a.str("treatMissingData"), a.str("comparisonOperator"))
	}
	for _, k := range []string{"namespace", "metricName", "statistic"} {
		if a.str(k) == "" {
			tb.Errorf("alarm %s: no %s", a.name, k)
		}
	}
}

// TestAlarmsFollowTheConfiguration: WAF alarms with a WAF, no SMS spend
// alarm without SMS, an email subscription with alarmEmail.
func TestAlarmsFollowTheConfiguration(t *testing.T) {
	cfg := baseConfig(t, contactC1())
	cs := contactC1()
	cs["preferences"] = map[string]any{"H": "call", "M": "email", "L": "email"}
	cfg[key(names.ConfigContacts)] = mustJSON(t, []map[string]any{cs})
	cfg[key(names.ConfigEnableWAF)] = "true"
	cfg[key(names.ConfigAlarmEmail)] = "pager@example.net"
	_, m := mustRun(t, "prod", cfg)
	ids := alarmIDs(m)
	if slices.Contains(ids, "sms-spend") {
		t.Error("an SMS spend alarm without SMS")
	}
	acl := m.byName(t, tWebACL, "api-waf")
	aclMetric := propString(acl.obj("visibilityConfig"), "metricName")
	var ruleMetrics []string
	for _, r := range acl.inputs["rules"].ArrayValue() {
		ruleMetrics = append(ruleMetrics, propString(r.ObjectValue()["visibilityConfig"].ObjectValue(), "metricName"))
	}
	for id, rule := range map[string]string{"waf-blocked": "ALL", "waf-body-rules": "a2p-alerts-prod-body-rules-counted"} {
		a := m.byName(t, tAlarm, "alarms-"+id)
		d := a.obj("dimensions")
		if propString(d, "WebACL") != aclMetric || propString(d, "Region") != mockRegion || propString(d, "Rule") != rule {
			t.Errorf("%s dimensions = %v, want WebACL %s, Region %s, Rule %s", id, d, aclMetric, mockRegion, rule)
		}
		if rule != "ALL" && !slices.Contains(ruleMetrics, rule) {
			t.Errorf("%s watches rule metric %s, which no rule of the web ACL has (%v)", id, rule, ruleMetrics)
		}
	}
	sub := m.byName(t, tSubscription, "alarms-email")
	if sub.str("protocol") != "email" || sub.str("endpoint") != "pager@example.net" || !sub.isSecret("endpoint") {
		t.Errorf("alarm email subscription = %v", sub.inputs)
	}
	if got, want := sub.str("topic"), m.byName(t, tTopic, "alarms-topic").out("arn"); got != want {
		t.Errorf("alarm email subscribes to %q, want %q", got, want)
	}
}

// TestSentNotRecordedFilterMatchesTheProcessorsLine checks each log metric
// filter against the line the processor writes: slog's JSON handler with
// the filter's message (names.LogSentNotRecorded, names.LogAlertNotRecorded)
// at ERROR.
func TestSentNotRecordedFilterMatchesTheProcessorsLine(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	for id, tt := range map[string]struct{ msg, fn, alarm string }{
		"processor-sent-not-recorded":  {names.LogSentNotRecorded, names.FunctionProcessor, "processor-sent-not-recorded"},
		"processor-alert-not-recorded": {names.LogAlertNotRecorded, names.FunctionProcessor, "processor-alert-not-recorded"},
		// The other functions that write alert records feed the same
		// alarm (issue 13).
		"worker-alert-not-recorded":     {names.LogAlertNotRecorded, names.FunctionWorker, "processor-alert-not-recorded"},
		"deadletter-alert-not-recorded": {names.LogAlertNotRecorded, names.FunctionDeadLetter, "processor-alert-not-recorded"},
	} {
		msg := tt.msg
		t.Run(id, func(t *testing.T) {
			f := m.byName(t, tMetricFilter, "alarms-filter-"+id)
			if got, want := f.str("logGroupName"), m.byName(t, tLogGroup, "functions-"+tt.fn+"-logs").str("name"); got != want {
				t.Errorf("filter log group = %q, want the %s's %q", got, tt.fn, want)
			}
			mt := f.obj("metricTransformation")
			alarm := m.byName(t, tAlarm, "alarms-"+tt.alarm)
			if propString(mt, "namespace") != alarm.str("namespace") || propString(mt, "name") != alarm.str("metricName") || propString(mt, "value") != "1" {
				t.Errorf("filter metric %v is not the alarm's %s/%s", mt, alarm.str("namespace"), alarm.str("metricName"))
			}

			var line bytes.Buffer
			slog.New(slog.NewJSONHandler(&line, nil)).LogAttrs(context.Background(), slog.LevelError, msg,
				slog.String("request_id", "r-1"), slog.String("message_id", "m-1"))
			var event map[string]any
			if err := json.Unmarshal(line.Bytes(), &event); err != nil {
				t.Fatal(err)
			}
			terms := regexp.MustCompile(`\(\$\.(\w+) = "([^"]*)"\)`).FindAllStringSubmatch(f.str("pattern"), -1)
			if len(terms) != 2 || !strings.HasPrefix(f.str("pattern"), "{") || strings.Count(f.str("pattern"), "&&") != 1 {
				t.Fatalf("pattern %q: want { ($.level = ...) && ($.msg = ...) }", f.str("pattern"))
			}
			for _, term := range terms {
				if got := fmt.Sprint(event[term[1]]); got != term[2] {
					t.Errorf("pattern term $.%s = %q does not match the processor's line (%q)", term[1], term[2], got)
				}
			}
		})
	}
}

// TestCloudWatchMayUseTheKeyAndTopic checks that the alarms can deliver:
// the key and the operations topic let CloudWatch in, for this account's
// alarms of this stack only.
func TestCloudWatchMayUseTheKeyAndTopic(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	wantCond := map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": mockAccount},
		"ArnLike":      {"aws:SourceArn": "arn:aws:cloudwatch:" + mockRegion + ":" + mockAccount + ":alarm:a2p-alerts-dev-*"},
	}
	for _, tt := range []struct {
		typ, name, field string
		actions          []string
	}{
		{tKey, "messaging-key", "policy", []string{"kms:Decrypt", "kms:GenerateDataKey*"}},
		{tTopicPolicy, "alarms-topic-policy", "policy", []string{"sns:Publish"}},
	} {
		var doc PolicyDocument
		if err := json.Unmarshal([]byte(m.byName(t, tt.typ, tt.name).str(tt.field)), &doc); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(doc.Statement, func(st Statement) bool {
			p, _ := st.Principal.(map[string]any)
			return p["Service"] == "cloudwatch.amazonaws.com"
		})
		if i < 0 {
			t.Errorf("%s: no statement for cloudwatch.amazonaws.com", tt.name)
			continue
		}
		st := doc.Statement[i]
		if st.Effect != effectAllow || !slices.Equal(st.Action, tt.actions) || fmt.Sprint(st.Condition) != fmt.Sprint(wantCond) {
			t.Errorf("%s: CloudWatch statement = %+v, want Allow %v with %v", tt.name, st, tt.actions, wantCond)
		}
	}
}
