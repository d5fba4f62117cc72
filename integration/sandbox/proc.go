package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopTimeout bounds how long Stop waits for a killed process group to be
// reaped. SIGKILL cannot be ignored, so this only trips on a process stuck
// in uninterruptible sleep.
const stopTimeout = 10 * time.Second

// outputLimit caps the output kept per process. When exceeded, the oldest
// half is dropped and a marker line says so.
const outputLimit = 4 << 20

// OutputBuffer keeps a child process's combined stdout and stderr so that a
// failing test can print it. It is safe for concurrent use. When it grows
// past its limit it drops the oldest half, so the newest output is always
// kept.
type OutputBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped int
	tee     io.Writer
	notify  chan struct{} // closed and replaced on each write
}

var _ io.Writer = (*OutputBuffer)(nil)

// Write appends p to the buffer and copies it to the tee writer, if any.
func (b *OutputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.buf = append(b.buf, p...)
	if len(b.buf) > outputLimit {
		cut := len(b.buf) - outputLimit/2
		b.dropped += cut
		b.buf = append(b.buf[:0:0], b.buf[cut:]...)
	}

	if b.tee != nil {
		// Output shown live is a convenience; a failing terminal must not
		// stop the child, so the error is ignored.
		_, _ = b.tee.Write(p)
	}

	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}

	return len(p), nil
}

// WaitFor waits until the kept output satisfies match, or ctx ends. A
// child's output reaches the buffer through a pipe, a moment after the
// child wrote it: a test that looks for a line its own request caused
// waits for it here.
func (b *OutputBuffer) WaitFor(ctx context.Context, match func(output string) bool) error {
	for {
		b.mu.Lock()
		if b.notify == nil {
			b.notify = make(chan struct{})
		}

		notify := b.notify
		b.mu.Unlock()

		// Read after taking notify: a write between the two closes it.
		if match(b.String()) {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("output never matched: %w", ctx.Err())
		case <-notify:
		}
	}
}

// String returns the kept output, prefixed by a note when older output was
// dropped.
func (b *OutputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.dropped > 0 {
		return fmt.Sprintf("[... %d earlier bytes dropped ...]\n%s", b.dropped, b.buf)
	}

	return string(b.buf)
}

// Len reports how many bytes are kept.
func (b *OutputBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()

	return len(b.buf)
}

// prefixWriter copies complete lines to w, each prefixed. It is used to show
// several children's output live on one terminal (make dev).
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	pending []byte
}

func newPrefixWriter(w io.Writer, prefix string) io.Writer {
	if w == nil {
		return nil
	}

	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.pending = append(p.pending, b...)
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			break
		}

		line := p.pending[:i+1]
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, line); err != nil {
			return len(b), fmt.Errorf("write %s output: %w", strings.TrimSpace(p.prefix), err)
		}

		p.pending = p.pending[i+1:]
	}

	return len(b), nil
}

// textBusyRetries bounds the retries of a start that failed with ETXTBSY.
const textBusyRetries = 50

// forkLock keeps this package from forking while it holds an executable
// open for writing: a child forked then would inherit the descriptor, and
// exec of that executable would fail with ETXTBSY until the child execs.
var forkLock sync.RWMutex

// spawnRequest asks the spawner thread to start a command.
type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

// spawn starts cmd from one OS thread that lives as long as this process.
//
// Children are started with Pdeathsig=SIGKILL so the kernel kills them when
// their parent dies without running any cleanup (a panic in a test, a test
// timeout, SIGKILL, Ctrl-C of `go test`). Linux ties Pdeathsig to the
// thread that forked the child, not the process, and the Go runtime may
// retire threads; starting every child from a goroutine locked to its
// thread for the life of the process makes the signal fire only when the
// process itself ends.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)

		go func() {
			runtime.LockOSThread() // never unlocked: this thread must outlive every child
			for req := range spawner.reqs {
				req.errc <- req.cmd.Start()
			}
		}()
	})

	forkLock.RLock()
	defer forkLock.RUnlock()

	errc := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, errc: errc}

	return <-errc
}

// process is a child process running in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *OutputBuffer

	done    chan struct{} // closed once the process has been reaped
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// processSpec describes a child to start.
type processSpec struct {
	name string   // for messages
	path string   // executable
	args []string // arguments after the program name
	env  []string // the complete environment
	dir  string   // working directory; "" for the current one
	tee  io.Writer
}

// startProcess starts spec in a new process group, with its output kept in
// an OutputBuffer and Pdeathsig set (see spawn). A goroutine reaps it, so
// it never lingers as a zombie.
func startProcess(spec processSpec) (*process, error) {
	out := &OutputBuffer{tee: newPrefixWriter(spec.tee, "["+spec.name+"] ")}

	var (
		cmd *exec.Cmd
		err error
	)

	for attempt := 0; ; attempt++ {
		//nolint:noctx // a child's life is ended by stop (and Pdeathsig), not by a context
		cmd = exec.Command(spec.path, spec.args...)
		cmd.Env = spec.env
		cmd.Dir = spec.dir
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		}
		// Output is copied by goroutines that end when every holder of
		// the pipe has exited; the group kill ends them all, and
		// WaitDelay bounds the wait if something escaped the group.
		cmd.WaitDelay = stopTimeout

		err = spawn(cmd)
		// ETXTBSY: a process forked elsewhere in this program (outside
		// writeExecutable's lock) still holds the just-written bootstrap
		// open until it execs. It passes within milliseconds; Go's own
		// toolchain retries the same way (golang/go#22315).
		if !errors.Is(err, syscall.ETXTBSY) || attempt == textBusyRetries {
			break
		}

		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}

	if err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.name, spec.path, err)
	}

	p := &process{name: spec.name, cmd: cmd, out: out, done: make(chan struct{})}

	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	return p, nil
}

// Pid returns the process id, which is also its process group id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended (and been reaped).
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes how the process ended; call only after exited.
func (p *process) exitError() error {
	if p.waitErr == nil {
		return fmt.Errorf("%s exited with status 0", p.name)
	}

	return fmt.Errorf("%s exited: %w", p.name, p.waitErr)
}

// stop kills the whole process group with SIGKILL and waits until the
// leader has been reaped. It is safe to call more than once and from
// several goroutines; every call returns the first call's result.
func (p *process) stop() error {
	p.stopOnce.Do(func() {
		// Kill the group even if the leader already exited, so that any
		// descendant it left behind goes too. ESRCH means nothing is left.
		if err := syscall.Kill(-p.Pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			p.stopErr = fmt.Errorf("kill process group of %s (%d): %w", p.name, p.Pid(), err)

			return
		}

		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()

		select {
		case <-p.done:
		case <-timer.C:
			p.stopErr = fmt.Errorf("%s (pid %d) not reaped %s after SIGKILL", p.name, p.Pid(), stopTimeout)
		}
	})

	return p.stopErr
}

// ProcessAlive reports whether pid names a live process on this machine: it
// exists in /proc and is not a zombie. Tests use it to prove that nothing
// outlives the sandbox.
func ProcessAlive(pid int) bool {
	state, err := procState(pid)
	if err != nil {
		return false
	}

	return state != 'Z' && state != 'X'
}

// GroupMembers lists the live processes whose process group is pgid.
func GroupMembers(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}

	var pids []int

	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}

		stat, err := readProcStat(pid)
		if err != nil {
			continue // the process ended while we looked
		}

		if stat.pgrp == pgid && stat.state != 'Z' && stat.state != 'X' {
			pids = append(pids, pid)
		}
	}

	return pids, nil
}

type procStat struct {
	state byte
	pgrp  int
}

func procState(pid int) (byte, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}

	return st.state, nil
}

// readProcStat parses /proc/<pid>/stat: "pid (comm) state ppid pgrp ...".
// comm may contain spaces and parentheses, so parsing starts after the last
// ')'.
func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, fmt.Errorf("read stat of %d: %w", pid, err)
	}

	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed stat of %d", pid)
	}

	sc := bufio.NewScanner(bytes.NewReader(data[i+1:]))
	sc.Split(bufio.ScanWords)

	var fields []string
	for sc.Scan() && len(fields) < 3 {
		fields = append(fields, sc.Text())
	}

	if len(fields) < 3 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("malformed stat of %d", pid)
	}

	pgrp, err := strconv.Atoi(fields[2])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed pgrp of %d: %w", pid, err)
	}

	return procStat{state: fields[0][0], pgrp: pgrp}, nil
}
