package ack

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// The contact flow reads the function's answer as $.External.result
// (a flat string map, the flow's STRING_MAP validation) and says
// "recorded" only for KeypadAcknowledged.
const (
	// KeypadResult is the answer's key.
	KeypadResult = "result"
	// KeypadAcknowledged: this press (or an earlier acknowledgment)
	// acknowledged the alert.
	KeypadAcknowledged = "acknowledged"
	// KeypadRefused: the call is not the one the attempt recorded, or
	// names no alert.
	KeypadRefused = "refused"
	// KeypadError: the record could not be read or written.
	KeypadError = "error"
)

// HandleKeypad acknowledges the alert whose call the clinician pressed 1
// on: the call's attributes name the alert and attempt, and the attempt
// must have recorded this call's ContactId.
func (h *Handler) HandleKeypad(ctx context.Context, ev events.ConnectEvent) map[string]string {
	via := string(delivery.AckKeypad)
	cd := ev.Details.ContactData
	attrs := []slog.Attr{slog.String("contact_id", cd.ContactID)}
	key, err := alert.ParseKey(cd.Attributes[names.ConnectAlertAttribute])
	attempt, aerr := strconv.Atoi(cd.Attributes[names.ConnectAttemptAttribute])
	if err != nil || aerr != nil || cd.Attributes[names.ConnectInstanceAttribute] == "" || cd.ContactID == "" {
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", "the call's attributes name no alert attempt"))...)
		return map[string]string{KeypadResult: KeypadRefused}
	}
	res, err := h.acks.Acknowledge(ctx, alerting.AckRequest{
		Key: key, Instance: cd.Attributes[names.ConnectInstanceAttribute], Method: delivery.AckKeypad,
		Attempt: attempt, ContactRef: cd.ContactID,
	})
	attrs = append(attrs, ackAttrs(res)...)
	switch {
	case errors.Is(err, alerting.ErrRefused), errors.Is(err, alerting.ErrNotFound), errors.Is(err, alerting.ErrNotAcknowledgeable):
		h.logLine(ctx, slog.LevelWarn, via, KeypadRefused, append(attrs, slog.String("reason", err.Error()))...)
		return map[string]string{KeypadResult: KeypadRefused}
	case err != nil:
		h.logLine(ctx, slog.LevelError, via, KeypadError, append(attrs, slog.String("error", err.Error()))...)
		return map[string]string{KeypadResult: KeypadError}
	}
	h.logLine(ctx, slog.LevelInfo, via, outcomeOf(res), attrs...)
	return map[string]string{KeypadResult: KeypadAcknowledged}
}
