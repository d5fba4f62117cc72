package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
)

// QueuePoller stands in for one SQS event source mapping, which kumo
// stores and never polls. Poll does what Lambda's poller does for one
// batch: it receives up to the batch size from kumo's queue, invokes the
// function with the SQS event Lambda would send, and deletes in one
// DeleteMessageBatch the messages the batch succeeded for (all, or with
// ReportBatchItemFailures all the function did not name). A function
// error, or a failure naming no message of the batch, fails it all; the
// messages left are kumo's again (visibility timeout, redrive to the DLQ).
type QueuePoller struct {
	provision.Mapping

	clients *emulator.Clients
}

// NewQueuePoller returns the poller of mapping m.
func NewQueuePoller(m provision.Mapping, clients *emulator.Clients) *QueuePoller {
	return &QueuePoller{Mapping: m, clients: clients}
}

// Batch is what one Poll did.
type Batch struct {
	// Received are the messages handed to the function; Deleted those the
	// batch succeeded for.
	Received, Deleted []string
}

// Poll receives one batch, waiting up to wait for a first message, and
// feeds it to the function. An empty queue is an empty Batch.
func (p *QueuePoller) Poll(ctx context.Context, wait time.Duration) (Batch, error) {
	out, err := p.clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.QueueURL), MaxNumberOfMessages: p.BatchSize, WaitTimeSeconds: int32(min(wait, 20*time.Second) / time.Second), //nolint:gosec // at most 20
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return Batch{}, fmt.Errorf("receive from %s: %w", p.QueueURL, err)
	}
	if len(out.Messages) == 0 {
		return Batch{}, nil
	}
	var b Batch
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		b.Received = append(b.Received, aws.ToString(m.MessageId))
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.QueueARN,
			AWSRegion: p.clients.SQS.Options().Region,
		})
	}
	keep, err := p.invoke(ctx, ev)
	if err != nil || keep == nil {
		return b, err // the whole batch failed: every message stays
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for _, r := range ev.Records {
		if !keep[r.MessageId] {
			done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(r.MessageId), ReceiptHandle: aws.String(r.ReceiptHandle)})
			b.Deleted = append(b.Deleted, r.MessageId)
		}
	}
	if len(done) == 0 {
		return b, nil
	}
	del, err := p.clients.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: done})
	if err == nil && len(del.Failed) > 0 {
		err = fmt.Errorf("%d not deleted (%s)", len(del.Failed), aws.ToString(del.Failed[0].Message))
	}
	if err != nil {
		return b, fmt.Errorf("delete from %s: %w", p.QueueURL, err)
	}
	return b, nil
}

// invoke runs the function on ev and returns the messages to keep; nil
// when the whole batch failed.
func (p *QueuePoller) invoke(ctx context.Context, ev events.SQSEvent) (map[string]bool, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("sqs event: %w", err)
	}
	out, err := p.clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(p.Function), Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", p.Function, err)
	}
	if out.FunctionError != nil {
		return nil, nil
	}
	keep := map[string]bool{}
	if !p.ReportFailures {
		return keep, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		return nil, nil //nolint:nilerr // Lambda fails the batch on an answer it cannot read
	}
	for _, f := range resp.BatchItemFailures {
		if !slices.ContainsFunc(ev.Records, func(r events.SQSMessage) bool { return r.MessageId == f.ItemIdentifier }) {
			return nil, nil // as Lambda: a failure that names no message of the batch fails it all
		}
		keep[f.ItemIdentifier] = true
	}
	return keep, nil
}

// Run polls until ctx ends, as the mapping would (make dev, make demo,
// make bench). Errors are reported to onError, when set.
func (p *QueuePoller) Run(ctx context.Context, onError func(error)) {
	for ctx.Err() == nil {
		if _, err := p.Poll(ctx, time.Second); err != nil && ctx.Err() == nil {
			if onError != nil {
				onError(err)
			}
			select { // a failing emulator is not asked again at once
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}
