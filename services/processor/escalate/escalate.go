// Package escalate is the escalate function: the target of every
// escalation timer (an EventBridge Scheduler schedule whose input is an
// escalation.Timer). It hands the timer to the alerting core, which moves
// the alert to the timer's stage only if it is still unacknowledged and
// short of it (a late, duplicate or raced timer does nothing), sets the
// next timer and reaches the stage's targets; and logs one line. An error
// is returned only when nothing was moved and a retry can help (the
// record could not be read or written): Scheduler retries the timer.
package escalate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Escalator is the part of the alerting core the function drives
// (*alerting.Core).
type Escalator interface {
	// Escalate runs one timer.
	Escalate(ctx context.Context, t escalation.Timer, deadline time.Time) (alerting.EscalateResult, error)
}

var _ Escalator = (*alerting.Core)(nil)

// Handler runs escalation timers. It is safe for concurrent use.
type Handler struct {
	core    Escalator
	logger  *slog.Logger
	timeout time.Duration
}

// New returns a Handler; timeout stands in for the invocation's deadline
// when the context has none.
func New(core Escalator, logger *slog.Logger, timeout time.Duration) (*Handler, error) {
	if core == nil || logger == nil || timeout <= 0 {
		return nil, errors.New("escalate: a core, a logger and a positive timeout are required")
	}
	return &Handler{core: core, logger: logger, timeout: timeout}, nil
}

// Answer is what an invocation returns (Scheduler ignores it; a test or
// an operator invoking the function reads it).
type Answer struct {
	Outcome string `json:"outcome"`
	Saw     string `json:"saw,omitempty"`
	Stage   int    `json:"stage"`
}

// outcomeInvalid answers an input that is not a timer: it is logged and
// not retried (a retry could not help).
const outcomeInvalid = "invalid"

// Handle runs the timer in raw.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Answer, error) {
	t, err := escalation.ParseTimer(raw)
	if err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, "escalation timer", slog.String("outcome", outcomeInvalid), slog.String("error", err.Error()))
		return Answer{Outcome: outcomeInvalid}, nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(h.timeout)
	}
	res, err := h.core.Escalate(ctx, t, deadline)
	attrs := []slog.Attr{
		slog.String("client", t.Key.Client), slog.String("message_id", t.Key.MessageID), slog.String("instance", t.Instance),
		slog.Int("timer", t.Number), slog.String("outcome", string(res.Outcome)), slog.String("saw", string(res.Saw)),
		slog.Int("stage", res.Stage), slog.Int("attempts", len(res.Delivery.Attempts)),
	}
	if err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, "escalation timer", append(attrs, slog.String("error", res.Scrub(err.Error())))...)
		return Answer{}, fmt.Errorf("escalation timer %s: %w", t.Name(), err)
	}
	for _, s := range res.Skipped {
		attrs = append(attrs, slog.String("skipped_target", string(s)))
	}
	h.logger.LogAttrs(ctx, slog.LevelInfo, "escalation timer", attrs...)
	for _, rerr := range res.Delivery.RecordErrors {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogAlertNotRecorded, slog.String("message_id", t.Key.MessageID),
			slog.String("error", res.Scrub(rerr.Error())))
	}
	if res.TimerErr != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, names.LogTimerNotSet, slog.String("message_id", t.Key.MessageID),
			slog.Int("timer", t.Number+1), slog.String("error", res.TimerErr.Error()))
	}
	return Answer{Outcome: string(res.Outcome), Saw: string(res.Saw), Stage: res.Stage}, nil
}
