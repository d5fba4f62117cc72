package observe

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// tapWaitSeconds is the long poll of the tap's receive loop. kumo answers
// as soon as a message arrives, so this only bounds idle round trips.
const tapWaitSeconds = 1

// Delivery is one message published to a tapped topic, read from the SNS
// notification envelope SNS puts on the tap's queue.
type Delivery struct {
	// Topic is the name the topic was tapped under.
	Topic     string
	TopicARN  string `json:"TopicArn"`
	MessageID string `json:"MessageId"`
	Subject   string `json:"Subject"`
	Message   string `json:"Message"`
}

// Tap is an SQS queue subscribed to topics, read continuously in the
// background, showing every email and SMS the functions publish. kumo
// delivers topic -> SQS within Publish; email and sms subscriptions are
// accepted there and deliver nothing observable. The subscriptions keep
// RawMessageDelivery off, so each message is the SNS JSON envelope with
// its Subject and topic.
type Tap struct {
	// QueueURL and QueueARN name the tap's queue.
	QueueURL, QueueARN string

	clients *emulator.Clients
	cancel  context.CancelFunc
	done    chan struct{}

	mu         sync.Mutex
	topics     map[string]string // ARN -> name
	onDelivery func(Delivery)
	deliveries List[Delivery]
}

// StartTap creates the tap's queue and starts reading it. onDelivery, if
// not nil, is called (from the reading goroutine) for each delivery.
func StartTap(ctx context.Context, clients *emulator.Clients, onDelivery func(Delivery)) (*Tap, error) {
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("a2p-sandbox-tap-" + rand.Text()[:8])})
	if err != nil {
		return nil, fmt.Errorf("tap: CreateQueue: %w", err)
	}
	attrs, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
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
			QueueUrl: aws.String(t.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: tapWaitSeconds,
		})
		if err != nil {
			if ctx.Err() == nil {
				t.deliveries.AddErr(fmt.Errorf("tap receive: %w", err))
				// The emulator is failing; slow down instead of spinning.
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			continue
		}
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
		for i, m := range out.Messages {
			t.record(aws.ToString(m.Body))
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(entries) == 0 {
			continue
		}
		if _, err := t.clients.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(t.QueueURL), Entries: entries,
		}); err != nil && ctx.Err() == nil {
			t.deliveries.AddErr(fmt.Errorf("tap delete: %w", err))
		}
	}
}

// record keeps one message read from the queue.
func (t *Tap) record(body string) {
	var d Delivery
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.deliveries.AddErr(fmt.Errorf("tap: message is not an SNS envelope: %w", err))
		return
	}
	t.mu.Lock()
	d.Topic = t.topics[d.TopicARN]
	onDelivery := t.onDelivery
	t.mu.Unlock()
	t.deliveries.Add(d)
	if onDelivery != nil {
		onDelivery(d)
	}
}

// Deliveries returns every delivery read so far, in order.
func (t *Tap) Deliveries() []Delivery { return t.deliveries.All() }

// Errors returns the tap's receive errors so far.
func (t *Tap) Errors() []error { return t.deliveries.Errors() }

// WaitFor waits until n deliveries satisfy match (nil matches all) and
// returns them, or fails when ctx ends first, returning those seen.
func (t *Tap) WaitFor(ctx context.Context, n int, match func(Delivery) bool) ([]Delivery, error) {
	return t.deliveries.WaitFor(ctx, n, match, "tap: deliveries")
}

// Close stops reading. The queue stays in the emulator.
func (t *Tap) Close() error {
	t.cancel()
	<-t.done
	return nil
}
