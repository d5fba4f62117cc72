package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestPartOf: a stack belongs to the part of its innermost function that
// a part owns; the runtime alone is the runtime's; anything else is other.
func TestPartOf(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		stack []string // leaf first
		want  string
	}{
		{[]string{"runtime.memmove", "encoding/json.Marshal", "github.com/aws/aws-xray-sdk-go/xray.(*Segment).Close", "github.com/a2p-alerts/a2p-alerts/services/processor/notify.(*Handler).Handle"},
			profileParts[2].name},
		{[]string{"crypto/sha256.block", "github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*Signer).SignHTTP", "net/http.(*Client).Do"}, profileParts[0].name},
		{[]string{"internal/runtime/syscall/linux.Syscall6", "net.(*conn).Write", "net/http.persistConnWriter.Write"}, profileParts[1].name},
		{[]string{"runtime.mallocgc", "log/slog.(*Logger).Info"}, profileParts[4].name},
		{[]string{"runtime.futex", "runtime.findRunnable", "runtime.schedule", "runtime.mcall"}, profileParts[5].name},
		{[]string{"strings.Index", "main.main"}, "other (the standard library outside these parts)"},
	} {
		if got := partOf(tt.stack); got != tt.want {
			t.Errorf("partOf(%v) = %q, want %q", tt.stack, got, tt.want)
		}
	}
}

//go:noinline
func spinForProfile(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		n += strings.Count(strings.Repeat("ab", 64), "b")
	}

	return n
}

// TestSummariseAProfile profiles a busy loop of this package with
// runtime/pprof, reads it back with `go tool pprof -traces` as the bench
// does, and finds most of its CPU in this repository's part.
func TestSummariseAProfile(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal("a CPU profile is already running in this test binary:", err)
	}

	_ = spinForProfile(300 * time.Millisecond)

	pprof.StopCPUProfile()

	file := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := exec.CommandContext(t.Context(), "go", "tool", "pprof", "-traces", file).Output()
	if err != nil {
		t.Fatal("go tool pprof:", err)
	}

	s, err := summarise(string(out))
	if err != nil {
		t.Fatal(err)
	}

	if own := s.shareOf(kindOwn); s.Total < 100*time.Millisecond || own < 0.5 {
		t.Errorf("sampled %s, %.0f%% in a2p-alerts; want at least 100ms and most of it:\n%s", s.Total, own*100, out)
	}

	if _, err := summarise("File: bench\nType: cpu\n"); err == nil {
		t.Error("summarise accepted a profile without samples")
	}
}

// TestSummariseTraces reads the text pprof prints: durations in ms and s,
// inlined frames, and the closing separator.
func TestSummariseTraces(t *testing.T) {
	t.Parallel()

	s, err := summarise(`File: bootstrap
Type: cpu
-----------+-------------------------------------------------------
     1.20s   runtime.memmove
             encoding/json.Marshal (inline)
             github.com/aws/aws-xray-sdk-go/xray.(*Segment).Close
-----------+-------------------------------------------------------
      10ms   runtime.futex
             runtime.mcall
-----------+-------------------------------------------------------
`)
	if err != nil {
		t.Fatal(err)
	}

	if s.Total != 1210*time.Millisecond || s.Parts[profileParts[2].name] != 1200*time.Millisecond || s.Parts[profileParts[5].name] != 10*time.Millisecond {
		t.Errorf("total %s, parts %v", s.Total, s.Parts)
	}
}
