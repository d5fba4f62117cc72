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
	state      byte
	ppid, pgrp int
	cpu        int64 // utime + stime, in clock ticks
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
	var nums [4]int64
	for k, field := range [][]byte{f[1], f[2], f[11], f[12]} {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return stat{}, fmt.Errorf("malformed stat %q: %w", data, err)
		}
		nums[k] = n
	}
	return stat{state: f[0][0], ppid: int(nums[0]), pgrp: int(nums[1]), cpu: nums[2] + nums[3]}, nil
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
	return find(func(st stat) bool { return st.pgrp == pgid })
}

// Children lists the live processes whose parent is ppid.
func Children(ppid int) ([]int, error) {
	return find(func(st stat) bool { return st.ppid == ppid })
}

// find lists the live processes whose stat satisfies match.
func find(match func(stat) bool) ([]int, error) {
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
		if st, err := readStat(pid); err == nil && live(st.state) && match(st) {
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
