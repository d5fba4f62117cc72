package main

import (
	"os"
	"testing"
)

func TestParseStatusKiB(t *testing.T) {
	t.Parallel()

	status := "Name:\tbootstrap\nVmPeak:\t  1266508 kB\nVmHWM:\t    34304 kB\nVmRSS:\t    30000 kB\n"

	tests := []struct {
		name, text, field string
		want              int64
		wantErr           bool
	}{
		{name: "VmHWM", text: status, field: "VmHWM", want: 34304},
		{name: "MemTotal", text: "MemTotal:       24684136 kB\nMemFree: 1 kB\n", field: "MemTotal", want: 24684136},
		{name: "missing", text: status, field: "VmSwap", wantErr: true},
		{name: "no unit", text: "VmHWM:\t12\n", field: "VmHWM", wantErr: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := parseStatusKiB(tt.text, tt.field)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}

			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()

	// comm with a space and a parenthesis; utime 150, stime 25.
	stat := "4242 (boot (strap)) S 1 4242 4242 0 -1 4194560 1200 0 0 0 150 25 0 0 20 0 9 0 12345 1000000 800 18446744073709551615"

	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}

	if got != 175 {
		t.Errorf("got %d ticks, want 175", got)
	}

	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("short stat parsed without error")
	}
}

func TestReadsOwnProcess(t *testing.T) {
	t.Parallel()

	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}

	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}

	if before < 0 || after < before {
		t.Errorf("CPU time went from %v to %v", before, after)
	}

	kib, err := peakRSSKiB(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}

	if kib <= 0 {
		t.Errorf("peak RSS of a running test = %d KiB, want > 0", kib)
	}
}

func TestParseProcStatAndBusy(t *testing.T) {
	t.Parallel()

	a, err := parseProcStat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
	if err != nil {
		t.Fatal(err)
	}

	if a != (machineCPU{Busy: 150, Total: 1000}) {
		t.Fatalf("a = %+v", a)
	}

	b, err := parseProcStat("cpu  250 0 100 1000 50 0 0 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}

	if got := busyPercent(a, b); got != 50 {
		t.Errorf("busy = %v%%, want 50%%", got)
	}

	if got := busyPercent(b, a); got != 0 {
		t.Errorf("busy backwards = %v, want 0", got)
	}

	if _, err := parseProcStat("intr 1 2 3\n"); err == nil {
		t.Error("no cpu line parsed without error")
	}
}

func TestParseCPUModel(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, cpuinfo, want string
	}{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13"},
		{"arm", "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n", "ARM implementer 0x41, part 0xd0c"},
		{"nothing", "processor\t: 0\n", "unknown"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if got := parseCPUModel(tt.cpuinfo); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	t.Parallel()

	if got := parseOSRelease("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("got %q", got)
	}

	if got := parseOSRelease("NAME=x\n"); got != "" {
		t.Errorf("got %q, want empty", got)
	}
}
