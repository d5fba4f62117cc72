package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Config is what a Handler is built from.
type Config struct {
	// Contacts looks up contacts. Required.
	Contacts ContactStore
	// Idempotency keeps the records of message_ids. Required.
	Idempotency IdempotencyStore
	// Publisher delivers SMS and email. Required.
	Publisher Publisher
	// Caller places voice calls. Nil when the stack has no Amazon Connect
	// settings; a call is then an internal error.
	Caller Caller
	// Guard is the PHI guard applied to the alert.
	Guard phi.Guard
	// TTL is how long a completed record answers replays. Required.
	TTL time.Duration
	// LockTimeout bounds the lock when the invocation has no deadline.
	// Required.
	LockTimeout time.Duration
	// Logger receives one line per request. Required.
	Logger *slog.Logger
	// Tracer traces each request. Optional; no tracing when nil.
	Tracer Tracer
	// Now is the clock. Optional; time.Now when nil.
	Now func() time.Time
	// NewToken returns a fresh random lock token. Optional; crypto/rand
	// when nil.
	NewToken func() string
}

// Handler handles POST /notification proxy events. It is safe for
// concurrent use.
type Handler struct {
	contacts    ContactStore
	idem        IdempotencyStore
	publisher   Publisher
	caller      Caller
	guard       phi.Guard
	ttl         time.Duration
	lockTimeout time.Duration
	logger      *slog.Logger
	tracer      Tracer
	now         func() time.Time
	newToken    func() string
}

// completeAttempts is how often the completion write is tried before the
// handler gives up on recording a delivered alert.
const completeAttempts = 3

// bookkeepingTimeout bounds the completion and release writes, which run
// even when the invocation's context is already cancelled.
const bookkeepingTimeout = 3 * time.Second

// New builds a Handler, checking that every required part is present.
func New(cfg Config) (*Handler, error) {
	var missing []string
	if cfg.Contacts == nil {
		missing = append(missing, "Contacts")
	}
	if cfg.Idempotency == nil {
		missing = append(missing, "Idempotency")
	}
	if cfg.Publisher == nil {
		missing = append(missing, "Publisher")
	}
	if cfg.Logger == nil {
		missing = append(missing, "Logger")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("notify: missing %s", strings.Join(missing, ", "))
	}
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("notify: TTL must be positive, got %s", cfg.TTL)
	}
	if cfg.LockTimeout <= 0 {
		return nil, fmt.Errorf("notify: LockTimeout must be positive, got %s", cfg.LockTimeout)
	}
	h := &Handler{
		contacts:    cfg.Contacts,
		idem:        cfg.Idempotency,
		publisher:   cfg.Publisher,
		caller:      cfg.Caller,
		guard:       cfg.Guard,
		ttl:         cfg.TTL,
		lockTimeout: cfg.LockTimeout,
		logger:      cfg.Logger,
		tracer:      cfg.Tracer,
		now:         cfg.Now,
		newToken:    cfg.NewToken,
	}
	if h.tracer == nil {
		h.tracer = noTracer{}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.newToken == nil {
		h.newToken = rand.Text
	}
	return h, nil
}

// Handle answers one proxy event. It never returns an error: every outcome,
// a panic included, is an HTTP response (see the package api for bodies).
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	start := h.now()
	r := &request{id: requestID(ctx, ev, h.newToken), client: clientName(ev)}
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

func (h *Handler) process(ctx context.Context, ev events.APIGatewayProxyRequest, r *request) events.APIGatewayProxyResponse {
	a, err := decode(ev, h.guard)
	if err != nil {
		return h.fail(r, err)
	}
	r.setAlert(a)

	now := h.now()
	lock := Lock{
		Key:         a.MessageID,
		PayloadHash: a.Hash(),
		Token:       h.newToken(),
		Now:         now,
		LockExpiry:  h.lockExpiry(ctx, now),
		Expiration:  now.Add(h.ttl),
	}
	existing, err := h.idem.Acquire(ctx, lock)
	if errors.Is(err, ErrRecordExists) {
		return h.answerExisting(r, existing, lock.PayloadHash, now)
	}
	if err != nil {
		return h.fail(r, unavailable(fmt.Errorf("take idempotency lock: %w", err)))
	}
	r.lock = &lock

	sent, err := h.deliver(ctx, a, r)
	if err != nil {
		h.release(ctx, r)
		return h.fail(r, err)
	}
	return h.succeed(ctx, r, sent)
}

// lockExpiry is the invocation's deadline, or now plus the lock timeout
// when the context has none.
func (h *Handler) lockExpiry(ctx context.Context, now time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return now.Add(h.lockTimeout)
}

// decode reads the event's body (base64 when flagged), refusing bodies over
// alert.MaxBodyBytes before decoding them, and validates the alert.
func decode(ev events.APIGatewayProxyRequest, guard phi.Guard) (alert.Alert, error) {
	tooLarge := invalid([]alert.FieldError{{
		Field:  "body",
		Reason: fmt.Sprintf("is larger than the limit of %d bytes", alert.MaxBodyBytes),
	}}, nil)
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if len(ev.Body) > base64.StdEncoding.EncodedLen(alert.MaxBodyBytes) {
			return alert.Alert{}, tooLarge
		}
		raw, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return alert.Alert{}, invalid([]alert.FieldError{{Field: "body", Reason: "is flagged base64 but is not valid base64"}}, nil)
		}
		body = raw
	}
	if len(body) > alert.MaxBodyBytes {
		return alert.Alert{}, tooLarge
	}
	a, err := alert.Decode(body, guard)
	if err != nil {
		var ve *alert.ValidationError
		if errors.As(err, &ve) {
			return alert.Alert{}, invalid(ve.Fields, nil)
		}
		return alert.Alert{}, internal(fmt.Errorf("decode alert: %w", err))
	}
	return a, nil
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
		r.setChannel(replayedChannel(rec.Response.Body))
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
// channel. Errors are *Error.
func (h *Handler) deliver(ctx context.Context, a alert.Alert, r *request) (api.Sent, error) {
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
	id, err := h.send(ctx, a, ch, dest, r)
	if err != nil {
		return api.Sent{}, err
	}
	return api.Sent{MessageID: a.MessageID, Status: api.StatusSent, Channel: string(ch), ProviderMessageID: id}, nil
}

// send delivers the rendered alert to dest. Errors are *Error.
func (h *Handler) send(ctx context.Context, a alert.Alert, ch contact.Channel, dest string, r *request) (string, error) {
	switch ch {
	case contact.ChannelEmail:
		e := render.Email(a)
		r.addSecrets(e.Body)
		r.deliveryStarted = true
		id, err := h.publisher.Publish(ctx, dest, e.Subject, e.Body)
		if err != nil {
			return "", unavailable(fmt.Errorf("publish email: %w", err))
		}
		return id, nil
	case contact.ChannelSMS:
		s := render.SMS(a)
		r.addSecrets(s.Text)
		r.smsSegments = s.Segments
		r.deliveryStarted = true
		id, err := h.publisher.Publish(ctx, dest, "", s.Text)
		if err != nil {
			return "", unavailable(fmt.Errorf("publish sms: %w", err))
		}
		return id, nil
	case contact.ChannelCall:
		r.addSecrets(dest)
		if h.caller == nil {
			return "", internal(errors.New("a call is due but calls are not configured (the Amazon Connect settings are unset)"))
		}
		voice := render.Voice(a)
		r.addSecrets(voice)
		r.deliveryStarted = true
		id, err := h.caller.Call(ctx, CallRequest{Destination: dest, MessageSSML: voice, ClientToken: alert.CallClientToken(a.MessageID)})
		if err != nil {
			return "", unavailable(fmt.Errorf("start call: %w", err))
		}
		return id, nil
	default:
		return "", internal(fmt.Errorf("unknown channel %q", ch))
	}
}

// succeed records the delivered alert and answers 200. A failed record is
// logged, not answered: the alert was sent, and a 5xx would invite a retry
// that sends it again.
func (h *Handler) succeed(ctx context.Context, r *request, sent api.Sent) events.APIGatewayProxyResponse {
	body := mustJSON(sent)
	stored := StoredResponse{Status: http.StatusOK, Body: body}
	if err := h.complete(ctx, r, stored); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogSentNotRecorded,
			slog.String(logRequestID, r.id),
			slog.String(logMessageID, r.messageID),
			slog.String(logError, r.scrub(err.Error())))
	}
	r.lock = nil
	r.outcome = names.OutcomeSent
	return response(stored.Status, stored.Body, r.id, nil)
}

// complete writes the completed record, retrying a failed write; a lost
// lock is not retried.
func (h *Handler) complete(ctx context.Context, r *request, stored StoredResponse) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	var err error
	for range completeAttempts {
		err = h.idem.Complete(ctx, r.lock.Key, r.lock.Token, stored, h.now().Add(h.ttl))
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := h.idem.Release(ctx, lock.Key, lock.Token); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelWarn, "idempotency lock could not be released; retries answer 409 until it lapses",
			slog.String(logRequestID, r.id),
			slog.String(logMessageID, r.messageID),
			slog.Time("lock_expiry", lock.LockExpiry),
			slog.String(logError, r.scrub(err.Error())))
	}
}

// recovered turns a panic into a 500. A lock taken before the delivery
// started is released; once the delivery started nobody knows whether it
// happened, so the lock is kept until it lapses.
func (h *Handler) recovered(ctx context.Context, r *request, p any) events.APIGatewayProxyResponse {
	cause := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
	if !r.deliveryStarted {
		h.release(ctx, r)
	}
	return h.fail(r, internal(cause))
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
	var extra map[string]string
	if e.Code == api.CodeInProgress {
		extra = oneHeader(headerRetryAfter, strconv.Itoa(max(e.RetryAfter, 1)))
	}
	return response(e.Status(), mustJSON(body), r.id, extra)
}

// noTracer traces nothing.
type noTracer struct{}

func (noTracer) Start(ctx context.Context) (context.Context, Span) { return ctx, noSpan{} }

type noSpan struct{}

func (noSpan) Annotate(string, string) {}
func (noSpan) End(int)                 {}
