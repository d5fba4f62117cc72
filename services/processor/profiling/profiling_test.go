package profiling

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStartWritesAProfile: the file holds a gzip-compressed profile once
// the profile is stopped, and a second profile cannot start while one
// runs.
func TestStartWritesAProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := start(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := start(filepath.Join(t.TempDir(), "second.pprof")); err == nil {
		t.Error("a second profile started while one runs")
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		_ = bytes.Repeat([]byte("x"), 1024) // some CPU to sample
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the profile is not gzip-compressed: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil || len(raw) == 0 {
		t.Fatalf("the profile is empty or damaged: %d bytes, %v", len(raw), err)
	}
}

func TestStartFailsOnAnUnwritablePath(t *testing.T) {
	if _, err := start(filepath.Join(t.TempDir(), "missing", "cpu.pprof")); err == nil {
		t.Error("start succeeded with a path in a folder that does not exist")
	}
}
