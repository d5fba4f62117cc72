// Package worker is the asynchronous path's delivery: the handler of the
// alert queue's event source mapping (batches with
// ReportBatchItemFailures). Each message names an alert the POST recorded
// accepted (package queue decodes it); the worker reads the alert's
// record, takes it up with the alerting core (Resume) and delivers it
// with the same Deliver the synchronous path uses: one place decides
// delivery.
//
// A message is done (deleted) once its alert is settled: sent, failed,
// or unknown. It is received again (a batch item failure) when a retry may
// succeed: the round ended requeued (every failure transient, or time ran
// out), an attempt may still be under way elsewhere, the record or the
// contact could not be read, or the message is not an alert's event.
// Such a message is deferred by the stack's retry delay (Deferrer), and
// after the queue's maxReceiveCount receives it moves to the dead-letter
// queue, whose handler gives the alert up (package deadletter). A
// message handed out twice cannot send twice: the second taker's first
// write is refused by the record's version (Result.Taken), and a message
// whose alert is settled sends nothing.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/queue"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Alerts is the part of the alerting core the worker drives
// (*alerting.Core).
type Alerts interface {
	// Load reads one instance of an alert.
	Load(ctx context.Context, key alert.Key, instance string) (*alerting.Alert, error)
	// Resume takes a queued alert up for delivery.
	Resume(ctx context.Context, a *alerting.Alert) (*alerting.Accepted, error)
	// Deliver tries the alert's channels in order and records each step.
	Deliver(ctx context.Context, acc *alerting.Accepted, deadline time.Time) alerting.Result
}

var _ Alerts = (*alerting.Core)(nil)

// Deferrer defers a received message's next receive (queue.Visibility).
type Deferrer interface {
	// Defer makes the message visible again after d.
	Defer(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Config is what a Handler is built from.
type Config struct {
	// Alerts reads and delivers alerts. Required.
	Alerts Alerts
	// Queue defers the messages to receive again by RetryDelay. Optional:
	// nil leaves them to the queue's visibility timeout.
	Queue Deferrer
	// RetryDelay is how long a message to receive again stays invisible.
	RetryDelay time.Duration
	// Timeout stands in for the invocation's deadline when the context
	// has none (outside Lambda). Required.
	Timeout time.Duration
	// Reserve bounds the writes after the deliveries (the budget's
	// reserve). Required.
	Reserve time.Duration
	// Logger receives one line per message. Required.
	Logger *slog.Logger
}

// Handler handles the alert queue's batches. It is safe for concurrent
// use.
type Handler struct {
	cfg Config
}

// New builds a Handler, checking that every required part is present.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Alerts == nil || cfg.Logger == nil:
		return nil, errors.New("worker: Alerts and Logger are required")
	case cfg.Timeout <= 0 || cfg.Reserve <= 0 || cfg.RetryDelay < 0:
		return nil, fmt.Errorf("worker: Timeout %s and Reserve %s must be positive, RetryDelay %s not negative", cfg.Timeout, cfg.Reserve, cfg.RetryDelay)
	}
	return &Handler{cfg: cfg}, nil
}

// Handle delivers every message's alert of the batch at once, each within
// the invocation's time budget, and answers the messages to receive again.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(h.cfg.Timeout)
	}
	return queue.EachMessage(ev, func(m events.SQSMessage) bool {
		return h.message(ctx, m, deadline)
	}, func(m events.SQSMessage, p any) {
		h.cfg.Logger.LogAttrs(ctx, slog.LevelError, "message", slog.String("sqs_message_id", m.MessageId),
			slog.String("outcome", "panic"), slog.String("error", fmt.Sprint(p)))
		h.deferNext(ctx, m)
	}), nil
}

// line is what one message's log line says.
type line struct {
	level   slog.Level
	outcome string
	again   bool
	ticket  queue.Ticket
	res     *alerting.Result
	err     error
}

// message handles one message and logs its line; it reports whether the
// message is to be received again.
func (h *Handler) message(ctx context.Context, m events.SQSMessage, deadline time.Time) bool {
	start := time.Now()
	l, acc := h.deliver(ctx, m, deadline)
	if l.again {
		h.deferNext(ctx, m)
	}
	scrub := func(s string) string { return s }
	if acc != nil {
		scrub = acc.Scrub
	}
	attrs := []slog.Attr{
		slog.String("sqs_message_id", m.MessageId), slog.String("receive_count", m.Attributes["ApproximateReceiveCount"]),
		slog.String("outcome", l.outcome), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if l.ticket.Instance != "" {
		attrs = append(attrs, slog.String("client", l.ticket.Key.Client), slog.String("message_id", l.ticket.Key.MessageID),
			slog.String("instance", l.ticket.Instance))
	}
	if l.res != nil && len(l.res.Attempts) > 0 {
		attrs = append(attrs, slog.Int("attempts", len(l.res.Attempts)),
			slog.String("channel", string(l.res.Attempts[len(l.res.Attempts)-1].Channel)))
	}
	if l.err != nil {
		attrs = append(attrs, slog.String("error", scrub(l.err.Error())))
	}
	if l.res != nil && !l.res.Taken { // a taker's refused write is the guard working, not a loss
		for _, err := range l.res.RecordErrors {
			h.cfg.Logger.LogAttrs(ctx, slog.LevelError, names.LogAlertNotRecorded,
				slog.String("message_id", l.ticket.Key.MessageID), slog.String("error", scrub(err.Error())))
		}
	}
	h.cfg.Logger.LogAttrs(ctx, l.level, "message", attrs...)
	return l.again
}

// deliver reads, takes up and delivers the message's alert.
func (h *Handler) deliver(ctx context.Context, m events.SQSMessage, deadline time.Time) (line, *alerting.Accepted) {
	t, err := queue.Decode(m.Body)
	if err != nil {
		return line{level: slog.LevelError, outcome: "not_an_alert", again: true, err: err}, nil
	}
	a, err := h.cfg.Alerts.Load(ctx, t.Key, t.Instance)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		return line{level: slog.LevelWarn, outcome: "not_found", ticket: t, err: err}, nil
	case err != nil:
		return line{level: slog.LevelWarn, outcome: "unavailable", again: true, ticket: t, err: err}, nil
	}
	acc, err := h.cfg.Alerts.Resume(ctx, a)
	switch {
	case errors.Is(err, alerting.ErrSettled):
		return line{level: slog.LevelInfo, outcome: "settled", ticket: t}, nil
	case errors.Is(err, alerting.ErrInProgress):
		return line{level: slog.LevelInfo, outcome: "in_progress", again: true, ticket: t}, nil
	case err != nil:
		return line{level: slog.LevelWarn, outcome: "unavailable", again: true, ticket: t, err: err}, nil
	}
	res := h.cfg.Alerts.Deliver(ctx, acc, deadline)
	l := line{level: slog.LevelInfo, outcome: string(res.Outcome), ticket: t, res: &res, err: res.Cause}
	switch {
	case res.Taken:
		l.outcome, l.again, l.err = "taken", true, nil
	case res.Outcome == alerting.OutcomeRetry:
		l.level, l.outcome, l.again = slog.LevelWarn, "requeued", true
	case res.Outcome == alerting.OutcomeFailed || res.Outcome == alerting.OutcomeUnknown:
		l.level = slog.LevelError
	case res.Outcome == alerting.OutcomeSent:
		l.err = nil
	}
	return l, acc
}

// deferNext defers the message's next receive by the retry delay, as a
// best effort: when it fails, the queue's visibility timeout applies.
func (h *Handler) deferNext(ctx context.Context, m events.SQSMessage) {
	if h.cfg.Queue == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.Reserve)
	defer cancel()
	if err := h.cfg.Queue.Defer(ctx, m.ReceiptHandle, h.cfg.RetryDelay); err != nil {
		h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "message not deferred; the queue's visibility timeout applies",
			slog.String("sqs_message_id", m.MessageId), slog.String("error", err.Error()))
	}
}
