package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Tests of acknowledgment and escalation (issue 12), with seconds-long
// windows. The tests fire each escalation timer themselves
// (standin.ScheduleFirer.Fire waits for the schedule's own time, then
// invokes the escalate function), so no test sleeps and hopes.

// testEscalation shortens the sandbox stack's windows: H and M stages 2,
// 4 and 6 s after acceptance, unacknowledged at 8 s; links and codes
// acknowledge 4 s longer (late).
var testEscalation = map[string]string{
	names.ConfigEscalation: `{"H":{"stages":[{"after":"2s","targets":["next-channel","repeat-call"]},{"after":"4s","targets":["secondary"]},` +
		`{"after":"6s","targets":["fail-safe"]}],"unacknowledgedAfter":"8s"},` +
		`"M":{"stages":[{"after":"2s","targets":["next-channel"]},{"after":"4s","targets":["secondary"]},` +
		`{"after":"6s","targets":["fail-safe"]}],"unacknowledgedAfter":"8s"},"L":"none"}`,
	names.ConfigAckGrace: "4s",
}

// escalatingContact is the sandbox's C-3: H [call, sms], its registrar
// C-4, the fail-safe C-5. Its calls ring unanswered unless scripted.
const (
	escalatingContact = "C-3"
	registrar         = "C-4"
	failSafe          = "C-5"
	c1SMSPhone        = "+15555550101"
)

// fireTimeout bounds a wait for a timer (the last is due 8 s after
// acceptance).
const fireTimeout = 30 * time.Second

// escalates reports whether the target's policy for p asks for an
// acknowledgment: the embedded sandbox's as deployed, else the defaults.
func (tg *target) escalates(p alert.Priority) bool {
	if tg.env == nil {
		return escalation.Defaults()[p].Enabled()
	}
	for _, fn := range tg.env.Deployment.Functions {
		if fn.Name == tg.env.Deployment.OutputString(names.OutputProcessorFunction) {
			set, err := escalation.ParseSet(fn.Environment[names.EnvEscalation])
			return err == nil && set.Policies[p].Enabled()
		}
	}
	return false
}

// ackLine finds a message's acknowledgment link and SMS code.
var (
	ackLinkRE = regexp.MustCompile(`https?://\S+/` + names.AckPath + `/[A-Za-z0-9_-]{22}`)
	ackCodeRE = regexp.MustCompile(`reply (\d{6})`)
)

// ackOf is what a message asks to acknowledge with (zero when nothing).
func ackOf(text string) render.Ack {
	var a render.Ack
	a.Link = ackLinkRE.FindString(text)
	if m := ackCodeRE.FindStringSubmatch(text); m != nil {
		a.Code = m[1]
	}
	return a
}

// callScripts scripts the sandbox's calls per alert (the Connect stub has
// one script): a call nobody scripted rings unanswered.
var callScripts = &scripts{byID: map[string]standin.CallOutcome{}}

type scripts struct {
	mu   sync.Mutex
	byID map[string]standin.CallOutcome
}

func (s *scripts) decide(c standin.OutboundCall) standin.CallOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, o := range s.byID {
		if calledFor(c, id) {
			return o
		}
	}
	return standin.NotAnswered
}

// script makes every call of the alert id end in o, until the test ends.
func (s *scripts) script(tb testing.TB, id string, o standin.CallOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[id] = o
	tb.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.byID, id)
	})
}

// escalatingAlert is a high-priority alert to C-3.
func escalatingAlert(tb testing.TB) alert.Alert {
	tb.Helper()
	a := newAlert(tb, alert.PriorityHigh, "")
	a.ContactID = escalatingContact
	return a
}

// timer is the escalation timer n of the sandbox client's alert id (its
// instance read from the alerts table).
func timer(t *testing.T, env *sandbox.Sandbox, id string, n int) escalation.Timer {
	t.Helper()
	items := stateItems(t, env, id)
	if len(items) != 1 {
		t.Fatalf("%d state items for %s, want 1", len(items), id)
	}
	inst, ok := items[0][names.AttrInstance].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("the state of %s has no instance", id)
	}
	return escalation.Timer{Key: alert.Key{Client: sandbox.ClientName, MessageID: id}, Instance: inst.Value, Number: n}
}

// escalated is the escalate function's answer.
type escalated struct {
	Outcome string `json:"outcome"`
	Saw     string `json:"saw"`
	Stage   int    `json:"stage"`
}

// fire fires the alert's timer n when it is due, as Scheduler would.
func fire(t *testing.T, env *sandbox.Sandbox, id string, n int) escalated {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), fireTimeout)
	defer cancel()
	answer, err := env.Firer.Fire(ctx, timer(t, env, id, n).Name())
	if err != nil {
		t.Fatalf("timer %d of %s: %v", n, id, err)
	}
	return decodeEscalated(t, answer)
}

// deliverAgain invokes the escalate function with timer n's input once
// more: a duplicate (or late) delivery of a timer.
func deliverAgain(t *testing.T, env *sandbox.Sandbox, id string, n int) escalated {
	t.Helper()
	fn := env.Deployment.OutputString(names.OutputEscalateFunction)
	answer, err := env.Firer.Invoke(t.Context(), fn, timer(t, env, id, n).Input())
	if err != nil {
		t.Fatal(err)
	}
	return decodeEscalated(t, answer)
}

func decodeEscalated(t *testing.T, answer string) escalated {
	t.Helper()
	var e escalated
	if err := json.Unmarshal([]byte(answer), &e); err != nil {
		t.Fatalf("escalate answered %s: %v", answer, err)
	}
	return e
}

// noTimer checks that the alert's timer n is not pending.
func noTimer(t *testing.T, env *sandbox.Sandbox, id string, n int) {
	t.Helper()
	if _, _, _, err := env.Firer.Due(t.Context(), timer(t, env, id, n).Name()); !errors.Is(err, standin.ErrNoSchedule) {
		t.Errorf("timer %d of %s: %v, want no schedule", n, id, err)
	}
}

// link sends GET or POST to an acknowledgment link (no token header: the
// link is the credential).
func (tg *target) link(tb testing.TB, method, u string) reply {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, u, strings.NewReader(""))
	if err != nil {
		tb.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := tg.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	return reply{status: resp.StatusCode, header: resp.Header, body: readAll(tb, resp)}
}

func readAll(tb testing.TB, resp *http.Response) []byte {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ack sends POST /notification/{id}/ack with token.
func (tg *target) ack(tb testing.TB, id, token string) reply {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, tg.url+"/"+url.PathEscape(id)+"/"+names.AckPath, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set(names.HeaderAuthorization, token)
	resp, err := tg.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	return reply{status: resp.StatusCode, header: resp.Header, body: readAll(tb, resp)}
}

// events lists the record's event types with their stages: "escalated@2".
func stagedEvents(rec api.AlertRecord) []string {
	var out []string
	for _, e := range rec.Events {
		s := e.Type
		if e.Stage > 0 {
			s += fmt.Sprintf("@%d", e.Stage)
		}
		out = append(out, s)
	}
	return out
}

func countEvents(rec api.AlertRecord, typ string) int {
	n := 0
	for _, e := range rec.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestKeypadAcknowledges: C-3 answers the call and presses 1. The stub
// invokes the ack function as the flow would; the alert is acknowledged on
// the call (by its contact), its first timer is gone, and a timer that
// fires anyway does nothing: no escalation.
func TestKeypadAcknowledges(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "scripting calls")
	stub := tgt.needConnect(t)
	a := escalatingAlert(t)
	callScripts.script(t, a.MessageID, standin.AnsweredPressed1)

	if sent := tgt.postAlert(t, a).wantSent(t, a); sent.Channel != "call" {
		t.Fatalf("sent by %s, want the call", sent.Channel)
	}
	res, err := stub.WaitForResults(waitCtx(t), 1, func(r standin.CallResult) bool { return calledFor(r.Call, a.MessageID) })
	if err != nil || res[0].Err != nil || res[0].Answer["result"] != "acknowledged" {
		t.Fatalf("the flow's function answered %+v, %v", res, err)
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if rec.Status != "acknowledged" || rec.AckMethod != "keypad" || rec.AcknowledgedBy != "contact:"+escalatingContact ||
		rec.AckLate || rec.AcceptedToAcknowledgedMS <= 0 || rec.Stage != 0 {
		t.Fatalf("record %+v", rec)
	}
	noTimer(t, env, a.MessageID, 1)
	if e := deliverAgain(t, env, a.MessageID, 1); e.Outcome != "skipped" || e.Saw != "acknowledged" {
		t.Errorf("a late timer: %+v, want skipped", e)
	}
	after := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if countEvents(after, "escalated") != 0 || len(after.Events) != len(rec.Events) || len(calls(stub, a.MessageID)) != 1 {
		t.Errorf("events %v, %d calls: want no escalation", stagedEvents(after), len(calls(stub, a.MessageID)))
	}
}

// TestNoAnswerThenLinkAtStageOne: C-3's call rings unanswered. At stage 1
// the SMS (its next channel) goes out with a link, and a repeat call; the
// link's POST acknowledges the alert, by C-3, at stage 1; stage 2 never
// comes.
func TestNoAnswerThenLinkAtStageOne(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "firing timers")
	tap, stub := tgt.needTap(t), tgt.needConnect(t)
	a := escalatingAlert(t)
	callScripts.script(t, a.MessageID, standin.AnsweredNoInput) // the repeat call: heard, nothing pressed
	tgt.postAlert(t, a).wantSent(t, a)
	if got := deliveries(tap, a.MessageID); len(got) != 0 {
		t.Fatalf("an SMS went out before stage 1: %v", got)
	}

	if e := fire(t, env, a.MessageID, 1); e.Outcome != "escalated" || e.Stage != 1 {
		t.Fatalf("timer 1: %+v", e)
	}
	sms := waitDeliveries(t, tap, a.MessageID, 1)[0]
	if !strings.HasSuffix(sms.TopicARN, escalatingContact+"-sms") {
		t.Errorf("stage 1 SMS went to %s, want C-3's", sms.TopicARN)
	}
	if n := len(waitCalls(t, stub, a.MessageID, 2)); n != 2 {
		t.Errorf("%d calls, want the first and the repeat", n)
	}
	ack := ackOf(sms.Message)
	if ack.Link == "" || ack.Code == "" {
		t.Fatalf("stage 1 SMS %q has no link or code", sms.Message)
	}
	page := tgt.link(t, http.MethodPost, ack.Link)
	if page.status != http.StatusOK || !strings.Contains(string(page.body), "Acknowledged at ") {
		t.Fatalf("link POST: %d %s", page.status, page.body)
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if rec.Status != "acknowledged" || rec.AckMethod != "link" || rec.AcknowledgedBy != "contact:"+escalatingContact || rec.Stage != 1 {
		t.Fatalf("record %+v", rec)
	}
	noTimer(t, env, a.MessageID, 2)
	if e := deliverAgain(t, env, a.MessageID, 2); e.Outcome != "skipped" {
		t.Errorf("stage 2 after the acknowledgment: %+v", e)
	}
	if got := stagedEvents(tgt.get(t, a.MessageID, tgt.token).record(t, a)); slices.Contains(got, "escalated@2") || countEvents(rec, "escalated") != 1 {
		t.Errorf("events %v: want stage 1 only", got)
	}
	for _, d := range deliveries(tap, a.MessageID) {
		if strings.Contains(d.TopicARN, registrar) {
			t.Errorf("the registrar was paged: %s", d.TopicARN)
		}
	}
}

// TestNothingAcknowledgedEscalatesToTheEnd: every stage fires in order
// (the next channel and a repeat call, the registrar, the fail-safe
// contact), then the alert is unacknowledged, the escalate function
// writes the metric the alarm watches, and the audit says so. A late
// acknowledgment is still recorded, as late.
func TestNothingAcknowledgedEscalatesToTheEnd(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "firing timers")
	tap := tgt.needTap(t)
	a := escalatingAlert(t)
	tgt.postAlert(t, a).wantSent(t, a)
	for n, want := range []string{"escalated", "escalated", "escalated", "unacknowledged"} {
		if e := fire(t, env, a.MessageID, n+1); e.Outcome != want || e.Stage != n+1 {
			t.Fatalf("timer %d: %+v, want %s", n+1, e, want)
		}
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	var moves []string
	for _, e := range stagedEvents(rec) {
		if strings.HasPrefix(e, "escalated") || strings.HasPrefix(e, "unacknowledged") {
			moves = append(moves, e)
		}
	}
	if want := []string{"escalated@1", "escalated@2", "escalated@3", "unacknowledged@4"}; !slices.Equal(moves, want) || rec.Status != "unacknowledged" {
		t.Fatalf("status %s, moves %v, want %v", rec.Status, moves, want)
	}
	var topics []string
	for _, d := range waitDeliveries(t, tap, a.MessageID, 3) {
		topics = append(topics, d.TopicARN[strings.LastIndex(d.TopicARN, ":")+1:])
	}
	for _, who := range []string{escalatingContact, registrar, failSafe} {
		if !slices.ContainsFunc(topics, func(tp string) bool { return strings.Contains(tp, who+"-sms") }) {
			t.Errorf("no SMS to %s: %v", who, topics)
		}
	}
	fn, err := env.Function(names.OutputEscalateFunction)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`"Dimensions":\[\[\],\["Priority"\]\],"Metrics":\[\{"Name":"` + names.MetricUnacknowledged + `"`).MatchString(fn.Output()) {
		t.Error("the escalate function wrote no unacknowledged metric for the alarm")
	}
	late := tgt.ack(t, a.MessageID, tgt.token)
	if late.status != http.StatusOK || !strings.Contains(string(late.body), `"late":true`) {
		t.Errorf("a late acknowledgment: %s", late)
	}
}

// TestLinkGetChangesNothing: opening a link (as a mail scanner does) shows
// the alert's priority, type and reference and changes nothing; the
// button's POST then acknowledges.
func TestLinkGetChangesNothing(t *testing.T) {
	t.Parallel()
	tgt.needSandbox(t, "reading links")
	a := newAlert(t, alert.PriorityMedium, "")
	tgt.postAlert(t, a).wantSent(t, a)
	link := ackOf(waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0].Message).Link
	before := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	for range 2 {
		page := tgt.link(t, http.MethodGet, link)
		body := string(page.body)
		if page.status != http.StatusOK || !strings.Contains(body, "<dd>medium</dd>") || !strings.Contains(body, "<dd>"+a.Type+"</dd>") ||
			!strings.Contains(body, "<dd>"+a.MessageID+"</dd>") || !strings.Contains(body, `<form method="post">`) ||
			strings.Contains(body, a.Description) || strings.Contains(body, a.PatientID) {
			t.Fatalf("GET: %d %s", page.status, body)
		}
	}
	after := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if after.Status != before.Status || len(after.Events) != len(before.Events) || after.AcknowledgedAt != "" {
		t.Fatalf("GET changed the record: %v -> %v", stagedEvents(before), stagedEvents(after))
	}
	if page := tgt.link(t, http.MethodPost, link); page.status != http.StatusOK {
		t.Fatalf("POST: %d", page.status)
	}
	if rec := tgt.get(t, a.MessageID, tgt.token).record(t, a); rec.Status != "acknowledged" || rec.AckMethod != "link" {
		t.Errorf("record %+v", rec)
	}
}

// TestUsedAndExpiredLinks: a link acknowledges once (again: 410, the page
// says when the alert was acknowledged); one past its alert's window and
// grace answers 410 and acknowledges nothing.
func TestUsedAndExpiredLinks(t *testing.T) {
	t.Parallel()
	tgt.needSandbox(t, "reading links")
	tap := tgt.needTap(t)
	used, expired := newAlert(t, alert.PriorityMedium, "used"), newAlert(t, alert.PriorityMedium, "expired")
	tgt.postAlert(t, used).wantSent(t, used)
	tgt.postAlert(t, expired).wantSent(t, expired)
	link := ackOf(waitDeliveries(t, tap, used.MessageID, 1)[0].Message).Link
	if page := tgt.link(t, http.MethodPost, link); page.status != http.StatusOK {
		t.Fatalf("first POST: %d", page.status)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		page := tgt.link(t, method, link)
		if page.status != http.StatusGone || !strings.Contains(string(page.body), "used already") {
			t.Errorf("%s of a used link: %d %s", method, page.status, page.body)
		}
	}

	link = ackOf(waitDeliveries(t, tap, expired.MessageID, 1)[0].Message).Link
	rec := tgt.get(t, expired.MessageID, tgt.token).record(t, expired)
	accepted, err := time.Parse(time.RFC3339, rec.AcceptedAt)
	if err != nil || rec.Escalation == nil {
		t.Fatalf("record %+v: %v", rec, err)
	}
	// Valid until the window's end and the 4 s grace: wait for that time.
	until := accepted.Add(time.Duration(rec.Escalation.UnacknowledgedAfterSeconds)*time.Second + 4*time.Second)
	select {
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	case <-time.After(time.Until(until) + time.Second):
	}
	page := tgt.link(t, http.MethodPost, link)
	if page.status != http.StatusGone || !strings.Contains(string(page.body), "expired") {
		t.Errorf("POST of an expired link: %d %s", page.status, page.body)
	}
	if rec := tgt.get(t, expired.MessageID, tgt.token).record(t, expired); rec.AcknowledgedAt != "" {
		t.Errorf("an expired link acknowledged the alert: %+v", rec)
	}
}

// TestSMSReplyFromAnotherNumberIsRefused: the right code from the wrong
// number acknowledges nothing; from the number the SMS went to, it does.
func TestSMSReplyFromAnotherNumberIsRefused(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "publishing SMS replies")
	topic := env.Deployment.OutputString(names.OutputInboundSMSTopicARN)
	a := newAlert(t, alert.PriorityMedium, "")
	tgt.postAlert(t, a).wantSent(t, a)
	code := ackOf(waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0].Message).Code
	ackFn, err := env.Function(names.OutputAckFunction)
	if err != nil {
		t.Fatal(err)
	}
	id, err := standin.PublishInboundSMS(t.Context(), env.Clients.SNS, env.Clients.Lambda, topic, "+15555550999", "OK "+code)
	if err != nil {
		t.Fatal(err)
	}
	if line := regexp.MustCompile(`.*"sns_message_id":"` + id + `".*`).FindString(ackFn.Output()); !strings.Contains(line, "no alert sent to that number has that code") {
		t.Errorf("the refusal is not logged: %q", line)
	}
	if rec := tgt.get(t, a.MessageID, tgt.token).record(t, a); rec.AcknowledgedAt != "" {
		t.Fatalf("a reply from another number acknowledged the alert: %+v", rec)
	}
	if _, err := standin.PublishInboundSMS(t.Context(), env.Clients.SNS, env.Clients.Lambda, topic, c1SMSPhone, code); err != nil {
		t.Fatal(err)
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if rec.Status != "acknowledged" || rec.AckMethod != "sms" || rec.AcknowledgedBy != "contact:"+testContact {
		t.Errorf("record %+v", rec)
	}
	if strings.Contains(ackFn.Output(), c1SMSPhone) || strings.Contains(ackFn.Output(), code) {
		t.Error("the ack function logged a phone number or a code")
	}
}

// TestAckAndTimerRace forces an acknowledgment (by the API) and timer 1
// onto the same moment, the timer's due time, for several alerts.
// Exactly one takes the contested move of the record: either the
// acknowledgment (the timer then finds it and does nothing: no
// escalation, no stage 1 message) or the escalation (the acknowledgment
// is then applied after it: the clinician's acknowledgment is never
// lost). Never neither, never a second acknowledgment or escalation.
func TestAckAndTimerRace(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "firing timers")
	tap := tgt.needTap(t)
	const alerts = 6
	var wg sync.WaitGroup
	for i := range alerts {
		a := escalatingAlert(t)
		a.MessageID = fmt.Sprintf("%s-%d", a.MessageID, i)
		tgt.postAlert(t, a).wantSent(t, a)
		wg.Go(func() { raceOne(t, env, tap, a) })
	}
	wg.Wait()
}

func raceOne(t *testing.T, env *sandbox.Sandbox, tap *observe.Tap, a alert.Alert) {
	t.Helper()
	name := timer(t, env, a.MessageID, 1).Name()
	at, target, input, err := env.Firer.Due(t.Context(), name)
	if err != nil {
		t.Error(err)
		return
	}
	<-time.After(time.Until(at))
	var esc string
	var ack reply
	var wg sync.WaitGroup
	wg.Go(func() { esc, err = env.Firer.Invoke(t.Context(), target, input) })
	wg.Go(func() { ack = tgt.ack(t, a.MessageID, tgt.token) })
	wg.Wait()
	if err != nil || ack.status != http.StatusOK {
		t.Errorf("%s: timer %v, acknowledgment %s", a.MessageID, err, ack)
		return
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	events := stagedEvents(rec)
	sent := slices.Index(events, "sent")
	if rec.Status != "acknowledged" || countEvents(rec, "acknowledged") != 1 || countEvents(rec, "escalated") > 1 || sent < 0 {
		t.Errorf("%s: status %s, events %v", a.MessageID, rec.Status, events)
		return
	}
	switch first := events[sent+1]; first {
	case "acknowledged":
		if countEvents(rec, "escalated") != 0 || len(deliveries(tap, a.MessageID)) != 0 || !strings.Contains(esc, `"outcome":"skipped"`) {
			t.Errorf("%s: the acknowledgment won, yet events %v, timer %s", a.MessageID, events, esc)
		}
	case "escalated@1":
		if !strings.Contains(esc, `"outcome":"escalated"`) || rec.Events[len(rec.Events)-1].Type == "escalated" && countEvents(rec, "acknowledged") == 0 {
			t.Errorf("%s: the timer won, yet events %v, timer %s", a.MessageID, events, esc)
		}
	default:
		t.Errorf("%s: after sent came %s: neither contender", a.MessageID, first)
	}
}

// TestDuplicateTimerDoesNothing: timer 1 delivered twice escalates once.
func TestDuplicateTimerDoesNothing(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "firing timers")
	tap, stub := tgt.needTap(t), tgt.needConnect(t)
	a := escalatingAlert(t)
	tgt.postAlert(t, a).wantSent(t, a)
	fire(t, env, a.MessageID, 1)
	waitDeliveries(t, tap, a.MessageID, 1)
	waitCalls(t, stub, a.MessageID, 2)
	before := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if e := deliverAgain(t, env, a.MessageID, 1); e.Outcome != "skipped" || e.Stage != 1 {
		t.Errorf("the duplicate: %+v", e)
	}
	tgt.drain(t)
	after := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if len(after.Events) != len(before.Events) || len(deliveries(tap, a.MessageID)) != 1 || len(calls(stub, a.MessageID)) != 2 {
		t.Errorf("the duplicate changed the record (%v -> %v) or sent again", stagedEvents(before), stagedEvents(after))
	}
}

// TestLowPriorityNeverEscalates: an L alert asks for no acknowledgment
// (no link), sets no timer, and a timer forged for it does nothing.
func TestLowPriorityNeverEscalates(t *testing.T) {
	t.Parallel()
	env := tgt.needSandbox(t, "firing timers")
	a := newAlert(t, alert.PriorityLow, "")
	tgt.postAlert(t, a).wantSent(t, a)
	if msg := waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0].Message; ackOf(msg) != (render.Ack{}) || strings.Contains(msg, "acknowledge") {
		t.Errorf("the L alert's message asks to acknowledge: %q", msg)
	}
	noTimer(t, env, a.MessageID, 1)
	if e := deliverAgain(t, env, a.MessageID, 1); e.Outcome != "skipped" {
		t.Errorf("a forged timer: %+v", e)
	}
	if rec := tgt.get(t, a.MessageID, tgt.token).record(t, a); rec.Escalation != nil || rec.Stage != 0 || rec.Status != "sent" {
		t.Errorf("record %+v", rec)
	}
}

// TestAPIAcknowledgmentIsTheOwners: another client's acknowledgment of the
// same message_id answers 404 and changes nothing; the owner's is
// recorded, and a second answers the first one's time.
func TestAPIAcknowledgmentIsTheOwners(t *testing.T) {
	t.Parallel()
	tgt.needSandbox(t, "a second client")
	a := newAlert(t, alert.PriorityMedium, "")
	tgt.postAlert(t, a).wantSent(t, a)
	tgt.ack(t, a.MessageID, tgt.secondToken).wantError(t, api.CodeNotFound)
	first := tgt.ack(t, a.MessageID, tgt.token)
	first.wantStatus(t, http.StatusOK)
	var one, two api.Acknowledged
	decodeStrict(t, first.body, &one)
	decodeStrict(t, tgt.ack(t, a.MessageID, tgt.token).body, &two)
	if one.AcknowledgedBy != "client:"+sandbox.ClientName || one.Method != "api" || one.AlreadyAcknowledged ||
		!two.AlreadyAcknowledged || two.AcknowledgedAt != one.AcknowledgedAt {
		t.Errorf("answers %+v then %+v", one, two)
	}
}
