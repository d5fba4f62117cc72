//go:build linux

// Package proc starts and stops the sandbox's child processes: the
// emulator and each function's bootstrap. It is Linux-only, and says so
// with its build constraint: it relies on process groups (Setpgid), the
// parent-death signal (Pdeathsig) and /proc.
//
// Every child runs in its own process group and is started from one OS
// thread locked for the life of this process, with Pdeathsig=SIGKILL, so
// the kernel kills it when its parent dies by any means: a panic, a test
// timeout, SIGKILL, or Ctrl-C (which signals the terminal's foreground
// group, not the children's own groups). Stop kills the whole group with
// SIGKILL and returns once the leader is reaped. Each child's output is
// kept (Output) for a failing test to print.
package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// stopTimeout bounds how long Stop waits for a killed process group to be
// reaped. SIGKILL cannot be ignored, so this only trips on a process stuck
// in uninterruptible sleep.
const stopTimeout = 10 * time.Second

// textBusyRetries bounds the retries of a start that failed with ETXTBSY.
const textBusyRetries = 50

// forkLock keeps this package from forking while an executable is open
// for writing (WriteExecutable): a child forked then would inherit the
// descriptor, and exec of that executable would fail with ETXTBSY until
// the child execs.
var forkLock sync.RWMutex

var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

// spawn starts cmd from one OS thread that lives as long as this process.
// Linux ties Pdeathsig to the thread that forked the child, not the
// process, and the Go runtime may retire threads; starting every child
// from a goroutine locked to its thread for good makes the signal fire
// only when the process itself ends.
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

// Spec describes a child to start.
type Spec struct {
	// Name is for messages and the prefix of live output.
	Name string
	// Path is the executable, run without arguments.
	Path string
	// Env is the complete environment.
	Env []string
	// Dir is the working directory ("" for the current one).
	Dir string
	// Tee, if set, also receives the output live, each line prefixed with
	// "[Name] ".
	Tee io.Writer
}

// Process is a child running in its own process group.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *Output

	done    chan struct{} // closed once the process has been reaped
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// Start starts spec in a new process group with Pdeathsig set, its output
// kept. A goroutine reaps it, so it never lingers as a zombie.
func Start(spec Spec) (*Process, error) {
	out := &Output{tee: newPrefixWriter(spec.Tee, "["+spec.Name+"] ")}
	var (
		cmd *exec.Cmd
		err error
	)
	for attempt := 0; ; attempt++ {
		//nolint:noctx // a child's life is ended by Stop (and Pdeathsig), not by a context
		cmd = exec.Command(spec.Path)
		cmd.Env, cmd.Dir = spec.Env, spec.Dir
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		// The group kill ends every holder of the output pipe; WaitDelay
		// bounds the wait if something escaped the group.
		cmd.WaitDelay = stopTimeout
		err = spawn(cmd)
		// ETXTBSY: a process forked elsewhere in this program (outside
		// forkLock) still holds a just-written executable open until it
		// execs. It passes within milliseconds; Go's own toolchain retries
		// the same way (golang/go#22315).
		if !errors.Is(err, syscall.ETXTBSY) || attempt == textBusyRetries {
			break
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.Name, spec.Path, err)
	}
	p := &Process{name: spec.Name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id, which is also its process group id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is what the process has printed so far (stdout and stderr).
func (p *Process) Output() *Output { return p.out }

// Done is closed once the process has ended and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitError describes how the process ended; call it once Exited.
func (p *Process) ExitError() error {
	if p.waitErr == nil {
		return fmt.Errorf("%s exited with status 0", p.name)
	}
	return fmt.Errorf("%s exited: %w", p.name, p.waitErr)
}

// Stop kills the whole process group with SIGKILL and waits until the
// leader has been reaped. It is safe to call more than once and from
// several goroutines; every call returns the first call's result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		// Kill the group even if the leader already exited, so that any
		// descendant it left behind goes too. ESRCH: nothing is left.
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

// WriteExecutable writes r to path (mode 0755) while holding forkLock, so
// that no child this package forks inherits the open descriptor.
func WriteExecutable(path string, r io.Reader) error {
	forkLock.Lock()
	defer forkLock.Unlock()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755) //nolint:gosec // an executable the caller unpacked
	if err == nil {
		_, err = io.Copy(out, r)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
