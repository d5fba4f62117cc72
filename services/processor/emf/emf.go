// Package emf writes the processor's CloudWatch metrics as Embedded Metric
// Format lines: JSON log lines from which CloudWatch Logs extracts the
// metrics itself, so the function needs no PutMetricData permission and
// makes no extra call. It implements alerting.Metrics.
//
// Per alert: names.MetricAlerts (by DimOutcome, and by DimPriority and
// DimOutcome), names.MetricFallbacks and, once sent,
// names.MetricAcceptedToSent (by DimPriority). Per attempt:
// names.MetricAttempts (by DimChannel and DimResult). Per acknowledgment
// and per escalation timer (alerting.Timeliness): the time to
// acknowledge, acknowledgments by method, stages reached, and alerts left
// unacknowledged. Every dimension
// takes values from a fixed set (priorities, outcomes, channels, failure
// classes): no line holds a message_id, a contact or any text of an alert.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Units of the metrics.
const (
	unitCount        = "Count"
	unitMilliseconds = "Milliseconds"
	// resultSent is DimResult of an attempt that was sent; failed ones
	// carry their failure class.
	resultSent = "sent"
)

// Metrics writes EMF lines to a writer (the function's standard output).
// It is safe for concurrent use.
type Metrics struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	now       func() time.Time
}

var (
	_ alerting.Metrics    = (*Metrics)(nil)
	_ alerting.Timeliness = (*Metrics)(nil)
)

// New returns Metrics writing lines in namespace to w.
func New(w io.Writer, namespace string) *Metrics {
	return &Metrics{w: w, namespace: namespace, now: time.Now}
}

// directive is one CloudWatchMetrics entry of the _aws block.
type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Finished writes the alert's line and one line per attempt. A line that
// cannot be written is dropped: metrics never fail a delivery.
func (m *Metrics) Finished(s alerting.Summary) {
	ts := m.now().UnixMilli()
	alertLine := map[string]any{
		names.DimPriority:     string(s.Priority),
		names.DimOutcome:      string(s.Outcome),
		names.MetricAlerts:    1,
		names.MetricFallbacks: s.Fallbacks,
	}
	perPriority := []metric{{names.MetricFallbacks, unitCount}}
	if s.Outcome == alerting.OutcomeSent {
		alertLine[names.MetricAcceptedToSent] = s.AcceptedToSent.Milliseconds()
		perPriority = append(perPriority, metric{names.MetricAcceptedToSent, unitMilliseconds})
	}
	alertLine["_aws"] = m.block(ts,
		directive{m.namespace, [][]string{{names.DimOutcome}, {names.DimPriority, names.DimOutcome}}, []metric{{names.MetricAlerts, unitCount}}},
		directive{m.namespace, [][]string{{names.DimPriority}}, perPriority},
	)
	lines := []map[string]any{alertLine}
	for _, at := range s.Attempts {
		result := resultSent
		if at.Status != delivery.AttemptSent {
			result = string(at.Failure)
		}
		lines = append(lines, map[string]any{
			"_aws":               m.block(ts, directive{m.namespace, [][]string{{names.DimChannel, names.DimResult}}, []metric{{names.MetricAttempts, unitCount}}}),
			names.DimChannel:     string(at.Channel),
			names.DimResult:      result,
			names.MetricAttempts: 1,
		})
	}
	m.write(lines)
}

// Acknowledged writes an acknowledgment's line:
// names.MetricAcknowledgments by DimPriority and DimMethod, and
// names.MetricAcceptedToAcknowledged (the time to acknowledge) by
// DimPriority. Whether it was late is a property, not a dimension.
func (m *Metrics) Acknowledged(s alerting.AckSummary) {
	ts := m.now().UnixMilli()
	m.write([]map[string]any{{
		"_aws": m.block(ts,
			directive{m.namespace, [][]string{{names.DimPriority, names.DimMethod}}, []metric{{names.MetricAcknowledgments, unitCount}}},
			directive{m.namespace, [][]string{{names.DimPriority}}, []metric{{names.MetricAcceptedToAcknowledged, unitMilliseconds}}},
		),
		names.DimPriority:                  string(s.Priority),
		names.DimMethod:                    string(s.Method),
		names.MetricAcknowledgments:        1,
		names.MetricAcceptedToAcknowledged: s.AcceptedToAcknowledged.Milliseconds(),
		"late":                             s.Late,
	}})
}

// Escalated writes a timer's line: names.MetricEscalations by
// DimPriority for a stage reached (the stage is a property), or
// names.MetricUnacknowledged, without dimensions (the alarm's) and by
// DimPriority, when the window passed.
func (m *Metrics) Escalated(s alerting.EscalationSummary) {
	ts := m.now().UnixMilli()
	line := map[string]any{names.DimPriority: string(s.Priority), "stage": s.Stage}
	if s.Unacknowledged {
		line[names.MetricUnacknowledged] = 1
		line["_aws"] = m.block(ts, directive{m.namespace, [][]string{{}, {names.DimPriority}}, []metric{{names.MetricUnacknowledged, unitCount}}})
	} else {
		line[names.MetricEscalations] = 1
		line["_aws"] = m.block(ts, directive{m.namespace, [][]string{{names.DimPriority}}, []metric{{names.MetricEscalations, unitCount}}})
	}
	m.write([]map[string]any{line})
}

func (m *Metrics) block(ts int64, ds ...directive) map[string]any {
	return map[string]any{"Timestamp": ts, "CloudWatchMetrics": ds}
}

// write writes each line whole, under the lock.
func (m *Metrics) write(lines []map[string]any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			panic(fmt.Sprintf("emf: marshal a line of plain values: %v", err)) // cannot happen
		}
		_, _ = m.w.Write(append(b, '\n')) // stdout; a lost line loses a metric only
	}
}
