package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/services/processor/worker"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

var drOne = contact.Contact{
	ID: "C-1", Name: "Dr One", SMSTopicARN: "arn:aws:sns:eu-west-2:000000000000:c1-sms",
	Preferences: map[alert.Priority][]contact.Channel{alert.PriorityMedium: {contact.ChannelSMS}},
}

type contacts struct{}

func (contacts) GetContact(_ context.Context, id string) (contact.Contact, error) {
	if id != drOne.ID {
		return contact.Contact{}, alerting.ErrContactNotFound
	}
	return drOne, nil
}

// sns fakes SNS: it fails every SMS whose text names a message_id in fail.
type sns struct {
	mu   sync.Mutex
	sent []string
	fail map[string]bool
}

func (s *sns) PublishSMS(_ context.Context, _, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.fail {
		if strings.HasSuffix(text, "Ref: "+id) {
			return "", &delivery.Error{Class: delivery.Transient, Code: "Throttling", Err: errors.New("slow down")}
		}
	}
	s.sent = append(s.sent, text)
	return fmt.Sprintf("sns-%d", len(s.sent)), nil
}

func (s *sns) PublishEmail(context.Context, string, string, string) (string, error) {
	return "", errors.New("no email here")
}

// deferrer records the deferred receipt handles.
type deferrer struct {
	mu      sync.Mutex
	handles []string
	delays  []time.Duration
}

func (d *deferrer) Defer(_ context.Context, handle string, delay time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handles, d.delays = append(d.handles, handle), append(d.delays, delay)
	return nil
}

type fixture struct {
	core  *alerting.Core
	store *alertingtest.MemStore
	sns   *sns
	queue *deferrer
	h     *worker.Handler
	logs  *bytes.Buffer
	n     int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: alertingtest.NewMemStore(), sns: &sns{fail: map[string]bool{}}, queue: &deferrer{}, logs: &bytes.Buffer{}}
	var err error
	f.core, err = alerting.New(alerting.Config{Store: f.store, Contacts: contacts{}, Publisher: f.sns, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f.h, err = worker.New(worker.Config{
		Alerts: f.core, Queue: f.queue, RetryDelay: 30 * time.Second, Timeout: 25 * time.Second, Reserve: 2 * time.Second,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// accept records an alert accepted, as the asynchronous POST does, and
// returns its queue message, as the bus's rule delivers it.
func (f *fixture) accept(t *testing.T, id string) events.SQSMessage {
	t.Helper()
	a := alert.Alert{MessageID: id, Type: "lab", PatientID: "P-1", ContactID: "C-1", Description: "K+ 6.9", Priority: alert.PriorityMedium}
	acc, err := f.core.Accept(t.Context(), alerting.Intake{
		Key: alert.Key{Client: "ward", MessageID: id}, Instance: f.core.NewInstance(), Alert: a, Actor: delivery.Client("ward"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f.message(t, map[string]any{
		"source": names.EventSource, "detail-type": names.EventDetailTypeAccepted,
		"detail": map[string]string{"client": "ward", "message_id": id, "instance": acc.Record().Instance},
	})
}

func (f *fixture) message(t *testing.T, body any) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	f.n++
	return events.SQSMessage{MessageId: fmt.Sprintf("m-%d", f.n), ReceiptHandle: fmt.Sprintf("rh-%d", f.n), Body: string(b)}
}

func (f *fixture) handle(t *testing.T, ms ...events.SQSMessage) []string {
	t.Helper()
	resp, err := f.h.Handle(t.Context(), events.SQSEvent{Records: ms})
	if err != nil {
		t.Fatal(err)
	}
	var again []string
	for _, fl := range resp.BatchItemFailures {
		again = append(again, fl.ItemIdentifier)
	}
	return again
}

func (f *fixture) status(t *testing.T, id string) delivery.AlertStatus {
	t.Helper()
	a, err := f.store.Latest(t.Context(), alert.Key{Client: "ward", MessageID: id})
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

func TestBatchWithOneFailingAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b, c := f.accept(t, "lab-a"), f.accept(t, "lab-b"), f.accept(t, "lab-c")
	f.sns.fail["lab-b"] = true
	again := f.handle(t, a, b, c)
	if len(again) != 1 || again[0] != b.MessageId {
		t.Fatalf("received again %v, want only %s", again, b.MessageId)
	}
	if f.status(t, "lab-a") != delivery.AlertSent || f.status(t, "lab-c") != delivery.AlertSent || f.status(t, "lab-b") != delivery.AlertAccepted {
		t.Error("want a and c sent, b still accepted (requeued)")
	}
	if len(f.queue.handles) != 1 || f.queue.handles[0] != b.ReceiptHandle || f.queue.delays[0] != 30*time.Second {
		t.Errorf("deferred %v by %v, want %s by the retry delay", f.queue.handles, f.queue.delays, b.ReceiptHandle)
	}
	delete(f.sns.fail, "lab-b")
	if again := f.handle(t, b); len(again) != 0 || f.status(t, "lab-b") != delivery.AlertSent || len(f.sns.sent) != 3 {
		t.Errorf("the retry: again %v, %d sent; want b sent, three SMS in all", again, len(f.sns.sent))
	}
	if strings.Contains(f.logs.String(), "K+ 6.9") || strings.Contains(f.logs.String(), "P-1") {
		t.Error("the log holds the alert's content")
	}
}

func TestSameMessageTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.accept(t, "lab-dup")
	dup := m
	dup.MessageId, dup.ReceiptHandle = "m-dup", "rh-dup"
	again := f.handle(t, m, dup)
	if len(f.sns.sent) != 1 || f.status(t, "lab-dup") != delivery.AlertSent || len(again) > 1 {
		t.Fatalf("%d sent, again %v: want one SMS, the alert sent", len(f.sns.sent), again)
	}
	if again := f.handle(t, dup); len(again) != 0 || len(f.sns.sent) != 1 {
		t.Errorf("handed out once more: again %v, %d sent; want done, nothing sent again", again, len(f.sns.sent))
	}
}

func TestMessagesThatAreNoAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	junk := f.message(t, map[string]string{"source": "someone-else"})
	gone := f.message(t, map[string]any{
		"source": names.EventSource, "detail-type": names.EventDetailTypeAccepted,
		"detail": map[string]string{"client": "ward", "message_id": "lab-gone", "instance": "0000000000000-00000000"},
	})
	again := f.handle(t, junk, gone)
	if len(again) != 1 || again[0] != junk.MessageId {
		t.Errorf("again %v, want the junk kept (it goes on to the dead-letter queue), the expired alert done", again)
	}
	if !strings.Contains(f.logs.String(), `"outcome":"not_an_alert"`) {
		t.Errorf("log %s, want the junk named", f.logs.String())
	}
}

// outcomes is an Alerts whose delivery ends as res says.
type outcomes struct {
	res        alerting.Result
	resumeErr  error
	deliveries int
}

func (o *outcomes) Load(_ context.Context, key alert.Key, instance string) (*alerting.Alert, error) {
	return &alerting.Alert{Key: key, Instance: instance, Status: delivery.AlertAccepted}, nil
}

func (o *outcomes) Resume(context.Context, *alerting.Alert) (*alerting.Accepted, error) {
	return nil, o.resumeErr
}

func (o *outcomes) Deliver(context.Context, *alerting.Accepted, time.Time) alerting.Result {
	o.deliveries++
	return o.res
}

// TestWhichMessagesAreKept: a message is done once its alert is settled,
// and kept (received again, deferred) while a retry may succeed or another
// invocation may hold the alert.
func TestWhichMessagesAreKept(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		o    outcomes
		keep bool
	}{
		"sent":                   {outcomes{res: alerting.Result{Outcome: alerting.OutcomeSent}}, false},
		"failed":                 {outcomes{res: alerting.Result{Outcome: alerting.OutcomeFailed}}, false},
		"unknown":                {outcomes{res: alerting.Result{Outcome: alerting.OutcomeUnknown}}, false},
		"requeued":               {outcomes{res: alerting.Result{Outcome: alerting.OutcomeRetry}}, true},
		"taken by another":       {outcomes{res: alerting.Result{Outcome: alerting.OutcomeRetry, Taken: true}}, true},
		"settled":                {outcomes{resumeErr: alerting.ErrSettled}, false},
		"an attempt under way":   {outcomes{resumeErr: alerting.ErrInProgress}, true},
		"the contact unreadable": {outcomes{resumeErr: errors.New("dynamodb down")}, true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			o := tt.o
			h, err := worker.New(worker.Config{
				Alerts: &o, Queue: f.queue, RetryDelay: time.Second, Timeout: time.Minute, Reserve: time.Second, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			m := f.message(t, map[string]any{
				"source": names.EventSource, "detail-type": names.EventDetailTypeAccepted,
				"detail": map[string]string{"client": "ward", "message_id": "lab-1", "instance": "0000000000001-aaaaaaaa"},
			})
			resp, _ := h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{m}})
			if got := len(resp.BatchItemFailures) == 1; got != tt.keep || len(f.queue.handles) == 1 != tt.keep {
				t.Errorf("kept %v, deferred %v; want %v", got, f.queue.handles, tt.keep)
			}
		})
	}
}
