package alerting_test

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// Tests of acknowledgment and escalation (issue 12).

const (
	smsPhone = "+447700900124"
	baseURL  = "https://acks.example.org/v1"
)

// timers fakes the scheduler: the timers set, by name, and those
// cancelled.
type timers struct {
	mu        sync.Mutex
	set       map[string]time.Time
	order     []escalation.Timer
	cancelled []escalation.Timer
	fail      error
}

func (t *timers) Set(_ context.Context, tm escalation.Timer, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail != nil {
		return t.fail
	}
	if _, ok := t.set[tm.Name()]; !ok {
		t.order = append(t.order, tm)
	}
	t.set[tm.Name()] = at
	return nil
}

func (t *timers) Cancel(_ context.Context, tm escalation.Timer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cancelled = append(t.cancelled, tm)
	delete(t.set, tm.Name())
	return nil
}

func (t *timers) at(tm escalation.Timer) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.set[tm.Name()]
	return at, ok
}

// timeliness records what the core reports.
type timeliness struct {
	mu   sync.Mutex
	acks []alerting.AckSummary
	escs []alerting.EscalationSummary
}

func (m *timeliness) Acknowledged(s alerting.AckSummary) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acks = append(m.acks, s)
}

func (m *timeliness) Escalated(s alerting.EscalationSummary) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.escs = append(m.escs, s)
}

// escFixture is a fixture whose stack escalates by the default policies,
// with a secondary (C-2) and a fail-safe contact (C-9).
type escFixture struct {
	*fixture
	timers *timers
	times  *timeliness
}

func newEscFixture(t *testing.T, prefs ...contact.Channel) *escFixture {
	t.Helper()
	return newEscFixtureWith(t, nil, prefs...)
}

func newEscFixtureWith(t *testing.T, edit func(*contact.Contact), prefs ...contact.Channel) *escFixture {
	t.Helper()
	tm, tl := &timers{set: map[string]time.Time{}}, &timeliness{}
	c1 := testContact(prefs...)
	c1.Preferences[alert.PriorityLow] = prefs
	c1.SMSPhone, c1.Secondary = smsPhone, "C-2"
	if edit != nil {
		edit(&c1)
	}
	c2 := contact.Contact{ID: "C-2", Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {sms}}, SMSTopicARN: "arn:c2-sms", SMSPhone: "+447700900200"}
	c9 := contact.Contact{ID: "C-9", Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {call}}, CallPhone: "+447700900900"}
	f := newFixture(t, c1, func(cfg *alerting.Config) {
		cfg.Contacts = contacts{"C-1": c1, "C-2": c2, "C-9": c9}
		cfg.Escalation = escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-9"}
		cfg.Timers, cfg.Timeliness, cfg.AckBaseURL, cfg.AckReplyCodes = tm, tl, baseURL, true
	})
	return &escFixture{fixture: f, timers: tm, times: tl}
}

func timer(n int) escalation.Timer {
	return escalation.Timer{Key: testKey, Instance: "1796115600000-0a1b2c3d", Number: n}
}

func (f *escFixture) escalate(t *testing.T, n int) alerting.EscalateResult {
	t.Helper()
	res, err := f.core.Escalate(t.Context(), timer(n), f.clock.Now().Add(60*time.Second))
	if err != nil {
		t.Fatalf("timer %d: %v", n, err)
	}
	return res
}

func (f *escFixture) ack(t *testing.T, req alerting.AckRequest) alerting.AckResult {
	t.Helper()
	req.Key = testKey
	res, err := f.core.Acknowledge(t.Context(), req)
	if err != nil {
		t.Fatalf("acknowledge %+v: %v", req, err)
	}
	return res
}

var apiAck = alerting.AckRequest{Method: delivery.AckAPI, By: delivery.Client("ward")}

// types lists the record's event types.
func types(a *alerting.Alert) []string {
	var out []string
	for _, e := range a.Events {
		out = append(out, string(e.Type))
	}
	return out
}

func TestPolicyCopiedAtAcceptance(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call, sms)
	f.deliver(t)
	a := f.latest(t)
	if got := a.Policy.Stages[1].Targets; !reflect.DeepEqual(got, []escalation.Target{escalation.ContactTarget("C-2")}) {
		t.Errorf("stage 2 targets %v, want the contact's secondary", got)
	}
	if got := a.Policy.Stages[2].Targets; !reflect.DeepEqual(got, []escalation.Target{escalation.ContactTarget("C-9")}) {
		t.Errorf("stage 3 targets %v, want the fail-safe contact", got)
	}
	if a.Policy.UnacknowledgedAfter != 30*time.Minute || a.Stage != 0 {
		t.Errorf("policy %+v, stage %d", a.Policy, a.Stage)
	}
}

func TestDeliverSetsTheFirstTimer(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call, sms)
	if res := f.deliver(t); res.Outcome != alerting.OutcomeSent || res.TimerErr != nil {
		t.Fatalf("result %+v", res)
	}
	at, ok := f.timers.at(timer(1))
	if !ok || !at.Equal(t0.Add(5*time.Minute)) || len(f.timers.order) != 1 {
		t.Errorf("timers %v, want timer 1 at acceptance + 5 minutes", f.timers.order)
	}

	failing := newEscFixture(t, call)
	failing.prov.fail[call] = permanent
	failing.deliver(t)
	if len(failing.timers.order) != 0 {
		t.Errorf("a failed alert set timers %v", failing.timers.order)
	}

	broken := newEscFixture(t, sms)
	broken.timers.fail = errors.New("scheduler down")
	if res := broken.deliver(t); res.Outcome != alerting.OutcomeSent || res.TimerErr == nil {
		t.Errorf("result %+v: want sent, and the timer's failure", res)
	}
}

func TestLowPriorityNeverEscalates(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	a := testAlert()
	a.Priority = alert.PriorityLow
	acc, err := f.core.Accept(t.Context(), alerting.Intake{Key: testKey, Instance: f.core.NewInstance(), Alert: a})
	if err != nil {
		t.Fatal(err)
	}
	f.core.Deliver(t.Context(), acc, t0.Add(25*time.Second))
	if len(f.timers.order) != 0 || strings.Contains(f.prov.got[0].text, "acknowledge") || len(f.store.Lookups()) != 0 {
		t.Errorf("an L alert set timers %v or asked to acknowledge: %q", f.timers.order, f.prov.got[0].text)
	}
	if res := f.escalate(t, 1); res.Outcome != alerting.EscalateSkipped || len(f.prov.got) != 1 {
		t.Errorf("a timer of an L alert did %+v", res)
	}
}

// TestNoReplyCodeWithoutReplies: without AckReplyCodes (no two-way SMS),
// an SMS carries the link only: no code that no reply could use.
func TestNoReplyCodeWithoutReplies(t *testing.T) {
	t.Parallel()
	tm := &timers{set: map[string]time.Time{}}
	c1 := testContact(sms)
	c1.SMSPhone = smsPhone
	f := newFixture(t, c1, func(cfg *alerting.Config) {
		cfg.Escalation = escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-1"}
		cfg.Timers, cfg.AckBaseURL = tm, baseURL
	})
	f.deliver(t)
	text := f.prov.got[0].text
	if !linkRE.MatchString(text) || strings.Contains(text, "reply") {
		t.Errorf("SMS %q: want the link and no reply code", text)
	}
	for _, l := range f.store.Lookups() {
		if l.Kind != alerting.LookupToken {
			t.Errorf("lookup %+v: want the link's only", l)
		}
	}
}

// linkRE finds the token of a message's acknowledgment link.
var linkRE = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/ack/([A-Za-z0-9_-]{22})`)

func TestMessagesCarryLinkAndCode(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	text := f.prov.got[0].text
	m := linkRE.FindStringSubmatch(text)
	code := regexp.MustCompile(`reply (\d{6})`).FindStringSubmatch(text)
	if m == nil || code == nil {
		t.Fatalf("SMS %q has no link or code", text)
	}
	want := map[alerting.LookupKind]string{alerting.LookupToken: alerting.TokenHash(m[1]), alerting.LookupCode: alerting.CodeHash(smsPhone, code[1])}
	for _, l := range f.store.Lookups() {
		if want[l.Kind] != l.Hash {
			t.Errorf("lookup %s holds %s, want the hash %s", l.Kind, l.Hash, want[l.Kind])
		}
		if l.Ref.Attempt != 1 || l.Ref.ContactID != "C-1" || !l.ValidUntil.Equal(t0.Add(30*time.Minute+alerting.DefaultAckGrace)) {
			t.Errorf("lookup %+v: want attempt 1 of C-1, valid for the window and the grace", l)
		}
		if strings.Contains(l.Hash, m[1]) || strings.Contains(l.Hash, code[1]) {
			t.Errorf("lookup %+v keeps the secret", l)
		}
		delete(want, l.Kind)
	}
	if len(want) > 0 {
		t.Errorf("lookups missing: %v", want)
	}
	if got := f.store.Writes[1].Lookups; len(got) != 2 || f.store.Writes[1].Attempt == nil {
		t.Errorf("the attempt's start wrote %d lookups, want the token and the code with it", len(got))
	}
}

func TestEveryStageInOrder(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call, sms)
	f.deliver(t)
	f.clock.advance(5 * time.Minute)
	r1 := f.escalate(t, 1)
	if r1.Outcome != alerting.EscalateEscalated || r1.Stage != 1 || len(r1.Delivery.Attempts) != 2 {
		t.Fatalf("timer 1: %+v", r1)
	}
	if got := []contact.Channel{f.prov.got[1].channel, f.prov.got[2].channel}; !reflect.DeepEqual(got, []contact.Channel{sms, call}) {
		t.Errorf("stage 1 sent %v, want the next channel (sms) and a repeat call", got)
	}
	if f.prov.got[2].token == f.prov.got[0].token {
		t.Error("the repeat call reused the first call's client token: Connect would not call again")
	}
	if at, ok := f.timers.at(timer(2)); !ok || !at.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("timer 2 at %v, %v; want acceptance + 10 minutes", at, ok)
	}
	f.clock.advance(5 * time.Minute)
	f.escalate(t, 2)
	if last := f.prov.got[len(f.prov.got)-1]; last.channel != sms || last.dest != "arn:c2-sms" {
		t.Errorf("stage 2 sent %+v, want C-2's SMS", last)
	}
	f.clock.advance(10 * time.Minute)
	f.escalate(t, 3)
	if last := f.prov.got[len(f.prov.got)-1]; last.channel != call || last.dest != "+447700900900" {
		t.Errorf("stage 3 sent %+v, want C-9's call", last)
	}
	f.clock.advance(10 * time.Minute)
	if r := f.escalate(t, 4); r.Outcome != alerting.EscalateUnacknowledged {
		t.Fatalf("timer 4: %+v", r)
	}
	a := f.latest(t)
	if a.Status != delivery.AlertUnacknowledged || a.Stage != 4 {
		t.Errorf("status %s stage %d, want unacknowledged at 4", a.Status, a.Stage)
	}
	var stages []int
	for _, e := range a.Events {
		if e.Type == delivery.EventEscalated || e.Type == delivery.EventUnacknowledged {
			stages = append(stages, e.Stage)
		}
	}
	if !slices.Equal(stages, []int{1, 2, 3, 4}) {
		t.Errorf("escalation events at stages %v, want 1 2 3 4 in order; events %v", stages, types(a))
	}
	for _, at := range a.Attempts[1:] {
		if at.Stage == 0 {
			t.Errorf("attempt %+v after the first delivery has no stage", at)
		}
	}
	if n := len(f.times.escs); n != 4 || !f.times.escs[3].Unacknowledged {
		t.Errorf("timeliness %+v, want four, the last unacknowledged", f.times.escs)
	}
	if _, ok := f.timers.at(timer(5)); ok {
		t.Error("a timer past the last was set")
	}
}

func TestDuplicateLateAndEarlyTimersDoNothing(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call, sms)
	f.deliver(t)
	f.escalate(t, 1)
	writes, sent := len(f.store.Writes), len(f.prov.got)
	if r := f.escalate(t, 1); r.Outcome != alerting.EscalateSkipped || r.Saw != delivery.AlertEscalated || r.Stage != 1 {
		t.Errorf("duplicate timer: %+v", r)
	}
	if len(f.store.Writes) != writes || len(f.prov.got) != sent {
		t.Errorf("the duplicate timer wrote %d changes and sent %d messages", len(f.store.Writes)-writes, len(f.prov.got)-sent)
	}
	f.escalate(t, 2)
	writes, sent = len(f.store.Writes), len(f.prov.got)
	if r := f.escalate(t, 1); r.Outcome != alerting.EscalateSkipped {
		t.Errorf("late timer: %+v", r)
	}
	if r := f.escalate(t, 9); r.Outcome != alerting.EscalateSkipped {
		t.Errorf("timer past the policy: %+v", r)
	}
	if len(f.store.Writes) != writes || len(f.prov.got) != sent {
		t.Errorf("skipped timers wrote %d changes and sent %d messages", len(f.store.Writes)-writes, len(f.prov.got)-sent)
	}
}

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call, sms)
	f.deliver(t)
	f.clock.advance(90 * time.Second)
	res := f.ack(t, apiAck)
	a := res.Alert
	if res.Already || a.Status != delivery.AlertAcknowledged || a.Ack.By != delivery.Client("ward") || a.Ack.Method != delivery.AckAPI || a.Ack.Late {
		t.Fatalf("result %+v, alert %+v", res, a.Ack)
	}
	if last := a.Events[len(a.Events)-1]; last.Type != delivery.EventAcknowledged || last.Actor != delivery.Client("ward") || last.Method != delivery.AckAPI {
		t.Errorf("last event %+v", last)
	}
	if !slices.Contains(f.timers.cancelled, timer(1)) {
		t.Errorf("cancelled %v, want the pending timer 1", f.timers.cancelled)
	}
	if got := f.times.acks; len(got) != 1 || got[0].AcceptedToAcknowledged != 90*time.Second || got[0].Priority != alert.PriorityHigh {
		t.Errorf("timeliness %+v, want one acknowledgment 90 s after acceptance", got)
	}
	f.clock.advance(time.Minute)
	again := f.ack(t, alerting.AckRequest{Method: delivery.AckLink, By: delivery.Contact("C-1")})
	if !again.Already || !again.Ack.At.Equal(res.Ack.At) || again.Ack.Method != delivery.AckAPI || len(f.times.acks) != 1 {
		t.Errorf("second acknowledgment %+v: want the first one's time and method, nothing recorded", again)
	}
	if r := f.escalate(t, 1); r.Outcome != alerting.EscalateSkipped || r.Saw != delivery.AlertAcknowledged {
		t.Errorf("a timer after the acknowledgment: %+v", r)
	}
}

func TestLateAcknowledgment(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	for n := 1; n <= 4; n++ {
		f.escalate(t, n)
	}
	res := f.ack(t, apiAck)
	if !res.Ack.Late || res.Alert.Status != delivery.AlertAcknowledged {
		t.Errorf("acknowledgment after unacknowledged: %+v", res.Ack)
	}
	g := newEscFixture(t, sms)
	g.deliver(t)
	g.clock.advance(31 * time.Minute) // past the window, before the last timer ran
	if res := g.ack(t, apiAck); !res.Ack.Late {
		t.Errorf("acknowledgment past the window: %+v", res.Ack)
	}
}

func TestFailedAlertIsNotAcknowledgeable(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call)
	f.prov.fail[call] = permanent
	f.deliver(t)
	if _, err := f.core.Acknowledge(t.Context(), alerting.AckRequest{Key: testKey, Method: delivery.AckAPI, By: delivery.Client("ward")}); !errors.Is(err, alerting.ErrNotAcknowledgeable) {
		t.Errorf("acknowledging a failed alert: %v", err)
	}
	if _, err := f.core.Acknowledge(t.Context(), alerting.AckRequest{Key: alert.Key{Client: "ward", MessageID: "nope"}, Method: delivery.AckAPI}); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("acknowledging an unknown alert: %v", err)
	}
}

func TestAckByLinkOnce(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	token := linkRE.FindStringSubmatch(f.prov.got[0].text)[1]
	writes := len(f.store.Writes)
	l, a, err := f.core.Peek(t.Context(), alerting.LookupToken, alerting.TokenHash(token))
	if err != nil || l.Used() || a.Status != delivery.AlertSent || len(f.store.Writes) != writes {
		t.Fatalf("peek: %+v %v %v after %d writes; it must change nothing", l, a, err, len(f.store.Writes))
	}
	res, err := f.core.AckByLookup(t.Context(), alerting.LookupToken, alerting.TokenHash(token), delivery.AckLink)
	if err != nil || res.Alert.Ack.By != delivery.Contact("C-1") || res.Alert.Ack.Attempt != 1 || res.Alert.Ack.Method != delivery.AckLink {
		t.Fatalf("link acknowledgment: %+v, %v", res, err)
	}
	again, err := f.core.AckByLookup(t.Context(), alerting.LookupToken, alerting.TokenHash(token), delivery.AckLink)
	if !errors.Is(err, alerting.ErrUsed) || !again.Ack.At.Equal(res.Ack.At) {
		t.Errorf("the link used again: %+v, %v; want ErrUsed with the first acknowledgment", again, err)
	}
	if _, err := f.core.AckByLookup(t.Context(), alerting.LookupToken, alerting.TokenHash("nope"), delivery.AckLink); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("an unknown token: %v", err)
	}
}

func TestAckByCode(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	code := regexp.MustCompile(`reply (\d{6})`).FindStringSubmatch(f.prov.got[0].text)[1]
	if _, err := f.core.AckByLookup(t.Context(), alerting.LookupCode, alerting.CodeHash("+447700900999", code), delivery.AckSMS); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("the right code from another number: %v, want ErrNotFound", err)
	}
	if a := f.latest(t); a.Ack != nil {
		t.Fatal("a reply from another number acknowledged the alert")
	}
	res, err := f.core.AckByLookup(t.Context(), alerting.LookupCode, alerting.CodeHash(smsPhone, code), delivery.AckSMS)
	if err != nil || res.Ack.Method != delivery.AckSMS || res.Ack.By != delivery.Contact("C-1") {
		t.Errorf("the right code from the right number: %+v, %v", res, err)
	}
}

func TestExpiredLink(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	token := linkRE.FindStringSubmatch(f.prov.got[0].text)[1]
	f.clock.advance(30*time.Minute + alerting.DefaultAckGrace + time.Second)
	if _, err := f.core.AckByLookup(t.Context(), alerting.LookupToken, alerting.TokenHash(token), delivery.AckLink); !errors.Is(err, alerting.ErrExpired) {
		t.Errorf("an expired link: %v", err)
	}
	if f.latest(t).Ack != nil {
		t.Error("an expired link acknowledged the alert")
	}
}

func TestKeypadAcceptsOnlyTheRecordedCall(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call)
	f.deliver(t)
	contactID := f.latest(t).Attempts[0].ProviderRef
	req := alerting.AckRequest{Key: testKey, Instance: "1796115600000-0a1b2c3d", Method: delivery.AckKeypad, Attempt: 1}
	for name, wrong := range map[string]alerting.AckRequest{
		"another contact id": {ContactRef: "not-the-call"},
		"no such attempt":    {ContactRef: contactID, Attempt: 7},
	} {
		r := req
		r.ContactRef = wrong.ContactRef
		if wrong.Attempt != 0 {
			r.Attempt = wrong.Attempt
		}
		if _, err := f.core.Acknowledge(t.Context(), r); !errors.Is(err, alerting.ErrRefused) {
			t.Errorf("%s: %v, want ErrRefused", name, err)
		}
	}
	req.ContactRef = contactID
	res, err := f.core.Acknowledge(t.Context(), req)
	if err != nil || res.Ack.Method != delivery.AckKeypad || res.Ack.By != delivery.Contact("C-1") {
		t.Errorf("the recorded call: %+v, %v", res, err)
	}
}

// TestKeypadBeforeTheCallIsRecorded: the clinician presses 1 while the
// processor is still recording the call: the acknowledgment waits for the
// call's ContactId, then both are recorded.
func TestKeypadBeforeTheCallIsRecorded(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, call)
	done := make(chan error, 1)
	f.prov.during = func() {
		go func() {
			_, err := f.core.Acknowledge(context.Background(), alerting.AckRequest{
				Key: testKey, Instance: "1796115600000-0a1b2c3d", Method: delivery.AckKeypad, Attempt: 1, ContactRef: "call-ref-1",
			})
			done <- err
		}()
	}
	f.deliver(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a := f.latest(t)
	if a.Status != delivery.AlertAcknowledged || a.Attempts[0].Status != delivery.AttemptSent {
		t.Errorf("status %s, attempt %+v; events %v", a.Status, a.Attempts[0], types(a))
	}
}

// TestAckDuringADelivery: the API acknowledges while the SMS is with SNS;
// the delivery's outcome is then written on top of the acknowledgment
// (reload and reapply), and the alert stays acknowledged.
func TestAckDuringADelivery(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.prov.during = func() {
		if _, err := f.core.Acknowledge(context.Background(), alerting.AckRequest{Key: testKey, Method: delivery.AckAPI, By: delivery.Client("ward")}); err != nil {
			t.Error(err)
		}
	}
	res := f.deliver(t)
	a := f.latest(t)
	want := []string{"accepted", "attempt_started", "acknowledged", "attempt_sent"}
	if !slices.Equal(types(a), want) || a.Status != delivery.AlertAcknowledged || len(res.RecordErrors) != 0 {
		t.Errorf("events %v, status %s, record errors %v; want %v, acknowledged", types(a), a.Status, res.RecordErrors, want)
	}
}

// TestAckAndTimerRace forces an acknowledgment and a timer onto one
// version of the record, in both orders: exactly one takes it. When the
// acknowledgment does, the timer finds it and does nothing; when the
// timer does, the acknowledgment is applied after it (never lost).
func TestAckAndTimerRace(t *testing.T) {
	t.Parallel()
	t.Run("acknowledgment first", func(t *testing.T) {
		t.Parallel()
		f := newEscFixture(t, call, sms)
		f.deliver(t)
		sent := len(f.prov.got)
		f.store.BeforeWrite = func(alerting.Change) {
			f.store.BeforeWrite = nil
			f.ack(t, apiAck) // lands between the timer's read and its write
		}
		if r := f.escalate(t, 1); r.Outcome != alerting.EscalateSkipped || r.Saw != delivery.AlertAcknowledged {
			t.Errorf("timer: %+v", r)
		}
		a := f.latest(t)
		if slices.Contains(types(a), "escalated") || len(f.prov.got) != sent || a.Status != delivery.AlertAcknowledged {
			t.Errorf("events %v, %d messages after: want acknowledged only", types(a), len(f.prov.got)-sent)
		}
	})
	t.Run("timer first", func(t *testing.T) {
		t.Parallel()
		f := newEscFixture(t, call, sms)
		f.deliver(t)
		v := f.latest(t).Version
		f.store.BeforeWrite = func(alerting.Change) {
			f.store.BeforeWrite = nil
			f.escalate(t, 1) // lands between the acknowledgment's read and its write
		}
		res := f.ack(t, apiAck)
		a := f.latest(t)
		if e := a.Events[v]; e.Type != delivery.EventEscalated {
			t.Errorf("event %d is %s, want the timer's escalation", v+1, e.Type)
		}
		if n := strings.Count(strings.Join(types(a), " "), "acknowledged"); n != 1 || res.Alert.Status != delivery.AlertAcknowledged || res.Ack.At.IsZero() {
			t.Errorf("events %v: want one acknowledgment, after the escalation", types(a))
		}
	})
}

func TestSkippedTargetIsRecorded(t *testing.T) {
	t.Parallel()
	f := newEscFixtureWith(t, func(c *contact.Contact) { c.CallPhone = "" }, sms) // no next channel, no phone for a repeat call
	f.deliver(t)
	r := f.escalate(t, 1)
	if !slices.Equal(r.Skipped, []escalation.Target{escalation.NextChannel, escalation.RepeatCall}) || len(r.Delivery.Attempts) != 0 {
		t.Errorf("result %+v: want both targets skipped", r)
	}
	var skipped []escalation.Target
	for _, e := range f.latest(t).Events {
		if e.Type == delivery.EventTargetSkipped {
			skipped = append(skipped, e.Target)
		}
	}
	if !slices.Equal(skipped, r.Skipped) {
		t.Errorf("audit skipped %v, want %v", skipped, r.Skipped)
	}
}

func TestAcknowledgerOnlyAcknowledges(t *testing.T) {
	t.Parallel()
	f := newEscFixture(t, sms)
	f.deliver(t)
	ack, err := alerting.NewAcknowledger(alerting.Config{Store: f.store, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ack.Acknowledge(t.Context(), alerting.AckRequest{Key: testKey, Method: delivery.AckAPI, By: delivery.Client("ward")}); err != nil || res.Alert.Status != delivery.AlertAcknowledged {
		t.Errorf("acknowledge: %+v, %v", res, err)
	}
	if _, err := ack.Accept(t.Context(), alerting.Intake{Key: testKey, Instance: ack.NewInstance(), Alert: testAlert()}); err == nil {
		t.Error("an acknowledger accepted an alert")
	}
	if _, err := ack.Escalate(t.Context(), timer(1), t0.Add(time.Minute)); err == nil {
		t.Error("an acknowledger ran a timer")
	}
	if _, err := alerting.NewAcknowledger(alerting.Config{}); err == nil {
		t.Error("an acknowledger without a store")
	}
}
