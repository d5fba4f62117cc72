//go:build linux

package proc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary re-runs itself in these modes (helperEnv):
//   - "sleep": sleep for an hour (a child to kill).
//   - "fork": start a grandchild in this process's group (a plain exec),
//     print its pid, then sleep.
//   - "sigkill", "sigint", "panic": start two "sleep" children with
//     Start, print their pids, then wait to be killed (or, for "panic",
//     read a line and panic).
const helperEnv = "A2P_PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "sleep":
		time.Sleep(time.Hour)
	case "fork":
		cmd := exec.CommandContext(context.Background(), os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=sleep")

		if err := cmd.Start(); err != nil {
			fmt.Println("HELPER-ERROR", err)
			os.Exit(1)
		}

		fmt.Println("PIDS", cmd.Process.Pid)
		time.Sleep(time.Hour)
	default:
		runParent(mode)
	}
}

// runParent starts two children with Start and dies as mode says.
func runParent(mode string) {
	var pids []string

	for range 2 {
		p, err := Start(helperSpec("sleep"))
		if err != nil {
			fmt.Println("HELPER-ERROR", err)
			os.Exit(1)
		}

		pids = append(pids, strconv.Itoa(p.Pid()))
	}

	fmt.Println("PIDS", strings.Join(pids, " "))

	if mode == "panic" {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // the test has seen the children alive
		panic("helper panics on purpose, with children running")
	}

	time.Sleep(time.Hour) // until the test kills this process
}

func helperSpec(mode string) Spec {
	return Spec{Name: "helper-" + mode, Path: os.Args[0], Env: append(os.Environ(), helperEnv+"="+mode)}
}

// readPids reads the helper's "PIDS ..." line.
func readPids(t *testing.T, sc *bufio.Scanner) []int {
	t.Helper()

	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "HELPER-ERROR" {
			t.Fatal(sc.Text())
		}

		if len(fields) < 2 || fields[0] != "PIDS" {
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

// waitGone waits until none of pids is alive nor has a live group member,
// failing after a deadline. Killed children of a killed parent are reaped
// by init, asynchronously.
func waitGone(t *testing.T, pids ...int) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)

	for {
		var alive []int

		for _, pid := range pids {
			if Alive(pid) {
				alive = append(alive, pid)
			}

			members, err := GroupMembers(pid)
			if err != nil {
				t.Fatal(err)
			}

			alive = append(alive, members...)
		}

		if len(alive) == 0 {
			return
		}

		if time.Now().After(deadline) {
			t.Fatalf("processes still alive 10s later: %v", alive)
		}

		time.Sleep(10 * time.Millisecond) // bounded by the deadline above
	}
}

// TestChildrenDieWithTheirParent runs a parent that starts two children
// and ends it the ways a test run ends abnormally: SIGKILL (a test
// timeout's kill, an OOM), SIGINT (Ctrl-C: the terminal signals the test
// binary's group, not the children's own groups) and a panic. Each time
// both children must be gone.
func TestChildrenDieWithTheirParent(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		mode   string
		signal syscall.Signal // 0: the parent ends itself
	}{
		{"sigkill", syscall.SIGKILL},
		{"sigint", syscall.SIGINT},
		{"panic", 0},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()

			cmd := exec.CommandContext(t.Context(), os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"="+tt.mode)

			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}

			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}

			var stderr strings.Builder

			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}

			pids := readPids(t, bufio.NewScanner(stdout))
			for _, pid := range pids {
				if !Alive(pid) {
					t.Fatalf("child %d not running while its parent lives", pid)
				}
			}

			if tt.signal != 0 {
				err = cmd.Process.Signal(tt.signal)
			} else {
				_, err = io.WriteString(stdin, "panic now\n")
			}

			if err != nil {
				t.Fatal(err)
			}

			if err := cmd.Wait(); err == nil {
				t.Fatalf("parent exited cleanly; want it killed (%s)", tt.mode)
			}

			if tt.mode == "panic" && !strings.Contains(stderr.String(), "helper panics on purpose") {
				t.Fatalf("parent did not panic:\n%s", stderr.String())
			}

			waitGone(t, pids...)
		})
	}
}

// TestStopKillsTheWholeGroup starts a child that forks a grandchild into
// its group; Stop must kill both and return only once the child is
// reaped, and a second Stop must answer the same.
func TestStopKillsTheWholeGroup(t *testing.T) {
	t.Parallel()

	p, err := Start(helperSpec("fork"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	if err := p.Output().WaitFor(ctx, "PIDS"); err != nil {
		t.Fatal(err)
	}

	grandchild := readPids(t, bufio.NewScanner(strings.NewReader(p.Output().String())))[0]
	if members, _ := GroupMembers(p.Pid()); len(members) != 2 {
		t.Fatalf("group %d has %v, want the child and the grandchild %d", p.Pid(), members, grandchild)
	}

	if children, _ := Children(p.Pid()); len(children) != 1 || children[0] != grandchild {
		t.Fatalf("children of %d: %v, want the grandchild %d", p.Pid(), children, grandchild)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}

	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	if !p.Exited() || Alive(p.Pid()) {
		t.Fatalf("child %d alive after Stop", p.Pid())
	}

	if err := p.ExitError(); !strings.Contains(err.Error(), "signal: killed") {
		t.Fatalf("exit error %v, want killed", err)
	}

	// The grandchild's parent is gone: init reaps it, asynchronously.
	waitGone(t, p.Pid(), grandchild)
}

func TestStartFailsOnAMissingExecutable(t *testing.T) {
	t.Parallel()

	_, err := Start(Spec{Name: "missing", Path: "/nonexistent/bootstrap"})
	if err == nil || !strings.Contains(err.Error(), "start missing (/nonexistent/bootstrap)") {
		t.Fatalf("error %v, want one naming the process and its path", err)
	}
}

func TestOutputKeepsAndTees(t *testing.T) {
	t.Parallel()

	var live strings.Builder

	out := &Output{tee: newPrefixWriter(&live, "[fn] ")}
	_, _ = out.Write([]byte("first line\nsecond "))
	_, _ = out.Write([]byte("line\n"))

	if got := out.String(); got != "first line\nsecond line\n" {
		t.Fatalf("kept %q", got)
	}

	if got := live.String(); got != "[fn] first line\n[fn] second line\n" {
		t.Fatalf("live output %q, want each whole line prefixed", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()

	if err := out.WaitFor(ctx, "third"); err == nil {
		t.Fatal("WaitFor found a line never written")
	}

	big := make([]byte, outputLimit)
	_, _ = out.Write(big)

	if got := out.String(); !strings.HasPrefix(got, "[... ") || len(got) > outputLimit {
		t.Fatalf("over the limit: %d bytes kept, starting %q", len(got), got[:min(len(got), 20)])
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()

	// comm may hold spaces and parentheses.
	line := "4242 (a (b) c) S 1 4240 4240 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 100 0 0"

	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}

	if st.state != 'S' || st.ppid != 1 || st.pgrp != 4240 || st.cpu != 12 {
		t.Fatalf("parsed %+v, want state S, ppid 1, pgrp 4240, cpu 12 ticks", st)
	}

	for _, bad := range []string{"", "4242 (x", "4242 (x) S 1", "4242 (x) S 1 notanumber 0 0 0 0 0 0 0 0 7 5"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

// TestCPUTime burns CPU in this process until CPUTime grows: it reads
// this process's own user + system time.
func TestCPUTime(t *testing.T) {
	t.Parallel()

	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for x := 0; ; x++ {
		after, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}

		if after > before {
			return
		}

		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed %s over 10 s of busy work", before)
		}

		for i := range 1_000_000 {
			x ^= i
		}
	}
}
