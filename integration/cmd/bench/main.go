// Command bench measures a2p-alerts and writes docs/benchmarks.md (make
// bench): the functions' start-up, package sizes and memory; the Go
// benchmarks of the processor's and the authorizer's request paths; open
// loop load through the whole offline stack with every delivery counted;
// and where the time of one request goes, from the processor's X-Ray
// segments. Everything but the Go benchmarks runs in the offline sandbox
// (integration/local), so it needs no AWS account.
//
// It exits 1 when any alert answered 200 was not delivered exactly once
// (after writing the report), or when a step fails.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// backgroundWindow is how long the machine's CPU use is sampled before
// the run, to show what else the machine was doing.
const backgroundWindow = 3 * time.Second

// runTimeout bounds the whole run.
const runTimeout = 20 * time.Minute

// goBenchTargets are the packages whose Go benchmarks section 2 reports.
var goBenchTargets = []goBenchTarget{
	{Module: "services/processor", Package: "./notify"},
	{Module: "services/authorizer", Package: "."},
}

func main() {
	out := flag.String("out", filepath.Join("docs", "benchmarks.md"), "report file")
	rates := flag.String("rates", "50,100,200", "open-loop rates of unique alerts, requests per second")
	duration := flag.Duration("duration", 20*time.Second, "length of each load phase")
	replayRate := flag.Int("replay-rate", 100, "rate of the 50% replay mix (0 to skip it)")
	coldStarts := flag.Int("cold-starts", 30, "cold starts per function")
	count := flag.Int("count", 5, "go test -count for the Go benchmarks")
	samples := flag.Int("samples", 200, "requests sent one at a time for section 4")
	flag.Parse()

	s := settings{
		Duration:   *duration,
		ReplayRate: *replayRate,
		ColdStarts: *coldStarts,
		BenchCount: *count,
		Samples:    *samples,
		LogLevel:   stack.DefaultLogLevel,
	}

	for f := range strings.SplitSeq(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: bad rate %q\n", f)
			os.Exit(2)
		}

		s.Rates = append(s.Rates, n)
	}

	if s.ColdStarts < 1 || s.BenchCount < 1 || s.Samples < 1 || s.Duration <= 0 || s.ReplayRate < 0 {
		fmt.Fprintln(os.Stderr, "bench: -cold-starts, -count, -samples and -duration must be positive")
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
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)

		return 1
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)

		return 1
	}

	if err := os.WriteFile(out, []byte(renderReport(*rep)), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)

		return 1
	}

	printSummary(out, rep)

	if !rep.ok() {
		fmt.Fprintln(os.Stderr, "bench: an accepted alert was not delivered exactly once (see the report)")

		return 1
	}

	return 0
}

// progress prints a step with the time since start.
type progress struct{ start time.Time }

func (p progress) step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", time.Since(p.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// measure runs every measurement.
func measure(ctx context.Context, s settings) (*report, error) {
	p := progress{start: time.Now()}
	rep := &report{Date: time.Now(), Settings: s, HostArch: lambdahost.HostArch(), Cold: map[string][]coldStart{}}

	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}

	root, err := sandbox.FindRepoRoot(wd)
	if err != nil {
		return nil, fmt.Errorf("find the repository root: %w", err)
	}

	kumoBin, err := emulator.Locate(root)
	if err != nil {
		return nil, fmt.Errorf("locate kumo: %w", err)
	}

	rep.Machine = describeMachine(ctx, root, kumoBin)

	p.step("sampling the machine's CPU use for %s before starting anything", backgroundWindow)

	if rep.Background, err = sampleBusy(ctx, backgroundWindow); err != nil {
		return nil, err
	}

	// Section 2 first, on a quiet machine.
	for _, t := range goBenchTargets {
		p.step("Go benchmarks in %s (%s)", t.Module, goBenchCommand(s.BenchCount))

		res, env, err := runGoBench(ctx, root, t, s.BenchCount)
		if err != nil {
			return nil, err
		}

		rep.GoBench = append(rep.GoBench, res...)
		if rep.GoBenchCPU == "" {
			rep.GoBenchCPU = env["cpu"]
		}
	}

	p.step("building the arm64 deployment zips")

	arm64Dir := filepath.Join(root, "build", "bench", "arm64")
	if err := buildZips(ctx, root, "arm64", arm64Dir); err != nil {
		return nil, err
	}

	if rep.ZipsArm64, err = zipSizes(arm64Dir, functionOrder); err != nil {
		return nil, err
	}

	p.step("building the functions for this machine and starting the sandbox")

	deliveries := newDeliveryLog()

	env, err := sandbox.Start(ctx, sandbox.Options{
		OnDelivery: deliveries.onDelivery,
		Config:     map[string]string{names.ConfigLogLevel: s.LogLevel},
	})
	if err != nil {
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}

	defer func() { _ = env.Close() }()

	rep.Sandbox = env.Timings.String()

	if rep.ZipsHost, err = zipSizes(filepath.Join(root, filepath.FromSlash(sandbox.ArtifactDir)), functionOrder); err != nil {
		return nil, err
	}

	fns, err := findFunctions(env)
	if err != nil {
		return nil, err
	}

	rep.MemoryMB = map[string]int{
		names.FunctionAuthorizer: fns.authorizer.Spec.MemorySize,
		names.FunctionProcessor:  fns.processor.Spec.MemorySize,
	}

	r := &runner{env: env, fns: fns, ids: idMaker{run: runID()}, deliveries: deliveries, client: loadClient()}

	var all []outcome

	cold, err := r.coldStarts(ctx, p, s.ColdStarts, rep)
	all = append(all, cold...)

	if err != nil {
		return nil, err
	}

	p.step("section 4: %d alerts one at a time, then direct invocations", s.Samples)

	seq, err := r.breakdown(ctx, s.Samples, rep)
	all = append(all, seq...)

	if err != nil {
		return nil, err
	}

	var phases []phaseSpec
	for _, rate := range s.Rates {
		phases = append(phases, phaseSpec{Tag: "u" + strconv.Itoa(rate), Rate: rate, Duration: s.Duration})
	}

	if s.ReplayRate > 0 {
		phases = append(phases, phaseSpec{Tag: "r" + strconv.Itoa(s.ReplayRate), Rate: s.ReplayRate, Duration: s.Duration, Replays: true})
	}

	for _, spec := range phases {
		p.step("load: %d/s, %s, for %s", spec.Rate, spec.label(), spec.Duration)

		res, err := r.runPhase(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("load at %d/s: %w", spec.Rate, err)
		}

		p.step("  p50 %s p99 %s, %d/%d answered 200, %d deliveries for %d accepted %s",
			ms(res.All.P50), ms(res.All.P99), res.Account.OK, res.Account.Requests, res.Account.Deliveries, res.Account.AcceptedIDs, res.Account.problems())

		rep.Phases = append(rep.Phases, res)
		all = append(all, res.Outcomes...)
	}

	final, _ := r.counts()
	rep.Global = reckon(all, nil, final)

	for _, e := range []struct {
		name string
		pid  int
	}{
		{procKumo, env.Emulator.Pid()},
		{names.FunctionAuthorizer, env.Functions[fns.authLogical].Pid()},
		{names.FunctionProcessor, env.Functions[fns.procLogical].Pid()},
	} {
		kib, err := peakRSSKiB(e.pid)
		if err != nil {
			return nil, err
		}

		rep.PeakRSS = append(rep.PeakRSS, rssEntry{Name: e.name, KiB: kib})
	}

	if errs := env.Tap.Errors(); len(errs) > 0 {
		p.step("the tap saw %d receive errors, first: %v", len(errs), errs[0])
	}

	if err := env.Close(); err != nil {
		return nil, fmt.Errorf("stop the sandbox: %w", err)
	}

	rep.Took = time.Since(p.start)
	p.step("done")

	return rep, nil
}

// runID is a short random hex string that makes this run's message_ids
// unique.
func runID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails

	return hex.EncodeToString(b)
}

// coldStarts measures both functions' cold starts.
func (r *runner) coldStarts(ctx context.Context, p progress, n int, rep *report) ([]outcome, error) {
	authEvent, err := authorizerEvent(r.env)
	if err != nil {
		return nil, err
	}

	specs := []struct {
		name string
		spec coldStartSpec
	}{
		{names.FunctionAuthorizer, coldStartSpec{
			Logical: r.fns.authLogical,
			Payload: func(int) ([]byte, outcome, error) { return authEvent, outcome{}, nil },
			Check:   checkAllow,
		}},
		{names.FunctionProcessor, coldStartSpec{
			Logical: r.fns.procLogical,
			Payload: func(i int) ([]byte, outcome, error) {
				id := r.ids.id("cold", i)
				ev, err := processorEvent(alertBody(id, i))

				return ev, outcome{ID: id}, err
			},
			Check: checkSent,
		}},
	}

	var all []outcome

	for _, sp := range specs {
		p.step("section 1: %d cold starts of the %s", n, sp.name)

		runs, outcomes, err := measureColdStarts(ctx, r.env, sp.spec, n)
		all = append(all, outcomes...)

		if err != nil {
			return all, err
		}

		rep.Cold[sp.name] = runs
	}

	// The running processes changed: point the runner at the new ones.
	fns, err := findFunctions(r.env)
	if err != nil {
		return all, err
	}

	r.fns = fns

	return all, nil
}

// breakdown fills section 4: alerts one at a time through API Gateway,
// their processor segments, then direct invocations of each function and
// of the no-code baseline.
func (r *runner) breakdown(ctx context.Context, n int, rep *report) ([]outcome, error) {
	seq, err := r.runPhase(ctx, phaseSpec{Tag: "seq", Requests: n})
	if err != nil {
		return seq.Outcomes, err
	}

	rep.Phases = append(rep.Phases, seq)

	ids := map[string]bool{}

	for _, o := range seq.Outcomes {
		if o.accepted() {
			ids[o.ID] = true
		}
	}

	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	segs, err := r.env.XRay.WaitFor(wait, len(ids), func(s observe.Segment) bool {
		id, _ := s.Annotations[annotationMessageID].(string)

		return s.Name == processorSegment && ids[id]
	})
	if err != nil {
		return seq.Outcomes, fmt.Errorf("processor segments: %w", err)
	}

	rep.Breakdown.addSpans(seq.Outcomes, processorSpans(segs, ids))

	authEvent, err := authorizerEvent(r.env)
	if err != nil {
		return seq.Outcomes, err
	}

	for range n {
		answer, d, err := invoke(ctx, r.env.Clients.Lambda, r.fns.authorizer, authEvent)
		if err == nil {
			err = checkAllow(answer)
		}

		if err != nil {
			return seq.Outcomes, err
		}

		rep.Breakdown.AuthInvoke = append(rep.Breakdown.AuthInvoke, d)

		start := time.Now()
		if err := r.fns.authorizer.WaitReady(ctx, r.env.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
			return seq.Outcomes, fmt.Errorf("baseline invoke: %w", err)
		}

		rep.Breakdown.Baseline = append(rep.Breakdown.Baseline, time.Since(start))
	}

	direct, err := r.directPhase(ctx, n)
	if err != nil {
		return append(seq.Outcomes, direct.Outcomes...), err
	}

	rep.Breakdown.ProcInvoke = direct.latencies()

	if !direct.Account.ok() {
		return append(seq.Outcomes, direct.Outcomes...), fmt.Errorf("direct processor invocations: %s", direct.Account.problems())
	}

	return append(seq.Outcomes, direct.Outcomes...), nil
}

// latencies lists the phase's request latencies.
func (r phaseResult) latencies() []time.Duration {
	out := make([]time.Duration, 0, len(r.Outcomes))
	for _, o := range r.Outcomes {
		out = append(out, o.Latency)
	}

	return out
}

// directPhase invokes the processor n times with new alerts through the
// emulator's Lambda Invoke API, and accounts for their deliveries.
func (r *runner) directPhase(ctx context.Context, n int) (phaseResult, error) {
	before, _ := r.counts()
	res := phaseResult{Spec: phaseSpec{Tag: "dir", Requests: n}}

	for k := range n {
		id := r.ids.id("dir", k)

		ev, err := processorEvent(alertBody(id, k))
		if err != nil {
			return res, err
		}

		answer, d, err := invoke(ctx, r.env.Clients.Lambda, r.fns.processor, ev)
		if err == nil {
			err = checkSent(answer)
		}

		o := outcome{ID: id, Latency: d, Code: http.StatusOK}
		if err != nil {
			o.Code, o.Err = 0, err.Error()
		}

		res.Outcomes = append(res.Outcomes, o)
	}

	if err := r.drain(ctx, res.Outcomes, before); err != nil {
		return res, err
	}

	if err := r.sentinel(ctx); err != nil {
		return res, err
	}

	after, _ := r.counts()
	res.Account = reckon(res.Outcomes, before, after)

	if res.Account.OK != n {
		return res, errors.New("a direct processor invocation failed: " + firstError(res.Outcomes))
	}

	return res, nil
}

func firstError(outcomes []outcome) string {
	for _, o := range outcomes {
		if o.Err != "" {
			return o.Err
		}
	}

	return "unknown"
}

// printSummary prints where the report is and its headline figures.
func printSummary(out string, rep *report) {
	fmt.Printf("Wrote %s (run took %s).\n", out, rep.Took.Round(time.Second))

	for _, fn := range functionOrder {
		runs := rep.Cold[fn]
		fmt.Printf("  %-10s init p50 %s, exec to first invocation p50 %s / p90 %s\n", fn,
			ms(summarize(coldField(runs, func(c coldStart) time.Duration { return c.Init })).P50),
			ms(summarize(coldField(runs, func(c coldStart) time.Duration { return c.Total })).P50),
			ms(summarize(coldField(runs, func(c coldStart) time.Duration { return c.Total })).P90))
	}

	for _, g := range rep.GoBench {
		fmt.Printf("  %-38s %10s/op %6.0f allocs/op\n", g.Name, nsOp(g.NsPerOp), g.AllocsPerOp)
	}

	for _, ph := range rep.Phases {
		verdict := "ok"
		if !ph.Account.ok() {
			verdict = "MISMATCH: " + ph.Account.problems()
		}

		rate := "closed loop"
		if ph.Spec.Rate > 0 {
			rate = fmt.Sprintf("%d/s", ph.Spec.Rate)
		}

		fmt.Printf("  %-11s %-14s p50 %s p90 %s p99 %s, %d/%d answered 200, deliveries %d = accepted %d: %s\n",
			rate, ph.Spec.label(), ms(ph.All.P50), ms(ph.All.P90), ms(ph.All.P99),
			ph.Account.OK, ph.Account.Requests, ph.Account.Deliveries, ph.Account.AcceptedIDs, verdict)
	}
}
