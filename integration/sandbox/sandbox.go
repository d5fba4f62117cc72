package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// StackFile is the sandbox's stack file, relative to the repository root.
const StackFile = "Pulumi.local.yaml"

// ArtifactDir is where Start builds the functions for this machine,
// relative to the repository root.
const ArtifactDir = "build/sandbox"

// ClientName is the API client the sandbox registers for its token.
const ClientName = "sandbox"

// SecondClientName is a second API client the sandbox registers, for
// tests that one client's message_ids never touch another's. Its name
// holds a ":" on purpose: the idempotency key must keep it apart from
// ClientName whatever the message_id.
const SecondClientName = "sandbox:second"

// Options configures Start. The zero value starts the local stack on a
// free port.
type Options struct {
	// Port is the emulator's port: 0 picks a free one; emulator.DevPort
	// is 4566.
	Port int
	// Output, if set, receives the build's, the emulator's and the
	// functions' output live.
	Output io.Writer
	// OnDelivery, if set, is called for each SNS delivery the tap reads.
	OnDelivery func(observe.Delivery)
	// Config overrides project settings of the stack file, by name
	// (names.ConfigLogLevel: "INFO").
	Config map[string]string
	// SNSFaults puts the standin.SNSProxy between the functions and the
	// emulator's SNS (AWS_ENDPOINT_URL_SNS), for tests that inject SNS
	// faults. Off, SNS is the emulator's own.
	SNSFaults bool
	// PollQueues runs every queue poller (Sandbox.Pollers) until Close, as
	// the event source mappings would. Off, tests drive them (Poll).
	PollQueues bool
	// FireSchedules runs the standin.ScheduleFirer in the background: each
	// escalation timer fires when due (make dev, make demo). Off, a test
	// fires them (Sandbox.Firer.Fire).
	FireSchedules bool
	// OnFireError, if set, receives the background firer's errors.
	OnFireError func(error)
}

// Timings are the durations of Start's steps.
type Timings struct {
	Build, Emulator, Deploy, Functions, Total time.Duration
}

// String renders the timings on one line.
func (t Timings) String() string {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("sandbox ready in %s (build %s, emulator %s, deploy %s, functions %s)",
		ms(t.Total), ms(t.Build), ms(t.Emulator), ms(t.Deploy), ms(t.Functions))
}

// Sandbox is the whole offline stack: kumo, the deployed program, each
// function's bootstrap running against kumo, the Connect stub, the X-Ray
// collector and the SNS tap.
type Sandbox struct {
	// Root is the repository root.
	Root string
	// Stack is the configuration deployed: the stack file, with the
	// overrides and the run's own values (artifacts, token hash) applied.
	Stack *stack.File
	// Token is the API token of ClientName, for the Authorization header.
	Token string
	// SecondToken is the API token of SecondClientName.
	SecondToken string
	// URL is the invoke URL of POST /notification.
	URL string

	Emulator   *emulator.Emulator
	Clients    *emulator.Clients
	Deployment *provision.Deployment
	Connect    *standin.ConnectStub
	// Firer fires the escalation timers, which kumo never does; nil when
	// the stack sets none.
	Firer *standin.ScheduleFirer
	// SNS injects SNS faults; nil unless Options.SNSFaults.
	SNS  *standin.SNSProxy
	XRay *observe.XRayCollector
	Tap  *observe.Tap
	// Functions are the running functions, by deployed name.
	Functions map[string]*lambdahost.Function
	// Pollers stand in for the event source mappings, by the deployed
	// name of the function each feeds.
	Pollers map[string]*standin.QueuePoller
	Timings Timings

	proxy     *lambdahost.RuntimeProxy
	closers   []func() error // stop what Start started, in that order
	closeOnce sync.Once
	closeErr  error
}

// Start builds the functions for this machine, loads Pulumi.local.yaml,
// registers a fresh API token, starts the stand-ins, the observers and
// kumo, deploys infra/stack.Program, taps every topic, then starts every
// deployed function and waits until each polls the Runtime API. On any
// failure it stops whatever it started and returns an error holding the
// output so far.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	start := time.Now()
	s := &Sandbox{Functions: map[string]*lambdahost.Function{}, Pollers: map[string]*standin.QueuePoller{}}
	defer func() {
		if err != nil {
			logs := s.Logs()
			err = errors.Join(err, s.Close())
			err = fmt.Errorf("%w\n%s", err, logs)
		}
	}()
	if err := s.configure(ctx, opts); err != nil {
		return nil, err
	}
	s.Timings.Build = time.Since(start)
	if err := s.startEmulator(ctx, opts); err != nil {
		return nil, err
	}
	if s.Deployment, err = provision.Deploy(ctx, provision.Options{
		Endpoint: s.Emulator.Endpoint, Project: s.Stack.Project, Stack: s.Stack.Stack, Config: s.Stack.Config, WorkDir: s.Root,
	}, program); err != nil {
		return nil, err
	}
	s.Timings.Deploy = s.Deployment.Duration
	if s.URL = s.Deployment.OutputString(names.OutputNotificationURL); s.URL == "" {
		return nil, fmt.Errorf("the deployed stack has no %s output", names.OutputNotificationURL)
	}
	for _, topic := range s.Deployment.ByType(provision.TypeTopic) {
		if err := s.Tap.Subscribe(ctx, topic.Name, topic.ID); err != nil {
			return nil, err
		}
	}
	t := time.Now()
	if err := s.startFunctions(ctx, opts.Output); err != nil {
		return nil, err
	}
	s.Timings.Functions = time.Since(t)
	s.startLoop(ctx, opts)
	s.startPollers(ctx, opts)
	s.Timings.Total = time.Since(start)
	return s, nil
}

// program is the Pulumi program the sandbox deploys: the one `pulumi up`
// runs.
func program(ctx *pulumi.Context) error {
	_, err := stack.Program(ctx)
	return err
}

// configure builds the functions and loads the stack file with the run's
// values: the artifacts just built, this machine's architecture, the hash
// of a fresh token, and opts.Config.
func (s *Sandbox) configure(ctx context.Context, opts Options) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if s.Root, err = FindRepoRoot(wd); err != nil {
		return err
	}
	artifacts := filepath.Join(s.Root, filepath.FromSlash(ArtifactDir))
	if err := lambdahost.Build(ctx, s.Root, artifacts, opts.Output); err != nil {
		return err
	}
	if s.Stack, err = stack.LoadFile(filepath.Join(s.Root, StackFile)); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	var clients []map[string]string
	toks := []*string{&s.Token, &s.SecondToken}
	for i, name := range []string{ClientName, SecondClientName} {
		var hash string
		if *toks[i], hash, err = token.Generate(); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		clients = append(clients, map[string]string{"name": name, "sha256": hash})
	}
	apiClients, err := json.Marshal(clients)
	if err != nil {
		return fmt.Errorf("sandbox: api clients: %w", err)
	}
	s.Stack.Config[s.Stack.Key(names.ConfigArtifactDir)] = artifacts
	s.Stack.Config[s.Stack.Key(names.ConfigLambdaArch)] = lambdahost.HostArch()
	s.Stack.Config[s.Stack.Key(names.ConfigAPIClients)] = string(apiClients)
	for name, v := range opts.Config {
		s.Stack.Config[s.Stack.Key(name)] = v
	}
	return nil
}

// startEmulator starts the Connect stub, the X-Ray collector, kumo, the SNS
// tap's queue and the runtime proxy.
func (s *Sandbox) startEmulator(ctx context.Context, opts Options) error {
	var err error
	if s.Connect, err = standin.StartConnectStub(ctx); err != nil {
		return err
	}
	s.closers = append(s.closers, s.Connect.Close)
	if s.XRay, err = observe.StartXRayCollector(ctx); err != nil {
		return err
	}
	s.closers = append(s.closers, s.XRay.Close)
	bin, err := emulator.Locate(s.Root)
	if err != nil {
		return err
	}
	t, region := time.Now(), s.Stack.Config["aws:region"]
	if s.Emulator, err = emulator.Start(ctx, emulator.Options{Bin: bin, Port: opts.Port, Region: region, Output: opts.Output}); err != nil {
		return err
	}
	s.closers = append(s.closers, s.Emulator.Stop)
	s.Timings.Emulator = time.Since(t)
	s.Clients = emulator.NewClients(s.Emulator.Endpoint, region)
	if s.Tap, err = observe.StartTap(ctx, s.Clients, opts.OnDelivery); err != nil {
		return err
	}
	s.closers = append(s.closers, s.Tap.Close)
	if opts.SNSFaults {
		if s.SNS, err = standin.StartSNSProxy(ctx, s.Emulator.Endpoint); err != nil {
			return err
		}
		s.closers = append(s.closers, s.SNS.Close)
	}
	if s.proxy, err = lambdahost.StartRuntimeProxy(ctx, s.Emulator.Endpoint); err != nil {
		return err
	}
	s.closers = append(s.closers, s.proxy.Close)
	return nil
}

// startFunctions starts every deployed function and waits for all to be
// ready.
func (s *Sandbox) startFunctions(ctx context.Context, output io.Writer) error {
	host := lambdahost.Host{
		Endpoint:        s.Emulator.Endpoint,
		Region:          s.Deployment.Region,
		RuntimeAPI:      s.proxy.Address,
		XRayDaemon:      s.XRay.Addr,
		ConnectEndpoint: s.Connect.URL,
		Output:          output,
	}
	if s.SNS != nil {
		host.SNSEndpoint = s.SNS.URL
	}
	// The links point at kumo's stage, not at amazonaws.com.
	host.Env = map[string]string{names.EnvAckBaseURL: strings.TrimSuffix(s.URL, "/"+names.NotificationPath)}
	for _, spec := range s.Deployment.Functions {
		s.proxy.SetTracing(spec.Name, spec.ActiveTracing)
		fn, err := lambdahost.Start(spec, host)
		if err != nil {
			return err
		}
		s.Functions[spec.Name] = fn
		s.closers = append(s.closers, fn.Stop)
	}
	errs := make(chan error, len(s.Functions))
	for _, fn := range s.Functions {
		go func() { errs <- fn.WaitReady(ctx, s.Clients.Lambda, lambdahost.DefaultReadyTimeout) }()
	}
	var all []error
	for range s.Functions {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// startPollers makes the queue pollers and, with opts.PollQueues, runs
// them until Close.
func (s *Sandbox) startPollers(ctx context.Context, opts Options) {
	for _, m := range s.Deployment.Mappings() {
		s.Pollers[m.Function] = standin.NewQueuePoller(m, s.Clients)
	}
	if !opts.PollQueues {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var polling sync.WaitGroup
	s.closers = append(s.closers, func() error { cancel(); polling.Wait(); return nil })
	for _, p := range s.Pollers {
		polling.Go(func() {
			p.Run(ctx, func(err error) {
				if opts.Output != nil {
					_, _ = fmt.Fprintf(opts.Output, "queue poller %s: %v\n", p.Function, err)
				}
			})
		})
	}
}

// startLoop readies the stand-ins of the acknowledgment loop: the Connect
// stub learns the function the flow invokes, and the firer the timers'
// group (started in the background with opts.FireSchedules).
func (s *Sandbox) startLoop(ctx context.Context, opts Options) {
	instance := s.Stack.Config[s.Stack.Key(names.ConfigConnectInstanceID)]
	s.Connect.UseFlowFunction(s.Clients.Lambda, s.Deployment.OutputString(names.OutputAckFunction),
		fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", s.Deployment.Region, emulator.Account, instance))
	group := s.Deployment.OutputString(names.OutputScheduleGroup)
	if group == "" {
		return
	}
	s.Firer = standin.NewScheduleFirer(s.Clients.Scheduler, s.Clients.Lambda, group)
	if opts.FireSchedules {
		ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.closers = append(s.closers, func() error { cancel(); return nil })
		report := opts.OnFireError
		if report == nil {
			report = func(error) {}
		}
		go s.Firer.Run(ctx, report)
	}
}

// Function returns the running function named by the stack output
// output, such as names.OutputProcessorFunction.
func (s *Sandbox) Function(output string) (*lambdahost.Function, error) {
	name := s.Deployment.OutputString(output)
	if fn, ok := s.Functions[name]; ok {
		return fn, nil
	}
	return nil, fmt.Errorf("the sandbox runs no function named by output %s (%q)", output, name)
}

// FindRepoRoot walks up from dir to the folder holding go.work: the root of
// the a2p-alerts repository.
func FindRepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: not inside the a2p-alerts repository", dir)
		}
	}
}

// HTTPClient returns a client that reaches the emulator's execute-api
// virtual hosts, such as URL (see LocalhostClient).
func (s *Sandbox) HTTPClient() *http.Client { return LocalhostClient() }

// LocalhostClient returns an HTTP client that dials 127.0.0.1 for every
// *.localhost host name (RFC 6761), keeping the port and the Host header
// kumo routes by.
func LocalhostClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// Logs returns the output of the emulator and every function, each under a
// header, for a failing test to print.
func (s *Sandbox) Logs() string {
	var b strings.Builder
	if s.Emulator != nil {
		fmt.Fprintf(&b, "===== kumo (pid %d) =====\n%s\n", s.Emulator.Pid(), s.Emulator.Output())
	}
	for _, name := range slices.Sorted(maps.Keys(s.Functions)) {
		fn := s.Functions[name]
		fmt.Fprintf(&b, "===== function %s (pid %d) =====\n%s\n", name, fn.Pid(), fn.Output())
	}
	return b.String()
}

// Pids returns the process ids of every child the sandbox runs (each also
// a process group id).
func (s *Sandbox) Pids() []int {
	var pids []int
	if s.Emulator != nil {
		pids = append(pids, s.Emulator.Pid())
	}
	for _, name := range slices.Sorted(maps.Keys(s.Functions)) {
		pids = append(pids, s.Functions[name].Pid())
	}
	return pids
}

// Close stops everything the sandbox started, in the reverse order of its
// start: the pollers and the firer, the functions, the runtime proxy, the
// SNS proxy and the tap before the emulator, the stubs last. Every process
// group is killed and reaped. Safe to call more than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, c := range slices.Backward(s.closers) {
			errs = append(errs, c())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
