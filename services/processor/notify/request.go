package notify

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/httpapi"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// request is what the handler knows about one request as it goes: what
// the log line and the trace report, and the lock it must give back.
type request struct {
	id     string
	client string
	// path is the request's path (requestContext.path), the base of the
	// Location header.
	path string
	span Span

	key         alert.Key
	payloadHash string
	messageID   string
	contactID   string
	priority    alert.Priority
	channel     contact.Channel

	// lock is the idempotency lock this request holds, nil when none.
	lock *Lock
	// acc is the alert the core accepted, nil before.
	acc *alerting.Accepted
	// result is the core's delivery result, nil before.
	result *alerting.Result
	// located is set once a record of this key exists for the caller to
	// read: the answer carries Location.
	located bool
	// attempts is how many attempts the delivery made.
	attempts int

	outcome       string
	err           error
	invalidFields []string

	// secrets are values that must never reach a log line: the alert's
	// free text and patient id (the core's Accepted adds the rendered
	// texts and destinations).
	secrets []string
}

func (r *request) setAlert(a alert.Alert) {
	r.key = alert.Key{Client: r.client, MessageID: a.MessageID}
	r.payloadHash = a.Hash()
	r.messageID = a.MessageID
	r.contactID = a.ContactID
	r.priority = a.Priority
	r.addSecrets(a.Description, render.EscapeSSML(a.Description), a.PatientID)
	r.span.Annotate(names.AnnotationMessageID, a.MessageID)
	r.span.Annotate(names.AnnotationPriority, string(a.Priority))
}

func (r *request) setChannel(ch contact.Channel) {
	if ch == "" {
		return
	}
	r.channel = ch
	r.span.Annotate(names.AnnotationChannel, string(ch))
}

func (r *request) addSecrets(s ...string) {
	for _, v := range s {
		if v != "" {
			r.secrets = append(r.secrets, v)
		}
	}
}

// redacted replaces a secret in a logged error.
const redacted = "[redacted]"

// scrub removes every secret from s, longest first so that a secret inside
// another is not left in pieces. Errors from providers may echo what they
// were sent; this keeps it out of the log.
func (r *request) scrub(s string) string {
	if r.acc != nil {
		s = r.acc.Scrub(s)
	}
	secrets := slices.Clone(r.secrets)
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// headers are the extra headers of the request's answer: extra, and
// Location once a record of the alert exists.
func (r *request) headers(extra map[string]string) map[string]string {
	if !r.located {
		return extra
	}
	out := map[string]string{names.HeaderLocation: r.location()}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Log attribute keys.
const (
	logRequestID = "request_id"
	logMessageID = "message_id"
	logError     = "error"
)

// logLevel is the level of a request's line: ERROR for 500, for 502
// delivery_unknown (nobody knows whether the clinician was reached) and
// for 502 undeliverable_all_channels (no channel reached the clinician),
// WARN for 503 (nothing sent; a retry may succeed), INFO for the rest and
// for a replay (its first answer was logged at its own level).
func logLevel(status int, outcome string) slog.Level {
	switch {
	case outcome == names.OutcomeReplay:
		return slog.LevelInfo
	case status == http.StatusServiceUnavailable:
		return slog.LevelWarn
	case status >= http.StatusInternalServerError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// logRequest writes the request's one line at logLevel. It never holds
// the alert's text, patient id, rendered texts or phone numbers.
func (h *Handler) logRequest(ctx context.Context, r *request, status int, d time.Duration) {
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs, slog.String(logRequestID, r.id))
	if r.client != "" {
		attrs = append(attrs, slog.String("client", r.client))
	}
	if r.messageID != "" {
		attrs = append(attrs,
			slog.String(logMessageID, r.messageID),
			slog.String("contact_id", r.contactID),
			slog.String("priority", string(r.priority)))
	}
	if r.channel != "" {
		attrs = append(attrs, slog.String("channel", string(r.channel)))
	}
	if r.result != nil && r.result.SMSSegments > 0 {
		attrs = append(attrs, slog.Int("sms_segments", r.result.SMSSegments))
	}
	if r.attempts > 0 {
		attrs = append(attrs, slog.Int("attempts", r.attempts))
	}
	if r.acc != nil {
		attrs = append(attrs, slog.String("instance", r.acc.Record().Instance))
	}
	attrs = append(attrs,
		slog.String("outcome", r.outcome),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	if len(r.invalidFields) > 0 {
		attrs = append(attrs, slog.Any("invalid_fields", r.invalidFields))
	}
	attrs = append(attrs, r.failureAttrs(status)...)
	h.logger.LogAttrs(ctx, logLevel(status, r.outcome), "request", attrs...)
}

// failureAttrs are the log attributes of a failed request: the scrubbed
// cause of a 5xx answer, and the class and provider code of the last
// failed attempt.
func (r *request) failureAttrs(status int) []slog.Attr {
	var attrs []slog.Attr
	if r.err != nil && status >= http.StatusInternalServerError {
		attrs = append(attrs, slog.String(logError, r.scrub(r.err.Error())))
	}
	var f *delivery.Error
	if errors.As(r.err, &f) {
		attrs = append(attrs, slog.String("failure_class", string(f.Class)), slog.String("provider_error", f.Code))
	}
	return attrs
}

// fieldNames lists the failing fields for the log. Names the caller made
// up (unknown fields) are not repeated.
func fieldNames(fields []alert.FieldError) []string {
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		name := "(unknown field)"
		if f.Field == "body" || slices.ContainsFunc(alert.Fields, func(af *alert.Field) bool { return af.Name == f.Field }) {
			name = f.Field
		}
		out = append(out, name)
	}
	return out
}

// requestID is the Lambda request id, else API Gateway's, else a fresh one.
func requestID(ctx context.Context, ev events.APIGatewayProxyRequest, fresh func() string) string {
	return httpapi.RequestID(ctx, ev, fresh)
}

// clientName is the API client the authorizer admitted (httpapi.ClientName).
func clientName(ev events.APIGatewayProxyRequest) string { return httpapi.ClientName(ev) }

// Response headers.
const (
	headerReplay     = names.HeaderIdempotentReplay
	headerRetryAfter = names.HeaderRetryAfter
)

func oneHeader(key, value string) map[string]string {
	return map[string]string{key: value}
}

// response builds a proxy response with the headers every answer carries.
func response(status int, body, requestID string, extra map[string]string) events.APIGatewayProxyResponse {
	return httpapi.Response(status, body, requestID, extra)
}

// mustJSON marshals the API's plain structs (httpapi.MustJSON).
func mustJSON(v any) string { return httpapi.MustJSON(v) }

// decode reads the event's body (base64 when flagged) and validates the
// alert; alert.Decode is the one check of the body's size.
func decode(ev events.APIGatewayProxyRequest, guard phi.Guard) (alert.Alert, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return alert.Alert{}, invalid([]alert.FieldError{{Field: "body", Reason: "is flagged base64 but is not valid base64"}}, nil)
		}
		body = raw
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
