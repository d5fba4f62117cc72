package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/queue"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

type events struct {
	in  *eventbridge.PutEventsInput
	out *eventbridge.PutEventsOutput
}

func (e *events) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	e.in = in
	return e.out, nil
}

var queued = &alerting.Alert{
	Key: alert.Key{Client: "ward", MessageID: "lab-1"}, Instance: "1764579600000-0a1b2c3d", Priority: alert.PriorityHigh,
	AcceptedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	Content:    alert.Alert{Description: "Potassium 6.9", PatientID: "P-4F2A91"},
}

// envelope is the event as the rule delivers it to the queue.
func envelope(t *testing.T, in *eventbridge.PutEventsInput) string {
	t.Helper()
	e := in.Entries[0]
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "ev-1", "source": aws.ToString(e.Source), "detail-type": aws.ToString(e.DetailType),
		"detail": json.RawMessage(aws.ToString(e.Detail)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnqueueThenDecode(t *testing.T) {
	t.Parallel()
	ev := &events{out: &eventbridge.PutEventsOutput{Entries: []ebtypes.PutEventsResultEntry{{EventId: aws.String("ev-1")}}}}
	if err := queue.NewPublisher(ev, "a2p-alerts-dev-alerts").Enqueue(t.Context(), queued); err != nil {
		t.Fatal(err)
	}
	e := ev.in.Entries[0]
	if aws.ToString(e.EventBusName) != "a2p-alerts-dev-alerts" || aws.ToString(e.Source) != names.EventSource ||
		aws.ToString(e.DetailType) != names.EventDetailTypeAccepted {
		t.Errorf("entry %+v", e)
	}
	if d := aws.ToString(e.Detail); strings.Contains(d, "Potassium") || strings.Contains(d, "P-4F2A91") {
		t.Errorf("detail %s holds the alert's content: other consumers read the bus", d)
	}
	got, err := queue.Decode(envelope(t, ev.in))
	if err != nil || got != (queue.Ticket{Key: queued.Key, Instance: queued.Instance}) {
		t.Errorf("Decode = %+v, %v; want the queued alert", got, err)
	}
}

func TestEnqueueRefused(t *testing.T) {
	t.Parallel()
	ev := &events{out: &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []ebtypes.PutEventsResultEntry{
		{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")},
	}}}
	err := queue.NewPublisher(ev, "bus").Enqueue(t.Context(), queued)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("Enqueue = %v, want the refused entry's code", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not JSON":       "lab-1",
		"another source": `{"source":"aws.s3","detail-type":"Alert Accepted","detail":{"client":"a","message_id":"b","instance":"c"}}`,
		"another type":   `{"source":"a2p-alerts","detail-type":"Alert Sent","detail":{"client":"a","message_id":"b","instance":"c"}}`,
		"no instance":    `{"source":"a2p-alerts","detail-type":"Alert Accepted","detail":{"client":"a","message_id":"b"}}`,
		"detail not obj": `{"source":"a2p-alerts","detail-type":"Alert Accepted","detail":"x"}`,
	} {
		if _, err := queue.Decode(body); !errors.Is(err, queue.ErrNotAnAlert) {
			t.Errorf("%s: Decode = %v, want ErrNotAnAlert", name, err)
		}
	}
}

type visibility struct {
	in *sqs.ChangeMessageVisibilityInput
}

func (v *visibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	v.in = in
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func TestDeferRoundsUpToSeconds(t *testing.T) {
	t.Parallel()
	v := &visibility{}
	if err := queue.NewVisibility(v, "https://sqs/q").Defer(t.Context(), "rh", 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v.in.VisibilityTimeout != 2 || aws.ToString(v.in.ReceiptHandle) != "rh" || aws.ToString(v.in.QueueUrl) != "https://sqs/q" {
		t.Errorf("input %+v, want 2 s for rh on the queue", v.in)
	}
}
