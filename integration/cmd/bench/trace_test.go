package main

import (
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
)

func TestProcessorSpans(t *testing.T) {
	t.Parallel()

	const t0 = 1795698423.0

	call := func(name, op string, start, end float64) observe.Segment {
		return observe.Segment{Name: name, StartTime: t0 + start, EndTime: t0 + end, AWS: map[string]any{"operation": op}}
	}
	seg := func(id string, start, end float64, subs ...observe.Segment) observe.Segment {
		return observe.Segment{
			Name: processorSegment, StartTime: t0 + start, EndTime: t0 + end,
			Annotations: map[string]any{annotationMessageID: id}, Subsegments: subs,
		}
	}

	segs := []observe.Segment{
		seg("a", 0, 0.003,
			call("DynamoDB", "PutItem", 0.0001, 0.0006),
			call("DynamoDB", "GetItem", 0.0006, 0.0010),
			call("SNS", "Publish", 0.0010, 0.0020),
			call("DynamoDB", "UpdateItem", 0.0020, 0.0028)),
		seg("a", 1, 1.5),       // a replay of a: the first is kept
		seg("other", 0, 0.001), // not ours
		{Name: "echo-work", StartTime: t0, EndTime: t0 + 1}, // another segment
		{Name: processorSegment, InProgress: true, Annotations: map[string]any{annotationMessageID: "b"}},
	}

	got := processorSpans(segs, map[string]bool{"a": true, "b": true})

	if len(got) != 1 {
		t.Fatalf("spans %v, want only a's", got)
	}

	a := got["a"]
	near := func(d, want time.Duration) bool { return d > want-time.Microsecond && d < want+time.Microsecond }

	if !near(a.Total, 3*time.Millisecond) || !near(a.Own, 300*time.Microsecond) {
		t.Errorf("total %v own %v, want 3ms and 300µs", a.Total, a.Own)
	}

	wantCalls := []string{"DynamoDB PutItem", "DynamoDB GetItem", "SNS Publish", "DynamoDB UpdateItem"}
	if len(a.Calls) != len(wantCalls) {
		t.Fatalf("calls %v", a.Calls)
	}

	for i, name := range wantCalls {
		if a.Calls[i].Name != name {
			t.Errorf("call %d = %s, want %s", i, a.Calls[i].Name, name)
		}
	}

	if !near(a.Calls[2].D, time.Millisecond) {
		t.Errorf("SNS Publish took %v, want 1ms", a.Calls[2].D)
	}
}

func TestBreakdownAddSpans(t *testing.T) {
	t.Parallel()

	spans := map[string]processorSpan{
		"a": {Total: 2 * time.Millisecond, Own: 200 * time.Microsecond, Calls: []awsCall{{"DynamoDB PutItem", time.Millisecond}, {"SNS Publish", 800 * time.Microsecond}}},
		"b": {Total: 3 * time.Millisecond, Own: 300 * time.Microsecond, Calls: []awsCall{{"DynamoDB PutItem", time.Millisecond}, {"Connect StartOutboundVoiceContact", 1700 * time.Microsecond}}},
	}

	var b breakdown
	b.addSpans([]outcome{
		{ID: "a", Code: 200, Latency: 5 * time.Millisecond},
		{ID: "b", Code: 200, Latency: 6 * time.Millisecond},
		{ID: "c", Code: 200, Latency: 7 * time.Millisecond}, // no segment
	}, spans)

	if b.Requests != 3 || b.Traced != 2 || len(b.E2E) != 3 {
		t.Errorf("requests %d traced %d e2e %v", b.Requests, b.Traced, b.E2E)
	}

	if b.Outside[0] != 3*time.Millisecond || b.Outside[1] != 3*time.Millisecond {
		t.Errorf("outside %v, want 3ms each", b.Outside)
	}

	wantOrder := []string{"DynamoDB PutItem", "SNS Publish", "Connect StartOutboundVoiceContact"}
	for i, name := range wantOrder {
		if b.CallOrder[i] != name {
			t.Errorf("call order %v, want %v", b.CallOrder, wantOrder)
		}
	}

	if len(b.Calls["DynamoDB PutItem"]) != 2 {
		t.Errorf("PutItem durations %v", b.Calls["DynamoDB PutItem"])
	}
}
