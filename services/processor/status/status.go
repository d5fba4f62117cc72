// Package status is the handler of GET /notification/{message_id}: it
// answers the record of the newest alert the calling API client sent with
// that message_id (its status, channel order, attempts and audit events),
// and 404 for an unknown id or another client's alert, so that the answer
// says nothing about other clients' alerts. The answer never holds the
// alert's description, patient id, type, or any destination: they are not
// in api.AlertRecord at all.
//
// It reads only: the status function's role may query the alerts table
// and nothing else.
package status

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/httpapi"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Records reads alert records (the dynamo adapter's AlertStore).
type Records interface {
	// Latest returns the newest instance of key, or an error wrapping
	// alerting.ErrNotFound.
	Latest(ctx context.Context, key alert.Key) (*alerting.Alert, error)
}

// Handler answers GET /notification/{message_id}. It is safe for
// concurrent use.
type Handler struct {
	records Records
	logger  *slog.Logger
	now     func() time.Time
	newID   func() string
}

// New returns a Handler reading records and logging one line per request
// to logger.
func New(records Records, logger *slog.Logger) (*Handler, error) {
	if records == nil || logger == nil {
		return nil, errors.New("status: records and logger are required")
	}
	return &Handler{records: records, logger: logger, now: time.Now, newID: rand.Text}, nil
}

// Messages of the answers.
const (
	msgNotFound    = "this API client sent no alert with this message_id (or its record has expired)"
	msgUnavailable = "the alert records could not be read; retry after Retry-After seconds"
	msgInternal    = "internal error; quote the request_id when reporting it"
	retryAfter     = "2"
)

// Handle answers one proxy event; every outcome is an HTTP response.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := h.now()
	id := httpapi.RequestID(ctx, ev, h.newID)
	client := httpapi.ClientName(ev)
	messageID := ev.PathParameters[names.PathParamMessageID]
	resp, outcome, cause := h.answer(ctx, id, client, messageID)
	attrs := []slog.Attr{
		slog.String("request_id", id), slog.String("client", client), slog.String("outcome", outcome),
		slog.Int("status", resp.StatusCode), slog.Float64("duration_ms", float64(h.now().Sub(start).Microseconds())/1000),
	}
	if reason := alert.CheckField("message_id", messageID); reason == "" {
		attrs = append(attrs, slog.String("message_id", messageID)) // checked by the PHI-free field rule
	}
	level := slog.LevelInfo
	if cause != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	h.logger.LogAttrs(ctx, level, "request", attrs...)
	return resp, nil
}

// answer looks the record up. outcome is what the log line says; cause is
// set for a 5xx.
func (h *Handler) answer(ctx context.Context, id, client, messageID string) (events.APIGatewayProxyResponse, string, error) {
	if client == "" {
		err := errors.New("the proxy event names no API client: is the method behind the authorizer?")
		return fail(id, api.CodeInternal, msgInternal, nil, nil), string(api.CodeInternal), err
	}
	if reason := alert.CheckField("message_id", messageID); reason != "" {
		fields := []alert.FieldError{{Field: "message_id", Reason: reason}}
		return fail(id, api.CodeInvalid, "the message_id in the path is invalid; see fields", fields, nil), string(api.CodeInvalid), nil
	}
	a, err := h.records.Latest(ctx, alert.Key{Client: client, MessageID: messageID})
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		return fail(id, api.CodeNotFound, msgNotFound, nil, nil), string(api.CodeNotFound), nil
	case err != nil:
		headers := map[string]string{names.HeaderRetryAfter: retryAfter}
		return fail(id, api.CodeUnavailable, msgUnavailable, nil, headers), string(api.CodeUnavailable), fmt.Errorf("read alert record: %w", err)
	}
	return httpapi.Response(http.StatusOK, httpapi.MustJSON(View(a)), id, nil), string(a.Status), nil
}

func fail(id string, code api.Code, msg string, fields []alert.FieldError, headers map[string]string) events.APIGatewayProxyResponse {
	body := api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg, Fields: fields, RequestID: id}}
	return httpapi.Response(code.Status(), httpapi.MustJSON(body), id, headers)
}
