package main

import (
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func TestBenchAllocs(t *testing.T) {
	t.Parallel()

	out := `goos: linux
BenchmarkHandler/valid_alert-2         	   38072	     31046 ns/op	    6884 B/op	     48 allocs/op
BenchmarkHandler/valid_alert-2         	   38072	     31046 ns/op	    6884 B/op	     47 allocs/op
BenchmarkHandler/valid_alert-2         	   38072	     31046 ns/op	    6884 B/op	     49 allocs/op
BenchmarkAuthorize   	   24666	     47731 ns/op	    7850 B/op	     150 allocs/op
BenchmarkNoMem-2   	   24666	     47731 ns/op
PASS`

	got := benchAllocs(out)
	if got["Handler/valid_alert"] != 48 || got["Authorize"] != 150 || len(got) != 2 {
		t.Errorf("benchAllocs = %v, want the median 48 for Handler/valid_alert and 150 for Authorize", got)
	}
}

func TestParseInittrace(t *testing.T) {
	t.Parallel()

	out := `init internal/bytealg @0 ms, 0 ms clock, 0 bytes, 0 allocs
init github.com/aws/aws-sdk-go/aws/endpoints @3.6 ms, 2.9 ms clock, 2000104 bytes, 11796 allocs
init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @2.3 ms, 0.50 ms clock, 586696 bytes, 3151 allocs
init google.golang.org/grpc @9.5 ms, 0.25 ms clock, 28424 bytes, 477 allocs
{"level":"ERROR","msg":"processor start-up failed"}`

	end, byGroup := parseInittrace(out)
	if end != 9750*time.Microsecond {
		t.Errorf("end = %s, want 9.75ms (the last package's start plus its clock)", end)
	}

	want := map[int]time.Duration{
		groupOfPackage("github.com/aws/aws-sdk-go/aws/endpoints"):               2900 * time.Microsecond,
		groupOfPackage("github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas"): 500 * time.Microsecond,
		groupOfPackage("google.golang.org/grpc"):                                250 * time.Microsecond,
		groupOfPackage("internal/bytealg"):                                      0,
	}
	for i, d := range want {
		if byGroup[i] != d {
			t.Errorf("%s: %s, want %s", initGroups[i].Name, byGroup[i], d)
		}
	}

	br := &initBreakdown{End: end, Clock: byGroup}
	if br.xray() != 3150*time.Microsecond || !strings.Contains(br.reason(), "3.15 ms") {
		t.Errorf("xray() = %s, reason %q; want 3.15 ms (aws-sdk-go v1 and gRPC)", br.xray(), br.reason())
	}
}

// TestTargets: each target is met or not against its limit, and a target
// this run did not measure says so.
func TestTargets(t *testing.T) {
	t.Parallel()

	r := &report{
		Allocs: map[string]int{"Handler/valid_alert": 101},
		Zips:   map[string][2]int64{names.FunctionProcessor: {5 << 20, 6 << 20}},
		Cold: map[string][]coldStart{names.FunctionProcessor: {
			{Init: 9 * time.Millisecond, Total: 14 * time.Millisecond}, {Init: 12 * time.Millisecond, Total: 20 * time.Millisecond},
			{Init: 8 * time.Millisecond, Total: 12 * time.Millisecond},
		}},
		Phases: []phase{{Rate: targetRate, Outcomes: make([]outcome, 10), CPU: map[string]time.Duration{names.FunctionProcessor: 15 * time.Millisecond}}},
		Init:   &initBreakdown{End: 11 * time.Millisecond, Clock: make([]time.Duration, len(initGroups))},
		Profile: &profileSummary{Groups: []profileItem{
			{Name: "net/http client", Share: 0.3}, {Name: ownGroup, Share: 0.06},
		}},
	}

	got := map[string]target{}
	for _, tt := range r.targets() {
		got[tt.What] = tt
	}

	checks := []struct {
		what      string
		now       string
		met       bool
		reasonHas string
	}{
		{"`BenchmarkHandler/valid_alert` allocations per request", "101", false, "section 1"},
		{"processor CPU per request at 100/s", "1.500 ms", true, "30% of the processor's CPU in the required SDKs"},
		{"processor cold start, exec → first invocation completed, p50", "14.00 ms", true, "package initialisation alone ends p50 11.00 ms"},
		{"arm64 `processor.zip`", "5,242,880 B (5.00 MiB)", true, ""},
	}
	for _, c := range checks {
		tt, ok := got[c.what]
		if !ok {
			t.Errorf("no target %q", c.what)

			continue
		}

		if tt.Now != c.now || tt.Met != c.met || !strings.Contains(tt.ReasonIfNotMet, c.reasonHas) {
			t.Errorf("%s: now %q met %v reason %q; want %q, %v, a reason with %q", c.what, tt.Now, tt.Met, tt.ReasonIfNotMet, c.now, c.met, c.reasonHas)
		}
	}

	r.Phases[0].CPU[names.FunctionProcessor] = 20 * time.Millisecond // 2 ms: 6% of it is ours, 1.88 ms is 21% over 1.551 ms
	r.AWSCalls = 6
	if cold := r.coldTarget(); !strings.Contains(cold.ReasonIfNotMet, "p50 9.00 ms until the process polls the Runtime API, then p50 5.00 ms for the first invocation (6 AWS calls") {
		t.Errorf("cold start reason %q does not split the start", cold.ReasonIfNotMet)
	}

	if cpu := r.cpuTarget(); cpu.Met || !strings.Contains(cpu.ReasonIfNotMet, "still be 21% over the limit") ||
		!strings.Contains(cpu.ReasonIfNotMet, "makes 6 AWS calls") {
		t.Errorf("CPU at 2 ms, 6 calls: met %v, reason %q; want not met, the calls, and 21%% over without our code", cpu.Met, cpu.ReasonIfNotMet)
	}

	var b strings.Builder

	(&report{}).renderTargets(&b)

	if strings.Count(b.String(), "not measured") != 4 {
		t.Errorf("a report that measured nothing does not say so for each target:\n%s", b.String())
	}
}

func TestAWSCallsPerAlert(t *testing.T) {
	t.Parallel()

	sent := func(calls int) observe.Segment {
		seg := observe.Segment{Name: "a2p-processor", Annotations: map[string]any{names.AnnotationOutcome: names.OutcomeSent}}
		for range calls {
			seg.Subsegments = append(seg.Subsegments, observe.Segment{Name: "DynamoDB", Namespace: "aws"})
		}

		return seg
	}
	replay := sent(1)
	replay.Annotations[names.AnnotationOutcome] = names.OutcomeReplay

	if got := awsCallsPerAlert([]observe.Segment{sent(6), sent(6), sent(7), replay, {Name: "other"}}); got != 6 {
		t.Errorf("awsCallsPerAlert = %d, want 6 (the median of sent alerts only)", got)
	}

	if got := awsCallsPerAlert(nil); got != 0 {
		t.Errorf("awsCallsPerAlert(nil) = %d, want 0", got)
	}
}
