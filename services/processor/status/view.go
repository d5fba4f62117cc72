package status

import (
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// View is the answer for a: everything a caller may see of the record,
// which leaves out the content (description, patient id, type) and every
// destination.
func View(a *alerting.Alert) api.AlertRecord {
	v := api.AlertRecord{
		MessageID:  a.Key.MessageID,
		Status:     string(a.Status),
		Priority:   string(a.Priority),
		ContactID:  a.ContactID,
		Channels:   make([]string, 0, len(a.Channels)),
		AcceptedAt: stamp(a.AcceptedAt),
		SentAt:     stamp(a.SentAt),
		Stage:      a.Stage,
		Escalation: escalationView(a.Policy),
		Attempts:   make([]api.AttemptRecord, 0, len(a.Attempts)),
		Events:     make([]api.EventRecord, 0, len(a.Events)),
	}
	if ack := a.Ack; ack != nil {
		v.AcknowledgedAt, v.AcknowledgedBy, v.AckMethod, v.AckLate = stamp(ack.At), ack.By.String(), string(ack.Method), ack.Late
		v.AcceptedToAcknowledgedMS = ack.At.Sub(a.AcceptedAt).Milliseconds()
	}
	for _, ch := range a.Channels {
		v.Channels = append(v.Channels, string(ch))
	}
	for _, at := range a.Attempts {
		v.Attempts = append(v.Attempts, api.AttemptRecord{
			Attempt: at.Number, Channel: string(at.Channel), ContactID: at.ContactID, Status: string(at.Status),
			StartedAt: stamp(at.StartedAt), EndedAt: stamp(at.EndedAt), ProviderRef: at.ProviderRef, FailureClass: string(at.Failure),
			Stage: at.Stage,
		})
	}
	for _, e := range a.Events {
		v.Events = append(v.Events, api.EventRecord{
			Seq: e.Seq, Type: string(e.Type), At: stamp(e.At), Actor: e.Actor.String(), Status: string(e.Status),
			Attempt: e.Attempt, Channel: string(e.Channel), FromChannel: string(e.FromChannel), FailureClass: string(e.Failure),
			Reason: string(e.Reason),
			Stage:  e.Stage, Method: string(e.Method), Late: e.Late, Target: string(e.Target),
		})
	}
	return v
}

// escalationView is the policy an alert carries, nil when it asks for no
// acknowledgment.
func escalationView(p escalation.Policy) *api.EscalationRecord {
	if !p.Enabled() {
		return nil
	}
	out := &api.EscalationRecord{Stages: []api.EscalationStageRecord{}, UnacknowledgedAfterSeconds: int(p.UnacknowledgedAfter / time.Second)}
	for _, s := range p.Stages {
		st := api.EscalationStageRecord{AfterSeconds: int(s.After / time.Second), Targets: make([]string, 0, len(s.Targets))}
		for _, t := range s.Targets {
			st.Targets = append(st.Targets, string(t))
		}
		out.Stages = append(out.Stages, st)
	}
	return out
}
