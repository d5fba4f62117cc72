package deadletter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/services/processor/deadletter"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

type metrics struct{ got []alerting.Summary }

func (m *metrics) Finished(s alerting.Summary) { m.got = append(m.got, s) }

var key = alert.Key{Client: "ward", MessageID: "lab-1"}

// record writes an accepted alert, and one sent when sent is set.
func record(t *testing.T, store *alertingtest.MemStore, instance string, status delivery.AlertStatus) {
	t.Helper()
	a := &alerting.Alert{Key: key, Instance: instance, Priority: alert.PriorityHigh, ContactID: "C-1", Channels: []contact.Channel{contact.ChannelSMS}}
	evs := []alerting.Event{{Seq: 1, Type: delivery.EventAccepted, Status: delivery.AlertAccepted, Actor: delivery.Client("ward")}}
	if status == delivery.AlertSent {
		evs = append(evs, alerting.Event{Seq: 2, Type: delivery.EventSent, Status: delivery.AlertSent, Actor: delivery.System})
	}
	a.Status, a.Version = status, len(evs)
	if err := store.Write(t.Context(), alerting.Change{Alert: a, Events: evs}); err != nil {
		t.Fatal(err)
	}
}

func message(t *testing.T, id string, detail any) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"source": names.EventSource, "detail-type": names.EventDetailTypeAccepted, "detail": detail})
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(b), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	store := alertingtest.NewMemStore()
	m := &metrics{}
	records, err := alerting.NewRecords(alerting.RecordsConfig{Store: store, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h, err := deadletter.New(records, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	record(t, store, "0000000000001-aaaaaaaa", delivery.AlertAccepted)
	record(t, store, "0000000000002-bbbbbbbb", delivery.AlertSent)
	detail := func(instance string) map[string]string {
		return map[string]string{"client": key.Client, "message_id": key.MessageID, "instance": instance}
	}
	resp, err := h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		message(t, "given-up", detail("0000000000001-aaaaaaaa")),
		message(t, "settled", detail("0000000000002-bbbbbbbb")),
		message(t, "expired", detail("0000000000003-cccccccc")),
		{MessageId: "junk", Body: "{}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "junk" {
		t.Errorf("kept %+v, want only the junk", resp.BatchItemFailures)
	}
	a, err := store.Load(t.Context(), key, "0000000000001-aaaaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	if last := a.Events[len(a.Events)-1]; a.Status != delivery.AlertFailed || last.Reason != delivery.ReasonDeadLettered {
		t.Errorf("alert %s, last event %+v: want failed, dead_lettered", a.Status, last)
	}
	if len(m.got) != 1 || m.got[0].Outcome != alerting.OutcomeFailed || m.got[0].Priority != alert.PriorityHigh {
		t.Errorf("metrics %+v, want one failed H alert (the alerts-failed alarm)", m.got)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"alert given up`) {
		t.Errorf("log %s, want an ERROR line for the alert given up", logs.String())
	}
	t.Run("a write that fails keeps the message", func(t *testing.T) {
		t.Parallel()
		store := alertingtest.NewMemStore()
		record(t, store, "0000000000001-aaaaaaaa", delivery.AlertAccepted)
		store.FailWrite = func(alerting.Change) error { return errors.New("dynamodb down") }
		records, _ := alerting.NewRecords(alerting.RecordsConfig{Store: store, Now: func() time.Time { return time.Unix(1, 0) }})
		var logs bytes.Buffer
		h, _ := deadletter.New(records, slog.New(slog.NewJSONHandler(&logs, nil)))
		resp, _ := h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{message(t, "m", detail("0000000000001-aaaaaaaa"))}})
		if len(resp.BatchItemFailures) != 1 || !strings.Contains(logs.String(), names.LogAlertNotRecorded) {
			t.Errorf("kept %+v, log %s: want the message kept and the not-recorded line", resp.BatchItemFailures, logs.String())
		}
	})
}
