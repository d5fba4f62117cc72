package notify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// checkHeaders asserts the headers every response carries.
func checkHeaders(tb testing.TB, resp events.APIGatewayProxyResponse, requestID string) {
	tb.Helper()
	if got, want := resp.Headers["Content-Type"], "application/json"; got != want {
		tb.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got, want := resp.Headers[names.HeaderRequestID], requestID; got != want {
		tb.Errorf("%s = %q, want %q", names.HeaderRequestID, got, want)
	}
}

func decodeSent(tb testing.TB, resp events.APIGatewayProxyResponse) api.Sent {
	tb.Helper()
	var s api.Sent
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		tb.Fatalf("body %q is not api.Sent: %v", resp.Body, err)
	}
	return s
}

func decodeError(tb testing.TB, resp events.APIGatewayProxyResponse) api.ErrorDetail {
	tb.Helper()
	var b api.ErrorBody
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		tb.Fatalf("body %q is not api.ErrorBody: %v", resp.Body, err)
	}
	return b.Error
}

func TestHandleDeliversByPreferredChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		priority alert.Priority
		channel  contact.Channel
		provider string
	}{
		{"call for high", alert.PriorityHigh, contact.ChannelCall, "connect-contact-1"},
		{"sms for medium", alert.PriorityMedium, contact.ChannelSMS, "sns-message-1"},
		{"email for low", alert.PriorityLow, contact.ChannelEmail, "sns-message-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a := testAlert()
			a.Priority = tt.priority
			resp := f.invoke(t, eventFor(t, a))

			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, resp.Body)
			}
			checkHeaders(t, resp, testRequestID)
			if _, ok := resp.Headers[names.HeaderIdempotentReplay]; ok {
				t.Errorf("first delivery carries %s", names.HeaderIdempotentReplay)
			}
			got := decodeSent(t, resp)
			want := api.Sent{MessageID: a.MessageID, Status: api.StatusSent, Channel: string(tt.channel), ProviderMessageID: tt.provider, Attempts: 1}
			if got != want {
				t.Errorf("body = %+v, want %+v", got, want)
			}
			if got, want := resp.Headers[names.HeaderLocation], "/prod/notification/"+a.MessageID; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			rec := f.record(t, keyOf(a))
			if rec.Status != delivery.AlertSent || len(rec.Attempts) != 1 || rec.Attempts[0].ProviderRef != tt.provider ||
				rec.Events[0].Actor != delivery.Client(testClient) || rec.Instance != f.idem.acquires[0].Instance {
				t.Errorf("alert record %+v, want sent in one attempt by the lock's instance", rec)
			}

			switch tt.channel {
			case contact.ChannelCall:
				if f.pub.count() != 0 {
					t.Errorf("published %d messages for a call", f.pub.count())
				}
				wantCall := alerting.CallRequest{Destination: phone, MessageSSML: render.Voice(a), ClientToken: delivery.CallClientToken(keyOf(a), a.Hash(), delivery.CallAttempt{ContactID: "dr-jones", Number: 1})}
				if !slices.Equal(f.caller.calls, []alerting.CallRequest{wantCall}) {
					t.Errorf("calls = %+v, want %+v", f.caller.calls, []alerting.CallRequest{wantCall})
				}
				if !strings.Contains(wantCall.MessageSSML, "&amp; rising &lt;recheck&gt;") {
					t.Errorf("voice text is not SSML-escaped: %q", wantCall.MessageSSML)
				}
			case contact.ChannelSMS:
				want := []publishCall{{sms: true, topicARN: smsTopic, text: render.SMS(a, render.SMSFull).Text}}
				if !slices.Equal(withoutDeadlines(f.pub.calls), want) {
					t.Errorf("publishes = %+v, want %+v", f.pub.calls, want)
				}
			case contact.ChannelEmail:
				e := render.Email(a)
				want := []publishCall{{topicARN: emailTopic, subject: e.Subject, text: e.Body}}
				if !slices.Equal(withoutDeadlines(f.pub.calls), want) {
					t.Errorf("publishes = %+v, want %+v", f.pub.calls, want)
				}
			}
			if tt.channel != contact.ChannelCall && f.caller.count() != 0 {
				t.Errorf("placed %d calls for %s", f.caller.count(), tt.channel)
			}

			idem, ok := f.idem.record(keyOf(a))
			if !ok {
				t.Fatal("no idempotency record after delivery")
			}
			if idem.Status != notify.StatusCompleted || idem.Response.Status != http.StatusOK || idem.Response.Body != resp.Body ||
				idem.Channel != tt.channel || idem.Failure != "" {
				t.Errorf("record = %+v, want COMPLETED with the 200 response %s by %s", idem, resp.Body, tt.channel)
			}
			if got, want := idem.Expiration, t0.Add(testTTL); !got.Equal(want) {
				t.Errorf("record expiration = %v, want %v", got, want)
			}
			if len(f.idem.releases) != 0 {
				t.Errorf("released the lock after a delivery: %+v", f.idem.releases)
			}

			wantAnn := map[string]string{
				names.AnnotationMessageID: a.MessageID, names.AnnotationChannel: string(tt.channel),
				names.AnnotationPriority: string(tt.priority), names.AnnotationOutcome: names.OutcomeSent,
			}
			if !mapsEqual(f.tracer.annotations, wantAnn) || f.tracer.status != http.StatusOK {
				t.Errorf("span = %v status %d, want %v status 200", f.tracer.annotations, f.tracer.status, wantAnn)
			}
		})
	}
}

// withoutDeadlines drops the contexts' deadlines from publishes.
func withoutDeadlines(calls []publishCall) []publishCall {
	out := slices.Clone(calls)
	for i := range out {
		out[i].deadline = time.Time{}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestHandleTakesLockWithHashTokenAndExpiry(t *testing.T) {
	t.Parallel()
	a := testAlert()
	t.Run("deadline from the context", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		deadline := t0.Add(7 * time.Second)
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		f.invokeCtx(t, ctx, eventFor(t, a))
		want := notify.Lock{
			Key: keyOf(a), Instance: "1795685400000-0a1b2c3d", PayloadHash: a.Hash(), Owner: "id-1", Now: t0,
			LockExpiry: deadline.Add(notify.DefaultLockMargin), Expiration: t0.Add(testTTL),
		}
		if len(f.idem.acquires) != 1 || f.idem.acquires[0] != want {
			t.Errorf("acquires = %+v, want [%+v]", f.idem.acquires, want)
		}
	})
	t.Run("lock timeout without a deadline", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.invoke(t, eventFor(t, a))
		if got, want := f.idem.acquires[0].LockExpiry, t0.Add(testLockTimeout+notify.DefaultLockMargin); !got.Equal(want) {
			t.Errorf("lock expiry = %v, want %v", got, want)
		}
		if got, want := f.idem.complete[0].lock, f.idem.acquires[0]; got != want {
			t.Errorf("completed lock %+v, lock taken %+v", got, want)
		}
	})
}

func TestHandleReplaysCompletedAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := testAlert()
	first := f.invoke(t, eventFor(t, a))
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first status = %d; body %s", first.StatusCode, first.Body)
	}

	// The same alert with its keys in another order and other spacing.
	ev := eventFor(t, a)
	ev.Body = fmt.Sprintf(`{ "priority": %q, "description": %q, "contact_id": %q, "patient_id": %q, "type": %q, "message_id": %q }`,
		a.Priority, a.Description, a.ContactID, a.PatientID, a.Type, a.MessageID)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-replay"})
	f.clock.Advance(time.Hour)
	replay := f.invokeCtx(t, ctx, ev)

	if replay.StatusCode != first.StatusCode || replay.Body != first.Body {
		t.Errorf("replay = %d %s, want %d %s", replay.StatusCode, replay.Body, first.StatusCode, first.Body)
	}
	checkHeaders(t, replay, "lambda-req-replay")
	if got := replay.Headers[names.HeaderIdempotentReplay]; got != "true" {
		t.Errorf("%s = %q, want \"true\"", names.HeaderIdempotentReplay, got)
	}
	if f.pub.count() != 1 || f.caller.count() != 0 {
		t.Errorf("sent %d messages and %d calls, want 1 message", f.pub.count(), f.caller.count())
	}
	if len(f.idem.complete) != 1 || len(f.idem.releases) != 0 {
		t.Errorf("replay wrote the store: %d completes, %d releases", len(f.idem.complete), len(f.idem.releases))
	}
	line := f.requestLine(t)
	if line["outcome"] != names.OutcomeReplay || line["channel"] != string(contact.ChannelSMS) {
		t.Errorf("log line = %v, want outcome replay on channel sms", line)
	}
}

func TestHandleRejectsReusedMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status notify.RecordStatus
	}{
		{"completed with another payload", notify.StatusCompleted},
		{"in progress with another payload", notify.StatusInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a := testAlert()
			other := a
			other.Description = "Another alert entirely"
			f.idem.put(notify.Record{
				Key: keyOf(a), Status: tt.status, PayloadHash: other.Hash(), LockOwner: "other",
				LockExpiry: t0.Add(5 * time.Second), Expiration: t0.Add(testTTL),
				Response: notify.StoredResponse{Status: http.StatusOK, Body: `{"message_id":"msg-0001","status":"sent","channel":"sms","provider_message_id":"x"}`},
			})
			resp := f.invoke(t, eventFor(t, a))
			if got, want := resp.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, resp.Body)
			}
			checkHeaders(t, resp, testRequestID)
			if got := decodeError(t, resp); got.Code != api.CodeIdempotencyMismatch || got.Message == "" {
				t.Errorf("error = %+v, want code %s with a message", got, api.CodeIdempotencyMismatch)
			}
			if _, ok := resp.Headers[names.HeaderIdempotentReplay]; ok {
				t.Error("a mismatch carries the replay header")
			}
			if f.pub.count()+f.caller.count() != 0 || len(f.idem.releases) != 0 {
				t.Errorf("sent %d, released %d; want nothing", f.pub.count()+f.caller.count(), len(f.idem.releases))
			}
		})
	}
}

func TestHandleAnswersInProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		lockExpiry time.Time
		want       string
	}{
		{"rounds the wait up", t0.Add(4200 * time.Millisecond), "5"},
		{"whole seconds", t0.Add(3 * time.Second), "3"},
		// The store saw the lock live, the clock says it lapsed: retry soon.
		{"at least one second", t0.Add(-time.Second), "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a := testAlert()
			held := notify.Record{
				Key: keyOf(a), Status: notify.StatusInProgress, PayloadHash: a.Hash(),
				LockOwner: "someone-else", LockExpiry: tt.lockExpiry, Expiration: t0.Add(testTTL),
			}
			f.idem.acquire = func(context.Context, notify.Lock) (notify.Record, error) {
				return held, fmt.Errorf("held: %w", notify.ErrRecordExists)
			}
			resp := f.invoke(t, eventFor(t, a))
			if got, want := resp.StatusCode, http.StatusConflict; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, resp.Body)
			}
			checkHeaders(t, resp, testRequestID)
			if got := resp.Headers[names.HeaderRetryAfter]; got != tt.want {
				t.Errorf("%s = %q, want %q", names.HeaderRetryAfter, got, tt.want)
			}
			if got := decodeError(t, resp); got.Code != api.CodeInProgress || got.RequestID != testRequestID {
				t.Errorf("error = %+v, want code %s and request id", got, api.CodeInProgress)
			}
			if f.pub.count()+f.caller.count() != 0 || len(f.idem.releases) != 0 {
				t.Error("an in-progress answer sent something or released someone else's lock")
			}
		})
	}
}

func TestHandleRetakesLapsedLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := testAlert()
	f.idem.put(notify.Record{
		Key: keyOf(a), Status: notify.StatusInProgress, PayloadHash: a.Hash(),
		LockOwner: "crashed-invocation", LockExpiry: t0.Add(-time.Millisecond), Expiration: t0.Add(testTTL),
	})
	resp := f.invoke(t, eventFor(t, a))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	rec, _ := f.idem.record(keyOf(a))
	if rec.Status != notify.StatusCompleted || rec.LockOwner != "id-1" {
		t.Errorf("record = %+v, want COMPLETED under id-1", rec)
	}
	if f.pub.count() != 1 {
		t.Errorf("published %d, want 1", f.pub.count())
	}
}

// failing makes the provider of priority p's channel answer err (nil:
// succeed again), and returns how often that provider was asked.
func failing(f *fixture, p alert.Priority, err error) func() int {
	if p == alert.PriorityHigh {
		f.caller.call = nil
		if err != nil {
			f.caller.call = func(context.Context, alerting.CallRequest) (string, error) { return "", err }
		}
		return f.caller.count
	}
	f.pub.publish = nil
	if err != nil {
		f.pub.publish = func(context.Context, publishCall) (string, error) { return "", err }
	}
	return f.pub.count
}

// channels are the test contact's priorities and channels.
var channels = []struct {
	name     string
	priority alert.Priority
	channel  contact.Channel
}{
	{"call", alert.PriorityHigh, contact.ChannelCall},
	{"sms", alert.PriorityMedium, contact.ChannelSMS},
	{"email", alert.PriorityLow, contact.ChannelEmail},
}

func TestHandleTransientFailureReleasesLockAndRetryDelivers(t *testing.T) {
	t.Parallel()
	for _, tt := range channels {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a := testAlert()
			a.Priority = tt.priority
			throttled := &delivery.Error{Class: delivery.Transient, Code: "Throttled", Err: errors.New("Throttled: rate exceeded")}
			asked := failing(f, tt.priority, fmt.Errorf("provider: %w", throttled))

			resp := f.invoke(t, eventFor(t, a))
			if got, want := resp.StatusCode, http.StatusServiceUnavailable; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, resp.Body)
			}
			checkHeaders(t, resp, testRequestID)
			if got := resp.Headers[names.HeaderRetryAfter]; got != "2" {
				t.Errorf("%s = %q, want \"2\"", names.HeaderRetryAfter, got)
			}
			detail := decodeError(t, resp)
			if detail.Code != api.CodeUnavailable || strings.Contains(resp.Body, "Throttled") || detail.Channel != "" ||
				!slices.Equal(detail.Attempts, []api.FailedAttempt{{Channel: string(tt.channel), FailureClass: "transient"}}) {
				t.Errorf("error = %+v, want code %s naming the transient attempt, without the provider's detail", detail, api.CodeUnavailable)
			}
			if rec := f.record(t, keyOf(a)); rec.Status != delivery.AlertFailed {
				t.Errorf("alert record %s, want this instance failed (the retry is a new one)", rec.Status)
			}
			if len(f.idem.releases) != 1 || f.idem.releases[0] != f.idem.acquires[0] {
				t.Errorf("releases = %+v, want the lock taken", f.idem.releases)
			}
			if _, ok := f.idem.record(keyOf(a)); ok {
				t.Error("a record remains after a transient failure")
			}

			failing(f, tt.priority, nil) // the provider recovers
			f.clock.Advance(time.Second)
			resp = f.invoke(t, eventFor(t, a))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("retry status = %d; body %s", resp.StatusCode, resp.Body)
			}
			if _, ok := resp.Headers[names.HeaderIdempotentReplay]; ok {
				t.Error("the retry of a failed delivery was answered as a replay")
			}
			if got := asked(); got != 2 {
				t.Errorf("provider asked %d times, want 2 (failure, then the retry)", got)
			}
			if rec, _ := f.idem.record(keyOf(a)); rec.Status != notify.StatusCompleted || rec.LockOwner != "id-2" {
				t.Errorf("record = %+v, want COMPLETED under id-2", rec)
			}
			if rec := f.record(t, keyOf(a)); rec.Status != delivery.AlertSent || f.alerts.Instances(keyOf(a)) != 2 {
				t.Errorf("newest alert record %s of %d instances, want the retry's sent", rec.Status, f.alerts.Instances(keyOf(a)))
			}
		})
	}
}

func TestHandleCompletionWriteFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		failures     int   // failing attempts before the store works again
		failWith     error // error of a failing attempt
		wantAttempts int
		wantRecorded bool
	}{
		{"fails twice then works", 2, errors.New("ProvisionedThroughputExceeded"), 3, true},
		{"fails every time", 100, errors.New("ProvisionedThroughputExceeded"), 3, false},
		{"lock lost is not retried", 100, fmt.Errorf("complete: %w", notify.ErrLockLost), 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a := testAlert()
			attempts := 0
			f.idem.completeFn = func(ctx context.Context, l notify.Lock, out notify.Outcome) error {
				attempts++
				if attempts <= tt.failures {
					return tt.failWith
				}
				return f.idem.memComplete(ctx, l, out)
			}
			resp := f.invoke(t, eventFor(t, a))
			if got, want := resp.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d (the alert was sent); body %s", got, want, resp.Body)
			}
			if got := decodeSent(t, resp); got.Status != api.StatusSent {
				t.Errorf("body = %+v", got)
			}
			if attempts != tt.wantAttempts {
				t.Errorf("completion attempts = %d, want %d", attempts, tt.wantAttempts)
			}
			if len(f.idem.releases) != 0 {
				t.Error("released the lock of a delivered alert: a retry would send it again at once")
			}
			rec, _ := f.idem.record(keyOf(a))
			if got := rec.Status == notify.StatusCompleted; got != tt.wantRecorded {
				t.Errorf("recorded = %v, want %v", got, tt.wantRecorded)
			}
			var errorLines int
			for _, l := range f.logLines(t) {
				if l["level"] == "ERROR" && strings.Contains(fmt.Sprint(l["msg"]), "could not be saved") {
					errorLines++
					if l["message_id"] != a.MessageID || l["request_id"] != testRequestID {
						t.Errorf("ERROR line lacks ids: %v", l)
					}
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tt.wantRecorded]; errorLines != want {
				t.Errorf("ERROR lines about the record = %d, want %d; logs:\n%s", errorLines, want, f.logs.String())
			}
			if line := f.requestLine(t); line["outcome"] != names.OutcomeSent || line["level"] != "INFO" {
				t.Errorf("request line = %v, want outcome sent at INFO", line)
			}
		})
	}
}

// errorCase is a request that must fail with one code and status.
type errorCase struct {
	name        string
	setup       func(t *testing.T, f *fixture) events.APIGatewayProxyRequest
	status      int
	code        api.Code
	fields      []alert.FieldError
	wantRelease bool
	// hidden is text from the cause that must not reach the body.
	hidden string
}

func errorCases() []errorCase {
	withBody := func(t *testing.T, body string) events.APIGatewayProxyRequest {
		ev := loadEvent(t, "proxy-event.json")
		ev.Body = body
		return ev
	}
	std := func(edit func(*alert.Alert)) func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
		return func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
			a := testAlert()
			if edit != nil {
				edit(&a)
			}
			return eventFor(t, a)
		}
	}
	return []errorCase{
		{
			name: "400 missing and bad fields",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				return withBody(t, `{"message_id":"msg-1","type":"blood_test_alert","contact_id":"dr-jones","description":"x","priority":"Z","extra":1}`)
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{
				{Field: "extra", Reason: "is not a known field"},
				{Field: "patient_id", Reason: "is required"},
				{Field: "priority", Reason: "must be one of L, M, H"},
			},
		},
		{
			name: "400 not JSON",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				return withBody(t, `not json`)
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "body", Reason: "must be a JSON object"}},
		},
		{
			name: "400 body too large",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				return withBody(t, `{"description":"`+strings.Repeat("a", alert.MaxBodyBytes)+`"}`)
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "body", Reason: fmt.Sprintf("is %d bytes, over the limit of %d bytes", alert.MaxBodyBytes+18, alert.MaxBodyBytes)}},
		},
		{
			name: "400 base64 body too large",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				ev := withBody(t, base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", alert.MaxBodyBytes+1))))
				ev.IsBase64Encoded = true
				return ev
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "body", Reason: fmt.Sprintf("is %d bytes, over the limit of %d bytes", alert.MaxBodyBytes+1, alert.MaxBodyBytes)}},
		},
		{
			name: "400 invalid base64",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				ev := withBody(t, `{"not":"base64"}`)
				ev.IsBase64Encoded = true
				return ev
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "body", Reason: "is flagged base64 but is not valid base64"}},
		},
		{
			name:   "400 NHS number in the description",
			setup:  std(func(a *alert.Alert) { a.Description = "Patient 943 476 5919 needs review" }),
			status: http.StatusBadRequest, code: api.CodeInvalid,
		},
		{
			name:   "404 unknown contact",
			setup:  std(func(a *alert.Alert) { a.ContactID = "dr-nobody" }),
			status: http.StatusNotFound, code: api.CodeNotFound, wantRelease: true,
		},
		{
			name:   "422 no destination for the preferred channel",
			setup:  std(func(a *alert.Alert) { a.ContactID = "dr-nophone"; a.Priority = alert.PriorityHigh }),
			status: http.StatusUnprocessableEntity, code: api.CodeNoDestination, wantRelease: true,
		},
		{
			name:   "422 no channel for the priority",
			setup:  std(func(a *alert.Alert) { a.ContactID = "dr-highonly"; a.Priority = alert.PriorityLow }),
			status: http.StatusUnprocessableEntity, code: api.CodeNoDestination, wantRelease: true,
		},
		{
			name:   "400 bidirectional override in the description",
			setup:  std(func(a *alert.Alert) { a.Description = "K \u202e9.6 lamron" }),
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "description", Reason: "must not contain format characters (Unicode Cf, such as bidirectional controls or zero-width characters)"}},
		},
		{
			name: "400 unpaired surrogate escape",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				return withBody(t, strings.Replace(alertJSON(t, testAlert()), "Potassium", `Potassium \ud83e`, 1))
			},
			status: http.StatusBadRequest, code: api.CodeInvalid,
			fields: []alert.FieldError{{Field: "description", Reason: `holds a \u escape that is not a character (an unpaired UTF-16 surrogate)`}},
		},
		{
			name:   "400 NHS number in the message_id",
			setup:  std(func(a *alert.Alert) { a.MessageID = "lab-943.476.5919" }),
			status: http.StatusBadRequest, code: api.CodeInvalid,
		},
		{
			name: "500 no API client in the event",
			setup: func(t *testing.T, _ *fixture) events.APIGatewayProxyRequest {
				ev := eventFor(t, testAlert())
				ev.RequestContext.Authorizer = nil
				return ev
			},
			status: http.StatusInternalServerError, code: api.CodeInternal, hidden: "requestContext.authorizer",
		},
		{
			name: "503 contact store fails",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				f.contacts.get = func(context.Context, string) (contact.Contact, error) {
					return contact.Contact{}, errors.New("dynamodb: RequestLimitExceeded on table secret-contacts")
				}
				return eventFor(t, testAlert())
			},
			status: http.StatusServiceUnavailable, code: api.CodeUnavailable, wantRelease: true, hidden: "secret-contacts",
		},
		{
			name: "503 idempotency store fails",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				f.idem.acquire = func(context.Context, notify.Lock) (notify.Record, error) {
					return notify.Record{}, errors.New("dynamodb: InternalServerError on table secret-idem")
				}
				return eventFor(t, testAlert())
			},
			status: http.StatusServiceUnavailable, code: api.CodeUnavailable, hidden: "secret-idem",
		},
		{
			// A call due without Connect settings (the deploy refuses
			// that): the call fails for good, and with no other channel
			// every channel has failed.
			name: "502 call without Connect settings",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				*f = *newFixture(t, func(c *alerting.Config) { c.Caller = nil })
				a := testAlert()
				a.Priority = alert.PriorityHigh
				return eventFor(t, a)
			},
			status: http.StatusBadGateway, code: api.CodeUndeliverableAllChannels, hidden: "Connect",
		},
		{
			name: "500 record with an unknown status",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				a := testAlert()
				f.idem.put(notify.Record{Key: keyOf(a), Status: "WEIRD", PayloadHash: a.Hash(), Expiration: t0.Add(time.Hour), LockExpiry: t0.Add(time.Hour)})
				return eventFor(t, a)
			},
			status: http.StatusInternalServerError, code: api.CodeInternal, hidden: "WEIRD",
		},
		{
			name: "500 completed record without a response",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				a := testAlert()
				f.idem.put(notify.Record{Key: keyOf(a), Status: notify.StatusCompleted, PayloadHash: a.Hash(), Expiration: t0.Add(time.Hour)})
				return eventFor(t, a)
			},
			status: http.StatusInternalServerError, code: api.CodeInternal, hidden: "holds no response",
		},
		{
			name: "500 panic before delivery",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				f.contacts.get = func(context.Context, string) (contact.Contact, error) {
					panic("boom: secret-panic-detail")
				}
				return eventFor(t, testAlert())
			},
			status: http.StatusInternalServerError, code: api.CodeInternal, wantRelease: true, hidden: "secret-panic-detail",
		},
		{
			// Once the provider was called nobody knows whether it
			// delivered: the answer is recorded, so a retry sends nothing.
			name: "502 panic during delivery is recorded as delivery_unknown",
			setup: func(t *testing.T, f *fixture) events.APIGatewayProxyRequest {
				f.pub.publish = func(_ context.Context, c publishCall) (string, error) {
					ids := make([]string, 0, 1)
					return ids[len(c.topicARN)], nil // a real runtime panic: index out of range
				}
				return eventFor(t, testAlert())
			},
			status: http.StatusBadGateway, code: api.CodeDeliveryUnknown, wantRelease: false, hidden: "index out of range",
		},
	}
}

func TestHandleErrorResponses(t *testing.T) {
	t.Parallel()
	for _, tt := range errorCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ev := tt.setup(t, f)
			resp := f.invoke(t, ev)

			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got, want := tt.code.Status(), tt.status; got != want {
				t.Fatalf("test case is inconsistent with api's table: %s is %d", tt.code, got)
			}
			checkHeaders(t, resp, testRequestID)
			detail := decodeError(t, resp)
			if detail.Code != tt.code || detail.Message == "" || detail.RequestID != testRequestID {
				t.Errorf("error = %+v, want code %s, a message and request_id %s", detail, tt.code, testRequestID)
			}
			if tt.fields != nil && !slices.Equal(detail.Fields, tt.fields) {
				t.Errorf("fields = %+v, want %+v", detail.Fields, tt.fields)
			}
			if tt.code == api.CodeInvalid && len(detail.Fields) == 0 && !strings.Contains(tt.name, "NHS") {
				t.Error("an invalid alert answered without fields")
			}
			if tt.code != api.CodeInvalid && len(detail.Fields) != 0 {
				t.Errorf("fields on a %s error: %+v", tt.code, detail.Fields)
			}
			if tt.hidden != "" && strings.Contains(resp.Body, tt.hidden) {
				t.Errorf("body %s exposes internal detail %q", resp.Body, tt.hidden)
			}
			if tt.code == api.CodeInternal && !strings.Contains(resp.Body, `"request_id":"`+testRequestID+`"`) {
				t.Errorf("500 body %s lacks the request_id", resp.Body)
			}
			if got := len(f.idem.releases) == 1; got != tt.wantRelease {
				t.Errorf("released = %v (%+v), want %v", got, f.idem.releases, tt.wantRelease)
			}
			if tt.wantRelease {
				if _, ok := f.idem.record(keyOf(testAlert())); ok {
					t.Error("the record remains after the release")
				}
			}
			if tt.code != api.CodeInternal && tt.code != api.CodeDeliveryUnknown && f.pub.count()+f.caller.count() != 0 {
				t.Error("sent an alert on a failed request")
			}
			if _, ok := resp.Headers[names.HeaderRetryAfter]; ok != (tt.code == api.CodeUnavailable) {
				t.Errorf("%s present %v on a %s error", names.HeaderRetryAfter, ok, tt.code)
			}

			line := f.requestLine(t)
			if line["outcome"] != string(tt.code) || line["status"] != float64(tt.status) {
				t.Errorf("log line = %v, want outcome %s status %d", line, tt.code, tt.status)
			}
			wantLevel := map[int]string{http.StatusInternalServerError: "ERROR", http.StatusBadGateway: "ERROR", http.StatusServiceUnavailable: "WARN"}[tt.status]
			if wantLevel == "" {
				wantLevel = "INFO"
			}
			if line["level"] != wantLevel {
				t.Errorf("log level = %v, want %s", line["level"], wantLevel)
			}
			if tt.status >= 500 && tt.hidden != "" && tt.code != api.CodeUndeliverableAllChannels && !strings.Contains(fmt.Sprint(line["error"]), tt.hidden) {
				t.Errorf("log line error %q lacks the cause %q", line["error"], tt.hidden)
			}
			if f.tracer.status != tt.status || f.tracer.annotations[names.AnnotationOutcome] != string(tt.code) {
				t.Errorf("span status %d outcome %q, want %d %s", f.tracer.status, f.tracer.annotations[names.AnnotationOutcome], tt.status, tt.code)
			}
		})
	}
}

func TestHandleFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture    string
		lambdaID   string
		wantID     string
		wantClient any
		wantStatus int
	}{
		{"proxy-event.json", testRequestID, testRequestID, "ward-system", http.StatusOK},
		{"proxy-event-base64.json", "", "apigw-req-0002", "ward-system", http.StatusOK},
		{"proxy-event-principal-only.json", "", "apigw-req-0004", "legacy-client", http.StatusOK},
		// kumo's proxy event has no authorizer context: refused, fail closed.
		{"proxy-event-kumo.json", "", "kumo-req-0003", nil, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := t.Context()
			if tt.lambdaID != "" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: tt.lambdaID})
			}
			resp := f.invokeCtx(t, ctx, loadEvent(t, tt.fixture))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			checkHeaders(t, resp, tt.wantID)
			if tt.wantStatus != http.StatusOK {
				if len(f.idem.acquires)+f.pub.count() != 0 {
					t.Error("a request without a client took a lock or sent")
				}
				return
			}
			if got := decodeSent(t, resp); got.MessageID != "msg-0001" || got.Channel != "sms" {
				t.Errorf("body = %+v, want msg-0001 by sms", got)
			}
			line := f.requestLine(t)
			if line["client"] != tt.wantClient || line["request_id"] != tt.wantID {
				t.Errorf("log client %v request_id %v, want %v %v", line["client"], line["request_id"], tt.wantClient, tt.wantID)
			}
		})
	}
}

func TestHandleRequestIDWithoutAnySource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ev := eventFor(t, testAlert())
	ev.RequestContext.RequestID = ""
	resp := f.invokeCtx(t, t.Context(), ev)
	if got := resp.Headers[names.HeaderRequestID]; got != "id-1" {
		t.Errorf("request id = %q, want a fresh one from the id source", got)
	}
}

func TestHandleLogLine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.now = t0
	f.contacts.get = func(ctx context.Context, id string) (contact.Contact, error) {
		f.clock.Advance(1500 * time.Microsecond)
		return memContacts(ctx, id)
	}
	a := testAlert()
	a.Description = strings.Repeat("Potassium high ", 12) // 180 characters: 2 SMS parts at least
	f.invoke(t, eventFor(t, a))
	line := f.requestLine(t)
	want := map[string]any{
		"level": "INFO", "request_id": testRequestID, "client": "ward-system", "message_id": a.MessageID,
		"contact_id": a.ContactID, "priority": "M", "channel": "sms", "outcome": "sent",
		"status": float64(200), "duration_ms": 1.5, "sms_segments": float64(render.SMS(a, render.SMSFull).Segments),
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if render.SMS(a, render.SMSFull).Segments < 2 {
		t.Fatalf("test alert should need several SMS parts")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	base := func() notify.Config {
		f := newFixture(t)
		return notify.Config{Alerts: f.core, Idempotency: f.idem, Logger: slogDiscard(), TTL: time.Hour, LockTimeout: time.Second}
	}
	tests := []struct {
		name string
		edit func(*notify.Config)
		want string // part of the error; "" for success
	}{
		{"minimal", func(*notify.Config) {}, ""},
		{"no core", func(c *notify.Config) { c.Alerts = nil }, "Alerts"},
		{"no store or logger", func(c *notify.Config) { c.Idempotency = nil; c.Logger = nil }, "Idempotency, Logger"},
		{"zero TTL", func(c *notify.Config) { c.TTL = 0 }, "TTL"},
		{"negative lock timeout", func(c *notify.Config) { c.LockTimeout = -time.Second }, "LockTimeout"},
		{"negative lock margin", func(c *notify.Config) { c.LockMargin = -time.Second }, "LockMargin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			tt.edit(&cfg)
			h, err := notify.New(cfg)
			switch {
			case tt.want == "" && (err != nil || h == nil):
				t.Fatalf("New = %v, %v; want a handler", h, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestErrorUnwrapsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("root cause")
	e := &notify.Error{Code: api.CodeUnavailable, Message: "m", Err: cause}
	if !errors.Is(e, cause) || e.Status() != http.StatusServiceUnavailable {
		t.Errorf("errors.Is = %v, status = %d", errors.Is(e, cause), e.Status())
	}
	if got := (&notify.Error{Code: api.CodeNotFound, Message: "gone"}).Error(); got != "not_found: gone" {
		t.Errorf("Error() = %q", got)
	}
}
