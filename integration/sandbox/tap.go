package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// tapWaitSeconds is the long-poll of the tap's receive loop. kumo returns
// as soon as a message arrives, so this only bounds idle round trips.
const tapWaitSeconds = 1

// Delivery is one message published to a tapped topic, read from the SNS
// notification envelope SNS puts on the tap's queue.
type Delivery struct {
	// Topic is the logical name the topic was tapped under.
	Topic     string
	TopicARN  string `json:"TopicArn"`
	MessageID string `json:"MessageId"`
	Subject   string `json:"Subject"`
	Message   string `json:"Message"`
	Timestamp string `json:"Timestamp"`
	// MessageAttributes are the publish's attributes, as SNS renders them.
	MessageAttributes map[string]struct {
		Type  string `json:"Type"`
		Value string `json:"Value"`
	} `json:"MessageAttributes"`
	// ReceivedAt is when the tap read it.
	ReceivedAt time.Time `json:"-"`
}

// Tap is an SQS queue subscribed to topics (RawMessageDelivery off, so each
// delivery keeps its Subject and topic), read continuously in the
// background. It shows tests and `make dev` every email and SMS the
// functions publish.
type Tap struct {
	// QueueURL and QueueARN name the tap's queue.
	QueueURL, QueueARN string

	clients *Clients
	cancel  context.CancelFunc
	done    chan struct{}

	mu         sync.Mutex
	topics     map[string]string // ARN -> logical name
	onDelivery func(Delivery)
	deliveries observed[Delivery]
}

// StartTap creates the tap's queue in the emulator and starts reading it.
// onDelivery, if not nil, is called (from the reading goroutine) for each
// delivery: `make dev` prints them.
func StartTap(ctx context.Context, clients *Clients, onDelivery func(Delivery)) (*Tap, error) {
	name := "a2p-sandbox-tap-" + randomHex(7)

	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("tap: CreateQueue: %w", err)
	}

	attrs, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("tap: GetQueueAttributes: %w", err)
	}

	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))

	t := &Tap{
		QueueURL:   aws.ToString(q.QueueUrl),
		QueueARN:   attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		clients:    clients,
		cancel:     cancel,
		done:       make(chan struct{}),
		topics:     map[string]string{},
		onDelivery: onDelivery,
	}

	go t.poll(pollCtx)

	return t, nil
}

// Subscribe taps the topic with ARN arn, reporting its deliveries under
// name.
func (t *Tap) Subscribe(ctx context.Context, name, arn string) error {
	if _, err := t.clients.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:              aws.String(arn),
		Protocol:              aws.String("sqs"),
		Endpoint:              aws.String(t.QueueARN),
		Attributes:            map[string]string{"RawMessageDelivery": "false"},
		ReturnSubscriptionArn: true,
	}); err != nil {
		return fmt.Errorf("tap topic %s: %w", name, err)
	}

	t.mu.Lock()
	t.topics[arn] = name
	t.mu.Unlock()

	return nil
}

func (t *Tap) poll(ctx context.Context) {
	defer close(t.done)

	for ctx.Err() == nil {
		out, err := t.clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(t.QueueURL),
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     tapWaitSeconds,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}

			t.record(nil, fmt.Errorf("tap receive: %w", err))

			// The emulator is failing; slow down instead of spinning.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}

			continue
		}

		var entries []sqstypes.DeleteMessageBatchRequestEntry

		for i, m := range out.Messages {
			var d Delivery
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &d); err != nil {
				t.record(nil, fmt.Errorf("tap: message is not an SNS envelope: %w", err))
			} else {
				d.ReceivedAt = time.Now()
				t.record(&d, nil)
			}

			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle,
			})
		}

		if len(entries) > 0 {
			if _, err := t.clients.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
				QueueUrl: aws.String(t.QueueURL), Entries: entries,
			}); err != nil && ctx.Err() == nil {
				t.record(nil, fmt.Errorf("tap delete: %w", err))
			}
		}
	}
}

func (t *Tap) record(d *Delivery, err error) {
	if err != nil {
		t.deliveries.addErr(err)
	}

	if d == nil {
		return
	}

	t.mu.Lock()
	d.Topic = t.topics[d.TopicARN]
	onDelivery := t.onDelivery
	t.mu.Unlock()

	t.deliveries.add(*d)

	if onDelivery != nil {
		onDelivery(*d)
	}
}

// Deliveries returns every delivery read so far, in order.
func (t *Tap) Deliveries() []Delivery { return t.deliveries.all() }

// Errors returns the tap's receive errors so far.
func (t *Tap) Errors() []error { return t.deliveries.errors() }

// WaitFor waits until n deliveries satisfy match (nil matches all) and
// returns them, or fails when ctx ends first, returning those seen.
func (t *Tap) WaitFor(ctx context.Context, n int, match func(Delivery) bool) ([]Delivery, error) {
	return t.deliveries.waitFor(ctx, n, match, "tap", "deliveries")
}

// Close stops reading. The queue stays in the emulator.
func (t *Tap) Close() error {
	t.cancel()
	<-t.done

	return nil
}
