package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// t0 is the fixed time the fake clock starts at.
var t0 = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

const (
	testTTL         = 24 * time.Hour
	testLockTimeout = 10 * time.Second
	testRequestID   = "lambda-req-0001"
	// testClient is the API client of the proxy-event.json fixture.
	testClient = "ward-system"

	phone      = "+447700900123"
	smsTopic   = "arn:aws:sns:eu-west-2:000000000000:a2p-dr-jones-sms"
	emailTopic = "arn:aws:sns:eu-west-2:000000000000:a2p-dr-jones-email"
)

// contacts the fake store knows.
var testContacts = map[string]contact.Contact{
	"dr-jones": {
		ID: "dr-jones", Name: "Dr Jones",
		Preferences: map[alert.Priority][]contact.Channel{
			alert.PriorityHigh: {contact.ChannelCall}, alert.PriorityMedium: {contact.ChannelSMS}, alert.PriorityLow: {contact.ChannelEmail},
		},
		CallPhone: phone, SMSTopicARN: smsTopic, EmailTopicARN: emailTopic,
	},
	"dr-nophone": {
		ID: "dr-nophone", Name: "Dr No Phone",
		Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {contact.ChannelCall}},
		SMSTopicARN: smsTopic,
	},
	"dr-highonly": {
		ID: "dr-highonly", Name: "Dr High Only",
		Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {contact.ChannelSMS}},
		SMSTopicARN: smsTopic,
	},
	// dr-fallback is called for H, and texted when the call fails.
	"dr-fallback": {
		ID: "dr-fallback", Name: "Dr Fallback",
		Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {contact.ChannelCall, contact.ChannelSMS}},
		CallPhone:   phone, SMSTopicARN: smsTopic,
	},
}

// testAlert is a valid alert; its description and patient id are the
// values that must never be logged.
func testAlert() alert.Alert {
	return alert.Alert{
		MessageID:   "msg-0001",
		Type:        "blood_test_alert",
		PatientID:   "PSEUDO-7f3a9c",
		ContactID:   "dr-jones",
		Description: "Potassium 6.9 mmol/L & rising <recheck>",
		Priority:    alert.PriorityMedium,
	}
}

// keyOf is a's key for testClient.
func keyOf(a alert.Alert) alert.Key { return alert.Key{Client: testClient, MessageID: a.MessageID} }

func alertJSON(tb testing.TB, a alert.Alert) string {
	tb.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// loadEvent reads a proxy event fixture from testdata.
func loadEvent(tb testing.TB, name string) events.APIGatewayProxyRequest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev
}

// eventFor is the standard fixture carrying a as its body.
func eventFor(tb testing.TB, a alert.Alert) events.APIGatewayProxyRequest {
	tb.Helper()
	ev := loadEvent(tb, "proxy-event.json")
	ev.Body = alertJSON(tb, a)
	return ev
}

// eventFrom is eventFor sent by API client (the authorizer's context).
func eventFrom(tb testing.TB, client string, a alert.Alert) events.APIGatewayProxyRequest {
	tb.Helper()
	ev := eventFor(tb, a)
	ev.RequestContext.Authorizer = map[string]any{"principalId": client, "client": client}
	return ev
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeIDs returns id-1, id-2, ...
type fakeIDs struct {
	mu sync.Mutex
	n  int
}

func (f *fakeIDs) Next() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("id-%d", f.n)
}

// fakeContacts is a ContactStore; get defaults to testContacts.
type fakeContacts struct {
	get func(ctx context.Context, id string) (contact.Contact, error)
}

func (f *fakeContacts) GetContact(ctx context.Context, id string) (contact.Contact, error) {
	return f.get(ctx, id)
}

func memContacts(_ context.Context, id string) (contact.Contact, error) {
	c, ok := testContacts[id]
	if !ok {
		return contact.Contact{}, fmt.Errorf("contact %s: %w", id, alerting.ErrContactNotFound)
	}
	return c, nil
}

// fakeIdem is an IdempotencyStore whose functions default to an in-memory
// store with the DynamoDB adapter's semantics; tests replace a function to
// inject failures, and every call is recorded.
type fakeIdem struct {
	mu       sync.Mutex
	records  map[alert.Key]notify.Record
	acquires []notify.Lock
	complete []completeCall
	releases []notify.Lock

	acquire    func(ctx context.Context, l notify.Lock) (notify.Record, error)
	completeFn func(ctx context.Context, l notify.Lock, out notify.Outcome) error
	release    func(ctx context.Context, l notify.Lock) error
}

type completeCall struct {
	lock notify.Lock
	out  notify.Outcome
}

func newFakeIdem() *fakeIdem {
	f := &fakeIdem{records: map[alert.Key]notify.Record{}}
	f.acquire = f.memAcquire
	f.completeFn = f.memComplete
	f.release = f.memRelease
	return f
}

func (f *fakeIdem) Acquire(ctx context.Context, l notify.Lock) (notify.Record, error) {
	f.mu.Lock()
	f.acquires = append(f.acquires, l)
	f.mu.Unlock()
	return f.acquire(ctx, l)
}

func (f *fakeIdem) Complete(ctx context.Context, l notify.Lock, out notify.Outcome) error {
	f.mu.Lock()
	f.complete = append(f.complete, completeCall{l, out})
	f.mu.Unlock()
	return f.completeFn(ctx, l, out)
}

func (f *fakeIdem) Release(ctx context.Context, l notify.Lock) error {
	f.mu.Lock()
	f.releases = append(f.releases, l)
	f.mu.Unlock()
	return f.release(ctx, l)
}

// memAcquire applies the acquire condition: no record, an expired record,
// or a lapsed in-progress lock.
func (f *fakeIdem) memAcquire(_ context.Context, l notify.Lock) (notify.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rec, ok := f.records[l.Key]; ok {
		expired := rec.Expiration.Unix() < l.Now.Unix()
		lapsed := rec.Status == notify.StatusInProgress && rec.LockExpiry.UnixMilli() < l.Now.UnixMilli()
		if !expired && !lapsed {
			return rec, fmt.Errorf("record %s: %w", l.Key, notify.ErrRecordExists)
		}
	}
	f.records[l.Key] = notify.Record{
		Key: l.Key, Status: notify.StatusInProgress, PayloadHash: l.PayloadHash,
		LockOwner: l.Owner, LockExpiry: l.LockExpiry, Expiration: l.Expiration,
	}
	return notify.Record{}, nil
}

func (f *fakeIdem) memComplete(_ context.Context, l notify.Lock, out notify.Outcome) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[l.Key]
	if !ok || rec.Status != notify.StatusInProgress || rec.LockOwner != l.Owner {
		return fmt.Errorf("complete %s: %w", l.Key, notify.ErrLockLost)
	}
	rec.Status = notify.StatusCompleted
	rec.Response = out.Response
	rec.Channel = out.Channel
	rec.Failure = out.Failure
	rec.Expiration = out.Expiration
	f.records[l.Key] = rec
	return nil
}

func (f *fakeIdem) memRelease(_ context.Context, l notify.Lock) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[l.Key]
	if !ok || rec.Status != notify.StatusInProgress || rec.LockOwner != l.Owner {
		return fmt.Errorf("release %s: %w", l.Key, notify.ErrLockLost)
	}
	delete(f.records, l.Key)
	return nil
}

func (f *fakeIdem) record(key alert.Key) (notify.Record, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[key]
	return rec, ok
}

func (f *fakeIdem) put(rec notify.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[rec.Key] = rec
}

// fakePublisher records publishes; publish defaults to success.
type fakePublisher struct {
	mu      sync.Mutex
	calls   []publishCall
	publish func(ctx context.Context, c publishCall) (string, error)
}

// publishCall is one publish: sms is true for PublishSMS; deadline is the
// context's (zero when none).
type publishCall struct {
	sms                     bool
	topicARN, subject, text string
	deadline                time.Time
}

func (f *fakePublisher) PublishSMS(ctx context.Context, topicARN, text string) (string, error) {
	return f.do(ctx, publishCall{sms: true, topicARN: topicARN, text: text})
}

func (f *fakePublisher) PublishEmail(ctx context.Context, topicARN, subject, body string) (string, error) {
	return f.do(ctx, publishCall{topicARN: topicARN, subject: subject, text: body})
}

func (f *fakePublisher) do(ctx context.Context, c publishCall) (string, error) {
	c.deadline, _ = ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.publish == nil {
		return "sns-message-1", nil
	}
	return f.publish(ctx, c)
}

func (f *fakePublisher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// fakeCaller records calls; call defaults to success. Like Connect, it
// starts one call per ClientToken: a repeated token answers the first
// call's contact id and places nothing.
type fakeCaller struct {
	mu     sync.Mutex
	calls  []alerting.CallRequest
	placed map[string]string // ClientToken -> contact id
	call   func(ctx context.Context, req alerting.CallRequest) (string, error)
}

func (f *fakeCaller) Call(ctx context.Context, req alerting.CallRequest) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.mu.Unlock()
	if f.call != nil {
		return f.call(ctx, req)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.placed[req.ClientToken]; ok {
		return id, nil
	}
	if f.placed == nil {
		f.placed = map[string]string{}
	}
	id := fmt.Sprintf("connect-contact-%d", len(f.placed)+1)
	f.placed[req.ClientToken] = id
	return id, nil
}

func (f *fakeCaller) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// placedCalls is how many calls Connect would have started.
func (f *fakeCaller) placedCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.placed)
}

// fakeTracer records the annotations and status of the last span.
type fakeTracer struct {
	mu          sync.Mutex
	started     int
	annotations map[string]string
	status      int
}

func (f *fakeTracer) Start(ctx context.Context) (context.Context, notify.Span) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started++
	f.annotations = map[string]string{}
	f.status = 0
	return ctx, fakeSpan{f}
}

type fakeSpan struct{ t *fakeTracer }

func (s fakeSpan) Annotate(key, value string) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.annotations[key] = value
}

func (s fakeSpan) End(status int) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.status = status
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a Handler wired to a real alerting core on fakes.
type fixture struct {
	h        *notify.Handler
	core     *alerting.Core
	alerts   *alertingtest.MemStore
	contacts *fakeContacts
	idem     *fakeIdem
	pub      *fakePublisher
	caller   *fakeCaller
	tracer   *fakeTracer
	clock    *fakeClock
	ids      *fakeIDs
	logs     *syncBuffer
}

// newFixture builds a handler on fakes, logging at DEBUG (the strictest
// level for the PHI checks). Each edit is a func(*notify.Config) or a
// func(*alerting.Config), applied before New.
func newFixture(tb testing.TB, edits ...any) *fixture {
	tb.Helper()
	f := &fixture{
		alerts:   alertingtest.NewMemStore(),
		contacts: &fakeContacts{get: memContacts},
		idem:     newFakeIdem(),
		pub:      &fakePublisher{},
		caller:   &fakeCaller{},
		tracer:   &fakeTracer{},
		clock:    &fakeClock{now: t0},
		ids:      &fakeIDs{},
		logs:     &syncBuffer{},
	}
	core := alerting.Config{
		Store:     f.alerts,
		Contacts:  f.contacts,
		Publisher: f.pub,
		Caller:    f.caller,
		Retention: 90 * 24 * time.Hour,
		Now:       f.clock.Now,
		Random:    func() string { return "0a1b2c3d" },
	}
	cfg := notify.Config{
		Guard:       phi.Default(),
		Idempotency: f.idem,
		TTL:         testTTL,
		LockTimeout: testLockTimeout,
		Logger:      slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Tracer:      f.tracer,
		Now:         f.clock.Now,
		NewID:       f.ids.Next,
	}
	for _, e := range edits {
		switch e := e.(type) {
		case func(*notify.Config):
			e(&cfg)
		case func(*alerting.Config):
			e(&core)
		default:
			tb.Fatalf("edit %T is neither a notify nor an alerting config edit", e)
		}
	}
	c, err := alerting.New(core)
	if err != nil {
		tb.Fatal(err)
	}
	f.core = c
	if cfg.Alerts == nil {
		cfg.Alerts = c
	}
	h, err := notify.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f.h = h
	return f
}

// record is the newest alert record of key.
func (f *fixture) record(tb testing.TB, key alert.Key) *alerting.Alert {
	tb.Helper()
	a, err := f.alerts.Latest(tb.Context(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// invoke handles ev in a Lambda context with testRequestID.
func (f *fixture) invoke(tb testing.TB, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	tb.Helper()
	ctx := lambdacontext.NewContext(tb.Context(), &lambdacontext.LambdaContext{AwsRequestID: testRequestID})
	return f.invokeCtx(tb, ctx, ev)
}

func (f *fixture) invokeCtx(tb testing.TB, ctx context.Context, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	tb.Helper()
	resp, err := f.h.Handle(ctx, ev)
	if err != nil {
		tb.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

// logLines parses every log line written so far.
func (f *fixture) logLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for line := range bytes.Lines([]byte(f.logs.String())) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// requestLine returns the last "request" log line.
func (f *fixture) requestLine(tb testing.TB) map[string]any {
	tb.Helper()
	lines := f.logLines(tb)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i]["msg"] == "request" {
			return lines[i]
		}
	}
	tb.Fatalf("no request log line in %s", f.logs.String())
	return nil
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
