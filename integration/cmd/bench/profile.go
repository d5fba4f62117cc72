package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// profileRate is the load the processor's CPU profile is taken at, into
// profileFile (from the repository's root).
const profileRate, profileFile = 100, "build/bench/processor-cpu.pprof"

// Kinds of profilePart, as issue 14's reason adds them up.
const (
	kindDeps    = "required SDKs and their HTTP"
	kindOwn     = "our code and its log line"
	kindRuntime = "Go runtime"
)

// profilePart is a part of the processor's work, by package path prefix.
type profilePart struct {
	name, kind string
	prefixes   []string
}

// profileParts: a sample counts in the part of the innermost function of
// its stack that a part owns (an X-Ray segment's JSON is X-Ray's), but the
// last, the runtime's, takes only stacks all its own.
var profileParts = []profilePart{
	{"aws-sdk-go-v2 and smithy-go (middleware, signing, endpoint rules, (de)serialisation)", kindDeps,
		[]string{"github.com/aws/aws-sdk-go-v2/", "github.com/aws/smithy-go/"}},
	{"net/http (the SDK's and the Runtime API's connections)", kindDeps, []string{"net/http."}},
	{"aws-xray-sdk-go (segments, their JSON, the UDP emitter)", kindDeps, []string{"github.com/aws/aws-xray-sdk-go/"}},
	{"aws-lambda-go (the Runtime API loop, event and answer JSON)", kindDeps, []string{"github.com/aws/aws-lambda-go/"}},
	{"a2p-alerts and its slog line", kindOwn, []string{"github.com/a2p-alerts/", "log/slog."}},
	{"Go runtime alone (scheduler, timers, netpoll, background GC)", kindRuntime, []string{"runtime.", "internal/runtime/"}},
}

// partOf returns the name of a stack's part (leaf first), or other's.
func partOf(stack []string) string {
	rt := len(profileParts) - 1
	for _, fn := range stack {
		for _, p := range profileParts[:rt] {
			if hasAnyPrefix(fn, p.prefixes) {
				return p.name
			}
		}
	}
	if slices.ContainsFunc(stack, func(fn string) bool { return !hasAnyPrefix(fn, profileParts[rt].prefixes) }) {
		return "other (the standard library outside these parts)"
	}
	return profileParts[rt].name
}

// profileSummary is the processor's CPU profile under load: the CPU of
// each profilePart, by name.
type profileSummary struct {
	Phase phase // the load it was taken under
	Total time.Duration
	Parts map[string]time.Duration
}

// shareOf is the share of the parts of kind.
func (s *profileSummary) shareOf(kind string) float64 {
	var d time.Duration
	for _, p := range profileParts {
		if p.kind == kind {
			d += s.Parts[p.name]
		}
	}
	return float64(d) / float64(max(s.Total, 1))
}

// profileProcessor restarts the processor with names.EnvCPUProfile set,
// runs a phase at profileRate, ends the process with SIGTERM, which writes
// the profile, and summarises it.
func (b *bench) profileProcessor(ctx context.Context, client *http.Client) error {
	f, err := b.sb.Function(names.OutputProcessorFunction)
	if err != nil {
		return err
	}
	file := filepath.Join(b.root, filepath.FromSlash(profileFile))
	p := phase{Tag: "prof", Rate: profileRate, Duration: b.report.Settings.Duration}
	b.step("CPU profile of the processor: %d/s for %s", profileRate, p.Duration)
	for _, step := range []func() error{
		func() error { return os.MkdirAll(filepath.Dir(file), 0o750) },
		func() error { return f.RestartWith(map[string]string{names.EnvCPUProfile: file}) },
		func() error { return f.WaitReady(ctx, b.sb.Clients.Lambda, lambdahost.DefaultReadyTimeout) },
		func() error { return b.phase(ctx, client, &p) },
		func() error {
			tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return f.Terminate(tctx)
		},
	} {
		if err := step(); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-traces", file).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof -traces %s: %w", file, err)
	}
	s, err := summarise(string(out))
	if err != nil {
		return fmt.Errorf("profile %s: %w", file, err)
	}
	s.Phase, b.report.Profile = p, s
	return nil
}

// summarise adds up by part the samples `go tool pprof -traces` prints,
// each as a separator line, "<cpu> <leaf function>", then a function a
// line (inlined ones included).
func summarise(traces string) (*profileSummary, error) {
	s := &profileSummary{Parts: map[string]time.Duration{}}
	for _, block := range strings.Split(traces, "-----------+")[1:] {
		lines := strings.Split(block, "\n")[1:] // [0] is the separator's rest
		if len(lines) == 0 || len(strings.Fields(lines[0])) < 2 {
			continue
		}
		first := strings.Fields(lines[0])
		cpu, err := time.ParseDuration(first[0])
		if err != nil {
			return nil, fmt.Errorf("trace %q: %w", lines[0], err)
		}
		stack := []string{first[1]}
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) > 0 {
				stack = append(stack, f[0])
			}
		}
		s.Total += cpu
		s.Parts[partOf(stack)] += cpu
	}
	if s.Total == 0 {
		return nil, fmt.Errorf("no samples in %q", traces)
	}
	return s, nil
}
