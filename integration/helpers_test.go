package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// waitTimeout bounds every wait on an observer. Deliveries arrive within
// milliseconds; the bound only turns a missing one into a failure.
const waitTimeout = 15 * time.Second

// waitCtx is a context for one wait on an observer.
func waitCtx(tb testing.TB) context.Context {
	tb.Helper()

	ctx, cancel := context.WithTimeout(tb.Context(), waitTimeout)
	tb.Cleanup(cancel)

	return ctx
}

// unsafeIDChars are the characters a message_id may not hold.
var unsafeIDChars = regexp.MustCompile(`[^A-Za-z0-9._:-]+`)

// newMessageID returns a message_id unique to this test and run: the
// test's name, a tag, and 8 random hex digits, within the 128-character
// limit.
func newMessageID(tb testing.TB, tag string) string {
	tb.Helper()

	name := unsafeIDChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 80 {
		name = name[len(name)-80:]
	}

	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)

	suffix := hex.EncodeToString(b)
	if tag != "" {
		suffix = tag + "." + suffix
	}

	return name + "." + suffix
}

// newAlert returns a valid alert for the test contact with a fresh
// message_id.
func newAlert(tb testing.TB, p alert.Priority, tag string) alert.Alert {
	tb.Helper()

	return alert.Alert{
		MessageID:   newMessageID(tb, tag),
		Type:        "blood_test_alert",
		PatientID:   "P-4F2A91",
		ContactID:   testContact,
		Description: "Potassium 6.9 mmol/L, please review",
		Priority:    p,
	}
}

// encode marshals v for a request body.
func encode(tb testing.TB, v any) []byte {
	tb.Helper()

	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode %T: %v", v, err)
	}

	return b
}

// reply is one HTTP answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// String describes the reply for failure messages.
func (r reply) String() string {
	return http.StatusText(r.status) + " " + strings.TrimSpace(string(r.body))
}

// replayed reports whether the reply says it repeats a stored answer.
func (r reply) replayed() bool {
	return r.header.Get(names.HeaderIdempotentReplay) == "true"
}

// wantStatus fails the test unless the reply has status want.
func (r reply) wantStatus(tb testing.TB, want int) {
	tb.Helper()

	if r.status != want {
		tb.Fatalf("status %d (%s), want %d", r.status, r, want)
	}
}

// sent decodes a success body strictly.
func (r reply) sent(tb testing.TB) api.Sent {
	tb.Helper()

	var s api.Sent
	decodeStrict(tb, r.body, &s)

	return s
}

// apiError decodes an error body strictly and checks what every error
// carries: a message and the request id, which the X-Request-Id header
// repeats.
func (r reply) apiError(tb testing.TB) api.ErrorDetail {
	tb.Helper()

	var e api.ErrorBody
	decodeStrict(tb, r.body, &e)

	if e.Error.Message == "" || e.Error.RequestID == "" {
		tb.Errorf("error body %s lacks a message or request_id", r.body)
	}

	if got := r.header.Get(names.HeaderRequestID); got != e.Error.RequestID {
		tb.Errorf("%s header %q, body request_id %q: want the same", names.HeaderRequestID, got, e.Error.RequestID)
	}

	return e.Error
}

// wantError fails the test unless the reply is the error code with its
// status.
func (r reply) wantError(tb testing.TB, code api.Code) api.ErrorDetail {
	tb.Helper()

	r.wantStatus(tb, code.Status())

	e := r.apiError(tb)
	if e.Code != code {
		tb.Fatalf("error code %q (%s), want %q", e.Code, r, code)
	}

	return e
}

// wantSent fails the test unless the reply is a fresh (not replayed)
// delivery of a, and returns its body.
func (r reply) wantSent(tb testing.TB, a alert.Alert) api.Sent {
	tb.Helper()

	r.wantStatus(tb, http.StatusOK)

	if r.replayed() {
		tb.Errorf("first delivery answered %s: true", names.HeaderIdempotentReplay)
	}

	s := r.sent(tb)
	if s.MessageID != a.MessageID || s.Status != api.StatusSent || s.ProviderMessageID == "" {
		tb.Fatalf("body %+v, want message_id %s, status %s and a provider id", s, a.MessageID, api.StatusSent)
	}

	if _, err := contact.ParseChannel(s.Channel); err != nil {
		tb.Fatalf("body %+v: %v", s, err)
	}

	return s
}

func decodeStrict(tb testing.TB, body []byte, v any) {
	tb.Helper()

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()

	if err := dec.Decode(v); err != nil {
		tb.Fatalf("body %s does not decode as %T: %v", body, v, err)
	}
}

// auth is how a request authenticates.
type auth struct {
	// header is the Authorization value; ignored when omit is set.
	header string
	// omit sends no Authorization header at all.
	omit bool
	// extra are more headers (Prefer).
	extra map[string]string
}

// post sends body with the target's token.
func (tg *target) post(tb testing.TB, body []byte) reply {
	tb.Helper()

	return tg.postAuth(tb, body, auth{header: tg.token})
}

// postAlert sends a with the target's token.
func (tg *target) postAlert(tb testing.TB, a alert.Alert) reply {
	tb.Helper()

	return tg.post(tb, encode(tb, a))
}

// postAuth sends body as POST /notification with the given authentication.
func (tg *target) postAuth(tb testing.TB, body []byte, au auth) reply {
	tb.Helper()

	r, err := tg.do(tb.Context(), body, au)
	if err != nil {
		tb.Fatal(err)
	}

	return r
}

// do sends one request; safe to call from any goroutine.
func (tg *target) do(ctx context.Context, body []byte, au auth) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}

	req.Header.Set("Content-Type", "application/json")

	if !au.omit {
		req.Header.Set(names.HeaderAuthorization, au.header)
	}

	for k, v := range au.extra {
		req.Header.Set(k, v)
	}

	resp, err := tg.client.Do(req)
	if err != nil {
		return reply{}, err
	}

	defer func() { _ = resp.Body.Close() }()

	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}

	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// deliveredFor reports whether an SNS delivery carries the alert with
// message_id id: the SMS ends with "Ref: <id>" and the email body has the
// line "Reference: <id>" (shared/render).
func deliveredFor(d observe.Delivery, id string) bool {
	return strings.HasSuffix(d.Message, "\nRef: "+id) || strings.Contains(d.Message, "\nReference: "+id+"\n")
}

// calledFor reports whether a call speaks the alert with message_id id:
// the spoken text ends with "Reference <id>." (shared/render; a message_id
// holds no character SSML escapes).
func calledFor(c standin.OutboundCall, id string) bool {
	return strings.HasSuffix(c.Attributes[names.ConnectMessageAttribute], " Reference "+id+".")
}

// deliveries returns the tap's deliveries of the alert id so far.
func deliveries(tap *observe.Tap, id string) []observe.Delivery {
	var out []observe.Delivery

	for _, d := range tap.Deliveries() {
		if deliveredFor(d, id) {
			out = append(out, d)
		}
	}

	return out
}

// calls returns the stub's requests for the alert id so far, faulted ones
// included.
func calls(stub *standin.ConnectStub, id string) []standin.OutboundCall {
	var out []standin.OutboundCall

	for _, c := range stub.Calls() {
		if calledFor(c, id) {
			out = append(out, c)
		}
	}

	return out
}

// waitDeliveries waits for n deliveries of the alert id.
func waitDeliveries(tb testing.TB, tap *observe.Tap, id string, n int) []observe.Delivery {
	tb.Helper()

	got, err := tap.WaitFor(waitCtx(tb), n, func(d observe.Delivery) bool { return deliveredFor(d, id) })
	if err != nil {
		tb.Fatalf("waiting for %d deliveries of %s: %v (tap errors: %v)", n, id, err, tap.Errors())
	}

	return got
}

// waitCalls waits for n calls (faulted or not) for the alert id.
func waitCalls(tb testing.TB, stub *standin.ConnectStub, id string, n int) []standin.OutboundCall {
	tb.Helper()

	got, err := stub.WaitForCalls(waitCtx(tb), n, func(c standin.OutboundCall) bool { return calledFor(c, id) })
	if err != nil {
		tb.Fatalf("waiting for %d calls for %s: %v", n, id, err)
	}

	return got
}

// drain returns once the tap has read every SNS delivery of the requests
// answered before it was called. It sends a sentinel alert by an SNS
// channel and waits until the tap reads it. That bound holds because the
// processor publishes before it answers, the emulator delivers to the
// tap's queue within Publish, and the queue hands out messages in arrival
// order (kumo: internal/service/sqs/storage.go, receiveMessagesLocked
// scans its slice in order; the tap records each batch in order), so
// every earlier delivery is read by the time the sentinel is. No sleep is
// involved. The Connect stub needs no drain: it records a call before it
// answers, and the processor waits for that answer before it replies.
//
// For an external target whose queue does not keep order (a standard SQS
// queue may reorder), the sentinel is a best-effort bound.
func (tg *target) drain(tb testing.TB) {
	tb.Helper()

	tap := tg.needTap(tb)

	// Priority L reaches an SNS channel in every stack of the project
	// (email in both stack files).
	a := newAlert(tb, alert.PriorityLow, "sentinel")

	s := tg.postAlert(tb, a).wantSent(tb, a)
	if s.Channel == string(contact.ChannelCall) {
		tb.Fatalf("the sentinel (priority L) went by call; it needs an SNS channel")
	}

	waitDeliveries(tb, tap, a.MessageID, 1)
}
