package main

import (
	"math"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
)

// The processor's X-Ray names (services/processor/xray.SegmentName and
// notify.AnnotationMessageID; that module is not a dependency of this one).
const (
	processorSegment    = "a2p-processor"
	annotationMessageID = "message_id"
)

// processorSpan is one request's processor (sub)segment.
type processorSpan struct {
	Total time.Duration
	// Calls are its AWS calls, named "<service> <operation>", in order.
	Calls []awsCall
	// Own is Total minus the calls: the handler's own time (wall clock).
	Own time.Duration
}

// awsCall is one AWS SDK call's subsegment.
type awsCall struct {
	Name string
	D    time.Duration
}

// segDuration converts X-Ray's float seconds to a duration.
func segDuration(start, end float64) time.Duration {
	return time.Duration(math.Round((end - start) * 1e9))
}

// processorSpans finds, among segs, the processor's segment of each
// message_id in ids. A message_id traced more than once (a replay) keeps
// its first.
func processorSpans(segs []observe.Segment, ids map[string]bool) map[string]processorSpan {
	out := map[string]processorSpan{}

	for _, s := range segs {
		if s.Name != processorSegment || s.InProgress {
			continue
		}

		id, _ := s.Annotations[annotationMessageID].(string)
		if !ids[id] {
			continue
		}

		if _, seen := out[id]; seen {
			continue
		}

		span := processorSpan{Total: segDuration(s.StartTime, s.EndTime)}
		span.Own = span.Total

		for _, sub := range s.Subsegments {
			name := sub.Name
			if op, _ := sub.AWS["operation"].(string); op != "" {
				name += " " + op
			}

			d := segDuration(sub.StartTime, sub.EndTime)
			span.Calls = append(span.Calls, awsCall{Name: name, D: d})
			span.Own -= d
		}

		out[id] = span
	}

	return out
}

// breakdown is section 4: where the time of one request goes, at one
// request at a time.
type breakdown struct {
	// Requests is how many alerts were sent; Traced how many of them had
	// a processor segment.
	Requests, Traced int
	// E2E is each request's round trip at the client.
	E2E []time.Duration
	// Processor is the processor's segment; Own its time outside AWS
	// calls; Calls each AWS call's durations by name, in CallOrder.
	Processor, Own []time.Duration
	Calls          map[string][]time.Duration
	CallOrder      []string
	// Outside is E2E minus the processor's segment, per request: API
	// Gateway, the authorizer, and the Runtime API hand-offs.
	Outside []time.Duration
	// AuthInvoke and ProcInvoke are direct Lambda Invoke round trips of
	// the authorizer and processor through the emulator; Baseline is the
	// same round trip answered without running function code.
	AuthInvoke, ProcInvoke, Baseline []time.Duration
}

// addSpans fills the processor parts of b from spans of the requests in
// outcomes (200s only).
func (b *breakdown) addSpans(outcomes []outcome, spans map[string]processorSpan) {
	if b.Calls == nil {
		b.Calls = map[string][]time.Duration{}
	}

	for _, o := range outcomes {
		b.Requests++
		b.E2E = append(b.E2E, o.Latency)

		span, ok := spans[o.ID]
		if !ok || !o.accepted() {
			continue
		}

		b.Traced++
		b.Processor = append(b.Processor, span.Total)
		b.Own = append(b.Own, span.Own)
		b.Outside = append(b.Outside, o.Latency-span.Total)

		for _, c := range span.Calls {
			if _, seen := b.Calls[c.Name]; !seen {
				b.CallOrder = append(b.CallOrder, c.Name)
			}

			b.Calls[c.Name] = append(b.Calls[c.Name], c.D)
		}
	}
}
