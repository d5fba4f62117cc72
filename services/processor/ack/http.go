package ack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/httpapi"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// HandleHTTP answers the function's routes: /ack/{token} (GET shows, POST
// acknowledges) and POST /notification/{message_id}/ack.
func (h *Handler) HandleHTTP(ctx context.Context, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	id := httpapi.RequestID(ctx, ev, h.newID)
	if token, ok := ev.PathParameters[names.PathParamToken]; ok {
		return h.link(ctx, id, ev.HTTPMethod, token)
	}
	if ev.HTTPMethod != http.MethodPost {
		return apiError(id, api.CodeRejected, "this route takes POST only", nil)
	}
	return h.apiAck(ctx, id, httpapi.ClientName(ev), ev.PathParameters[names.PathParamMessageID])
}

// Messages of the API's answers.
const (
	msgNoClient           = "internal error; quote the request_id when reporting it"
	msgNotFound           = "this API client sent no alert with this message_id (or its record has expired)"
	msgNotAcknowledgeable = "the alert failed on every channel: nobody received it, so there is nothing to acknowledge"
	msgUnavailable        = "the alert records could not be read or written; retry after Retry-After seconds"
)

// apiAck acknowledges the calling client's newest alert with messageID.
func (h *Handler) apiAck(ctx context.Context, id, client, messageID string) events.APIGatewayProxyResponse {
	if client == "" {
		h.logLine(ctx, slog.LevelError, string(delivery.AckAPI), string(api.CodeInternal), slog.String("request_id", id),
			slog.String("error", "the proxy event names no API client: is the method behind the authorizer?"))
		return apiError(id, api.CodeInternal, msgNoClient, nil)
	}
	if reason := alert.CheckField("message_id", messageID); reason != "" {
		return apiError(id, api.CodeInvalid, "the message_id in the path is invalid; see fields",
			[]alert.FieldError{{Field: "message_id", Reason: reason}})
	}
	res, err := h.acks.Acknowledge(ctx, alerting.AckRequest{
		Key: alert.Key{Client: client, MessageID: messageID}, Method: delivery.AckAPI, By: delivery.Client(client),
	})
	attrs := append([]slog.Attr{slog.String("request_id", id), slog.String("client", client), slog.String("message_id", messageID)}, ackAttrs(res)...)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		h.logLine(ctx, slog.LevelInfo, string(delivery.AckAPI), string(api.CodeNotFound), attrs...)
		return apiError(id, api.CodeNotFound, msgNotFound, nil)
	case errors.Is(err, alerting.ErrNotAcknowledgeable):
		h.logLine(ctx, slog.LevelInfo, string(delivery.AckAPI), string(api.CodeNotAcknowledgeable), attrs...)
		return apiError(id, api.CodeNotAcknowledgeable, msgNotAcknowledgeable, nil)
	case err != nil:
		h.logLine(ctx, slog.LevelError, string(delivery.AckAPI), string(api.CodeUnavailable), append(attrs, slog.String("error", err.Error()))...)
		resp := apiError(id, api.CodeUnavailable, msgUnavailable, nil)
		resp.Headers[names.HeaderRetryAfter] = "2"
		return resp
	}
	h.logLine(ctx, slog.LevelInfo, string(delivery.AckAPI), outcomeOf(res), attrs...)
	a := res.Alert
	return httpapi.Response(http.StatusOK, httpapi.MustJSON(api.Acknowledged{
		MessageID: messageID, Status: api.StatusAcknowledged, AcknowledgedAt: stamp(res.Ack.At),
		AcknowledgedBy: res.Ack.By.String(), Method: string(res.Ack.Method), Late: res.Ack.Late, AlreadyAcknowledged: res.Already,
		AcceptedToAcknowledgedMS: res.Ack.At.Sub(a.AcceptedAt).Milliseconds(),
	}), id, nil)
}

// outcomeOf is the log's outcome of a recorded acknowledgment.
func outcomeOf(res alerting.AckResult) string {
	if res.Already {
		return "already_acknowledged"
	}
	return string(delivery.AlertAcknowledged)
}

func apiError(id string, code api.Code, msg string, fields []alert.FieldError) events.APIGatewayProxyResponse {
	body := api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg, Fields: fields, RequestID: id}}
	return httpapi.Response(code.Status(), httpapi.MustJSON(body), id, map[string]string{})
}

// stamp is t in RFC 3339, UTC, with milliseconds (the record's form).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// link answers GET (show) and POST (acknowledge) of an acknowledgment
// link.
func (h *Handler) link(ctx context.Context, id, method, token string) events.APIGatewayProxyResponse {
	via := string(delivery.AckLink)
	if !alerting.WellFormedToken(token) {
		h.logLine(ctx, slog.LevelInfo, via, "unknown_link", slog.String("request_id", id), slog.String("method", method))
		return page(id, http.StatusNotFound, pageUnknown())
	}
	hash := alerting.TokenHash(token)
	switch method {
	case http.MethodGet, http.MethodHead:
		return h.showLink(ctx, id, hash)
	case http.MethodPost:
		return h.useLink(ctx, id, hash)
	default:
		return page(id, http.StatusMethodNotAllowed, pageView{Title: "Not allowed", Message: "Open the link in a browser."})
	}
}

// showLink is the page a GET shows: it changes nothing.
func (h *Handler) showLink(ctx context.Context, id, hash string) events.APIGatewayProxyResponse {
	via := string(delivery.AckLink)
	l, a, err := h.acks.Peek(ctx, alerting.LookupToken, hash)
	attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", http.MethodGet)}
	res := alerting.AckResult{Alert: a}
	if a != nil && a.Ack != nil {
		res.Ack = *a.Ack
	}
	attrs = append(attrs, ackAttrs(res)...)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		h.logLine(ctx, slog.LevelInfo, via, "unknown_link", attrs...)
		return page(id, http.StatusNotFound, pageUnknown())
	case errors.Is(err, alerting.ErrUsed):
		h.logLine(ctx, slog.LevelInfo, via, "used_link", attrs...)
		return page(id, http.StatusGone, pageUsed(a))
	case errors.Is(err, alerting.ErrExpired):
		h.logLine(ctx, slog.LevelInfo, via, "expired_link", attrs...)
		return page(id, http.StatusGone, pageExpired(a, l.ValidUntil))
	case err != nil:
		h.logLine(ctx, slog.LevelError, via, string(api.CodeUnavailable), append(attrs, slog.String("error", err.Error()))...)
		return page(id, http.StatusServiceUnavailable, pageUnavailable())
	case a.Ack != nil:
		h.logLine(ctx, slog.LevelInfo, via, "shown_acknowledged", attrs...)
		return page(id, http.StatusOK, pageAlready(a))
	case !delivery.AlertTransitions.Allows(a.Status, delivery.AlertAcknowledged):
		h.logLine(ctx, slog.LevelInfo, via, string(api.CodeNotAcknowledgeable), attrs...)
		return page(id, http.StatusConflict, pageClosed(a))
	}
	h.logLine(ctx, slog.LevelInfo, via, "shown", attrs...)
	return page(id, http.StatusOK, pageOpen(a))
}

// useLink acknowledges by the link: the button's POST.
func (h *Handler) useLink(ctx context.Context, id, hash string) events.APIGatewayProxyResponse {
	via := string(delivery.AckLink)
	res, err := h.acks.AckByLookup(ctx, alerting.LookupToken, hash, delivery.AckLink)
	attrs := append([]slog.Attr{slog.String("request_id", id), slog.String("method", http.MethodPost)}, ackAttrs(res)...)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		h.logLine(ctx, slog.LevelInfo, via, "unknown_link", attrs...)
		return page(id, http.StatusNotFound, pageUnknown())
	case errors.Is(err, alerting.ErrUsed):
		h.logLine(ctx, slog.LevelInfo, via, "used_link", attrs...)
		return page(id, http.StatusGone, pageUsed(res.Alert))
	case errors.Is(err, alerting.ErrExpired):
		h.logLine(ctx, slog.LevelInfo, via, "expired_link", attrs...)
		return page(id, http.StatusGone, pageExpired(res.Alert, time.Time{}))
	case errors.Is(err, alerting.ErrNotAcknowledgeable):
		h.logLine(ctx, slog.LevelInfo, via, string(api.CodeNotAcknowledgeable), attrs...)
		return page(id, http.StatusConflict, pageClosed(res.Alert))
	case err != nil:
		h.logLine(ctx, slog.LevelError, via, string(api.CodeUnavailable), append(attrs, slog.String("error", err.Error()))...)
		return page(id, http.StatusServiceUnavailable, pageUnavailable())
	}
	h.logLine(ctx, slog.LevelInfo, via, outcomeOf(res), attrs...)
	if res.Already {
		return page(id, http.StatusOK, pageAlready(res.Alert))
	}
	return page(id, http.StatusOK, pageDone(res.Alert))
}
