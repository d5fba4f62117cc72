// Package ack is the ack function: every way an acknowledgment arrives,
// each driving the one Acknowledge rule of the alerting core.
//
//   - POST /notification/{message_id}/ack, behind the authorizer: the
//     owning API client acknowledges (JSON, api.Acknowledged).
//   - GET /ack/{token}, without the authorizer: an HTML page with the
//     alert's priority, type and reference and a button; it changes
//     nothing, so mail scanners that open links acknowledge nothing.
//   - POST /ack/{token}: the button; the link's attempt is acknowledged by
//     its contact, once (a used or expired link answers 410, a page that
//     says so).
//   - The contact flow's keypad (an events.ConnectEvent): 1 pressed on the
//     call, accepted only for the ContactId the attempt recorded.
//   - An SMS reply (an events.SNSEvent from the two-way SMS topic): the
//     code from the number the SMS went to.
//
// Nothing here logs a token, a code, a phone number or any text of an
// alert.
package ack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// Acks is the part of the alerting core the function drives
// (*alerting.Core, from alerting.NewAcknowledger).
type Acks interface {
	// Acknowledge applies the one rule.
	Acknowledge(ctx context.Context, req alerting.AckRequest) (alerting.AckResult, error)
	// AckByLookup acknowledges by a link token or reply code.
	AckByLookup(ctx context.Context, kind alerting.LookupKind, hash string, method delivery.AckMethod) (alerting.AckResult, error)
	// Peek reads a lookup and its alert, changing nothing.
	Peek(ctx context.Context, kind alerting.LookupKind, hash string) (alerting.Lookup, *alerting.Alert, error)
}

var _ Acks = (*alerting.Core)(nil)

// Handler answers the ack function's events. It is safe for concurrent
// use.
type Handler struct {
	acks   Acks
	logger *slog.Logger
	newID  func() string
}

// New returns a Handler acknowledging through acks and logging one line
// per event to logger.
func New(acks Acks, logger *slog.Logger) (*Handler, error) {
	if acks == nil || logger == nil {
		return nil, errors.New("ack: acks and logger are required")
	}
	return &Handler{acks: acks, logger: logger, newID: rand.Text}, nil
}

// probe tells the function's events apart: an API Gateway proxy event
// has an httpMethod, a Connect flow event the name ContactFlowEvent, an
// SNS event records from aws:sns.
type probe struct {
	HTTPMethod string `json:"httpMethod"`
	Name       string `json:"Name"`
	Records    []struct {
		EventSource string `json:"EventSource"`
	} `json:"Records"`
}

// connectFlowEvent is the Name of a contact flow's Lambda event.
const connectFlowEvent = "ContactFlowEvent"

// errUnknownEvent reports an event of no kind the function serves.
var errUnknownEvent = errors.New("ack: the event is neither an API Gateway request, a contact flow event nor an SNS message")

// Handle answers one event of whichever kind: the function's only entry.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("ack: the event is not JSON: %w", err)
	}
	switch {
	case p.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("ack: API Gateway event: %w", err)
		}
		return h.HandleHTTP(ctx, ev), nil
	case p.Name == connectFlowEvent:
		var ev events.ConnectEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("ack: contact flow event: %w", err)
		}
		return h.HandleKeypad(ctx, ev), nil
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:sns":
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("ack: SNS event: %w", err)
		}
		return nil, h.HandleSMS(ctx, ev)
	default:
		return nil, errUnknownEvent
	}
}

// logLine writes one event's line: how it came, the outcome and
// attributes that hold no secret.
func (h *Handler) logLine(ctx context.Context, level slog.Level, via, outcome string, attrs ...slog.Attr) {
	attrs = append([]slog.Attr{slog.String("via", via), slog.String("outcome", outcome)}, attrs...)
	h.logger.LogAttrs(ctx, level, "acknowledgment", attrs...)
}

// ackAttrs are the log attributes of an acknowledgment result.
func ackAttrs(res alerting.AckResult) []slog.Attr {
	if res.Alert == nil {
		return nil
	}
	a := res.Alert
	attrs := []slog.Attr{
		slog.String("client", a.Key.Client), slog.String("message_id", a.Key.MessageID), slog.String("instance", a.Instance),
		slog.String("priority", string(a.Priority)), slog.String("status", string(a.Status)),
	}
	if res.Ack.Method != "" {
		attrs = append(attrs, slog.String("ack_method", string(res.Ack.Method)), slog.String("acked_by", res.Ack.By.String()),
			slog.Bool("late", res.Ack.Late), slog.Bool("already", res.Already))
	}
	if res.CancelErr != nil {
		attrs = append(attrs, slog.String("timer_error", res.CancelErr.Error()))
	}
	return attrs
}
