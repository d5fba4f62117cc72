package notify_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// fallbackAlert is testAlert for dr-fallback (H: call, then sms).
func fallbackAlert() alert.Alert {
	a := testAlert()
	a.ContactID, a.Priority = "dr-fallback", alert.PriorityHigh
	return a
}

var (
	errRefused   = &delivery.Error{Class: delivery.Permanent, Code: "DestinationNotAllowedException", Err: errors.New("errRefused")}
	errNoAnswer  = &delivery.Error{Class: delivery.Ambiguous, Code: "timeout", Err: errors.New("no answer")}
	errThrottled = &delivery.Error{Class: delivery.Transient, Code: "Throttled", Err: errors.New("slow down")}
)

func TestFallbackToTheNextChannel(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]error{"permanent": errRefused, "transient": errThrottled} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.caller.call = func(context.Context, alerting.CallRequest) (string, error) { return "", fault }
			a := fallbackAlert()
			resp := f.invoke(t, eventFor(t, a))
			mustStatus(t, resp, http.StatusOK)
			got := decodeSent(t, resp)
			if got.Channel != "sms" || got.Attempts != 2 || got.ProviderMessageID != "sns-message-1" {
				t.Errorf("body %+v, want sent by sms after 2 attempts", got)
			}
			if f.caller.count() != 1 || f.pub.count() != 1 {
				t.Errorf("%d calls, %d publishes; want one each", f.caller.count(), f.pub.count())
			}
			rec := f.record(t, keyOf(a))
			var types []delivery.EventType
			for _, e := range rec.Events {
				types = append(types, e.Type)
			}
			if !slices.Contains(types, delivery.EventFallback) || len(rec.Attempts) != 2 || rec.Status != delivery.AlertSent {
				t.Errorf("record %s with events %v, want sent after a fallback", rec.Status, types)
			}
			idem, _ := f.idem.record(keyOf(a))
			if idem.Channel != "sms" || idem.Failure != "" || idem.Response.Body != resp.Body {
				t.Errorf("idempotency record %+v, want the sms answer", idem)
			}
		})
	}
}

func TestEveryChannelFailsIsRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.caller.call = func(context.Context, alerting.CallRequest) (string, error) { return "", errRefused }
	f.pub.publish = func(context.Context, publishCall) (string, error) { return "", errThrottled }
	a := fallbackAlert()
	resp := f.invoke(t, eventFor(t, a))
	mustStatus(t, resp, http.StatusBadGateway)
	e := decodeError(t, resp)
	want := []api.FailedAttempt{{Channel: "call", FailureClass: "permanent"}, {Channel: "sms", FailureClass: "transient"}}
	if e.Code != api.CodeUndeliverableAllChannels || !slices.Equal(e.Attempts, want) || e.Channel != "" {
		t.Errorf("error %+v, want undeliverable_all_channels with attempts %+v", e, want)
	}
	for _, secret := range []string{phone, smsTopic, a.Description, a.PatientID} {
		if strings.Contains(resp.Body, secret) {
			t.Errorf("answer holds %q", secret)
		}
	}
	if got := resp.Headers[names.HeaderLocation]; got != "/prod/notification/"+a.MessageID {
		t.Errorf("Location %q", got)
	}
	if rec := f.record(t, keyOf(a)); rec.Status != delivery.AlertFailed {
		t.Errorf("alert %s, want failed", rec.Status)
	}
	again := f.invoke(t, eventFor(t, a))
	if again.Body != resp.Body || again.Headers[names.HeaderIdempotentReplay] != "true" || f.caller.count() != 1 {
		t.Errorf("retry %d %s after %d calls, want the recorded answer and no new call", again.StatusCode, again.Body, f.caller.count())
	}
	if line := f.requestLine(t); line["level"] != "INFO" {
		t.Errorf("replay line %v", line)
	}
}

func TestUnknownDoesNotFallBackByDefault(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.caller.call = func(context.Context, alerting.CallRequest) (string, error) { return "", errNoAnswer }
	resp := f.invoke(t, eventFor(t, fallbackAlert()))
	mustStatus(t, resp, http.StatusBadGateway)
	if e := decodeError(t, resp); e.Code != api.CodeDeliveryUnknown || e.Channel != "call" || f.pub.count() != 0 {
		t.Errorf("error %+v after %d publishes, want delivery_unknown on call and no SMS", e, f.pub.count())
	}
	if rec := f.record(t, keyOf(fallbackAlert())); rec.Status != delivery.AlertAccepted || rec.Attempts[0].Status != delivery.AttemptUnknown {
		t.Errorf("record %s / %s, want accepted with the attempt unknown", rec.Status, rec.Attempts[0].Status)
	}

	g := newFixture(t, func(c *alerting.Config) { c.FallbackOnUnknown = true })
	g.caller.call = f.caller.call
	resp = g.invoke(t, eventFor(t, fallbackAlert()))
	mustStatus(t, resp, http.StatusOK)
	if s := decodeSent(t, resp); s.Channel != "sms" || s.Attempts != 2 {
		t.Errorf("with fallbackOnUnknown: %+v, want the SMS", s)
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	a := testAlert()
	loc := "/prod/notification/" + a.MessageID
	tests := []struct {
		name  string
		setup func(f *fixture) alert.Alert
		want  string
	}{
		{"replay", func(f *fixture) alert.Alert { f.invoke(t, eventFor(t, a)); return a }, loc},
		{"in progress", func(f *fixture) alert.Alert {
			f.idem.put(notify.Record{Key: keyOf(a), Status: notify.StatusInProgress, PayloadHash: a.Hash(),
				LockOwner: "x", LockExpiry: t0.Add(time.Second), Expiration: t0.Add(time.Hour)})
			return a
		}, loc},
		{"unknown contact", func(*fixture) alert.Alert { b := a; b.ContactID = "dr-nobody"; return b }, ""},
		{"mismatch", func(f *fixture) alert.Alert {
			b := a
			b.Description += " (edited)"
			f.invoke(t, eventFor(t, b))
			return a
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			resp := f.invoke(t, eventFor(t, tt.setup(f)))
			if got := resp.Headers[names.HeaderLocation]; got != tt.want {
				t.Errorf("Location %q, want %q (status %d)", got, tt.want, resp.StatusCode)
			}
		})
	}
}

func TestRecordWriteFailureIsLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pub.publish = func(context.Context, publishCall) (string, error) {
		f.alerts.Bump(keyOf(testAlert())) // another writer moves the record during the send
		return "sns-1", nil
	}
	resp := f.invoke(t, eventFor(t, testAlert()))
	mustStatus(t, resp, http.StatusOK)
	found := false
	for _, l := range f.logLines(t) {
		if l["msg"] == names.LogAlertNotRecorded && l["level"] == "ERROR" && l["message_id"] == testAlert().MessageID {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR line %q:\n%s", names.LogAlertNotRecorded, f.logs.String())
	}
}

type failingTimers struct{}

func (failingTimers) Set(context.Context, escalation.Timer, time.Time) error {
	return errors.New("scheduler throttled")
}
func (failingTimers) Cancel(context.Context, escalation.Timer) error { return nil }

// TestTimerNotSetIsLogged: when the first escalation timer cannot be set,
// the alert is still answered as sent, and the processor logs the line
// the timer-not-set alarm matches.
func TestTimerNotSetIsLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *alerting.Config) {
		c.Escalation = escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-1"}
		c.Timers = failingTimers{}
	})
	mustStatus(t, f.invoke(t, eventFor(t, testAlert())), http.StatusOK)
	found := false
	for _, l := range f.logLines(t) {
		if l["msg"] == names.LogTimerNotSet && l["level"] == "ERROR" && l["message_id"] == testAlert().MessageID {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR line %q:\n%s", names.LogTimerNotSet, f.logs.String())
	}
}
