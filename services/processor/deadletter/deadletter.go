// Package deadletter is the handler of the dead-letter queue's event
// source mapping: a message lands there after the alert queue handed it
// out the stack's asyncMaxReceiveCount times without its alert being
// settled (every round requeued, or the worker failing), or when
// EventBridge could not deliver the event to the alert queue. The handler
// gives the alert up (alerting.Records.GiveUp, reason dead_lettered): an
// attempt still sending becomes unknown, the alert failed, and its
// metrics line counts a failed alert, which the alerts-failed alarm
// watches. Operators then find the alert with GET
// /notification/{message_id} (its failed event says dead_lettered) and
// send it again with a new message_id once the cause is fixed.
//
// A message is kept in the dead-letter queue (a batch item failure) when
// the alert cannot be given up yet (the record could not be read or
// written, an attempt may still be under way) and when it is not an
// alert's event at all: the dead-letter-queue-depth alarm then shows it.
package deadletter

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/queue"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Records reads and gives up alerts (*alerting.Records).
type Records interface {
	// Load reads one instance of an alert.
	Load(ctx context.Context, key alert.Key, instance string) (*alerting.Alert, error)
	// GiveUp records the alert failed for reason.
	GiveUp(ctx context.Context, a *alerting.Alert, reason delivery.Reason) error
}

var _ Records = (*alerting.Records)(nil)

// Handler handles the dead-letter queue's batches. It is safe for
// concurrent use.
type Handler struct {
	records Records
	logger  *slog.Logger
}

// New returns a Handler giving alerts up in records, logging one line per
// message to logger.
func New(records Records, logger *slog.Logger) (*Handler, error) {
	if records == nil || logger == nil {
		return nil, errors.New("deadletter: records and logger are required")
	}
	return &Handler{records: records, logger: logger}, nil
}

// msgGivenUp is the log message of an alert given up: an ERROR line, as
// no clinician may have been reached.
const msgGivenUp = "alert given up: its queue message was dead-lettered; no clinician may have it"

// Handle gives up every message's alert and answers the messages to keep.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return queue.EachMessage(ev, func(m events.SQSMessage) bool {
		return h.message(ctx, m)
	}, func(m events.SQSMessage, p any) {
		h.logger.LogAttrs(ctx, slog.LevelError, "message", slog.String("sqs_message_id", m.MessageId),
			slog.String("outcome", "panic"), slog.Any("error", p))
	}), nil
}

// message gives up one message's alert, logs its line, and reports
// whether the message is to be kept.
func (h *Handler) message(ctx context.Context, m events.SQSMessage) bool {
	attrs := []slog.Attr{
		slog.String("sqs_message_id", m.MessageId), slog.String("receive_count", m.Attributes["ApproximateReceiveCount"]),
	}
	log := func(level slog.Level, msg, outcome string, err error, keep bool) bool {
		attrs = append(attrs, slog.String("outcome", outcome))
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error())) // errors of ids and the store: no content
		}
		h.logger.LogAttrs(ctx, level, msg, attrs...)
		return keep
	}
	t, err := queue.Decode(m.Body)
	if err != nil {
		return log(slog.LevelError, "a dead-lettered message is not an alert's event; it stays in the dead-letter queue", "not_an_alert", err, true)
	}
	attrs = append(attrs, slog.String("client", t.Key.Client), slog.String("message_id", t.Key.MessageID), slog.String("instance", t.Instance))
	a, err := h.records.Load(ctx, t.Key, t.Instance)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		return log(slog.LevelWarn, "message", "not_found", err, false)
	case err != nil:
		return log(slog.LevelWarn, "message", "unavailable", err, true)
	}
	switch err := h.records.GiveUp(ctx, a, delivery.ReasonDeadLettered); {
	case err == nil:
		attrs = append(attrs, slog.String("priority", string(a.Priority)), slog.Int("attempts", len(a.Attempts)))
		return log(slog.LevelError, msgGivenUp, string(delivery.ReasonDeadLettered), nil, false)
	case errors.Is(err, alerting.ErrSettled):
		return log(slog.LevelInfo, "message", "settled", nil, false)
	case errors.Is(err, alerting.ErrInProgress), errors.Is(err, alerting.ErrConflict):
		return log(slog.LevelInfo, "message", "in_progress", err, true)
	default:
		return log(slog.LevelError, names.LogAlertNotRecorded, "unavailable", err, true)
	}
}
