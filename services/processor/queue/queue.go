// Package queue is the asynchronous path's adapter to AWS: it puts an
// accepted alert on the stack's EventBridge bus (Publisher), reads the
// alert back from the SQS message the bus's rule delivered to the alert
// queue (Decode), and defers a message's next receive (Visibility).
//
// The event holds no content of the alert: the API client, the
// message_id, the instance, the priority and the accepted time, which is
// what other consumers of the bus (an audit archive) may see. Its source
// is names.EventSource and its detail-type names.EventDetailTypeAccepted;
// the rule's target delivers the whole event as the message body.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Detail is the detail of the event put on the bus for an accepted alert:
// the JSON other consumers of the bus read.
type Detail struct {
	// Client is the API client that sent the alert.
	Client string `json:"client"`
	// MessageID is the alert's message_id.
	MessageID string `json:"message_id"`
	// Instance tells this alert apart from an earlier one with the same
	// message_id (alerting.Alert.Instance).
	Instance string `json:"instance"`
	// Priority is H, M or L.
	Priority string `json:"priority"`
	// AcceptedAt is when it was accepted, RFC 3339 with milliseconds.
	AcceptedAt string `json:"accepted_at"`
}

// Ticket is the alert a message names.
type Ticket struct {
	// Key is the API client and message_id.
	Key alert.Key
	// Instance is the alert's instance.
	Instance string
}

// EventsAPI is the part of the EventBridge client Publisher uses.
type EventsAPI interface {
	// PutEvents puts events on a bus.
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ EventsAPI = (*eventbridge.Client)(nil)

// Publisher puts accepted alerts on the bus.
type Publisher struct {
	client EventsAPI
	bus    string
}

// NewPublisher returns a Publisher putting events on the bus named bus.
func NewPublisher(client EventsAPI, bus string) *Publisher {
	return &Publisher{client: client, bus: bus}
}

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Enqueue puts the event of the accepted alert a on the bus. An entry the
// bus refuses is an error naming its code.
func (p *Publisher) Enqueue(ctx context.Context, a *alerting.Alert) error {
	detail, err := json.Marshal(Detail{
		Client: a.Key.Client, MessageID: a.Key.MessageID, Instance: a.Instance,
		Priority: string(a.Priority), AcceptedAt: a.AcceptedAt.UTC().Format(timeFormat),
	})
	if err != nil {
		return fmt.Errorf("queue alert %s: %w", a.Key, err)
	}
	out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(names.EventSource),
		DetailType:   aws.String(names.EventDetailTypeAccepted),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(a.AcceptedAt),
	}}})
	if err != nil {
		return fmt.Errorf("put alert %s on bus %s: %w", a.Key, p.bus, err)
	}
	if out.FailedEntryCount > 0 || len(out.Entries) != 1 || aws.ToString(out.Entries[0].EventId) == "" {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put alert %s on bus %s: the entry was refused (%s: %s)", a.Key, p.bus, code, msg)
	}
	return nil
}

// envelope is the part of an EventBridge event that Decode reads.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// ErrNotAnAlert reports a message that is not an accepted alert's event.
var ErrNotAnAlert = errors.New("the message is not an accepted alert's event")

// Decode reads the alert an SQS message body (the event the bus's rule
// delivered) names. A body that is not such an event is an error wrapping
// ErrNotAnAlert.
func Decode(body string) (Ticket, error) {
	var ev envelope
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return Ticket{}, fmt.Errorf("%w: not an event: %w", ErrNotAnAlert, err)
	}
	if ev.Source != names.EventSource || ev.DetailType != names.EventDetailTypeAccepted {
		return Ticket{}, fmt.Errorf("%w: source %q, detail-type %q", ErrNotAnAlert, ev.Source, ev.DetailType)
	}
	var d Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Ticket{}, fmt.Errorf("%w: detail: %w", ErrNotAnAlert, err)
	}
	if d.Client == "" || d.MessageID == "" || d.Instance == "" {
		return Ticket{}, fmt.Errorf("%w: the detail lacks the client, message_id or instance", ErrNotAnAlert)
	}
	return Ticket{Key: alert.Key{Client: d.Client, MessageID: d.MessageID}, Instance: d.Instance}, nil
}

// VisibilityAPI is the part of the SQS client Visibility uses.
type VisibilityAPI interface {
	// ChangeMessageVisibility sets when a received message is handed out
	// again.
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ VisibilityAPI = (*sqs.Client)(nil)

// Visibility defers the next receive of messages of one queue.
type Visibility struct {
	client   VisibilityAPI
	queueURL string
}

// NewVisibility returns a Visibility for the queue at queueURL.
func NewVisibility(client VisibilityAPI, queueURL string) *Visibility {
	return &Visibility{client: client, queueURL: queueURL}
}

// Defer makes the received message with receiptHandle visible again after
// d (whole seconds, rounded up), instead of after the queue's visibility
// timeout.
func (v *Visibility) Defer(ctx context.Context, receiptHandle string, d time.Duration) error {
	seconds := int32((d + time.Second - 1) / time.Second) //nolint:gosec // the stack bounds the delay to 12 h
	if _, err := v.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(v.queueURL), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: seconds,
	}); err != nil {
		return fmt.Errorf("defer message on %s: %w", v.queueURL, err)
	}
	return nil
}

// EachMessage hands every message of an event source mapping's batch to
// handle, all at once, and answers the messages to receive again (handle
// returned true, or panicked): with ReportBatchItemFailures on the
// mapping, Lambda deletes the others and leaves these in the queue. A
// panic is returned as the message's cause to onPanic, which logs it.
func EachMessage(ev events.SQSEvent, handle func(m events.SQSMessage) (again bool), onPanic func(m events.SQSMessage, p any)) events.SQSEventResponse {
	again := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, m := range ev.Records {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					again[i] = true
					onPanic(m, p)
				}
			}()
			again[i] = handle(m)
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, m := range ev.Records {
		if again[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}
