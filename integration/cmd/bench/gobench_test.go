package main

import (
	"testing"
)

// sampleBenchOutput is real `go test -bench . -benchmem -count 2` output,
// with a log line and the trailer.
const sampleBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/a2p-alerts/a2p-alerts/services/processor/notify
cpu: AMD EPYC
BenchmarkHandler/valid_alert-2         	   67358	     17352 ns/op	    6397 B/op	     147 allocs/op
BenchmarkHandler/valid_alert-2         	   70000	     18352 ns/op	    6399 B/op	     147 allocs/op
BenchmarkHandler/replay-2              	   70556	     16960 ns/op	    6093 B/op	     144 allocs/op
BenchmarkHandler/replay-2              	   70556	     16000 ns/op	    6093 B/op	     144 allocs/op
{"level":"INFO","msg":"a log line that is not a result"}
BenchmarkNoMem                         	 1000000	       512.5 ns/op
PASS
ok  	github.com/a2p-alerts/a2p-alerts/services/processor/notify	6.512s
`

func TestParseGoBench(t *testing.T) {
	t.Parallel()

	got, err := parseGoBench(sampleBenchOutput)
	if err != nil {
		t.Fatal(err)
	}

	if got.Env["cpu"] != "AMD EPYC" || got.Env["pkg"] != "github.com/a2p-alerts/a2p-alerts/services/processor/notify" || got.Env["goarch"] != "amd64" {
		t.Errorf("env = %v", got.Env)
	}

	want := []goBenchLine{
		{Name: "BenchmarkHandler/valid_alert", Iterations: 67358, NsPerOp: 17352, BytesPerOp: 6397, AllocsPerOp: 147},
		{Name: "BenchmarkHandler/valid_alert", Iterations: 70000, NsPerOp: 18352, BytesPerOp: 6399, AllocsPerOp: 147},
		{Name: "BenchmarkHandler/replay", Iterations: 70556, NsPerOp: 16960, BytesPerOp: 6093, AllocsPerOp: 144},
		{Name: "BenchmarkHandler/replay", Iterations: 70556, NsPerOp: 16000, BytesPerOp: 6093, AllocsPerOp: 144},
		{Name: "BenchmarkNoMem", Iterations: 1000000, NsPerOp: 512.5},
	}

	if len(got.Lines) != len(want) {
		t.Fatalf("got %d lines %+v, want %d", len(got.Lines), got.Lines, len(want))
	}

	for i := range want {
		if got.Lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got.Lines[i], want[i])
		}
	}
}

func TestParseGoBenchNoResults(t *testing.T) {
	t.Parallel()

	got, err := parseGoBench("PASS\nok  \tx\t0.1s\n")
	if err != nil {
		t.Fatal(err)
	}

	if len(got.Lines) != 0 {
		t.Errorf("lines = %+v, want none", got.Lines)
	}
}

func TestAggregateGoBench(t *testing.T) {
	t.Parallel()

	parsed, err := parseGoBench(sampleBenchOutput)
	if err != nil {
		t.Fatal(err)
	}

	got := aggregateGoBench("pkg", parsed.Lines)

	want := []goBenchResult{
		{Package: "pkg", Name: "BenchmarkHandler/valid_alert", Runs: 2, NsPerOp: 17852, NsMin: 17352, NsMax: 18352, BytesPerOp: 6398, AllocsPerOp: 147},
		{Package: "pkg", Name: "BenchmarkHandler/replay", Runs: 2, NsPerOp: 16480, NsMin: 16000, NsMax: 16960, BytesPerOp: 6093, AllocsPerOp: 144},
		{Package: "pkg", Name: "BenchmarkNoMem", Runs: 1, NsPerOp: 512.5, NsMin: 512.5, NsMax: 512.5},
	}

	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
