package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// profileRate is the load the processor's CPU profile is taken at.
const profileRate = 100

// profileTop is how many functions each of the profile's lists shows.
const profileTop = 15

// profileSummary is the processor's CPU profile under load, as the report
// shows it.
type profileSummary struct {
	// File is the profile, for `go tool pprof`.
	File string
	// Phase is the load it was taken under; its CPU column is the
	// processor's CPU with profiling on.
	Phase phase
	// Total is the CPU time sampled.
	Total time.Duration
	// Flat is the top functions by their own CPU time; Groups the share
	// of each part of the processor.
	Flat, Groups []profileItem
}

// profileProcessor restarts the processor with names.EnvCPUProfile set,
// runs one more open-loop phase at profileRate (its alerts are accounted
// for with the run's), ends the process with SIGTERM, which writes the
// profile, starts the processor again as deployed, and summarises the
// profile.
func (b *bench) profileProcessor(ctx context.Context, client *http.Client) error {
	f, err := b.sb.Function(names.OutputProcessorFunction)
	if err != nil {
		return err
	}

	file := filepath.Join(b.root, "build", "bench", "processor-cpu.pprof")
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	b.step("CPU profile of the processor: %d/s for %s", profileRate, b.report.Settings.Duration)

	if err := f.RestartWith(map[string]string{names.EnvCPUProfile: file}); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	if err := f.WaitReady(ctx, b.sb.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	p, err := b.phase(ctx, client, "prof", profileRate)
	b.report.Outcomes = append(b.report.Outcomes, p.Outcomes...)

	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	if err := b.stopProfiled(ctx, f); err != nil {
		return err
	}

	data, err := os.ReadFile(file) //nolint:gosec // the file this step asked the processor to write
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	prof, err := readCPUProfile(data)
	if err != nil {
		return err
	}

	rel, _ := filepath.Rel(b.root, file)
	b.report.Profile = &profileSummary{File: rel, Phase: p, Total: prof.Total(),
		Flat: prof.top(profileTop, false), Groups: prof.groups()}

	return nil
}

// stopProfiled ends the profiled process with SIGTERM and starts the
// function again as deployed.
func (b *bench) stopProfiled(ctx context.Context, f *lambdahost.Function) error {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	if err := f.Terminate(tctx); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	if err := f.Restart(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	if err := f.WaitReady(ctx, b.sb.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	return nil
}

// profileGroup is a part of the processor's work, known by the functions
// that do it.
type profileGroup struct {
	name string
	// match reports whether a function belongs to the group.
	match func(fn string) bool
}

// prefixes matches functions whose names start with one of ps.
func prefixes(ps ...string) func(string) bool {
	return func(fn string) bool {
		for _, p := range ps {
			if strings.HasPrefix(fn, p) {
				return true
			}
		}

		return false
	}
}

// contains matches functions whose names contain one of ss.
func contains(ss ...string) func(string) bool {
	return func(fn string) bool {
		for _, s := range ss {
			if strings.Contains(fn, s) {
				return true
			}
		}

		return false
	}
}

const (
	sdkPrefix    = "github.com/aws/aws-sdk-go-v2/"
	smithyPrefix = "github.com/aws/smithy-go/"
)

// profileGroups are the parts of the processor's work. A sample belongs to
// the group of the innermost function of its stack that any group matches,
// trying the groups in this order at each function: the work is charged to
// the most specific part doing it (encoding JSON for an X-Ray segment is
// X-Ray's; a garbage collection assist is the collector's, whoever
// allocated).
var profileGroups = []profileGroup{
	{"Go runtime: garbage collection", prefixes("runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.bgsweep",
		"runtime.bgscavenge", "runtime.gcStart", "runtime.markroot", "runtime.gcDrain", "runtime.scanobject", "runtime.scanObject")},
	{"X-Ray SDK (segments, their JSON, the UDP emitter, its SDK middleware)", prefixes("github.com/aws/aws-xray-sdk-go/")},
	{"AWS SDK: SigV4 request signing", prefixes(sdkPrefix+"aws/signer/", sdkPrefix+"internal/auth", sdkPrefix+"internal/v4a")},
	{"AWS SDK: endpoint rules", contains("resolveEndpointV2Middleware", ".ResolveEndpoint", "EndpointParameters",
		smithyPrefix+"endpoints", "awsrulesfn", "rulesfn")},
	{"AWS SDK: response checksum (DynamoDB CRC32)", contains("customizations.(*Checksum)", "hash/crc32")},
	{"AWS SDK: request and response (de)serialisation", contains(smithyPrefix+"encoding", smithyPrefix+"document",
		smithyPrefix+"transport/http/protocol", "serializeOp", "deserializeOp", "awsAwsjson", "awsAwsquery", "awsRestjson",
		"/schemas.", smithyPrefix+"traits")},
	{"net/http client (the SDK's and the Runtime API's connections)", prefixes("net/http.")},
	{"AWS SDK: other middleware (retry, user agent, request id, metrics, ...)", prefixes(sdkPrefix, smithyPrefix)},
	{"slog JSON logging", prefixes("log/slog.")},
	{"Lambda runtime client (Runtime API loop, event and answer JSON)", prefixes("github.com/aws/aws-lambda-go/")},
	{ownGroup, prefixes("github.com/a2p-alerts/a2p-alerts/")},
}

// ownGroup is the group of this repository's code.
const ownGroup = "a2p-alerts code (validation, PHI guard, rendering, adapters, answer)"

// runtimeGroup holds stacks of the Go runtime alone: the scheduler,
// timers, the network poller.
var runtimeGroup = profileGroup{"Go runtime: scheduler, timers, netpoll", prefixes("runtime.", "internal/runtime/")}

// otherGroup holds samples no group matches.
const otherGroup = "other (standard library outside the groups above)"

// groups returns the share of each profileGroup, most first, and the rest
// as otherGroup.
func (p *cpuProfile) groups() []profileItem {
	byGroup := map[string]time.Duration{}

	for _, s := range p.Samples {
		byGroup[groupOf(s.Stack)] += s.CPU
	}

	return p.items(byGroup, len(profileGroups)+2)
}

// groupOf returns the group of a stack (leaf first): the group of its
// innermost function any profileGroups entry matches, else runtimeGroup if
// all of it is the runtime's, else otherGroup.
func groupOf(stack []string) string {
	for _, fn := range stack {
		for _, g := range profileGroups {
			if g.match(fn) {
				return g.name
			}
		}
	}

	for _, fn := range stack {
		if !runtimeGroup.match(fn) {
			return otherGroup
		}
	}

	return runtimeGroup.name
}

func (r *report) renderProfile(b *strings.Builder) {
	s := r.Profile
	if s == nil {
		return
	}

	requests := max(len(s.Phase.Outcomes), 1)
	fmt.Fprintf(b, "## 5. Where the processor's CPU goes (CPU profile at %d/s)\n\n", s.Phase.Rate)
	fmt.Fprintf(b, "After the phases above, the processor was restarted with `%s` set and sent %d new alerts at %d/s; SIGTERM then made it write the profile (%s, for `go tool pprof`). It sampled %s of CPU, %s per request (with profiling on the process used %s per request by /proc). The profile covers the whole process: the Runtime API loop, the handler, the SDK's HTTP connections, the X-Ray emitter and the Go runtime.\n\n",
		names.EnvCPUProfile, len(s.Phase.Outcomes), s.Phase.Rate, s.File, s.Total.Round(time.Millisecond),
		ms3(s.Total/time.Duration(requests)), ms3(s.Phase.CPU[names.FunctionProcessor]/time.Duration(requests)))
	fmt.Fprintf(b, "By part (each sample counted once, in the part of the innermost function of its stack that one of these parts owns):\n\n| Part | CPU | Share |\n|---|---:|---:|\n")

	for _, g := range s.Groups {
		fmt.Fprintf(b, "| %s | %s | %.1f%% |\n", g.Name, g.CPU.Round(time.Millisecond), g.Share*100)
	}

	fmt.Fprintf(b, "\nTop %d functions by their own CPU (flat):\n\n| Function | CPU | Share |\n|---|---:|---:|\n", len(s.Flat))

	for _, it := range s.Flat {
		fmt.Fprintf(b, "| `%s` | %s | %.1f%% |\n", it.Name, it.CPU.Round(time.Millisecond), it.Share*100)
	}

	fmt.Fprintf(b, "\n")
}
