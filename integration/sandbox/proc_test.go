package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The helper process: the test binary re-run with helperEnv set starts an
// emulator and a function, prints their pids, then dies as its mode says.
// It shows that children die with their parent, whatever kills it.
const (
	helperEnv     = "A2P_SANDBOX_TEST_HELPER"
	helperKumoEnv = "A2P_SANDBOX_TEST_HELPER_KUMO"
	helperZipEnv  = "A2P_SANDBOX_TEST_HELPER_ZIP"
)

func runHelper() {
	fail := func(err error) {
		fmt.Println("HELPER-ERROR", err)
		os.Exit(1)
	}

	em, err := StartEmulator(context.Background(), EmulatorOptions{Bin: os.Getenv(helperKumoEnv)})
	if err != nil {
		fail(err)
	}

	zipData, err := os.ReadFile(os.Getenv(helperZipEnv))
	if err != nil {
		fail(err)
	}

	fn, err := StartFunction(
		FunctionSpec{LogicalName: "echo", Name: "helper-echo", Zip: zipData, Environment: map[string]string{"TESTFN_ROLE": "echo"}},
		FunctionHost{
			Endpoint:   em.Endpoint,
			Region:     defaultRegion,
			RuntimeAPI: func(n string) string { return "127.0.0.1:" + strconv.Itoa(em.Port) + "/_runtime/" + n },
		},
	)
	if err != nil {
		fail(err)
	}

	fmt.Println("PIDS", em.Pid(), fn.Pid())

	if os.Getenv(helperEnv) == "panic" {
		panic("helper panics on purpose, with children running")
	}

	time.Sleep(time.Hour) // until the test kills this process
}

// TestChildrenDieWithTheirParent runs the helper and ends it the ways a
// test run ends abnormally: SIGKILL (a test timeout's kill, an OOM), SIGINT
// (Ctrl-C: the terminal signals the test binary's process group, not the
// children's own groups) and a panic. Each time, kumo and the function
// must be gone.
func TestChildrenDieWithTheirParent(t *testing.T) {
	t.Parallel()

	zipPath := writeTestZip(t)

	tests := []struct {
		mode   string
		signal syscall.Signal // 0: the helper ends itself
	}{
		{mode: "sigkill", signal: syscall.SIGKILL},
		{mode: "sigint", signal: syscall.SIGINT},
		{mode: "panic"},
	}

	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()

			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+tt.mode, helperKumoEnv+"="+kumoBin, helperZipEnv+"="+zipPath)

			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}

			var stderr strings.Builder
			cmd.Stderr = &stderr

			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}

			pids := readHelperPids(t, bufio.NewScanner(stdout))
			for _, pid := range pids {
				if !ProcessAlive(pid) {
					t.Fatalf("child %d not running while the helper lives", pid)
				}
			}

			if tt.signal != 0 {
				if err := cmd.Process.Signal(tt.signal); err != nil {
					t.Fatal(err)
				}
			}

			err = cmd.Wait()
			if err == nil {
				t.Fatalf("helper exited cleanly; want it killed (%s)", tt.mode)
			}

			if tt.mode == "panic" && !strings.Contains(stderr.String(), "helper panics on purpose") {
				t.Fatalf("helper did not panic: %v\n%s", err, stderr.String())
			}

			waitGone(t, pids...)

			// The helper's task root outlived it; the next sandbox sweeps it.
			roots := func() []string {
				m, _ := filepath.Glob(filepath.Join(os.TempDir(), taskRootPrefix+strconv.Itoa(cmd.Process.Pid)+"-*"))

				return m
			}
			if len(roots()) != 1 {
				t.Fatalf("task roots of the dead helper: %v, want one", roots())
			}

			sweepTaskRoots(os.TempDir())

			if left := roots(); len(left) != 0 {
				t.Fatalf("sweep left %v", left)
			}
		})
	}
}

func readHelperPids(t *testing.T, sc *bufio.Scanner) []int {
	t.Helper()

	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "HELPER-ERROR") {
			t.Fatal(line)
		}

		fields := strings.Fields(line)
		if len(fields) != 3 || fields[0] != "PIDS" {
			continue
		}

		var pids []int

		for _, f := range fields[1:] {
			pid, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}

			pids = append(pids, pid)
		}

		return pids
	}

	t.Fatalf("helper printed no pids: %v", sc.Err())

	return nil
}

func TestEmulatorStopKillsAndReaps(t *testing.T) {
	t.Parallel()

	em, err := StartEmulator(t.Context(), EmulatorOptions{Bin: kumoBin})
	if err != nil {
		t.Fatal(err)
	}

	pid := em.Pid()
	if !em.Healthy(t.Context()) {
		t.Fatalf("emulator on %s not healthy after start", em.Endpoint)
	}

	if err := em.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	if err := em.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	// Stop returns only once the process is reaped: no waiting here.
	if ProcessAlive(pid) {
		t.Fatalf("kumo %d alive after Stop", pid)
	}

	members, err := GroupMembers(pid)
	if err != nil {
		t.Fatal(err)
	}

	if len(members) != 0 {
		t.Fatalf("process group %d still has %v after Stop", pid, members)
	}

	if em.Healthy(t.Context()) {
		t.Fatalf("something still answers on %s after Stop", em.Endpoint)
	}
}

func TestStartEmulatorFailures(t *testing.T) {
	t.Parallel()

	busy, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() }) // not defer: the parallel subtests run after this function returns

	addr, ok := busy.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v", busy.Addr())
	}

	busyPort := addr.Port

	tests := []struct {
		name string
		opts EmulatorOptions
		want string
	}{
		{name: "no binary", opts: EmulatorOptions{}, want: "no kumo binary"},
		{name: "binary that exits", opts: EmulatorOptions{Bin: "/bin/false"}, want: "exited"},
		{name: "port taken", opts: EmulatorOptions{Bin: kumoBin, Port: busyPort}, want: "exited"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			em, err := StartEmulator(t.Context(), tt.opts)
			if err == nil {
				_ = em.Stop()
				t.Fatal("StartEmulator succeeded; want an error")
			}

			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}
