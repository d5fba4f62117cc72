package main

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// baselineCommit is the commit of the report whose figures issue 14's
// targets are set against: `git show 22d8518:docs/benchmarks.md`, made on
// a quiet machine (AMD EPYC, 2 cores) before the issue was filed.
const baselineCommit = "22d8518"

// Issue 14's "before" figures, from the report at baselineCommit.
const (
	baselineValidAllocs = 147                      // BenchmarkHandler/valid_alert allocs/op
	baselineCPU100      = 2585 * time.Microsecond  // processor CPU per request at 100/s
	baselineColdStart   = 18750 * time.Microsecond // processor exec -> first invocation p50
	baselineZip         = 9_396_247                // arm64 processor.zip, bytes (8.96 MiB)
	// baselineAWSCalls is how many AWS calls the processor made per
	// delivered alert then (the report's section 4: PutItem, GetItem,
	// Publish or StartOutboundVoiceContact, UpdateItem).
	baselineAWSCalls = 4
)

// targetRate is the load the CPU target is measured at.
const targetRate = 100

// target is one of issue 14's targets as this run measured it.
type target struct {
	What           string
	Before, Now    string
	Limit          string
	Met, Measured  bool
	ReasonIfNotMet string
}

// targets evaluates issue 14's targets against this run's figures.
func (r *report) targets() []target {
	ts := []target{r.allocTarget(), r.cpuTarget(), r.coldTarget(), r.zipTarget()}
	for i := range ts {
		if !ts[i].Measured {
			ts[i].Now, ts[i].ReasonIfNotMet = "not measured", "this run did not measure it (see How to reproduce)"
		}
	}

	return ts
}

func (r *report) allocTarget() target {
	const limit = 100

	t := target{What: "`BenchmarkHandler/valid_alert` allocations per request", Before: strconv.Itoa(baselineValidAllocs),
		Limit: fmt.Sprintf("≤ %d", limit)}
	if n, ok := r.Allocs["Handler/valid_alert"]; ok {
		t.Measured, t.Now, t.Met = true, strconv.Itoa(n), n <= limit
		t.ReasonIfNotMet = "the handler's own allocations: see section 1"
	}

	return t
}

func (r *report) cpuTarget() target {
	limit := baselineCPU100 * 60 / 100
	t := target{What: fmt.Sprintf("processor CPU per request at %d/s", targetRate), Before: ms3(baselineCPU100),
		Limit: "≤ " + ms3(limit) + " (60%)"}

	if cpu := r.cpuNow(); cpu > 0 {
		t.Measured, t.Now, t.Met = true, ms3(cpu), cpu <= limit
		t.ReasonIfNotMet = r.cpuReason()
	}

	return t
}

// cpuReason says where the processor's CPU goes, from the profile's
// groups: how much of it the required SDKs and the HTTP round trips they
// make take, how much the Go runtime, how much our own code.
func (r *report) cpuReason() string {
	if r.Profile == nil || len(r.Profile.Groups) == 0 {
		return "no profile was taken"
	}

	var deps, rt, own float64

	for _, g := range r.Profile.Groups {
		switch {
		case strings.HasPrefix(g.Name, "AWS SDK"), strings.HasPrefix(g.Name, "net/http"),
			strings.HasPrefix(g.Name, "X-Ray"), strings.HasPrefix(g.Name, "Lambda runtime client"):
			deps += g.Share
		case strings.HasPrefix(g.Name, "Go runtime"):
			rt += g.Share
		case g.Name == ownGroup, strings.HasPrefix(g.Name, "slog"):
			own += g.Share
		}
	}

	why := ""
	if r.AWSCalls > baselineAWSCalls {
		why = fmt.Sprintf("each delivered alert now makes %d AWS calls (X-Ray's record of this run), where the processor measured before made %d (issue 11 added the alert record's writes); ",
			r.AWSCalls, baselineAWSCalls)
	}

	why += fmt.Sprintf("the profile (section 5) puts %.0f%% of the processor's CPU in the required SDKs (aws-sdk-go-v2's middleware, signing, endpoint rules and (de)serialisation, aws-xray-sdk-go, aws-lambda-go) and the HTTP round trips they make, %.0f%% in the Go runtime, and %.0f%% in our own code and its log line",
		deps*100, rt*100, own*100)
	if over := (1-own)*float64(r.cpuNow())/float64(baselineCPU100*60/100) - 1; over > 0 {
		why += fmt.Sprintf(": without any of our code it would still be %.0f%% over the limit", over*100)
	}

	return why
}

// cpuNow is the processor's CPU per request at targetRate, 0 when not
// measured.
func (r *report) cpuNow() time.Duration {
	for _, p := range r.Phases {
		if p.Rate == targetRate && len(p.Outcomes) > 0 {
			return p.CPU[names.FunctionProcessor] / time.Duration(len(p.Outcomes))
		}
	}

	return 0
}

func (r *report) coldTarget() target {
	limit := 15 * time.Millisecond
	t := target{What: "processor cold start, exec → first invocation completed, p50", Before: ms(baselineColdStart),
		Limit: "≤ " + ms(limit)}

	if cs := r.Cold[names.FunctionProcessor]; len(cs) > 0 {
		total := make([]time.Duration, 0, len(cs))
		for _, c := range cs {
			total = append(total, c.Total)
		}

		p50 := percentile(total, 50)
		t.Measured, t.Now, t.Met = true, ms(p50), p50 <= limit
		t.ReasonIfNotMet = r.coldReason(cs)
	}

	return t
}

// coldReason splits the processor's cold start: until it polls the
// Runtime API, of which package initialisation and the part only the X-Ray
// SDK links, then the first invocation and its AWS calls.
func (r *report) coldReason(cs []coldStart) string {
	var inits, firsts []time.Duration
	for _, c := range cs {
		inits, firsts = append(inits, c.Init), append(firsts, c.Total-c.Init)
	}

	why := fmt.Sprintf("p50 %s until the process polls the Runtime API, then p50 %s for the first invocation", ms(percentile(inits, 50)), ms(percentile(firsts, 50)))
	if r.AWSCalls > baselineAWSCalls {
		why += fmt.Sprintf(" (%d AWS calls, where the processor measured before made %d: issue 11's alert record)", r.AWSCalls, baselineAWSCalls)
	}

	return why + "; " + r.Init.reason()
}

func (r *report) zipTarget() target {
	const limit = 8 << 20

	t := target{What: "arm64 `processor.zip`", Before: bytesMiB(baselineZip), Limit: "≤ " + bytesMiB(limit)}
	if z, ok := r.Zips[names.FunctionProcessor]; ok && z[0] > 0 {
		t.Measured, t.Now, t.Met = true, bytesMiB(z[0]), z[0] <= limit
		t.ReasonIfNotMet = "see section 2"
	}

	return t
}

// renderTargets renders the targets table.
func (r *report) renderTargets(b *strings.Builder) {
	fmt.Fprintf(b, "## Issue 14's targets\n\n")
	fmt.Fprintf(b, "Before: the report committed before the issue (`git show %s:docs/benchmarks.md`, a quiet machine with an AMD EPYC CPU). Now: this run, on the machine above; CPU and time figures move with the machine and with whatever else it runs, sizes and allocation counts do not.\n\n", baselineCommit)
	fmt.Fprintf(b, "| Target | Before | Now | Limit | Met? |\n|---|---:|---:|---:|---|\n")

	for _, t := range r.targets() {
		verdict := "met"
		if !t.Met {
			verdict = "**not met**: " + t.ReasonIfNotMet
		}

		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", t.What, t.Before, t.Now, t.Limit, verdict)
	}

	fmt.Fprintf(b, "\n")
}

// ms3 renders a duration in milliseconds with three decimals.
func ms3(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// bytesMiB renders a size in bytes and MiB.
func bytesMiB(n int64) string {
	return fmt.Sprintf("%s B (%.2f MiB)", groupThousands(n), float64(n)/(1<<20))
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}

	return s
}

// benchAllocs reads `go test -bench -benchmem` output and returns each
// benchmark's median allocs/op, by name without the GOMAXPROCS suffix
// ("Handler/valid_alert").
func benchAllocs(out string) map[string]int {
	runs := map[string][]int{}

	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasPrefix(f[0], "Benchmark") || f[len(f)-1] != "allocs/op" {
			continue
		}

		n, err := strconv.Atoi(f[len(f)-2])
		if err != nil {
			continue
		}

		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}

		runs[name] = append(runs[name], n)
	}

	out2 := make(map[string]int, len(runs))
	for name, ns := range runs {
		slices.Sort(ns)
		out2[name] = ns[len(ns)/2]
	}

	return out2
}
