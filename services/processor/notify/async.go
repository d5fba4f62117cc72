package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// The asynchronous answer (issue 13). A request with Prefer:
// respond-async is validated, takes the idempotency lock, is recorded
// accepted, put on the event bus, and answered 202 with Location; that
// answer completes its idempotency record at once, so the lock lasts only
// as long as the request. A replay, with or without the preference, gets
// the first answer (202 or the synchronous one) with Idempotent-Replay.
// The delivery that follows (the worker) is guarded by the alert record's
// version, not by the lock.

// prefersAsync reports whether the request's Prefer headers (RFC 7240:
// comma-separated preferences, each a token with an optional value and
// parameters, in any number of headers, any case) hold respond-async.
func prefersAsync(ev events.APIGatewayProxyRequest) bool {
	var values []string
	for k, vs := range ev.MultiValueHeaders {
		if strings.EqualFold(k, names.HeaderPrefer) {
			values = append(values, vs...)
		}
	}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, names.HeaderPrefer) {
			values = append(values, v)
		}
	}
	for _, v := range values {
		for _, pref := range splitOutsideQuotes(v, ',') {
			token, _, _ := strings.Cut(pref, ";")
			token, _, _ = strings.Cut(token, "=")
			if strings.EqualFold(strings.TrimSpace(token), names.PreferRespondAsync) {
				return true
			}
		}
	}
	return false
}

// splitOutsideQuotes splits s at each sep that is not inside a quoted
// string (with backslash escapes), as RFC 7230 lists are.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// preferenceApplied is the Preference-Applied header of an answer with
// status: respond-async on a 202, which only the asynchronous path gives.
func preferenceApplied(status int) map[string]string {
	if status != http.StatusAccepted {
		return nil
	}
	return map[string]string{names.HeaderPreferenceApplied: names.PreferRespondAsync}
}

// enqueue queues the accepted alert and answers 202, recorded for
// replays. When it cannot be queued, the alert's instance is given up
// (failed, reason not_queued: were it queued after all, the worker finds
// it failed and sends nothing), the lock released and the answer is 503:
// a retry makes a new instance.
func (h *Handler) enqueue(ctx context.Context, r *request) events.APIGatewayProxyResponse {
	a := r.acc.Record()
	if err := h.queue.Enqueue(ctx, a); err != nil {
		bctx, cancel := h.bookkeeping(ctx)
		defer cancel()
		if gerr := h.alerts.GiveUp(bctx, a, delivery.ReasonNotQueued); gerr != nil {
			h.logger.LogAttrs(ctx, slog.LevelError, names.LogAlertNotRecorded,
				slog.String(logRequestID, r.id), slog.String(logMessageID, r.messageID), slog.String(logError, r.scrub(gerr.Error())))
		}
		h.release(ctx, r)
		return h.fail(r, unavailable(fmt.Errorf("queue the alert: %w", err)))
	}
	r.outcome = names.OutcomeQueued
	body := mustJSON(api.Accepted{MessageID: r.messageID, Status: api.StatusAccepted})
	return h.finish(ctx, r, StoredResponse{Status: http.StatusAccepted, Body: body}, Outcome{})
}
