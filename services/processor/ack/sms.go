package ack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// InboundSMS is the message AWS End User Messaging two-way SMS publishes
// to the stack's inbound topic for each reply (the fields used here).
type InboundSMS struct {
	// OriginationNumber is the number the reply came from (E.164).
	OriginationNumber string `json:"originationNumber"`
	// DestinationNumber is the number it was sent to.
	DestinationNumber string `json:"destinationNumber"`
	// MessageBody is the reply's text.
	MessageBody string `json:"messageBody"`
	// InboundMessageID identifies the reply.
	InboundMessageID string `json:"inboundMessageId"`
}

// replyCode is a reply's code: the first group of exactly six digits.
var replyCode = regexp.MustCompile(`(?:^|\D)(\d{6})(?:\D|$)`)

// HandleSMS acknowledges by each reply: the alert whose SMS went to the
// reply's number with its code. A reply from another number, with no or
// an unknown code, or past the alert's window and grace is refused (and
// logged); only a failure to read or write the record is an error, which
// makes Lambda retry the event.
func (h *Handler) HandleSMS(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for _, rec := range ev.Records {
		errs = append(errs, h.reply(ctx, rec.SNS))
	}
	return errors.Join(errs...)
}

// reply handles one inbound SMS.
func (h *Handler) reply(ctx context.Context, msg events.SNSEntity) error {
	via := string(delivery.AckSMS)
	attrs := []slog.Attr{slog.String("sns_message_id", msg.MessageID)}
	in, ok := parseInbound(msg.Message)
	if !ok { // not retried: it never will be one
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", "not an inbound SMS"))...)
		return nil
	}
	attrs = append(attrs, slog.String("inbound_message_id", in.InboundMessageID))
	m := replyCode.FindStringSubmatch(in.MessageBody)
	if m == nil {
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", "the reply holds no code"))...)
		return nil
	}
	res, err := h.acks.AckByLookup(ctx, alerting.LookupCode, alerting.CodeHash(in.OriginationNumber, m[1]), delivery.AckSMS)
	attrs = append(attrs, ackAttrs(res)...)
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", "no alert sent to that number has that code"))...)
		return nil
	case errors.Is(err, alerting.ErrExpired), errors.Is(err, alerting.ErrUsed), errors.Is(err, alerting.ErrNotAcknowledgeable):
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", err.Error()))...)
		return nil
	case err != nil:
		h.logLine(ctx, slog.LevelError, via, KeypadError, append(attrs, slog.String("error", err.Error()))...)
		return fmt.Errorf("acknowledge by SMS reply %s: %w", in.InboundMessageID, err)
	}
	h.logLine(ctx, slog.LevelInfo, via, outcomeOf(res), attrs...)
	return nil
}

// parseInbound reads an End User Messaging inbound SMS; ok is false when
// message is not one.
func parseInbound(message string) (InboundSMS, bool) {
	var in InboundSMS
	err := json.Unmarshal([]byte(message), &in)
	return in, err == nil && in.OriginationNumber != ""
}
