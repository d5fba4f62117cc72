package alerting_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// Tests of the asynchronous path's side of the core (issue 13): a queued
// alert taken up by the worker (Resume), however often the queue hands
// its message out, and given up by the dead-letter handler (GiveUp).

// queue accepts the test alert as the asynchronous POST does (recorded
// at once) and returns its instance.
func (f *fixture) queue(t *testing.T) string {
	t.Helper()
	return f.accept(t).Record().Instance
}

// take loads the instance and resumes it, as the worker does per message.
func (f *fixture) take(t *testing.T, instance string) (*alerting.Accepted, error) {
	t.Helper()
	a, err := f.core.Load(t.Context(), testKey, instance)
	if err != nil {
		t.Fatal(err)
	}
	return f.core.Resume(t.Context(), a)
}

func (f *fixture) deliverTaken(t *testing.T, instance string) alerting.Result {
	t.Helper()
	acc, err := f.take(t, instance)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	return f.core.Deliver(t.Context(), acc, f.clock.Now().Add(25*time.Second))
}

func TestResumeDeliversAQueuedAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(sms, email))
	id := f.queue(t)
	if a := f.latest(t); a.Status != delivery.AlertAccepted || len(f.store.Writes) != 1 {
		t.Fatalf("after the POST: %s, %d writes; want accepted in one write", a.Status, len(f.store.Writes))
	}
	res := f.deliverTaken(t, id)
	if res.Outcome != alerting.OutcomeSent || len(f.prov.got) != 1 || res.Sent.Channel != sms {
		t.Fatalf("result %+v, %d sends: want sent once by sms", res, len(f.prov.got))
	}
	want := []string{"accepted accepted", "attempt_started[1 sms] accepted", "attempt_sent[1 sms] sent", "sent sent"}
	if got := eventsOf(f.latest(t)); !reflect.DeepEqual(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if _, err := f.take(t, id); !errors.Is(err, alerting.ErrSettled) {
		t.Errorf("a sent alert taken again: %v, want ErrSettled", err)
	}
}

// TestResumeOfOneMessageTwice: the same message handed to two workers at
// once (SQS delivers at least once): both read the same version, one
// sends, the other's first write is refused before any provider call.
func TestResumeOfOneMessageTwice(t *testing.T) {
	t.Parallel()
	t.Run("read before either writes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		id := f.queue(t)
		first, err1 := f.take(t, id)
		second, err2 := f.take(t, id)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		deadline := t0.Add(25 * time.Second)
		if res := f.core.Deliver(t.Context(), first, deadline); res.Outcome != alerting.OutcomeSent {
			t.Fatalf("first: %+v", res)
		}
		res := f.core.Deliver(t.Context(), second, deadline)
		if !res.Taken || len(res.Attempts) != 0 || !errors.Is(res.Cause, alerting.ErrConflict) {
			t.Errorf("second: %+v, want taken by the first, with a conflict", res)
		}
		if len(f.prov.got) != 1 || len(f.metrics.got) != 1 {
			t.Errorf("%d sends, %d metric summaries: want one of each", len(f.prov.got), len(f.metrics.got))
		}
	})
	t.Run("many at once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		id := f.queue(t)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				a, err := f.core.Load(t.Context(), testKey, id)
				if err != nil {
					t.Error(err)
					return
				}
				if acc, err := f.core.Resume(t.Context(), a); err == nil {
					f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second))
				}
			})
		}
		wg.Wait()
		if a := f.latest(t); len(f.prov.got) != 1 || a.Status != delivery.AlertSent || len(a.Attempts) != 1 {
			t.Errorf("%d sends, record %s with %d attempts: want one", len(f.prov.got), a.Status, len(a.Attempts))
		}
	})
	t.Run("read while the first is sending", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		id := f.queue(t)
		var during error
		f.prov.during = func() { _, during = f.take(t, id) }
		f.deliverTaken(t, id)
		if !errors.Is(during, alerting.ErrInProgress) || len(f.prov.got) != 1 {
			t.Errorf("taken during the send: %v, %d sends; want ErrInProgress and one send", during, len(f.prov.got))
		}
	})
}

// TestRequeue: a round in which nothing was sent and a retry may succeed
// leaves a queued alert accepted with a requeued event; the next take
// starts a new round at the first channel, without a fallback event.
func TestRequeue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(call, sms))
	id := f.queue(t)
	f.prov.fail[call], f.prov.fail[sms] = transient, transient
	res := f.deliverTaken(t, id)
	a := f.latest(t)
	if res.Outcome != alerting.OutcomeRetry || a.Status != delivery.AlertAccepted || len(res.RecordErrors) != 0 {
		t.Fatalf("result %+v, alert %s: want retry, still accepted", res, a.Status)
	}
	if last := a.Events[len(a.Events)-1]; last.Type != delivery.EventRequeued || last.Attempt != 2 {
		t.Fatalf("last event %+v, want requeued after attempt 2", last)
	}
	f.prov.fail = map[contact.Channel]error{}
	if res := f.deliverTaken(t, id); res.Outcome != alerting.OutcomeSent || res.Sent.Channel != call || res.Sent.Number != 3 {
		t.Fatalf("second round: %+v, want attempt 3 sent by call", res)
	}
	want := []string{
		"accepted accepted", "attempt_started[1 call] accepted", "attempt_failed[1 call transient] accepted",
		"fallback[2 sms from call] accepted", "attempt_started[2 sms] accepted", "attempt_failed[2 sms transient] accepted",
		"requeued[2 ] accepted", "attempt_started[3 call] accepted", "attempt_sent[3 call] sent", "sent sent",
	}
	if got := eventsOf(f.latest(t)); !reflect.DeepEqual(got, want) {
		t.Errorf("events\n%q\nwant\n%q", got, want)
	}
	t.Run("a failed round fails the alert", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		id := f.queue(t)
		f.prov.fail[call], f.prov.fail[sms] = permanent, transient
		if res := f.deliverTaken(t, id); res.Outcome != alerting.OutcomeFailed || f.latest(t).Status != delivery.AlertFailed {
			t.Errorf("result %+v: a round with a permanent failure is failed, queued or not", res)
		}
		if _, err := f.take(t, id); !errors.Is(err, alerting.ErrSettled) {
			t.Errorf("a failed alert taken again: %v, want ErrSettled", err)
		}
	})
}

// interruptCall leaves the test alert's attempt 1 (a call) sending, as an
// invocation that ended after its provider call would: the write of the
// outcome is refused.
func interruptCall(t *testing.T, f *fixture, id string) {
	t.Helper()
	f.store.FailWrite = func(ch alerting.Change) error {
		if ch.Attempt != nil && ch.Attempt.Status != delivery.AttemptSending {
			return errors.New("the invocation ended")
		}
		return nil
	}
	f.deliverTaken(t, id)
	f.store.FailWrite = nil
	if at := f.latest(t).Attempts[0]; at.Status != delivery.AttemptSending || len(f.prov.got) != 1 {
		t.Fatalf("attempt %+v, %d calls: want one call left sending", at, len(f.prov.got))
	}
}

func TestResumeAfterAnInterruptedAttempt(t *testing.T) {
	t.Parallel()
	for _, fallback := range []bool{false, true} {
		name := map[bool]string{false: "unknown stops", true: "unknown falls back"}[fallback]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testContact(call, sms), func(c *alerting.Config) { c.FallbackOnUnknown = fallback })
			id := f.queue(t)
			interruptCall(t, f, id)
			f.clock.advance(alerting.DefaultDeliveryTimeout + time.Second)
			if _, err := f.take(t, id); !errors.Is(err, alerting.ErrInProgress) {
				t.Fatalf("within the delivery timeout and its margin: %v, want ErrInProgress", err)
			}
			f.clock.advance(5 * time.Second)
			res := f.deliverTaken(t, id)
			a := f.latest(t)
			if at := a.Attempts[0]; at.Status != delivery.AttemptUnknown || at.Failure != delivery.Ambiguous || at.FailureCode != "interrupted" {
				t.Errorf("attempt 1 %+v, want unknown (interrupted)", at)
			}
			switch {
			case !fallback && (res.Outcome != alerting.OutcomeUnknown || len(f.prov.got) != 1 || a.Status != delivery.AlertAccepted):
				t.Errorf("result %+v, %d calls, alert %s: want unknown, nothing sent again", res, len(f.prov.got), a.Status)
			case fallback && (res.Outcome != alerting.OutcomeSent || res.Sent.Channel != sms || a.Events[len(a.Events)-4].Type != delivery.EventFallback):
				t.Errorf("result %+v, events %q: want a fallback to sms", res, eventsOf(a))
			}
			if _, err := f.take(t, id); !errors.Is(err, alerting.ErrSettled) {
				t.Errorf("taken again: %v, want ErrSettled", err)
			}
		})
	}
}

func TestResumeOfAnUnknownRoundIsSettled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(call, sms))
	id := f.queue(t)
	f.prov.fail[call] = ambiguous
	if res := f.deliverTaken(t, id); res.Outcome != alerting.OutcomeUnknown {
		t.Fatalf("result %+v", res)
	}
	if _, err := f.take(t, id); !errors.Is(err, alerting.ErrSettled) || len(f.prov.got) != 1 {
		t.Errorf("taken again: %v, %d calls; want ErrSettled and nothing sent again", err, len(f.prov.got))
	}
}

func TestResumeWithADestinationGone(t *testing.T) {
	t.Parallel()
	c := testContact(sms, email)
	f := newFixture(t, c)
	id := f.queue(t)
	c.SMSTopicARN = "" // the contact changed since the alert was accepted
	f.core = mustCore(t, f, contacts{c.ID: c})
	res := f.deliverTaken(t, id)
	if res.Outcome != alerting.OutcomeSent || res.Sent.Channel != email || res.Attempts[0].FailureCode != "no_destination" {
		t.Errorf("result %+v: want sms failed for good (no destination), then email", res)
	}
}

// mustCore rebuilds f's core on other contacts.
func mustCore(t *testing.T, f *fixture, cs contacts) *alerting.Core {
	t.Helper()
	core, err := alerting.New(alerting.Config{
		Store: f.store, Contacts: cs, Publisher: f.prov, Caller: f.prov, Metrics: f.metrics,
		Retention: 90 * 24 * time.Hour, Now: f.clock.Now, Random: func() string { return "0a1b2c3d" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return core
}

func TestGiveUp(t *testing.T) {
	t.Parallel()
	t.Run("dead-lettered", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		id := f.queue(t)
		interruptCall(t, f, id)
		a, err := f.core.Load(t.Context(), testKey, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.core.GiveUp(t.Context(), a, delivery.ReasonDeadLettered); !errors.Is(err, alerting.ErrInProgress) {
			t.Fatalf("with the call perhaps under way: %v, want ErrInProgress", err)
		}
		f.clock.advance(time.Minute)
		if err := f.core.GiveUp(t.Context(), a, delivery.ReasonDeadLettered); err != nil {
			t.Fatal(err)
		}
		got := f.latest(t)
		last := got.Events[len(got.Events)-1]
		if got.Status != delivery.AlertFailed || got.Attempts[0].Status != delivery.AttemptUnknown ||
			last.Type != delivery.EventFailed || last.Reason != delivery.ReasonDeadLettered || last.Actor != delivery.System {
			t.Errorf("record %s, attempt %s, last event %+v: want failed (dead_lettered), the call unknown", got.Status, got.Attempts[0].Status, last)
		}
		if m := f.metrics.got[len(f.metrics.got)-1]; m.Outcome != alerting.OutcomeFailed {
			t.Errorf("metrics %+v, want failed", m)
		}
		if err := f.core.GiveUp(t.Context(), got, delivery.ReasonDeadLettered); !errors.Is(err, alerting.ErrSettled) {
			t.Errorf("given up twice: %v, want ErrSettled", err)
		}
	})
	t.Run("not queued", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		acc := f.accept(t)
		if err := f.core.GiveUp(t.Context(), acc.Record(), delivery.ReasonNotQueued); err != nil {
			t.Fatal(err)
		}
		if a := f.latest(t); a.Status != delivery.AlertFailed || f.metrics.got[0].Outcome != alerting.OutcomeRetry {
			t.Errorf("record %s, metrics %+v: want failed, counted as retry", a.Status, f.metrics.got)
		}
	})
	t.Run("a stale read", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		id := f.queue(t)
		a, err := f.core.Load(t.Context(), testKey, id)
		if err != nil {
			t.Fatal(err)
		}
		f.deliverTaken(t, id)
		if err := f.core.GiveUp(t.Context(), a, delivery.ReasonDeadLettered); !errors.Is(err, alerting.ErrConflict) || f.latest(t).Status != delivery.AlertSent {
			t.Errorf("giving up a sent alert read before it was sent: %v, want ErrConflict and the alert still sent", err)
		}
	})
}

// TestQueuedAlertEscalates: a queued alert whose policy asks for an
// acknowledgment gets its first timer when the worker delivers it, as a
// synchronous one does; a second taker of its message sets none.
func TestQueuedAlertEscalates(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	id := f.queue(t)
	first, err := f.take(t, id)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.take(t, id)
	if err != nil {
		t.Fatal(err)
	}
	if res := f.core.Deliver(t.Context(), first, f.clock.Now().Add(25*time.Second)); res.Outcome != alerting.OutcomeSent || res.TimerErr != nil {
		t.Fatalf("first taker: %+v", res)
	}
	if res := f.core.Deliver(t.Context(), second, f.clock.Now().Add(25*time.Second)); !res.Taken || len(res.Attempts) != 0 {
		t.Fatalf("second taker: %+v, want taken before any attempt", res)
	}
	if len(f.prov.got) != 1 || len(f.timers.order) != 1 {
		t.Fatalf("%d sends, timers %v: want one send and one timer", len(f.prov.got), f.timers.order)
	}
	if at, ok := f.timers.at(timer(1)); !ok || !at.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("timer 1 at %v (%v), want acceptance + 5 minutes", at, ok)
	}
}
