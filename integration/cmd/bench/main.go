// Command bench measures a2p-alerts and writes docs/benchmarks.md (make
// bench): issue 14's targets, Go benchmarks, zips, cold starts, open-loop
// load in both answer modes with every delivery counted and each process's
// CPU, and a CPU profile of the processor; all but the Go benchmarks in the
// offline sandbox. It exits 1 when a step fails or, after writing the
// report, when any accepted alert was not delivered exactly once.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// settings are the run's parameters.
type settings struct {
	Rates                  []int
	Duration               time.Duration
	ColdStarts, BenchCount int
}

func main() {
	out := flag.String("out", filepath.Join("docs", "benchmarks.md"), "report file")
	s := settings{Rates: []int{50, 100, 200}} // issue 8's
	flag.DurationVar(&s.Duration, "duration", 20*time.Second, "length of each load phase")
	flag.IntVar(&s.ColdStarts, "cold-starts", 30, "cold starts per function")
	flag.IntVar(&s.BenchCount, "count", 6, "go test -count for the Go benchmarks")
	flag.Parse()
	if s.ColdStarts < 1 || s.BenchCount < 1 || s.Duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -cold-starts, -count and -duration must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *out, s)
	stop()
	os.Exit(code)
}

// bench is one run: what every step shares.
type bench struct {
	root   string
	start  time.Time
	sb     *sandbox.Sandbox
	ids    idMaker
	report *report
}

// run runs every step, the Go benchmarks first, before the sandbox shares
// the cores, writes the report and returns the exit code.
func run(ctx context.Context, out string, s settings) int {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	wd, _ := os.Getwd() // FindRepoRoot fails on ""
	root, err := sandbox.FindRepoRoot(wd)
	b := &bench{root: root, start: time.Now(), ids: idMaker{run: strconv.FormatInt(time.Now().UnixNano()&0xffffff, 16)},
		report: &report{Date: time.Now(), Settings: s, LoadAverage: loadAverage(), Recorded: map[string]bool{}}}
	for _, step := range []func(context.Context, *bench) error{goBenchmarks, packages, startSandbox, coldStarts, startup, load} {
		if err == nil {
			err = step(ctx, b)
		}
	}
	if b.sb != nil {
		if cerr := b.sb.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("stop the sandbox: %w", cerr)
		}
	}
	b.report.Took = time.Since(b.start)
	if err == nil {
		err = os.WriteFile(out, []byte(b.report.render()), 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Printf("Wrote %s (run took %s).\n", out, b.report.Took.Round(time.Second))
	if problems := b.report.Global.problems(); problems != "" { // after the last sentinels
		fmt.Fprintln(os.Stderr, "bench: an accepted alert was not delivered exactly once:", problems)
		return 1
	}
	return 0
}

// step prints progress with the time since start.
func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", time.Since(b.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// startSandbox starts the sandbox with the stack's default log level.
func startSandbox(ctx context.Context, b *bench) error {
	b.step("building the functions for this machine and starting the sandbox")
	sb, err := sandbox.Start(ctx, sandbox.Options{PollQueues: true, // for the async phases
		Config: map[string]string{names.ConfigLogLevel: stack.DefaultLogLevel}})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	b.sb = sb
	return nil
}

// validAllocsRE finds BenchmarkHandler/valid_alert's allocs/op in `go test
// -bench -benchmem` output.
var validAllocsRE = regexp.MustCompile(`(?m)^BenchmarkHandler/valid_alert(?:-\d+)?\s.*?\s(\d+) allocs/op`)

// goBenchmarks runs the Go benchmarks of the processor (./notify: the
// handler with in-memory fakes; `.`: as main wires it) and the authorizer,
// a package at a time, and summarises them with benchstat (tools/perf).
func goBenchmarks(ctx context.Context, b *bench) error {
	var raw bytes.Buffer
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(b.report.Settings.BenchCount)}
	b.report.GoBenchCommand = "go " + strings.Join(args, " ")
	for _, t := range [][2]string{{"services/processor", "./notify"}, {"services/processor", "."}, {"services/authorizer", "."}} {
		b.step("Go benchmarks in %s (%s)", t[0], t[1])
		cmd := exec.CommandContext(ctx, "go", append(args, t[1])...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = filepath.Join(b.root, t[0]), &raw, &raw
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go test -bench in %s: %w\n%s", t[0], err, raw.String())
		}
	}
	var runs []int
	for _, m := range validAllocsRE.FindAllStringSubmatch(raw.String(), -1) {
		n, _ := strconv.Atoi(m[1]) // \d+
		runs = append(runs, n)
	}
	slices.Sort(runs)
	if len(runs) > 0 {
		b.report.ValidAllocs = runs[len(runs)/2] // the median
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "benchstat", "median=/dev/stdin")
	cmd.Dir, cmd.Env, cmd.Stdin = filepath.Join(b.root, "tools", "perf"), append(os.Environ(), "GOWORK=off"), &raw
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("benchstat: %w\n%s", err, out)
	}
	b.report.GoBench = string(out)
	return nil
}

// packages builds the arm64 zips with scripts/lambdazip, as `make build`
// does for a deploy, and reads their sizes.
func packages(ctx context.Context, b *bench) error {
	b.step("building the arm64 deployment zips")
	dir := filepath.Join(b.root, "build", "bench", "arm64")
	cmd := exec.CommandContext(ctx, "go", "run", "./scripts/lambdazip", "-out", dir)
	cmd.Dir, cmd.Env = b.root, append(os.Environ(), "LAMBDA_ARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the arm64 zips: %w\n%s", err, out)
	}
	b.report.Zips = map[string]int64{}
	for _, fn := range functionOrder {
		zip, err := os.Stat(filepath.Join(dir, fn+".zip"))
		if err != nil {
			return fmt.Errorf("zip: %w", err)
		}
		b.report.Zips[fn] = zip.Size()
	}
	return nil
}

// functionOrder is the order functions appear in the report;
// functionOutputs names each function's stack output.
var (
	functionOrder   = []string{names.FunctionAuthorizer, names.FunctionProcessor}
	functionOutputs = map[string]string{names.FunctionAuthorizer: names.OutputAuthorizerFunction,
		names.FunctionProcessor: names.OutputProcessorFunction, names.FunctionWorker: names.OutputWorkerFunction}
)

// coldStart is one start of a function's process, from a successful exec:
// Init until it polls the Runtime API, Total until its first invocation.
type coldStart struct{ Init, Total time.Duration }

// coldStarts restarts each function n times and times each start. The
// processor's first events carry new alerts, which the run accounts for.
func coldStarts(ctx context.Context, b *bench) error {
	b.report.Cold = map[string][]coldStart{}
	for _, fn := range functionOrder {
		f, err := b.sb.Function(functionOutputs[fn])
		if err != nil {
			return err
		}
		b.step("%d cold starts of the %s", b.report.Settings.ColdStarts, fn)
		for i := range b.report.Settings.ColdStarts {
			id := b.ids.id("cold", i)
			cs, err := b.coldStart(ctx, f, coldEvent(b.sb, fn, alertBody(id, i)))
			if err != nil {
				return fmt.Errorf("cold start %d of the %s: %w\n%s", i+1, fn, err, f.Output())
			}
			b.report.Cold[fn] = append(b.report.Cold[fn], cs)
			if fn == names.FunctionProcessor { // answered 200
				b.report.Outcomes = append(b.report.Outcomes, outcome{ID: id, Code: http.StatusOK, Latency: cs.Total - cs.Init})
			}
		}
	}
	return nil
}

// coldEvent is fn's first event, as kumo's API Gateway sends it: for the
// authorizer a REQUEST event with the sandbox's token (kumo's methodArn
// says us-east-1 and account 000000000000); for the processor POST
// /notification with body and the authorizer's context, which it needs.
func coldEvent(sb *sandbox.Sandbox, fn string, body []byte) []byte {
	var ev any = events.APIGatewayProxyRequest{
		Path: "/" + names.NotificationPath, HTTPMethod: http.MethodPost, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{
			names.AuthContextPrincipalID: sandbox.ClientName, names.AuthContextClient: sandbox.ClientName}},
	}
	if fn == names.FunctionAuthorizer {
		ev = events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", HTTPMethod: http.MethodPost, Headers: map[string]string{names.HeaderAuthorization: sb.Token},
			MethodArn: fmt.Sprintf("arn:aws:execute-api:us-east-1:000000000000:%s/%s/POST/%s", sb.Deployment.OutputString(names.OutputRestAPIID),
				sb.Deployment.OutputString(names.OutputStageName), names.NotificationPath),
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // strings and maps of strings always encode
	}
	return b
}

// coldStart restarts f and times it until the first invocation of payload
// has completed with a success: status 200, or the authorizer's Allow.
func (b *bench) coldStart(ctx context.Context, f *lambdahost.Function, payload []byte) (coldStart, error) {
	if err := f.Restart(); err != nil {
		return coldStart{}, err
	}
	t0 := time.Now() // exec has succeeded, the package is unzipped: as Lambda's Init Duration
	if err := f.WaitReady(ctx, b.sb.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
		return coldStart{}, err
	}
	cs := coldStart{Init: time.Since(t0)}
	out, err := b.sb.Clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.Spec.Name), Payload: payload},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	cs.Total = time.Since(t0)
	switch {
	case err != nil:
		return cs, fmt.Errorf("invoke: %w", err)
	case out.FunctionError != nil || !bytes.Contains(out.Payload, []byte(`"statusCode":200,`)) && !bytes.Contains(out.Payload, []byte(`"Effect":"Allow"`)):
		return cs, fmt.Errorf("not a success (function error %q): %s", aws.ToString(out.FunctionError), out.Payload)
	}
	return cs, nil
}

// xrayOnlyPackages: the package paths only aws-xray-sdk-go links in.
var xrayOnlyPackages = []string{"github.com/aws/aws-sdk-go/", "google.golang.org/", "github.com/aws/aws-xray-sdk-go/",
	"github.com/valyala/", "github.com/klauspost/", "github.com/andybalholm/"}

// initTrace is the processor's package initialisation (GODEBUG=inittrace=1),
// medians over Runs starts: End when the last package finished, from the
// runtime's start; XRay the init clock of xrayOnlyPackages.
type initTrace struct {
	Runs      int
	GOGC      string // as deployed
	End, XRay time.Duration
}

// startup starts the processor's bootstrap 30 times with only the deployed
// GOGC and GODEBUG=inittrace=1: without its tables main stops at once.
func startup(ctx context.Context, b *bench) error {
	f, err := b.sb.Function(names.OutputProcessorFunction)
	if err != nil {
		return err
	}
	it := &initTrace{Runs: 30, GOGC: f.Spec.Environment[names.EnvGoGC]}
	var ends, xrays []time.Duration
	b.step("package initialisation of the processor, %d starts", it.Runs)
	for range it.Runs {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(f.Env["LAMBDA_TASK_ROOT"], "bootstrap"))
		cmd.Env, cmd.Stderr = []string{"GODEBUG=inittrace=1", names.EnvGoGC + "=" + it.GOGC}, &stderr
		_ = cmd.Run() // exits 1: no tables
		end, xray := parseInittrace(stderr.String())
		if end == 0 {
			return fmt.Errorf("the processor printed no inittrace:\n%s", stderr.String())
		}
		ends, xrays = append(ends, end), append(xrays, xray)
	}
	it.End, it.XRay = percentile(ends, 50), percentile(xrays, 50)
	b.report.Init = it
	return nil
}

// parseInittrace reads the lines "init <pkg> @<t> ms, <d> ms clock, ...":
// when the last package finished, and xrayOnlyPackages' init clock.
func parseInittrace(out string) (end, xray time.Duration) {
	for line := range strings.Lines(out) {
		var (
			pkg       string
			at, clock float64
		)
		if _, err := fmt.Sscanf(line, "init %s @%f ms, %f ms clock", &pkg, &at, &clock); err != nil {
			continue
		}
		end = max(end, time.Duration((at+clock)*float64(time.Millisecond)))
		if hasAnyPrefix(pkg, xrayOnlyPackages) {
			xray += time.Duration(clock * float64(time.Millisecond))
		}
	}
	return end, xray
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute load: what else the
// cores were running. "" when unreadable.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// percentile returns the p-th percentile (0 < p <= 100) of ds by the
// nearest-rank method, 0 for an empty sample.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(ds))
	rank := int(p/100*float64(len(sorted)) + 0.999999999) // ceil, robust to float error
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// ms renders a duration in milliseconds; ms3 with three decimals.
func ms(d time.Duration) string  { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func ms3(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
