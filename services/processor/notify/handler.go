package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Config is what a Handler is built from.
type Config struct {
	// Contacts looks up contacts. Required.
	Contacts ContactStore
	// Idempotency keeps the records of alert keys. Required.
	Idempotency IdempotencyStore
	// Publisher delivers SMS and email. Required.
	Publisher Publisher
	// Caller places voice calls. Nil when the stack has no Amazon Connect
	// settings; a call is then an internal error.
	Caller Caller
	// Guard is the PHI guard applied to the alert.
	Guard phi.Guard
	// SMSContent is how much of an alert its SMS carries; "" is
	// render.SMSFull.
	SMSContent render.SMSContent
	// TTL is how long a completed record answers replays. Required.
	TTL time.Duration
	// LockTimeout stands in for the invocation's deadline when the context
	// has none. Required.
	LockTimeout time.Duration
	// Budget divides each invocation's time. Optional; DefaultBudget when
	// zero.
	Budget Budget
	// Logger receives one line per request. Required.
	Logger *slog.Logger
	// Tracer traces each request. Optional; no tracing when nil.
	Tracer Tracer
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
	contacts    ContactStore
	idem        IdempotencyStore
	publisher   Publisher
	caller      Caller
	guard       phi.Guard
	smsContent  render.SMSContent
	ttl         time.Duration
	lockTimeout time.Duration
	budget      Budget
	logger      *slog.Logger
	tracer      Tracer
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
		contacts: cfg.Contacts, idem: cfg.Idempotency, publisher: cfg.Publisher, caller: cfg.Caller,
		guard: cfg.Guard, smsContent: cfg.SMSContent, ttl: cfg.TTL, lockTimeout: cfg.LockTimeout,
		budget: cfg.Budget, logger: cfg.Logger, tracer: cfg.Tracer, now: cfg.Now, newID: cfg.NewID,
	}
	if h.budget == (Budget{}) {
		h.budget = DefaultBudget
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
		{"Contacts", cfg.Contacts == nil}, {"Idempotency", cfg.Idempotency == nil},
		{"Publisher", cfg.Publisher == nil}, {"Logger", cfg.Logger == nil},
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
	case cfg.Budget != (Budget{}):
		return cfg.Budget.validate()
	}
	return nil
}

// Handle answers one proxy event. It never returns an error: every outcome,
// a panic included, is an HTTP response (see the package api for bodies).
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	start := h.now()
	r := &request{id: requestID(ctx, ev, h.newID), client: clientName(ev)}
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
		PayloadHash: r.payloadHash,
		Owner:       h.newID(),
		Now:         now,
		LockExpiry:  deadline.Add(h.budget.LockMargin),
		Expiration:  now.Add(h.ttl),
	}
	if resp, held := h.acquire(ctx, r, lock, now); !held {
		return resp
	}

	sent, err := h.deliver(ctx, a, r, deadline)
	var e *Error
	switch {
	case err == nil:
		r.outcome = names.OutcomeSent
		return h.finish(ctx, r, StoredResponse{Status: http.StatusOK, Body: mustJSON(sent)}, "")
	case errors.As(err, &e) && e.recorded():
		body := h.fail(r, e).Body
		return h.finish(ctx, r, StoredResponse{Status: e.Status(), Body: body}, delivery.ClassOf(e.Err))
	default:
		h.release(ctx, r)
		return h.fail(r, err)
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
		r.setChannel(rec.Channel)
		return response(rec.Response.Status, rec.Response.Body, r.id, oneHeader(headerReplay, "true"))
	case rec.Status == StatusInProgress:
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

// deliver looks the contact up and sends the alert by its preferred
// channel before the deadline's reserve. Errors are *Error.
func (h *Handler) deliver(ctx context.Context, a alert.Alert, r *request, deadline time.Time) (api.Sent, error) {
	c, err := h.contacts.GetContact(ctx, a.ContactID)
	if errors.Is(err, ErrContactNotFound) {
		return api.Sent{}, &Error{Code: api.CodeNotFound, Message: msgNotFound, Err: err}
	}
	if err != nil {
		return api.Sent{}, unavailable(fmt.Errorf("load contact %s: %w", a.ContactID, err))
	}
	ch, dest, err := c.Route(a.Priority)
	r.setChannel(ch)
	if errors.Is(err, contact.ErrNoDestination) {
		return api.Sent{}, &Error{Code: api.CodeNoDestination, Message: msgNoDestination, Err: err}
	}
	if err != nil {
		return api.Sent{}, internal(fmt.Errorf("route contact %s: %w", a.ContactID, err))
	}
	if err := h.canSend(ch); err != nil {
		return api.Sent{}, err
	}
	window, ok := h.sendWindow(deadline)
	if !ok {
		return api.Sent{}, unavailable(fmt.Errorf("too little time left to send and record the outcome: %s before the reserve, %s needed", window, h.budget.Attempt))
	}
	sendCtx, cancel := context.WithDeadline(ctx, deadline.Add(-h.budget.Reserve))
	defer cancel()
	id, err := h.send(sendCtx, a, ch, dest, r)
	if err != nil {
		return api.Sent{}, deliveryFailed(ch, fmt.Errorf("send %s: %w", ch, err))
	}
	return api.Sent{MessageID: a.MessageID, Status: api.StatusSent, Channel: string(ch), ProviderMessageID: id}, nil
}

// canSend returns an internal *Error when the handler cannot send on ch.
func (h *Handler) canSend(ch contact.Channel) error {
	switch {
	case !slices.Contains(contact.Channels, ch):
		return internal(fmt.Errorf("unknown channel %q", ch))
	case ch == contact.ChannelCall && h.caller == nil:
		return internal(errors.New("a call is due but calls are not configured (the Amazon Connect settings are unset)"))
	}
	return nil
}

// send renders the alert for ch and hands it to the provider. Errors are
// the provider's, classified by the adapter.
func (h *Handler) send(ctx context.Context, a alert.Alert, ch contact.Channel, dest string, r *request) (string, error) {
	switch ch {
	case contact.ChannelEmail:
		e := render.Email(a)
		r.addSecrets(e.Body)
		r.deliveryStarted = true
		return h.publisher.PublishEmail(ctx, dest, e.Subject, e.Body)
	case contact.ChannelSMS:
		s := render.SMS(a, h.smsContent)
		r.addSecrets(s.Text)
		r.smsSegments = s.Segments
		r.deliveryStarted = true
		return h.publisher.PublishSMS(ctx, dest, s.Text)
	case contact.ChannelCall:
		voice := render.Voice(a)
		r.addSecrets(dest, voice)
		r.deliveryStarted = true
		return h.caller.Call(ctx, CallRequest{
			Destination: dest, MessageSSML: voice, ClientToken: delivery.CallClientToken(r.key, r.payloadHash),
		})
	default: // canSend refused it
		return "", &delivery.Error{Class: delivery.Transient, Code: "unknown_channel", Err: fmt.Errorf("unknown channel %q", ch)}
	}
}

// finish records the request's final answer and returns it. A failed
// record is logged, not answered: the provider has been called, and a 5xx
// would invite a retry that sends again.
func (h *Handler) finish(ctx context.Context, r *request, resp StoredResponse, failure delivery.Class) events.APIGatewayProxyResponse {
	out := Outcome{Response: resp, Channel: r.channel, Failure: failure, Expiration: h.now().Add(h.ttl)}
	if err := h.complete(ctx, r, out); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogSentNotRecorded,
			slog.String(logRequestID, r.id),
			slog.String(logMessageID, r.messageID),
			slog.String(logError, r.scrub(err.Error())))
	}
	r.lock = nil
	return response(resp.Status, resp.Body, r.id, nil)
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

// recovered turns a panic into an answer. Before the provider was called
// the lock is released and the answer is 500. Once it was called nobody
// knows whether it delivered: the answer is the recorded 502
// delivery_unknown, so a retry does not send again.
func (h *Handler) recovered(ctx context.Context, r *request, p any) events.APIGatewayProxyResponse {
	cause := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
	if !r.deliveryStarted || r.lock == nil {
		h.release(ctx, r)
		return h.fail(r, internal(cause))
	}
	e := deliveryUnknown(r.channel, cause)
	body := h.fail(r, e).Body
	return h.finish(ctx, r, StoredResponse{Status: e.Status(), Body: body}, delivery.Ambiguous)
}

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
		RequestID: r.id,
	}}
	if e.recorded() {
		body.Error.Channel = string(e.Channel)
	}
	var extra map[string]string
	if e.RetryAfter > 0 {
		extra = oneHeader(headerRetryAfter, strconv.Itoa(e.RetryAfter))
	}
	return response(e.Status(), mustJSON(body), r.id, extra)
}

// noTracer traces nothing.
type noTracer struct{}

func (noTracer) Start(ctx context.Context) (context.Context, Span) { return ctx, noSpan{} }

type noSpan struct{}

func (noSpan) Annotate(string, string) {}
func (noSpan) End(int)                 {}
