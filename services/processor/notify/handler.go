package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// Config is what a Handler is built from.
type Config struct {
	// Alerts accepts and delivers alerts (*alerting.Core). Required.
	Alerts Alerts
	// Idempotency keeps the records of alert keys. Required.
	Idempotency IdempotencyStore
	// Guard is the PHI guard applied to the alert.
	Guard phi.Guard
	// TTL is how long a completed record answers replays. Required.
	TTL time.Duration
	// LockTimeout stands in for the invocation's deadline when the context
	// has none. Required.
	LockTimeout time.Duration
	// LockMargin is how long the lock outlives the invocation's deadline.
	// Optional; DefaultLockMargin.
	LockMargin time.Duration
	// Logger receives one line per request. Required.
	Logger *slog.Logger
	// Tracer traces each request. Optional; no tracing when nil.
	Tracer Tracer
	// Queue queues alerts whose request prefers respond-async. Optional;
	// nil delivers every alert at once (the preference is ignored, as RFC
	// 7240 allows).
	Queue Enqueuer
	// Now is the clock. Optional; time.Now when nil.
	Now func() time.Time
	// NewID returns a fresh random id: each lock's owner, and the request
	// id when neither Lambda nor API Gateway gave one. Optional; crypto/rand
	// when nil.
	NewID func() string
}

// Handler handles POST /notification proxy events. It is safe for
// concurrent use.
type Handler struct {
	alerts      Alerts
	idem        IdempotencyStore
	guard       phi.Guard
	ttl         time.Duration
	lockTimeout time.Duration
	lockMargin  time.Duration
	logger      *slog.Logger
	tracer      Tracer
	queue       Enqueuer
	now         func() time.Time
	newID       func() string
}

// completeAttempts is how often the completion write is tried before the
// handler gives up on recording a request's answer.
const completeAttempts = 3

// New builds a Handler, checking that every required part is present.
func New(cfg Config) (*Handler, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h := &Handler{
		alerts: cfg.Alerts, idem: cfg.Idempotency, guard: cfg.Guard, ttl: cfg.TTL, lockTimeout: cfg.LockTimeout,
		lockMargin: cfg.LockMargin, logger: cfg.Logger, tracer: cfg.Tracer, queue: cfg.Queue, now: cfg.Now, newID: cfg.NewID,
	}
	if h.lockMargin == 0 {
		h.lockMargin = DefaultLockMargin
	}
	if h.tracer == nil {
		h.tracer = noTracer{}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.newID == nil {
		h.newID = rand.Text
	}
	return h, nil
}

// check reports the missing or invalid parts of cfg.
func (cfg *Config) check() error {
	var missing []string
	for _, p := range []struct {
		name string
		nil  bool
	}{
		{"Alerts", cfg.Alerts == nil}, {"Idempotency", cfg.Idempotency == nil}, {"Logger", cfg.Logger == nil},
	} {
		if p.nil {
			missing = append(missing, p.name)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("notify: missing %s", strings.Join(missing, ", "))
	case cfg.TTL <= 0:
		return fmt.Errorf("notify: TTL must be positive, got %s", cfg.TTL)
	case cfg.LockTimeout <= 0:
		return fmt.Errorf("notify: LockTimeout must be positive, got %s", cfg.LockTimeout)
	case cfg.LockMargin < 0:
		return fmt.Errorf("notify: LockMargin must not be negative, got %s", cfg.LockMargin)
	}
	return nil
}

// Handle answers one proxy event. It never returns an error: every outcome,
// a panic included, is an HTTP response (see the package api for bodies).
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	start := h.now()
	r := &request{id: requestID(ctx, ev, h.newID), client: clientName(ev), path: ev.RequestContext.Path}
	ctx, r.span = h.tracer.Start(ctx)
	defer func() {
		if p := recover(); p != nil {
			resp = h.recovered(ctx, r, p)
		}
		r.span.Annotate(names.AnnotationOutcome, r.outcome)
		r.span.End(resp.StatusCode)
		h.logRequest(ctx, r, resp.StatusCode, h.now().Sub(start))
	}()
	return h.process(ctx, ev, r), nil
}

// errNoClient reports a proxy event without the authorizer's context.
var errNoClient = errors.New("the proxy event names no API client (requestContext.authorizer has no " +
	names.AuthContextClient + " or " + names.AuthContextPrincipalID + "): is the method behind the authorizer?")

func (h *Handler) process(ctx context.Context, ev events.APIGatewayProxyRequest, r *request) events.APIGatewayProxyResponse {
	if r.client == "" {
		// Fail closed: idempotency is scoped by client, and "" would merge
		// every unnamed caller's message_ids.
		return h.fail(r, internal(errNoClient))
	}
	a, err := decode(ev, h.guard)
	if err != nil {
		return h.fail(r, err)
	}
	r.setAlert(a)

	now := h.now()
	deadline := h.deadline(ctx, now)
	lock := Lock{
		Key:         r.key,
		Instance:    h.alerts.NewInstance(),
		PayloadHash: r.payloadHash,
		Owner:       h.newID(),
		Now:         now,
		LockExpiry:  deadline.Add(h.lockMargin),
		Expiration:  now.Add(h.ttl),
	}
	if resp, held := h.acquire(ctx, r, lock, now); !held {
		return resp
	}

	async := h.queue != nil && prefersAsync(ev)
	r.acc, err = h.alerts.Accept(ctx, alerting.Intake{
		Key: r.key, Instance: lock.Instance, Alert: a, Actor: delivery.Client(r.client), WithFirstWrite: !async,
	})
	if err != nil {
		h.release(ctx, r)
		return h.fail(r, acceptFailed(err))
	}
	r.located = true
	if async {
		return h.enqueue(ctx, r)
	}
	res := h.alerts.Deliver(ctx, r.acc, deadline)
	r.result = &res
	for _, err := range res.RecordErrors {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogAlertNotRecorded,
			slog.String(logRequestID, r.id), slog.String(logMessageID, r.messageID), slog.String(logError, r.scrub(err.Error())))
	}
	if res.TimerErr != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogTimerNotSet,
			slog.String(logRequestID, r.id), slog.String(logMessageID, r.messageID), slog.String(logError, r.scrub(res.TimerErr.Error())))
	}
	return h.answer(ctx, r, res)
}

// acceptFailed turns an error of Accept into the caller's answer: nothing
// was recorded and nothing sent.
func acceptFailed(err error) *Error {
	switch {
	case errors.Is(err, alerting.ErrContactNotFound):
		return &Error{Code: api.CodeNotFound, Message: msgNotFound, Err: err}
	case errors.Is(err, alerting.ErrNoDestination):
		return &Error{Code: api.CodeNoDestination, Message: msgNoDestination, Err: err}
	default:
		return unavailable(err)
	}
}

// acquire takes the lock. When another request's record holds the key it
// returns that record's answer and held is false. A record that is this
// request's own lock (a retried write that found its first attempt's
// work) counts as taken.
func (h *Handler) acquire(ctx context.Context, r *request, lock Lock, now time.Time) (resp events.APIGatewayProxyResponse, held bool) {
	existing, err := h.idem.Acquire(ctx, lock)
	switch {
	case err == nil:
	case errors.Is(err, ErrRecordExists) && existing.Status == StatusInProgress && existing.LockOwner == lock.Owner:
	case errors.Is(err, ErrRecordExists):
		return h.answerExisting(r, existing, lock.PayloadHash, now), false
	default:
		return h.fail(r, unavailable(fmt.Errorf("take idempotency lock: %w", err))), false
	}
	r.lock = &lock
	return events.APIGatewayProxyResponse{}, true
}

// answerExisting answers from a record that another request wrote.
func (h *Handler) answerExisting(r *request, rec Record, hash string, now time.Time) events.APIGatewayProxyResponse {
	switch {
	case rec.PayloadHash != hash:
		return h.fail(r, &Error{Code: api.CodeIdempotencyMismatch, Message: msgMismatch})
	case rec.Status == StatusCompleted:
		if rec.Response.Status == 0 || rec.Response.Body == "" {
			return h.fail(r, internal(fmt.Errorf("completed record %s holds no response", rec.Key)))
		}
		r.outcome = names.OutcomeReplay
		r.located = true
		r.setChannel(rec.Channel)
		extra := oneHeader(headerReplay, "true")
		maps.Copy(extra, preferenceApplied(rec.Response.Status))
		return response(rec.Response.Status, rec.Response.Body, r.id, r.headers(extra))
	case rec.Status == StatusInProgress:
		r.located = true
		return h.fail(r, &Error{Code: api.CodeInProgress, Message: msgInProgress, RetryAfter: retryAfter(rec.LockExpiry.Sub(now))})
	default:
		return h.fail(r, internal(fmt.Errorf("record %s has unknown status %q", rec.Key, rec.Status)))
	}
}

// retryAfter is d in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// location is where the alert's record is read: the request's path (the
// stage's, with any base path of a custom domain) and the message_id.
func (r *request) location() string {
	base := r.path
	if base == "" {
		base = "/" + names.NotificationPath
	}
	return strings.TrimSuffix(base, "/") + "/" + url.PathEscape(r.messageID)
}

// finish records the request's final answer and returns it. A failed
// record is logged, not answered: the provider has been called, and a 5xx
// would invite a retry that sends again.
func (h *Handler) finish(ctx context.Context, r *request, resp StoredResponse, out Outcome) events.APIGatewayProxyResponse {
	out.Response, out.Expiration = resp, h.now().Add(h.ttl)
	if err := h.complete(ctx, r, out); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogSentNotRecorded,
			slog.String(logRequestID, r.id),
			slog.String(logMessageID, r.messageID),
			slog.String(logError, r.scrub(err.Error())))
	}
	r.lock = nil
	return response(resp.Status, resp.Body, r.id, r.headers(preferenceApplied(resp.Status)))
}

// complete writes the completed record, retrying a failed write; a lost
// lock is not retried.
func (h *Handler) complete(ctx context.Context, r *request, out Outcome) error {
	ctx, cancel := h.bookkeeping(ctx)
	defer cancel()
	var err error
	for range completeAttempts {
		err = h.idem.Complete(ctx, *r.lock, out)
		if err == nil || errors.Is(err, ErrLockLost) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("complete idempotency record: %w", err)
	}
	return nil
}

// release deletes the request's in-progress lock, if it holds one, so a
// retry can deliver.
func (h *Handler) release(ctx context.Context, r *request) {
	if r.lock == nil {
		return
	}
	lock := *r.lock
	r.lock = nil
	ctx, cancel := h.bookkeeping(ctx)
	defer cancel()
	if err := h.idem.Release(ctx, lock); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelWarn, "idempotency lock could not be released; retries answer 409 until it lapses",
			slog.String(logRequestID, r.id),
			slog.String(logMessageID, r.messageID),
			slog.Time("lock_expiry", lock.LockExpiry),
			slog.String(logError, r.scrub(err.Error())))
	}
}

// recovered turns a panic into an answer. Before a provider was called
// the lock is released and the answer is 500. Once one was called nobody
// knows whether it delivered: the answer is the recorded 502
// delivery_unknown, so a retry does not send again.
func (h *Handler) recovered(ctx context.Context, r *request, p any) events.APIGatewayProxyResponse {
	cause := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
	if r.acc == nil || !r.acc.DeliveryStarted() || r.lock == nil {
		h.release(ctx, r)
		return h.fail(r, internal(cause))
	}
	ch := r.channel
	if ats := r.acc.Record().Attempts; len(ats) > 0 {
		ch = ats[len(ats)-1].Channel // the attempt under way
	}
	e := deliveryUnknown(ch, nil, cause)
	body := h.fail(r, e).Body
	return h.finish(ctx, r, StoredResponse{Status: e.Status(), Body: body}, Outcome{Channel: ch, Failure: delivery.Ambiguous})
}

// noTracer traces nothing.
type noTracer struct{}

func (noTracer) Start(ctx context.Context) (context.Context, Span) { return ctx, noSpan{} }

type noSpan struct{}

func (noSpan) Annotate(string, string) {}
func (noSpan) End(int)                 {}

// fail answers err, which should be an *Error; anything else is internal.
func (h *Handler) fail(r *request, err error) events.APIGatewayProxyResponse {
	var e *Error
	if !errors.As(err, &e) {
		e = internal(err)
	}
	r.outcome = string(e.Code)
	r.err = e
	if e.Code == api.CodeInvalid {
		r.invalidFields = fieldNames(e.Fields)
	}
	body := api.ErrorBody{Error: api.ErrorDetail{
		Code:      e.Code,
		Message:   e.Message,
		Fields:    e.Fields,
		Channel:   string(e.Channel),
		Attempts:  e.Attempts,
		RequestID: r.id,
	}}
	var extra map[string]string
	if e.RetryAfter > 0 {
		extra = oneHeader(headerRetryAfter, strconv.Itoa(e.RetryAfter))
	}
	return response(e.Status(), mustJSON(body), r.id, r.headers(extra))
}
