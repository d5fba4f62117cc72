package status

import (
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
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
		Attempts:   make([]api.AttemptRecord, 0, len(a.Attempts)),
		Events:     make([]api.EventRecord, 0, len(a.Events)),
	}
	for _, ch := range a.Channels {
		v.Channels = append(v.Channels, string(ch))
	}
	for _, at := range a.Attempts {
		v.Attempts = append(v.Attempts, api.AttemptRecord{
			Attempt: at.Number, Channel: string(at.Channel), ContactID: at.ContactID, Status: string(at.Status),
			StartedAt: stamp(at.StartedAt), EndedAt: stamp(at.EndedAt), ProviderRef: at.ProviderRef, FailureClass: string(at.Failure),
		})
	}
	for _, e := range a.Events {
		v.Events = append(v.Events, api.EventRecord{
			Seq: e.Seq, Type: string(e.Type), At: stamp(e.At), Actor: e.Actor.String(), Status: string(e.Status),
			Attempt: e.Attempt, Channel: string(e.Channel), FromChannel: string(e.FromChannel), FailureClass: string(e.Failure),
			Reason: string(e.Reason),
		})
	}
	return v
}
