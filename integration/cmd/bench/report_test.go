package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()

	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6} // 1..10, unsorted
	for p, want := range map[float64]time.Duration{50: 5, 90: 9, 99: 10, 100: 10, 1: 1} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}

	if ds[0] != 5 {
		t.Error("percentile reordered its input")
	}

	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// TestRenderShowsTheFigures renders a report and finds each section's
// figures, and the failed verdict of a phase that lost an alert.
func TestRenderShowsTheFigures(t *testing.T) {
	t.Parallel()

	lost := []outcome{{ID: "bn-aa-r200-0", Code: http.StatusOK, Latency: 4 * time.Millisecond}}
	r := &report{
		Date: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Took: time.Minute, LogLevel: "INFO",
		Settings:       settings{Rates: []int{200}, Duration: time.Second},
		GoBenchCommand: "go test -bench .", GoBench: "BenchmarkHandler/valid_alert  19.65µ ± 3%\n",
		Zips: map[string][2]int64{"authorizer": {1 << 21, 3 << 20}, "processor": {9 << 20, 10 << 20}},
		Cold: map[string][]coldStart{"authorizer": {{Init: 3 * time.Millisecond, Total: 5 * time.Millisecond}}},
		Phases: []phase{{
			Rate: 200, Duration: time.Second, Outcomes: lost, Elapsed: time.Second / 200,
			Account: reckon(lost, nil), CPU: map[string]time.Duration{procKumo: 20 * time.Millisecond},
		}},
	}

	got := r.render()
	for _, want := range []string{
		"BenchmarkHandler/valid_alert  19.65µ ± 3%",
		"| authorizer | 2.00 MiB | 3.00 MiB |",
		"| authorizer | 1 | 3.00 ms / 3.00 ms | 5.00 ms / 5.00 ms |",
		"| 200/s for 1s | 200.0/s | 1 | 4.00 ms | 4.00 ms | 4.00 ms | 1 | 1 | 0 | **NO: lost 1 (e.g. bn-aa-r200-0)** |",
		"| 200/s | 20.00 ms |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}

	if r.problems() == "" || exitCode(r) != 1 {
		t.Error("a lost alert did not fail the run")
	}
}

func TestCheckAnswer(t *testing.T) {
	t.Parallel()

	for payload, ok := range map[string]bool{
		`{"statusCode":200,"body":"{}"}`:                                                true,
		`{"statusCode":502,"body":"{}"}`:                                                false,
		`{"principalId":"sandbox","policyDocument":{"Statement":[{"Effect":"Allow"}]}}`: true,
		`{"principalId":"sandbox","policyDocument":{"Statement":[{"Effect":"Deny"}]}}`:  false,
		`not json`: false,
	} {
		if err := checkAnswer([]byte(payload)); (err == nil) != ok {
			t.Errorf("checkAnswer(%s) = %v, want ok %v", payload, err, ok)
		}
	}
}
