package integration

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// awsCall is one AWS call of a trace: the subsegment's name (the service)
// and the operation.
type awsCall struct{ service, operation string }

func (c awsCall) String() string { return c.service + " " + c.operation }

// TestEachRequestLeavesATrace sends one alert per priority and repeats it.
// Each request leaves a segment annotated with its message_id, channel,
// priority and outcome, holding the processor's AWS calls as subsegments
// in order: the idempotency lock, the contact, the alert record's
// acceptance and attempt, the delivery, the attempt's outcome, the
// completion; and for the replay the refused lock and its read.
func TestEachRequestLeavesATrace(t *testing.T) {
	t.Parallel()

	xray := tgt.needXRay(t)

	for _, p := range alert.Priorities {
		t.Run(p.Label(), func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, p, "")
			sent := tgt.postAlert(t, a).wantSent(t, a)

			deliver := awsCall{"SNS", "Publish"}
			if sent.Channel == string(contact.ChannelCall) {
				deliver = awsCall{"Connect", "StartOutboundVoiceContact"}
			}

			seg := processorSegment(t, xray, a.MessageID, names.OutcomeSent)
			checkAnnotations(t, seg, a, sent.Channel, names.OutcomeSent)
			// The alert record: the acceptance with the attempt's start,
			// then the attempt's outcome with the alert's.
			record := awsCall{"DynamoDB", "TransactWriteItems"}
			calls := []awsCall{{"DynamoDB", "PutItem"}, {"DynamoDB", "GetItem"}, record, deliver, record}
			if tgt.escalates(p) { // its first escalation timer
				calls = append(calls, awsCall{"Scheduler", "CreateSchedule"})
			}
			checkCalls(t, seg, append(calls, awsCall{"DynamoDB", "UpdateItem"}))

			if r := tgt.postAlert(t, a); !r.replayed() {
				t.Fatalf("repeat: %s, want a replay", r)
			}

			seg = processorSegment(t, xray, a.MessageID, names.OutcomeReplay)
			checkAnnotations(t, seg, a, sent.Channel, names.OutcomeReplay)
			checkCalls(t, seg, []awsCall{{"DynamoDB", "PutItem"}, {"DynamoDB", "GetItem"}})
		})
	}
}

// processorSegment waits for the processor's (sub)segment of the request
// for message_id id that ended with outcome.
func processorSegment(t *testing.T, xray *observe.XRayCollector, id, outcome string) observe.Segment {
	t.Helper()

	got, err := xray.WaitFor(waitCtx(t), 1, func(s observe.Segment) bool {
		return s.Annotations[names.AnnotationMessageID] == id && s.Annotations[names.AnnotationOutcome] == outcome
	})
	if err != nil {
		t.Fatalf("no segment for %s with outcome %s: %v (collector errors: %v)", id, outcome, err, xray.Errors())
	}

	if len(got) != 1 {
		t.Fatalf("%d segments for %s with outcome %s, want 1", len(got), id, outcome)
	}

	return got[0]
}

func checkAnnotations(t *testing.T, seg observe.Segment, a alert.Alert, channel, outcome string) {
	t.Helper()

	want := map[string]any{
		names.AnnotationMessageID: a.MessageID,
		names.AnnotationChannel:   channel,
		names.AnnotationPriority:  string(a.Priority),
		names.AnnotationOutcome:   outcome,
	}
	if !reflect.DeepEqual(seg.Annotations, want) {
		t.Errorf("annotations %v, want %v", seg.Annotations, want)
	}

	if seg.InProgress || seg.Fault || seg.Error || seg.EndTime < seg.StartTime || seg.TraceID == "" {
		t.Errorf("segment %s: in progress %v, fault %v, error %v, %f..%f, trace %q; want a closed, successful segment",
			seg.Name, seg.InProgress, seg.Fault, seg.Error, seg.StartTime, seg.EndTime, seg.TraceID)
	}
}

// checkCalls checks that the segment's AWS subsegments are want, in
// order, each within the segment's trace and time span.
func checkCalls(t *testing.T, seg observe.Segment, want []awsCall) {
	t.Helper()

	var got []awsCall

	for _, sub := range seg.Subsegments {
		sub.Walk(func(s observe.Segment) {
			if s.Namespace != "aws" {
				return
			}

			op, _ := s.AWS["operation"].(string)
			got = append(got, awsCall{s.Name, op})

			if s.TraceID != seg.TraceID || s.StartTime < seg.StartTime || s.EndTime > seg.EndTime {
				t.Errorf("%s %s: trace %s, %f..%f; want within %s's trace %s, %f..%f",
					s.Name, op, s.TraceID, s.StartTime, s.EndTime, seg.Name, seg.TraceID, seg.StartTime, seg.EndTime)
			}
		})
	}

	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AWS calls %v, want %v", got, want)
	}
}
