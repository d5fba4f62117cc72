package alerting_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const (
	phone     = "+447700900123"
	smsTopic  = "arn:aws:sns:eu-west-2:000000000000:c1-sms"
	mailTopic = "arn:aws:sns:eu-west-2:000000000000:c1-email"
)

var (
	call  = contact.ChannelCall
	sms   = contact.ChannelSMS
	email = contact.ChannelEmail
)

func testContact(prefs ...contact.Channel) contact.Contact {
	return contact.Contact{
		ID: "C-1", Name: "Dr One",
		Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: prefs},
		CallPhone:   phone, SMSTopicARN: smsTopic, EmailTopicARN: mailTopic,
	}
}

func testAlert() alert.Alert {
	return alert.Alert{
		MessageID: "lab-1", Type: "blood_test_alert", PatientID: "P-4F2A91", ContactID: "C-1",
		Description: "Potassium 6.9 mmol/L & rising", Priority: alert.PriorityHigh,
	}
}

var testKey = alert.Key{Client: "ward", MessageID: "lab-1"}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type contacts map[string]contact.Contact

func (m contacts) GetContact(_ context.Context, id string) (contact.Contact, error) {
	c, ok := m[id]
	if !ok {
		return contact.Contact{}, fmt.Errorf("contact %s: %w", id, alerting.ErrContactNotFound)
	}
	return c, nil
}

// sent is one provider request the fakes received.
type sent struct {
	channel  contact.Channel
	dest     string
	text     string
	token    string
	deadline time.Time
}

// providers fakes SNS and Connect; fail decides a channel's answer.
type providers struct {
	mu    sync.Mutex
	got   []sent
	fail  map[contact.Channel]error
	clock *clock
	took  time.Duration
	// during, when set, runs while a request is with the provider.
	during func()
}

func (p *providers) do(ctx context.Context, s sent) (string, error) {
	s.deadline, _ = ctx.Deadline()
	p.mu.Lock()
	p.got = append(p.got, s)
	err := p.fail[s.channel]
	n := len(p.got)
	p.mu.Unlock()
	if p.took > 0 {
		p.clock.advance(p.took)
	}
	if p.during != nil {
		p.during()
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-ref-%d", s.channel, n), nil
}

func (p *providers) PublishSMS(ctx context.Context, topic, text string) (string, error) {
	return p.do(ctx, sent{channel: sms, dest: topic, text: text})
}

func (p *providers) PublishEmail(ctx context.Context, topic, subject, body string) (string, error) {
	return p.do(ctx, sent{channel: email, dest: topic, text: subject + "\n" + body})
}

func (p *providers) Call(ctx context.Context, r alerting.CallRequest) (string, error) {
	return p.do(ctx, sent{channel: call, dest: r.Destination, text: r.MessageSSML, token: r.ClientToken})
}

type metrics struct {
	mu  sync.Mutex
	got []alerting.Summary
}

func (m *metrics) Finished(s alerting.Summary) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, s)
}

type fixture struct {
	core    *alerting.Core
	store   *alertingtest.MemStore
	prov    *providers
	clock   *clock
	metrics *metrics
}

func newFixture(t *testing.T, c contact.Contact, edit ...func(*alerting.Config)) *fixture {
	t.Helper()
	clk := &clock{now: t0}
	f := &fixture{store: alertingtest.NewMemStore(), prov: &providers{fail: map[contact.Channel]error{}, clock: clk}, clock: clk, metrics: &metrics{}}
	cfg := alerting.Config{
		Store: f.store, Contacts: contacts{c.ID: c}, Publisher: f.prov, Caller: f.prov, Metrics: f.metrics,
		Retention: 90 * 24 * time.Hour, Now: clk.Now, Random: func() string { return "0a1b2c3d" },
	}
	for _, e := range edit {
		e(&cfg)
	}
	core, err := alerting.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.core = core
	return f
}

func (f *fixture) accept(t *testing.T) *alerting.Accepted {
	t.Helper()
	acc, err := f.core.Accept(t.Context(), alerting.Intake{
		Key: testKey, Instance: f.core.NewInstance(), Alert: testAlert(), Actor: delivery.Client("ward"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func (f *fixture) deliver(t *testing.T) alerting.Result {
	t.Helper()
	return f.core.Deliver(t.Context(), f.accept(t), f.clock.Now().Add(25*time.Second))
}

func (f *fixture) latest(t *testing.T) *alerting.Alert {
	t.Helper()
	a, err := f.store.Latest(t.Context(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// eventsOf renders events as "type[attempt channel from class] status".
func eventsOf(a *alerting.Alert) []string {
	var out []string
	for i, e := range a.Events {
		s := string(e.Type)
		if e.Attempt > 0 {
			s += fmt.Sprintf("[%d %s", e.Attempt, e.Channel)
			if e.FromChannel != "" {
				s += " from " + string(e.FromChannel)
			}
			if e.Failure != "" {
				s += " " + string(e.Failure)
			}
			s += "]"
		}
		if e.Seq != i+1 {
			s += fmt.Sprintf(" seq %d", e.Seq)
		}
		out = append(out, s+" "+string(e.Status))
	}
	return out
}

var (
	permanent = &delivery.Error{Class: delivery.Permanent, Code: "DestinationNotAllowedException", Err: errors.New("refused +447700900123")}
	transient = &delivery.Error{Class: delivery.Transient, Code: "Throttled", Err: errors.New("slow down")}
	ambiguous = &delivery.Error{Class: delivery.Ambiguous, Code: "timeout", Err: errors.New("no answer")}
)

func TestDeliverOneChannel(t *testing.T) {
	t.Parallel()
	for _, ch := range []contact.Channel{call, sms, email} {
		t.Run(string(ch), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testContact(ch))
			res := f.deliver(t)
			if res.Outcome != alerting.OutcomeSent || res.Sent == nil || res.Sent.Channel != ch || len(res.Attempts) != 1 {
				t.Fatalf("result %+v, want sent by %s in one attempt", res, ch)
			}
			a := f.latest(t)
			want := []string{
				"accepted accepted", "attempt_started[1 " + string(ch) + "] accepted",
				"attempt_sent[1 " + string(ch) + "] sent", "sent sent",
			}
			if got := eventsOf(a); !reflect.DeepEqual(got, want) {
				t.Errorf("events %q, want %q", got, want)
			}
			if a.Status != delivery.AlertSent || a.Version != 4 || !a.SentAt.Equal(t0) || !a.AcceptedAt.Equal(t0) {
				t.Errorf("record %+v, want sent at version 4", a)
			}
			at := a.Attempts[0]
			if at.Status != delivery.AttemptSent || at.ProviderRef != string(ch)+"-ref-1" || at.ContactID != "C-1" || at.Channel != ch {
				t.Errorf("attempt %+v", at)
			}
			if a.Events[0].Actor != delivery.Client("ward") || a.Events[1].Actor != delivery.System {
				t.Errorf("actors %v, %v: want the client, then the system", a.Events[0].Actor, a.Events[1].Actor)
			}
			if got, want := a.ExpiresAt, t0.Add(90*24*time.Hour); !got.Equal(want) {
				t.Errorf("expires %v, want %v", got, want)
			}
			if len(f.store.Writes) != 3 {
				t.Errorf("%d writes, want accept, start, finish", len(f.store.Writes))
			}
			s := f.metrics.got
			if len(s) != 1 || s[0].Outcome != alerting.OutcomeSent || s[0].Fallbacks != 0 || s[0].Priority != alert.PriorityHigh {
				t.Errorf("metrics %+v", s)
			}
		})
	}
}

func TestFallback(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]error{"permanent": permanent, "transient": transient} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testContact(call, sms))
			f.prov.fail[call] = fault
			res := f.deliver(t)
			if res.Outcome != alerting.OutcomeSent || res.Sent.Channel != sms || res.Sent.Number != 2 || len(res.Attempts) != 2 {
				t.Fatalf("result %+v, want sent by sms at attempt 2", res)
			}
			class := string(delivery.ClassOf(fault))
			want := []string{
				"accepted accepted", "attempt_started[1 call] accepted", "attempt_failed[1 call " + class + "] accepted",
				"fallback[2 sms from call] accepted", "attempt_started[2 sms] accepted", "attempt_sent[2 sms] sent", "sent sent",
			}
			if got := eventsOf(f.latest(t)); !reflect.DeepEqual(got, want) {
				t.Errorf("events %q, want %q", got, want)
			}
			first := f.latest(t).Attempts[0]
			if first.Status != delivery.AttemptFailed || first.Failure != delivery.ClassOf(fault) || first.FailureCode == "" {
				t.Errorf("failed attempt %+v", first)
			}
			if len(f.prov.got) != 2 || f.prov.got[0].channel != call || f.prov.got[1].channel != sms {
				t.Errorf("provider requests %+v, want the call then the SMS", f.prov.got)
			}
			if m := f.metrics.got[0]; m.Fallbacks != 1 || len(m.Attempts) != 2 {
				t.Errorf("metrics %+v, want one fallback", m)
			}
		})
	}
}

func TestEveryChannelFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults map[contact.Channel]error
		want   alerting.Outcome
	}{
		{"permanent", map[contact.Channel]error{call: permanent, sms: permanent}, alerting.OutcomeFailed},
		{"one permanent", map[contact.Channel]error{call: transient, sms: permanent}, alerting.OutcomeFailed},
		{"all transient: retry", map[contact.Channel]error{call: transient, sms: transient}, alerting.OutcomeRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testContact(call, sms))
			f.prov.fail = tt.faults
			res := f.deliver(t)
			if res.Outcome != tt.want || res.Sent != nil || len(res.Attempts) != 2 {
				t.Fatalf("result %+v, want %s after two attempts", res, tt.want)
			}
			a := f.latest(t)
			ev := eventsOf(a)
			if a.Status != delivery.AlertFailed || ev[len(ev)-1] != "failed failed" || len(ev) != 7 {
				t.Errorf("record status %s, events %q: want failed, ending in the failed event", a.Status, ev)
			}
		})
	}
}

func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	t.Run("no fallback by default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		f.prov.fail[call] = ambiguous
		res := f.deliver(t)
		if res.Outcome != alerting.OutcomeUnknown || res.Unknown == nil || res.Unknown.Channel != call || len(f.prov.got) != 1 {
			t.Fatalf("result %+v after %d requests, want unknown on the call and no SMS", res, len(f.prov.got))
		}
		a := f.latest(t)
		want := []string{"accepted accepted", "attempt_started[1 call] accepted", "attempt_unknown[1 call ambiguous] accepted"}
		if got := eventsOf(a); !reflect.DeepEqual(got, want) || a.Status != delivery.AlertAccepted {
			t.Errorf("status %s events %q, want accepted with %q", a.Status, got, want)
		}
	})
	t.Run("fallback when the stack says so", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms), func(c *alerting.Config) { c.FallbackOnUnknown = true })
		f.prov.fail[call] = ambiguous
		if res := f.deliver(t); res.Outcome != alerting.OutcomeSent || res.Sent.Channel != sms {
			t.Fatalf("result %+v, want sent by sms", res)
		}
		f2 := newFixture(t, testContact(call, sms), func(c *alerting.Config) { c.FallbackOnUnknown = true })
		f2.prov.fail = map[contact.Channel]error{call: ambiguous, sms: permanent}
		if res := f2.deliver(t); res.Outcome != alerting.OutcomeUnknown || f2.latest(t).Status != delivery.AlertAccepted {
			t.Errorf("unknown then failed: %s, status %s; want unknown, accepted", res.Outcome, f2.latest(t).Status)
		}
	})
}

func TestBudget(t *testing.T) {
	t.Parallel()
	t.Run("no time for the first attempt", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		acc := f.accept(t)
		res := f.core.Deliver(t.Context(), acc, t0.Add(4*time.Second))
		if res.Outcome != alerting.OutcomeRetry || len(f.prov.got) != 0 || res.Cause == nil {
			t.Fatalf("result %+v with %d requests, want retry and nothing sent", res, len(f.prov.got))
		}
		if a := f.latest(t); a.Status != delivery.AlertFailed {
			t.Errorf("status %s, want failed", a.Status)
		}
	})
	t.Run("no time for the next channel", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		f.prov.fail[call] = permanent
		f.prov.took = 6 * time.Second
		res := f.core.Deliver(t.Context(), f.accept(t), t0.Add(10*time.Second))
		if res.Outcome != alerting.OutcomeRetry || len(f.prov.got) != 1 {
			t.Fatalf("result %s after %d requests, want retry after the call only", res.Outcome, len(f.prov.got))
		}
	})
	t.Run("a channel's deadline", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		f.deliver(t)
		if got, want := f.prov.got[0].deadline, t0.Add(delivery.DefaultBudget.Channel); !got.Equal(want) {
			t.Errorf("send deadline %v, want the channel bound %v", got, want)
		}
		f2 := newFixture(t, testContact(sms))
		f2.core.Deliver(t.Context(), f2.accept(t), t0.Add(6*time.Second))
		if got, want := f2.prov.got[0].deadline, t0.Add(4*time.Second); !got.Equal(want) {
			t.Errorf("send deadline %v, want the reserve before the invocation's deadline %v", got, want)
		}
	})
}

func TestRecordWrites(t *testing.T) {
	t.Parallel()
	t.Run("no send without a recorded start", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(call, sms))
		acc := f.accept(t)
		f.store.FailWrite = func(alerting.Change) error { return errors.New("dynamodb down") }
		res := f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second))
		if len(f.prov.got) != 0 || res.Outcome != alerting.OutcomeRetry || len(res.RecordErrors) == 0 {
			t.Errorf("%d provider requests, result %+v: want nothing sent, retry", len(f.prov.got), res)
		}
	})
	t.Run("a conflicting write", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, testContact(sms))
		acc := f.accept(t)
		// Another writer moves the record while the SMS is being sent.
		before := len(f.store.Writes[0].Events) + 1 // accepted, attempt_started
		f.prov.during = func() { f.store.Bump(testKey) }
		res := f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second))
		if res.Outcome != alerting.OutcomeSent || len(res.RecordErrors) != 1 || !errors.Is(res.RecordErrors[0], alerting.ErrConflict) {
			t.Fatalf("result %+v, want sent with one conflict", res)
		}
		a := f.latest(t)
		if len(a.Events) != before || a.Attempts[0].Status != delivery.AttemptSending || a.Status != delivery.AlertAccepted {
			t.Errorf("after the conflict: %d events (want %d), attempt %s, alert %s: the refused write must leave nothing",
				len(a.Events), before, a.Attempts[0].Status, a.Status)
		}
	})
}

func TestCallToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(sms, call))
	f.prov.fail[sms] = permanent
	f.deliver(t)
	a := testAlert()
	want := delivery.CallClientToken(testKey, a.Hash(), delivery.CallAttempt{ContactID: "C-1", Number: 2})
	if got := f.prov.got[1]; got.channel != call || got.token != want || got.dest != phone || got.text != render.Voice(a) {
		t.Errorf("call %+v, want attempt 2's token %s", got, want)
	}
}

func TestCallsNotConfiguredFallsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(call, sms), func(c *alerting.Config) { c.Caller = nil })
	res := f.deliver(t)
	if res.Outcome != alerting.OutcomeSent || res.Attempts[0].FailureCode != "calls_not_configured" || res.Sent.Channel != sms {
		t.Errorf("result %+v, want the call refused for good and the SMS sent", res)
	}
}

func TestAcceptRecordsNothingWithoutARoute(t *testing.T) {
	t.Parallel()
	c := testContact(call)
	c.CallPhone = ""
	for name, tt := range map[string]struct {
		contactID string
		want      error
	}{
		"unknown contact": {"C-9", alerting.ErrContactNotFound},
		"no destination":  {"C-1", alerting.ErrNoDestination},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, c)
			a := testAlert()
			a.ContactID = tt.contactID
			_, err := f.core.Accept(t.Context(), alerting.Intake{Key: testKey, Instance: f.core.NewInstance(), Alert: a})
			if !errors.Is(err, tt.want) || len(f.store.Writes) != 0 {
				t.Errorf("error %v after %d writes, want %v and nothing written", err, len(f.store.Writes), tt.want)
			}
		})
	}
}

func TestAcceptTwiceConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(sms))
	in := alerting.Intake{Key: testKey, Instance: f.core.NewInstance(), Alert: testAlert()}
	if _, err := f.core.Accept(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.core.Accept(t.Context(), in); !errors.Is(err, alerting.ErrConflict) {
		t.Errorf("second accept of one instance: %v, want ErrConflict", err)
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testContact(call, sms))
	f.prov.fail[call] = permanent
	acc := f.accept(t)
	res := f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second))
	a := testAlert()
	msg := acc.Scrub(fmt.Sprintf("%v | %s | %s | %s | %s", res.Cause, a.Description, a.PatientID, phone, smsTopic))
	for _, secret := range []string{a.Description, a.PatientID, phone, smsTopic, "6.9 mmol/L"} {
		if strings.Contains(msg, secret) {
			t.Errorf("scrubbed text %q still holds %q", msg, secret)
		}
	}
	if !acc.DeliveryStarted() {
		t.Error("DeliveryStarted is false after a provider was called")
	}
}

func TestNewInstance(t *testing.T) {
	t.Parallel()
	a, _ := alerting.NewInstance(t0, "0a1b2c3d9999")
	b, _ := alerting.NewInstance(t0.Add(time.Millisecond), "00000000")
	if a != "1796115600000-0a1b2c3d" || a >= b {
		t.Errorf("instances %q, %q: want 13-digit ms, 8 hex digits, and time order", a, b)
	}
	if _, err := alerting.NewInstance(t0, "abc"); err == nil {
		t.Error("an instance with 3 random digits was accepted")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := alerting.New(alerting.Config{}); err == nil || !strings.Contains(err.Error(), "Contacts, Publisher, Store") {
		t.Errorf("New without parts: %v", err)
	}
	s := alertingtest.NewMemStore()
	if _, err := alerting.New(alerting.Config{Store: s, Contacts: contacts{}, Publisher: &providers{}}); err == nil {
		t.Error("New without a retention succeeded")
	}
}

// TestAcceptWithTheFirstWrite: the synchronous path records the
// acceptance in the first attempt's write, one write fewer, with the same
// events and actors; when no attempt can start, with the failure.
func TestAcceptWithTheFirstWrite(t *testing.T) {
	t.Parallel()
	intake := func(f *fixture) alerting.Intake {
		return alerting.Intake{Key: testKey, Instance: f.core.NewInstance(), Alert: testAlert(), Actor: delivery.Client("ward"), WithFirstWrite: true}
	}
	f := newFixture(t, testContact(sms))
	acc, err := f.core.Accept(t.Context(), intake(f))
	if err != nil || len(f.store.Writes) != 0 {
		t.Fatalf("Accept: %v after %d writes, want nothing written yet", err, len(f.store.Writes))
	}
	if res := f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second)); res.Outcome != alerting.OutcomeSent {
		t.Fatalf("result %+v", res)
	}
	a := f.latest(t)
	want := []string{"accepted accepted", "attempt_started[1 sms] accepted", "attempt_sent[1 sms] sent", "sent sent"}
	if got := eventsOf(a); !reflect.DeepEqual(got, want) || len(f.store.Writes) != 2 || f.store.Writes[0].From != 0 {
		t.Errorf("events %q in %d writes, want %q in 2, the first creating the record", got, len(f.store.Writes), want)
	}
	if a.Events[0].Actor != delivery.Client("ward") || a.Events[1].Actor != delivery.System || !a.AcceptedAt.Equal(t0) {
		t.Errorf("actors %v, %v; accepted at %v", a.Events[0].Actor, a.Events[1].Actor, a.AcceptedAt)
	}

	g := newFixture(t, testContact(sms))
	acc, _ = g.core.Accept(t.Context(), intake(g))
	if res := g.core.Deliver(t.Context(), acc, t0.Add(time.Second)); res.Outcome != alerting.OutcomeRetry {
		t.Fatalf("result %+v, want retry", res)
	}
	if got := eventsOf(g.latest(t)); !reflect.DeepEqual(got, []string{"accepted failed", "failed failed"}) || len(g.store.Writes) != 1 {
		t.Errorf("no time at all: events %q in %d writes, want accepted and failed in one", got, len(g.store.Writes))
	}
}
