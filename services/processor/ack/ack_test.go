package ack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/ack"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const (
	smsPhone    = "+447700900124"
	description = "Potassium 6.9 mmol/L, please review"
	patient     = "P-4F2A91"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

type contacts map[string]contact.Contact

func (m contacts) GetContact(_ context.Context, id string) (contact.Contact, error) {
	return m[id], nil
}

// providers records what was sent; calls answer contact ids call-<n>.
type providers struct {
	mu   sync.Mutex
	sent []string
}

func (p *providers) record(text string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, text)
	return "ref-" + string(rune('0'+len(p.sent)))
}
func (p *providers) PublishSMS(_ context.Context, _, text string) (string, error) {
	return p.record(text), nil
}
func (p *providers) PublishEmail(_ context.Context, _, _, body string) (string, error) {
	return p.record(body), nil
}
func (p *providers) Call(_ context.Context, r alerting.CallRequest) (string, error) {
	return "call-" + p.record(r.MessageSSML), nil
}

type noTimers struct{}

func (noTimers) Set(context.Context, escalation.Timer, time.Time) error { return nil }
func (noTimers) Cancel(context.Context, escalation.Timer) error         { return nil }

// fixture is a core that delivers (to seed alerts) and the ack handler on
// the same store.
type fixture struct {
	store *alertingtest.MemStore
	core  *alerting.Core
	h     *ack.Handler
	prov  *providers
	clock *clock
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: alertingtest.NewMemStore(), prov: &providers{}, clock: &clock{now: t0}, logs: &bytes.Buffer{}}
	c1 := contact.Contact{ID: "C-1", Preferences: map[alert.Priority][]contact.Channel{
		alert.PriorityHigh: {contact.ChannelCall, contact.ChannelSMS}, alert.PriorityMedium: {contact.ChannelSMS},
	}, CallPhone: "+447700900123", SMSTopicARN: "arn:c1-sms", SMSPhone: smsPhone}
	cfg := alerting.Config{
		Store: f.store, Contacts: contacts{"C-1": c1}, Publisher: f.prov, Caller: f.prov, Retention: 24 * time.Hour,
		Escalation: escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-1"}, Timers: noTimers{},
		AckBaseURL: "https://acks.example.org/v1", AckReplyCodes: true, Now: f.clock.Now,
	}
	var err error
	if f.core, err = alerting.New(cfg); err != nil {
		t.Fatal(err)
	}
	acks, err := alerting.NewAcknowledger(alerting.Config{Store: f.store, Timers: noTimers{}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if f.h, err = ack.New(acks, slog.New(slog.NewJSONHandler(f.logs, nil))); err != nil {
		t.Fatal(err)
	}
	return f
}

// seed delivers an alert of priority p from client "ward" and returns
// what was sent.
func (f *fixture) seed(t *testing.T, p alert.Priority, id string) string {
	t.Helper()
	a := alert.Alert{MessageID: id, Type: "blood_test_alert", PatientID: patient, ContactID: "C-1", Description: description, Priority: p}
	acc, err := f.core.Accept(t.Context(), alerting.Intake{Key: alert.Key{Client: "ward", MessageID: id}, Instance: f.core.NewInstance(), Alert: a, Actor: delivery.Client("ward")})
	if err != nil {
		t.Fatal(err)
	}
	if res := f.core.Deliver(t.Context(), acc, f.clock.Now().Add(time.Minute)); res.Outcome != alerting.OutcomeSent {
		t.Fatalf("seed %s: %+v", id, res)
	}
	f.prov.mu.Lock()
	defer f.prov.mu.Unlock()
	return f.prov.sent[len(f.prov.sent)-1]
}

func (f *fixture) latest(t *testing.T, id string) *alerting.Alert {
	t.Helper()
	a, err := f.store.Latest(t.Context(), alert.Key{Client: "ward", MessageID: id})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkLogs fails when the log holds a secret.
func (f *fixture) checkLogs(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, description, patient, smsPhone) {
		if s != "" && strings.Contains(f.logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

func apiEvent(client, id string) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Resource: "/notification/{message_id}/ack",
		PathParameters: map[string]string{names.PathParamMessageID: id},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "apigw-1"},
	}
	if client != "" {
		ev.RequestContext.Authorizer = map[string]any{names.AuthContextClient: client}
	}
	return ev
}

func TestAPIAcknowledgment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed(t, alert.PriorityHigh, "lab-1")
	f.clock.set(t0.Add(42 * time.Second))
	resp := f.h.HandleHTTP(t.Context(), apiEvent("ward", "lab-1"))
	var got api.Acknowledged
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	want := api.Acknowledged{MessageID: "lab-1", Status: "acknowledged", AcknowledgedAt: "2026-12-01T09:00:42.000Z",
		AcknowledgedBy: "client:ward", Method: "api", AcceptedToAcknowledgedMS: 42000}
	if got != want {
		t.Errorf("answer %+v, want %+v", got, want)
	}
	f.clock.set(t0.Add(time.Minute))
	again := f.h.HandleHTTP(t.Context(), apiEvent("ward", "lab-1"))
	if !strings.Contains(again.Body, `"already_acknowledged":true`) || !strings.Contains(again.Body, `"acknowledged_at":"2026-12-01T09:00:42.000Z"`) {
		t.Errorf("second acknowledgment %s: want the first one's time", again.Body)
	}
	for name, tt := range map[string]struct {
		client, id string
		status     int
	}{
		"another client's alert": {"lab-system", "lab-1", http.StatusNotFound},
		"an unknown alert":       {"ward", "lab-2", http.StatusNotFound},
		"a bad message_id":       {"ward", "lab 1", http.StatusBadRequest},
		"no client":              {"", "lab-1", http.StatusInternalServerError},
	} {
		if r := f.h.HandleHTTP(t.Context(), apiEvent(tt.client, tt.id)); r.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", name, r.StatusCode, r.Body, tt.status)
		}
	}
	f.checkLogs(t)
}

var linkRE = regexp.MustCompile(`https://acks\.example\.org/v1/ack/([A-Za-z0-9_-]{22})`)

func linkEvent(method, token string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		HTTPMethod: method, Resource: "/ack/{token}", PathParameters: map[string]string{names.PathParamToken: token},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "apigw-2"},
	}
}

func TestLinkPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	token := linkRE.FindStringSubmatch(f.seed(t, alert.PriorityMedium, "lab-7"))[1]
	writes := len(f.store.Writes)

	show := f.h.HandleHTTP(t.Context(), linkEvent(http.MethodGet, token))
	for _, want := range []string{`<html lang="en">`, `name="viewport"`, `<form method="post">`, `<button type="submit">Acknowledge this alert</button>`,
		"<dd>medium</dd>", "<dd>blood_test_alert</dd>", "<dd>lab-7</dd>"} {
		if !strings.Contains(show.Body, want) {
			t.Errorf("GET page lacks %s:\n%s", want, show.Body)
		}
	}
	if show.StatusCode != http.StatusOK || strings.Contains(show.Body, "<script") || strings.Contains(show.Body, description) || strings.Contains(show.Body, patient) {
		t.Errorf("GET page %d: want 200, no script, nothing of the alert's text", show.StatusCode)
	}
	if show.Headers["Cache-Control"] != "no-store" || show.Headers["Referrer-Policy"] != "no-referrer" || !strings.HasPrefix(show.Headers["Content-Type"], "text/html") {
		t.Errorf("GET headers %v", show.Headers)
	}
	if len(f.store.Writes) != writes || f.latest(t, "lab-7").Ack != nil {
		t.Fatal("GET changed the record")
	}

	f.clock.set(t0.Add(2 * time.Minute))
	done := f.h.HandleHTTP(t.Context(), linkEvent(http.MethodPost, token))
	if done.StatusCode != http.StatusOK || !strings.Contains(done.Body, "Acknowledged at 2026-12-01 09:02:00 UTC") || strings.Contains(done.Body, "<form") {
		t.Errorf("POST %d:\n%s", done.StatusCode, done.Body)
	}
	a := f.latest(t, "lab-7")
	if a.Ack == nil || a.Ack.Method != delivery.AckLink || a.Ack.By != delivery.Contact("C-1") || a.Ack.Attempt != 1 {
		t.Errorf("ack %+v", a.Ack)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		used := f.h.HandleHTTP(t.Context(), linkEvent(method, token))
		if used.StatusCode != http.StatusGone || !strings.Contains(used.Body, "used already") || !strings.Contains(used.Body, "09:02:00") {
			t.Errorf("%s of a used link: %d\n%s", method, used.StatusCode, used.Body)
		}
	}
	for _, bad := range []string{"short", strings.Repeat("A", 22)} {
		if r := f.h.HandleHTTP(t.Context(), linkEvent(http.MethodPost, bad)); r.StatusCode != http.StatusNotFound {
			t.Errorf("token %q: %d, want 404", bad, r.StatusCode)
		}
	}
	f.checkLogs(t, token)
}

func TestExpiredLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	token := linkRE.FindStringSubmatch(f.seed(t, alert.PriorityMedium, "lab-8"))[1]
	f.clock.set(t0.Add(90*time.Minute + alerting.DefaultAckGrace + time.Second))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r := f.h.HandleHTTP(t.Context(), linkEvent(method, token))
		if r.StatusCode != http.StatusGone || !strings.Contains(r.Body, "expired") || strings.Contains(r.Body, "<form") {
			t.Errorf("%s of an expired link: %d\n%s", method, r.StatusCode, r.Body)
		}
	}
	if f.latest(t, "lab-8").Ack != nil {
		t.Error("an expired link acknowledged the alert")
	}
}

func TestLinkOfAnAlertAcknowledgedOtherwise(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	token := linkRE.FindStringSubmatch(f.seed(t, alert.PriorityMedium, "lab-9"))[1]
	f.h.HandleHTTP(t.Context(), apiEvent("ward", "lab-9"))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r := f.h.HandleHTTP(t.Context(), linkEvent(method, token))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "already acknowledged") || !strings.Contains(r.Body, "by the ward system") {
			t.Errorf("%s: %d\n%s", method, r.StatusCode, r.Body)
		}
	}
}

func connectEvent(attrs map[string]string, contactID string) events.ConnectEvent {
	var ev events.ConnectEvent
	ev.Name = "ContactFlowEvent"
	ev.Details.ContactData.Attributes = attrs
	ev.Details.ContactData.ContactID = contactID
	ev.Details.ContactData.Channel = "VOICE"
	return ev
}

func TestKeypad(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed(t, alert.PriorityHigh, "lab-3")
	a := f.latest(t, "lab-3")
	attrs := map[string]string{
		names.ConnectAlertAttribute: a.Key.String(), names.ConnectInstanceAttribute: a.Instance, names.ConnectAttemptAttribute: "1",
	}
	if got := f.h.HandleKeypad(t.Context(), connectEvent(attrs, "another-call")); got[ack.KeypadResult] != ack.KeypadRefused {
		t.Errorf("another call: %v", got)
	}
	if got := f.h.HandleKeypad(t.Context(), connectEvent(map[string]string{}, a.Attempts[0].ProviderRef)); got[ack.KeypadResult] != ack.KeypadRefused {
		t.Errorf("no attributes: %v", got)
	}
	if f.latest(t, "lab-3").Ack != nil {
		t.Fatal("a refused press acknowledged the alert")
	}
	if got := f.h.HandleKeypad(t.Context(), connectEvent(attrs, a.Attempts[0].ProviderRef)); got[ack.KeypadResult] != ack.KeypadAcknowledged {
		t.Errorf("the recorded call: %v", got)
	}
	if got := f.latest(t, "lab-3").Ack; got == nil || got.Method != delivery.AckKeypad || got.By != delivery.Contact("C-1") {
		t.Errorf("ack %+v", got)
	}
}

func snsEvent(t *testing.T, from, body string) events.SNSEvent {
	t.Helper()
	msg, err := json.Marshal(ack.InboundSMS{OriginationNumber: from, DestinationNumber: "+447700900000", MessageBody: body, InboundMessageID: "in-1"})
	if err != nil {
		t.Fatal(err)
	}
	return events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{MessageID: "sns-9", Message: string(msg)}}}}
}

func TestSMSReply(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := regexp.MustCompile(`reply (\d{6})`).FindStringSubmatch(f.seed(t, alert.PriorityMedium, "lab-4"))[1]
	for _, body := range []string{code, "no code here"} {
		if err := f.h.HandleSMS(t.Context(), snsEvent(t, "+447700900999", body)); err != nil {
			t.Fatal(err)
		}
	}
	if f.latest(t, "lab-4").Ack != nil {
		t.Fatal("the right code from another number acknowledged the alert")
	}
	if !strings.Contains(f.logs.String(), "no alert sent to that number has that code") {
		t.Error("the refusal is not logged")
	}
	if err := f.h.HandleSMS(t.Context(), snsEvent(t, smsPhone, "OK "+code+" thanks")); err != nil {
		t.Fatal(err)
	}
	if got := f.latest(t, "lab-4").Ack; got == nil || got.Method != delivery.AckSMS || got.By != delivery.Contact("C-1") {
		t.Errorf("ack %+v", got)
	}
	f.checkLogs(t, code)
}

// TestHandleRoutesEachEvent sends each kind of event as raw JSON, as
// Lambda hands it to the function.
func TestHandleRoutesEachEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed(t, alert.PriorityHigh, "lab-5")
	a := f.latest(t, "lab-5")
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := f.h.Handle(t.Context(), raw(connectEvent(map[string]string{
		names.ConnectAlertAttribute: a.Key.String(), names.ConnectInstanceAttribute: a.Instance, names.ConnectAttemptAttribute: "1",
	}, a.Attempts[0].ProviderRef)))
	if m, ok := out.(map[string]string); err != nil || !ok || m[ack.KeypadResult] != ack.KeypadAcknowledged {
		t.Errorf("connect event: %v, %v", out, err)
	}
	out, err = f.h.Handle(t.Context(), raw(apiEvent("ward", "lab-5")))
	if r, ok := out.(events.APIGatewayProxyResponse); err != nil || !ok || r.StatusCode != http.StatusOK {
		t.Errorf("API event: %v, %v", out, err)
	}
	if _, err := f.h.Handle(t.Context(), raw(snsEvent(t, smsPhone, "123456"))); err != nil {
		t.Errorf("SNS event: %v", err)
	}
	if _, err := f.h.Handle(t.Context(), json.RawMessage(`{"key":"x"}`)); err == nil {
		t.Error("an unknown event was handled")
	}
}
