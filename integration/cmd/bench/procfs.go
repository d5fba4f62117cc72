package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. It
// is 100 on every Linux architecture Go supports for Lambda (amd64, arm64).
const clockTicks = 100

// parseStatusKiB returns the value in KiB of field (such as "VmHWM") in
// the text of /proc/<pid>/status.
func parseStatusKiB(status, field string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}

		num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
		if unit != "kB" {
			return 0, fmt.Errorf("%s: unexpected unit in %q", field, v)
		}

		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}

		return n, nil
	}

	return 0, fmt.Errorf("no %s line", field)
}

// peakRSSKiB reads VmHWM, the peak resident set size, of pid.
func peakRSSKiB(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}

	return parseStatusKiB(string(data), "VmHWM")
}

// parseStatCPU returns utime+stime, in clock ticks, from the text of
// /proc/<pid>/stat. The command name may hold spaces and parentheses, so
// fields are counted after the last ')'.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}

	// After ")": state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}

	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}

	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}

	return utime + stime, nil
}

// processCPU returns the CPU time pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}

	ticks, err := parseStatCPU(string(data))
	if err != nil {
		return 0, err
	}

	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// machineCPU is the machine's cumulative CPU time from /proc/stat.
type machineCPU struct {
	Busy, Total int64 // clock ticks
}

// parseProcStat reads the aggregate "cpu" line of /proc/stat: idle and
// iowait count as idle, everything else as busy.
func parseProcStat(text string) (machineCPU, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != "cpu" {
			continue
		}

		var m machineCPU

		for i, s := range f[1:] {
			if i >= 8 { // guest times are already in user and nice
				break
			}

			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return machineCPU{}, fmt.Errorf("/proc/stat: %w", err)
			}

			m.Total += n
			if i != 3 && i != 4 { // idle, iowait
				m.Busy += n
			}
		}

		return m, nil
	}

	return machineCPU{}, fmt.Errorf("/proc/stat has no cpu line")
}

func readMachineCPU() (machineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, fmt.Errorf("read /proc/stat: %w", err)
	}

	return parseProcStat(string(data))
}

// busyPercent is the share of the machine's CPU used between a and b.
func busyPercent(a, b machineCPU) float64 {
	if b.Total <= a.Total {
		return 0
	}

	return 100 * float64(b.Busy-a.Busy) / float64(b.Total-a.Total)
}

// sampleBusy returns the machine's CPU use, in percent, over window.
func sampleBusy(ctx context.Context, window time.Duration) (float64, error) {
	a, err := readMachineCPU()
	if err != nil {
		return 0, err
	}

	select {
	case <-ctx.Done():
		return 0, fmt.Errorf("sample CPU use: %w", ctx.Err())
	case <-time.After(window):
	}

	b, err := readMachineCPU()
	if err != nil {
		return 0, err
	}

	return busyPercent(a, b), nil
}

// machineInfo describes where the benchmark ran.
type machineInfo struct {
	CPUModel   string
	Cores      int
	MemTotal   string
	GoVersion  string
	OS         string
	Kernel     string
	Arch       string
	Commit     string
	KumoModule string
}

// parseCPUModel returns the processor's name from /proc/cpuinfo text:
// "model name" on x86, else the "Hardware"/"CPU implementer" lines ARM
// machines show, else "unknown".
func parseCPUModel(cpuinfo string) string {
	var implementer, part string

	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}

		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Hardware":
			if v != "" {
				return v
			}
		case "CPU implementer":
			implementer = v
		case "CPU part":
			part = v
		}
	}

	if implementer != "" {
		return "ARM implementer " + implementer + ", part " + part
	}

	return "unknown"
}

// parseOSRelease returns PRETTY_NAME from /etc/os-release text.
func parseOSRelease(text string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}

	return ""
}

// describeMachine gathers machineInfo; what cannot be read says "unknown".
func describeMachine(ctx context.Context, root, kumoBin string) machineInfo {
	m := machineInfo{
		CPUModel:  "unknown",
		Cores:     runtime.NumCPU(),
		MemTotal:  "unknown",
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Commit:    "unknown",
	}

	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = parseCPUModel(string(data))
	}

	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kib, err := parseStatusKiB(string(data), "MemTotal"); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
		}
	}

	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		if name := parseOSRelease(string(data)); name != "" {
			m.OS = "linux (" + name + ")"
		}
	}

	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}

	if out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))

		if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			m.Commit += " (with uncommitted changes)"
		}
	}

	if info, err := buildinfo.ReadFile(kumoBin); err == nil {
		m.KumoModule = info.Main.Path + " " + info.Main.Version
		if info.Main.Path == "" || !strings.Contains(info.Main.Path, "kumo") {
			for _, dep := range info.Deps {
				if strings.HasSuffix(dep.Path, "/kumo") {
					m.KumoModule = dep.Path + " " + dep.Version
				}
			}
		}
	}

	return m
}
