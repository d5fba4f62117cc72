package main

import (
	"bytes"
	"compress/gzip"
	"math"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

//go:noinline
func spinForProfile(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		n += strings.Count(strings.Repeat("ab", 64), "b")
	}

	return n
}

// TestReadCPUProfile reads a profile runtime/pprof wrote of a busy loop:
// the loop's function is near the top of the cumulative list, shares are
// of the profile's total, and the flat list's shares add up to at most 1.
func TestReadCPUProfile(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal("a CPU profile is already running in this test binary:", err)
	}

	_ = spinForProfile(300 * time.Millisecond)

	pprof.StopCPUProfile()

	p, err := readCPUProfile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}

	if p.Total() < 100*time.Millisecond {
		t.Fatalf("total CPU %s for 300 ms of spinning", p.Total())
	}

	found := false

	for _, it := range p.top(10, true) {
		if strings.HasSuffix(it.Name, ".spinForProfile") {
			found = it.Share > 0.5
		}
	}

	if !found {
		t.Errorf("spinForProfile is not in the top 10 with more than half the CPU: %+v", p.top(10, true))
	}

	sum := 0.0
	for _, it := range p.top(math.MaxInt, false) {
		sum += it.Share
	}

	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("flat shares add up to %v, want 1", sum)
	}
}

func TestReadCPUProfileRefusesOtherData(t *testing.T) {
	t.Parallel()

	for _, data := range [][]byte{nil, []byte("not gzip"), gzipped(t, "")} {
		if _, err := readCPUProfile(data); err == nil {
			t.Errorf("readCPUProfile(%q) succeeded", data)
		}
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()

	var buf bytes.Buffer

	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}

	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes()
}
