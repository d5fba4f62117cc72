package emf_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

type line struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	values map[string]any
}

func parse(t *testing.T, out string) []line {
	t.Helper()
	var lines []line
	for raw := range strings.Lines(out) {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("line %q: %v", raw, err)
		}
		_ = json.Unmarshal([]byte(raw), &l.values)
		lines = append(lines, l)
	}
	return lines
}

// allowed are the only values a dimension may take.
var allowed = map[string][]string{
	names.DimPriority: {"H", "M", "L"},
	names.DimOutcome:  {"sent", "failed", "unknown", "retry"},
	names.DimChannel:  {"call", "sms", "email"},
	names.DimResult:   {"sent", "transient", "permanent", "ambiguous"},
}

var metricNames = []string{names.MetricAlerts, names.MetricAttempts, names.MetricFallbacks, names.MetricAcceptedToSent}

// TestLines checks each line is valid EMF: every declared metric has a
// value, every dimension a value from its fixed set, and nothing else of
// the alert is there.
func TestLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := emf.New(&buf, "a2p-alerts-dev")
	m.Finished(alerting.Summary{
		Priority: alert.PriorityHigh, Outcome: alerting.OutcomeSent, Fallbacks: 1, AcceptedToSent: 1500 * time.Millisecond,
		Attempts: []alerting.Attempt{
			{Number: 1, Channel: contact.ChannelCall, Status: delivery.AttemptFailed, Failure: delivery.Permanent, FailureCode: "DestinationNotAllowedException"},
			{Number: 2, Channel: contact.ChannelSMS, Status: delivery.AttemptSent, ProviderRef: "sns-1"},
		},
	})
	m.Finished(alerting.Summary{Priority: alert.PriorityLow, Outcome: alerting.OutcomeFailed})
	lines := parse(t, buf.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 for the first alert and 1 for the second:\n%s", len(lines), buf.String())
	}
	for i, l := range lines {
		if l.AWS.Timestamp == 0 || len(l.AWS.CloudWatchMetrics) == 0 {
			t.Errorf("line %d has no _aws block", i)
		}
		for _, d := range l.AWS.CloudWatchMetrics {
			if d.Namespace != "a2p-alerts-dev" {
				t.Errorf("line %d namespace %q", i, d.Namespace)
			}
			for _, mt := range d.Metrics {
				if _, ok := l.values[mt.Name].(float64); !ok {
					t.Errorf("line %d declares %s without a number", i, mt.Name)
				}
			}
			for _, set := range d.Dimensions {
				for _, dim := range set {
					v, _ := l.values[dim].(string)
					if !slices.Contains(allowed[dim], v) {
						t.Errorf("line %d: dimension %s = %q, not one of %v", i, dim, v, allowed[dim])
					}
				}
			}
		}
		for k := range l.values {
			if _, dim := allowed[k]; !dim && k != "_aws" && !slices.Contains(metricNames, k) {
				t.Errorf("line %d holds %q, which is neither a dimension nor a metric", i, k)
			}
		}
		if strings.Contains(buf.String(), "DestinationNotAllowed") || strings.Contains(buf.String(), "sns-1") {
			t.Error("a line holds a provider code or reference")
		}
	}
	first := lines[0].values
	if first[names.MetricAcceptedToSent] != 1500.0 || first[names.MetricFallbacks] != 1.0 || first[names.DimOutcome] != "sent" {
		t.Errorf("alert line %v", first)
	}
	if lines[1].values[names.DimResult] != "permanent" || lines[2].values[names.DimResult] != "sent" {
		t.Errorf("attempt lines %v, %v", lines[1].values, lines[2].values)
	}
	if _, ok := lines[3].values[names.MetricAcceptedToSent]; ok {
		t.Error("a failed alert reports an accepted-to-sent latency")
	}
	dims := lines[0].AWS.CloudWatchMetrics[0].Dimensions
	if !slices.ContainsFunc(dims, func(d []string) bool { return slices.Equal(d, []string{names.DimOutcome}) }) {
		t.Errorf("alerts metric dimensions %v lack [Outcome] alone, which the failed-alerts alarm watches", dims)
	}
}

// TestTimelinessLines checks the acknowledgment and escalation lines: the
// time to acknowledge by priority, acknowledgments by method, and the
// unacknowledged count with no dimension (the alarm's), as valid EMF
// holding nothing of the alert.
func TestTimelinessLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := emf.New(&buf, "a2p-alerts-dev")
	m.Acknowledged(alerting.AckSummary{Priority: alert.PriorityHigh, Method: delivery.AckKeypad, AcceptedToAcknowledged: 42 * time.Second})
	m.Escalated(alerting.EscalationSummary{Priority: alert.PriorityMedium, Stage: 2})
	m.Escalated(alerting.EscalationSummary{Priority: alert.PriorityHigh, Stage: 4, Unacknowledged: true})
	lines := parse(t, buf.String())
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	dims := map[string][][]string{}
	for i, l := range lines {
		for _, d := range l.AWS.CloudWatchMetrics {
			for _, mt := range d.Metrics {
				if _, ok := l.values[mt.Name].(float64); !ok {
					t.Errorf("line %d declares %s without a number", i, mt.Name)
				}
				dims[mt.Name] = d.Dimensions
			}
			for _, set := range d.Dimensions {
				for _, dim := range set {
					if v, _ := l.values[dim].(string); v == "" {
						t.Errorf("line %d: dimension %s has no value", i, dim)
					}
				}
			}
		}
	}
	if got := lines[0].values[names.MetricAcceptedToAcknowledged]; got != 42000.0 {
		t.Errorf("time to acknowledge %v, want 42000 ms", got)
	}
	if !reflect.DeepEqual(dims[names.MetricAcceptedToAcknowledged], [][]string{{names.DimPriority}}) ||
		!reflect.DeepEqual(dims[names.MetricAcknowledgments], [][]string{{names.DimPriority, names.DimMethod}}) {
		t.Errorf("dimensions %v", dims)
	}
	if !slices.ContainsFunc(dims[names.MetricUnacknowledged], func(d []string) bool { return len(d) == 0 }) {
		t.Errorf("unacknowledged dimensions %v lack the empty set the alarm watches", dims[names.MetricUnacknowledged])
	}
	if lines[1].values[names.MetricEscalations] != 1.0 || lines[2].values[names.MetricUnacknowledged] != 1.0 {
		t.Errorf("escalation lines %v, %v", lines[1].values, lines[2].values)
	}
}
