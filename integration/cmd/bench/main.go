// Command bench measures a2p-alerts and writes docs/benchmarks.md (make
// bench). Each step fills one section of the report:
//
//	Go benchmarks   the processor's and authorizer's own cost per request,
//	                summarised by benchstat (tools/perf)
//	packages        the deployment zips scripts/lambdazip builds
//	cold starts     each function's process restarted n times, and the
//	                processor's package initialisation (inittrace)
//	load            open-loop load through the whole offline stack, with
//	                every delivery counted and the CPU each process used
//	profile         a CPU profile of the processor at 100/s
//	                (names.EnvCPUProfile), its top items and parts
//
// The report opens with issue 14's targets, each with the figure of the
// report committed before the issue (targets.go) and met or not, with the
// measured reason.
//
// Everything but the Go benchmarks runs in the offline sandbox, so it
// needs no AWS account. A new figure is a new step and a new section.
//
// It exits 1 when any alert answered 200 was not delivered exactly once
// (after writing the report), or when a step fails.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// runTimeout bounds the whole run.
const runTimeout = 20 * time.Minute

// settings are the run's parameters.
type settings struct {
	Rates      []int
	Duration   time.Duration
	ColdStarts int
	BenchCount int
}

func main() {
	out := flag.String("out", filepath.Join("docs", "benchmarks.md"), "report file")
	rates := flag.String("rates", "50,100,200", "open-loop rates, requests per second")
	s := settings{}
	flag.DurationVar(&s.Duration, "duration", 20*time.Second, "length of each load phase")
	flag.IntVar(&s.ColdStarts, "cold-starts", 30, "cold starts per function")
	flag.IntVar(&s.BenchCount, "count", 6, "go test -count for the Go benchmarks")
	flag.Parse()

	for f := range strings.SplitSeq(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: bad rate %q\n", f)
			os.Exit(2)
		}

		s.Rates = append(s.Rates, n)
	}

	if s.ColdStarts < 1 || s.BenchCount < 1 || s.Duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -cold-starts, -count and -duration must be positive")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *out, s)

	stop()
	os.Exit(code)
}

// run measures, writes the report and returns the exit code.
func run(ctx context.Context, out string, s settings) int {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()

	rep, err := measure(ctx, s)
	if err == nil {
		err = os.WriteFile(out, []byte(rep.render()), 0o600)
	}

	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)

		return 1
	}

	fmt.Printf("Wrote %s (run took %s).\n", out, rep.Took.Round(time.Second))

	return exitCode(rep)
}

// exitCode is 1 when any accepted alert was not delivered exactly once,
// saying so, and 0 otherwise.
func exitCode(rep *report) int {
	if problems := rep.problems(); problems != "" {
		fmt.Fprintln(os.Stderr, "bench: an accepted alert was not delivered exactly once:", problems)

		return 1
	}

	return 0
}

// bench is one run: what every step shares.
type bench struct {
	root   string
	start  time.Time
	sb     *sandbox.Sandbox
	log    *deliveryLog
	ids    idMaker
	report *report
}

// step prints progress with the time since start.
func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", time.Since(b.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// measure runs every step: the Go benchmarks first, on a quiet machine,
// then the sandbox's.
func measure(ctx context.Context, s settings) (*report, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}

	root, err := sandbox.FindRepoRoot(wd)
	if err != nil {
		return nil, err
	}

	b := &bench{root: root, start: time.Now(), log: newDeliveryLog(), ids: idMaker{run: runID()},
		report: &report{Date: time.Now(), Settings: s, LogLevel: stack.DefaultLogLevel, LoadAverage: loadAverage()}}

	for _, st := range []func(context.Context, *bench) error{goBenchmarks, packages, startSandbox, coldStarts, startup, load} {
		if err := st(ctx, b); err != nil {
			if b.sb != nil {
				_ = b.sb.Close()
			}

			return nil, err
		}
	}

	if err := b.sb.Close(); err != nil {
		return nil, fmt.Errorf("stop the sandbox: %w", err)
	}

	b.report.Took = time.Since(b.start)

	return b.report, nil
}

// startSandbox starts the sandbox with the stack's default log level, as
// a deployed stack runs, its tap feeding the delivery log.
func startSandbox(ctx context.Context, b *bench) error {
	b.step("building the functions for this machine and starting the sandbox")

	sb, err := sandbox.Start(ctx, sandbox.Options{
		OnDelivery: b.log.onDelivery,
		Config:     map[string]string{names.ConfigLogLevel: b.report.LogLevel},
	})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}

	b.sb = sb
	b.report.Sandbox = sb.Timings.String()

	return hostZips(b)
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes, as
// /proc/loadavg gives it: what else the cores were running before the
// run. "" when unreadable.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}

	f := strings.Fields(string(b))

	return strings.Join(f[:min(3, len(f))], " ")
}

// runID is a short random hex string that makes this run's message_ids
// unique.
func runID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux

	return hex.EncodeToString(b)
}
