//go:build linux

package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100
// on every Linux architecture Go supports for Lambda (amd64, arm64).
const clockTicks = 100

// stat is what this package reads of /proc/<pid>/stat.
type stat struct {
	state byte
	pgrp  int
	cpu   int64 // utime + stime, in clock ticks
}

// readStat parses /proc/<pid>/stat: "pid (comm) state ppid pgrp ...".
// comm may hold spaces and parentheses, so fields are counted after the
// last ')'.
func readStat(pid int) (stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, fmt.Errorf("read stat of %d: %w", pid, err)
	}

	return parseStat(data)
}

func parseStat(data []byte) (stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("malformed stat %q", data)
	}

	// After ')': state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
	f := bytes.Fields(data[i+1:])
	if len(f) < 13 || len(f[0]) != 1 {
		return stat{}, fmt.Errorf("malformed stat %q", data)
	}

	var nums [3]int64

	for k, field := range [][]byte{f[2], f[11], f[12]} {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return stat{}, fmt.Errorf("malformed stat %q: %w", data, err)
		}

		nums[k] = n
	}

	return stat{state: f[0][0], pgrp: int(nums[0]), cpu: nums[1] + nums[2]}, nil
}

// live reports whether a process state is neither zombie nor dead.
func live(state byte) bool { return state != 'Z' && state != 'X' }

// Alive reports whether pid names a live process on this machine: it exists
// in /proc and is not a zombie. Tests use it to prove that nothing outlives
// the sandbox.
func Alive(pid int) bool {
	st, err := readStat(pid)

	return err == nil && live(st.state)
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

		st, err := readStat(pid)
		if err == nil && st.pgrp == pgid && live(st.state) {
			pids = append(pids, pid)
		}
	}

	return pids, nil
}

// CPUTime returns the CPU time (user + system) pid has used so far, at the
// kernel's 10 ms resolution.
func CPUTime(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}

	return time.Duration(st.cpu) * time.Second / clockTicks, nil
}
