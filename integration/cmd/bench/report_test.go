package main

import (
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// sampleReport is a small, complete report.
func sampleReport() report {
	ms := time.Millisecond
	phase := func(rate int, replays bool, n int, elapsed time.Duration, acc account) phaseResult {
		outs := make([]outcome, n)
		lat := make([]time.Duration, n)

		for i := range lat {
			lat[i] = time.Duration(i%10+1) * ms
		}

		return phaseResult{
			Spec:     phaseSpec{Tag: "x", Rate: rate, Duration: 20 * time.Second, Replays: replays},
			Outcomes: outs, Elapsed: elapsed, All: summarize(lat), Fresh: summarize(lat), Replay: summarize(lat),
			Account: acc, Busy: 42,
			CPU: map[string]time.Duration{procKumo: time.Second, names.FunctionProcessor: 2 * time.Second},
		}
	}
	good := func(n int) account {
		return account{Requests: n, Fresh: n, OK: n, AcceptedIDs: n, Deliveries: n, Codes: map[int]int{200: n}}
	}

	return report{
		Date:       time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC),
		Took:       3*time.Minute + 12*time.Second,
		Background: 12,
		Machine:    machineInfo{CPUModel: "Test CPU 9000", Cores: 2, MemTotal: "8.0 GiB", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", Commit: "abc1234"},
		Settings:   settings{Rates: []int{50, 200}, Duration: 20 * time.Second, ReplayRate: 50, ColdStarts: 2, BenchCount: 5, Samples: 10, LogLevel: "INFO"},
		Cold: map[string][]coldStart{
			names.FunctionAuthorizer: {{Init: 3 * ms, First: ms, Total: 4 * ms, Warm: ms, RSSKiB: 6000}, {Init: 5 * ms, First: ms, Total: 6 * ms, Warm: ms, RSSKiB: 7000}},
			names.FunctionProcessor:  {{Init: 13 * ms, First: 9 * ms, Total: 22 * ms, Warm: 4 * ms, RSSKiB: 26000}},
		},
		ZipsArm64: map[string]zipInfo{names.FunctionAuthorizer: {Zip: 2 << 20, Bootstrap: 6 << 20}, names.FunctionProcessor: {Zip: 9 << 20, Bootstrap: 34 << 20}},
		ZipsHost:  map[string]zipInfo{names.FunctionAuthorizer: {Zip: 3 << 20, Bootstrap: 7 << 20}, names.FunctionProcessor: {Zip: 10 << 20, Bootstrap: 37 << 20}},
		HostArch:  "x86_64",
		PeakRSS:   []rssEntry{{procKumo, 90000}, {names.FunctionProcessor, 34000}},
		MemoryMB:  map[string]int{names.FunctionAuthorizer: 128, names.FunctionProcessor: 256},
		GoBench: []goBenchResult{
			{Name: "BenchmarkHandler/valid_alert", Runs: 5, NsPerOp: 17352, NsMin: 17000, NsMax: 18000, BytesPerOp: 6397, AllocsPerOp: 147},
			{Name: "BenchmarkAuthorize", Runs: 5, NsPerOp: 950, NsMin: 900, NsMax: 990, BytesPerOp: 100, AllocsPerOp: 3},
		},
		GoBenchCPU: "Test CPU 9000",
		Phases: []phaseResult{
			phase(0, false, 10, 50*ms, good(10)),
			phase(50, false, 1000, 20*time.Second, good(1000)),
			phase(200, false, 4000, 23*time.Second, account{Requests: 4000, Fresh: 4000, OK: 3999, AcceptedIDs: 3999, Deliveries: 3998,
				Codes: map[int]int{200: 3999, 502: 1}, Lost: []string{"bn-x-u200-17"}}),
			phase(50, true, 1000, 20*time.Second, account{Requests: 1000, Fresh: 500, Replays: 500, OK: 1000, ReplayAnswers: 500,
				AcceptedIDs: 500, Deliveries: 500, Codes: map[int]int{200: 1000}}),
		},
		Global: good(5509),
	}
}

func TestRenderReport(t *testing.T) {
	t.Parallel()

	out := renderReport(sampleReport())

	for _, want := range []string{
		"# Benchmarks",
		"2026-11-26 13:00 UTC in 3m12s",
		"| Commit | abc1234 |",
		"| CPU | Test CPU 9000 |",
		"| Cores | 2 |",
		"**This is not AWS Lambda.**",
		"## 1. Start-up",
		"| authorizer | 2 | 3.00 ms / 5.00 ms | 1.00 ms / 1.00 ms | 4.00 ms / 6.00 ms | 1.00 ms | 6.3 MiB |",
		"| processor | 9.00 MiB | 34.00 MiB | 10.00 MiB | 37.00 MiB |",
		"| kumo (emulator) | 87.9 MiB |",
		"authorizer 128 MB, processor 256 MB",
		"## 2. Own cost per request",
		"| `BenchmarkHandler/valid_alert` | processor: a valid alert",
		"| 17.35 µs | 17.00 µs – 18.00 µs | 6397 | 147 |",
		"| 950 ns |",
		"-count 5",
		"## 3. End to end under load",
		"| unique alerts | 50/s for 20s | 50.0/s | 1000 |",
		"| 1000 (100.0%) | – | 1000 | 1000 | yes |",
		"**NO: lost 1 (e.g. bn-x-u200-17)**",
		"502: 1",
		"**Saturated at 200/s (unique alerts).**",
		"| CPU busy before the run | 12% over 3s",
		"Deliveries did not match: lost 1",
		"Replay mix at 50/s: 500 requests with a new message_id",
		"500 replays were answered 200 with `Idempotent-Replay: true`",
		"Across the whole run",
		"| 50/s, unique alerts | 42% | 1.000 ms | 2.000 ms |",
		"## 4. Where the time goes in one request",
		"## 5. Anchors from published measurements (not measured by us)",
		"about 39 ms",
		"about 71–96 ms",
		"## How to reproduce",
		"make bench",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}

	if strings.Contains(out, "Saturated at 50/s") {
		t.Error("a phase that kept up is reported as saturated")
	}

	// The anchors stay out of our own sections.
	if i, j := strings.Index(out, "about 39 ms"), strings.Index(out, "## 5."); i < j {
		t.Error("published figures appear before section 5")
	}
}

func TestReportOK(t *testing.T) {
	t.Parallel()

	r := sampleReport()
	if r.ok() {
		t.Error("a report with a lost alert is ok")
	}

	r.Phases = r.Phases[:2]
	if !r.ok() {
		t.Error("a report whose phases all matched is not ok")
	}

	r.Global.Doubled = []string{"x"}
	if r.ok() {
		t.Error("a report with a global double is ok")
	}
}

func TestOtherCodes(t *testing.T) {
	t.Parallel()

	tests := []struct {
		codes map[int]int
		want  string
	}{
		{map[int]int{200: 5}, "–"},
		{map[int]int{200: 5, 503: 2, 0: 1, 409: 3}, "no answer: 1, 409: 3, 503: 2"},
	}

	for _, tt := range tests {
		if got := otherCodes(tt.codes); got != tt.want {
			t.Errorf("otherCodes(%v) = %q, want %q", tt.codes, got, tt.want)
		}
	}
}
