package notify

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// answer turns the core's result into the caller's answer. Sent, failed
// on every channel and unknown are final: recorded, so a retry replays
// them. A retry outcome (nothing sent, and a retry may succeed) releases
// the lock instead.
func (h *Handler) answer(ctx context.Context, r *request, res alerting.Result) events.APIGatewayProxyResponse {
	r.attempts = len(res.Attempts)
	if n := len(res.Attempts); n > 0 {
		r.setChannel(res.Attempts[n-1].Channel)
	}
	switch res.Outcome {
	case alerting.OutcomeSent:
		s := res.Sent
		r.setChannel(s.Channel)
		r.outcome = names.OutcomeSent
		body := mustJSON(api.Sent{
			MessageID: r.messageID, Status: api.StatusSent, Channel: string(s.Channel),
			ProviderMessageID: s.ProviderRef, Attempts: len(res.Attempts),
		})
		return h.finish(ctx, r, StoredResponse{Status: http.StatusOK, Body: body}, Outcome{Channel: s.Channel})
	case alerting.OutcomeUnknown:
		u := res.Unknown
		r.setChannel(u.Channel)
		e := deliveryUnknown(u.Channel, failedAttempts(res.Attempts), res.Cause)
		return h.finish(ctx, r, StoredResponse{Status: e.Status(), Body: h.fail(r, e).Body},
			Outcome{Channel: u.Channel, Failure: delivery.Ambiguous})
	case alerting.OutcomeFailed:
		e := &Error{Code: api.CodeUndeliverableAllChannels, Message: msgUndeliverableAll, Attempts: failedAttempts(res.Attempts), Err: res.Cause}
		return h.finish(ctx, r, StoredResponse{Status: e.Status(), Body: h.fail(r, e).Body},
			Outcome{Channel: r.channel, Failure: delivery.Permanent})
	case alerting.OutcomeRetry: // below, with any outcome the core might add: nothing was recorded as final
	}
	h.release(ctx, r)
	e := unavailable(res.Cause)
	e.Attempts = failedAttempts(res.Attempts)
	return h.fail(r, e)
}

// failedAttempts lists the attempts that failed or whose outcome is
// unknown, by channel and class (never a destination).
func failedAttempts(attempts []alerting.Attempt) []api.FailedAttempt {
	var out []api.FailedAttempt
	for _, at := range attempts {
		if at.Failure != "" {
			out = append(out, api.FailedAttempt{Channel: string(at.Channel), FailureClass: string(at.Failure)})
		}
	}
	return out
}
