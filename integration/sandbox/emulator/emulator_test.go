package emulator

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
)

// kumoBin is the emulator the tests start. The tests never skip: without
// kumo nothing here is proven.
var kumoBin string

func TestMain(m *testing.M) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err == nil {
		kumoBin, err = Locate(root)
	}

	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator tests:", err)
		os.Exit(1)
	}

	os.Exit(m.Run())
}

func TestStopKillsAndReaps(t *testing.T) {
	t.Parallel()

	em, err := Start(t.Context(), Options{Bin: kumoBin})
	if err != nil {
		t.Fatal(err)
	}

	pid := em.Pid()
	if !em.Healthy(t.Context()) || em.Region != DefaultRegion || !strings.HasPrefix(em.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("emulator %+v not healthy on loopback after Start", em)
	}

	if err := em.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	if err := em.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	// Stop returns only once the process is reaped: no waiting here.
	if members, err := proc.GroupMembers(pid); proc.Alive(pid) || err != nil || len(members) != 0 {
		t.Fatalf("kumo %d alive (group %v, %v) after Stop", pid, members, err)
	}

	if em.Healthy(t.Context()) {
		t.Fatalf("something still answers on %s after Stop", em.Endpoint)
	}
}

func TestStartFailures(t *testing.T) {
	t.Parallel()

	busy, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() }) // not defer: the parallel subtests run after this function returns

	addr, _ := busy.Addr().(*net.TCPAddr)

	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"no binary", Options{}, "no kumo binary"},
		{"binary that exits", Options{Bin: "/bin/false"}, "exited"},
		{"port taken", Options{Bin: kumoBin, Port: addr.Port}, "exited"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			em, err := Start(t.Context(), tt.opts)
			if err == nil {
				_ = em.Stop()
				t.Fatal("Start succeeded; want an error")
			}

			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestLocate cannot run in parallel: it sets EnvBin.
func TestLocate(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"bin", "tools"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o750); err != nil {
			t.Fatal(err)
		}
	}

	write := func(name string, at time.Time) {
		t.Helper()

		path := filepath.Join(root, name)
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}

		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv(EnvBin, "")

	if _, err := Locate(root); err == nil || !strings.Contains(err.Error(), "make bin/kumo") {
		t.Fatalf("no binary: %v, want the make command", err)
	}

	now := time.Now()
	write("tools/go.mod", now)
	write("tools/go.sum", now)
	write("bin/kumo", now.Add(-time.Hour))

	if _, err := Locate(root); err == nil || !strings.Contains(err.Error(), "older than tools/go.mod") {
		t.Fatalf("stale binary: %v, want it called older than tools/go.mod", err)
	}

	write("bin/kumo", now.Add(time.Minute))

	if got, err := Locate(root); err != nil || got != filepath.Join(root, "bin", "kumo") {
		t.Fatalf("Locate = %q, %v; want bin/kumo", got, err)
	}

	t.Setenv(EnvBin, filepath.Join(root, "elsewhere"))

	if _, err := Locate(root); err == nil || !strings.Contains(err.Error(), EnvBin) {
		t.Fatalf("%s naming nothing: %v, want an error naming it", EnvBin, err)
	}
}
