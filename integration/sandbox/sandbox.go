package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Options configures Start.
type Options struct {
	// Program is the Pulumi program to deploy, the same function
	// `pulumi up` runs.
	Program func(*pulumi.Context) error
	// StackFile is the stack file to configure it from, such as
	// <repo>/Pulumi.local.yaml (with the Pulumi.yaml beside it). Ignored
	// when Config is set.
	StackFile string
	// Config, when set, is the configuration instead ("namespace:key" to
	// value), with Project and Stack naming the run.
	Config         map[string]string
	Project, Stack string

	// RepoRoot is the repository root; default: found from the working
	// directory (see FindRepoRoot).
	RepoRoot string
	// WorkDir resolves relative archive paths; default RepoRoot.
	WorkDir string
	// KumoBin is the emulator binary; default LocateKumo(RepoRoot).
	KumoBin string
	// Port is the emulator's port; 0 picks a free one (DevPort for make
	// dev).
	Port int
	// Output, if set, receives the emulator's and functions' output live,
	// each line prefixed with its process name. It is always also kept for
	// Logs.
	Output io.Writer
	// OnDelivery, if set, is called for each message the tap reads.
	OnDelivery func(Delivery)
	// ReadyTimeout bounds each function's start; default
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Timings are the durations of the sandbox's start-up steps.
type Timings struct {
	Emulator, Deploy, Tap, Functions, Total time.Duration
}

// String renders the timings on one line.
func (t Timings) String() string {
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }

	return fmt.Sprintf("sandbox ready in %s (emulator %s, deploy %s, tap %s, functions %s)",
		ms(t.Total), ms(t.Emulator), ms(t.Deploy), ms(t.Tap), ms(t.Functions))
}

// Sandbox is the whole offline stack: kumo, the deployed program, each
// function's bootstrap running against kumo, the Connect stub, the X-Ray
// collector and the SNS tap.
type Sandbox struct {
	Emulator   *Emulator
	Clients    *Clients
	Deployment *Deployment
	Connect    *ConnectStub
	XRay       *XRayCollector
	Tap        *Tap
	// Functions are the running functions by logical name.
	Functions map[string]*Function
	// Timings are the start-up durations.
	Timings Timings

	proxy     *runtimeProxy
	closeOnce sync.Once
	closeErr  error
}

// Start builds the sandbox: it starts the Connect stub, the X-Ray
// collector and kumo; deploys the program under the Provisioner; taps
// every deployed topic; then starts every deployed function's bootstrap
// and waits until each polls the Runtime API. On any failure it stops
// whatever it started and returns an error holding the output so far.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	start := time.Now()

	if opts.Program == nil {
		return nil, errors.New("sandbox: no program")
	}

	if err := opts.resolve(ctx); err != nil {
		return nil, err
	}

	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}

	s := &Sandbox{Functions: map[string]*Function{}}

	defer func() {
		if err != nil {
			logs := s.Logs()
			_ = s.Close()
			err = fmt.Errorf("%w\n%s", err, logs)
		}
	}()

	if s.Connect, err = StartConnectStub(ctx); err != nil {
		return nil, err
	}

	if s.XRay, err = StartXRayCollector(ctx); err != nil {
		return nil, err
	}

	region := cfg.Values["aws:region"]

	t := time.Now()

	s.Emulator, err = StartEmulator(ctx, EmulatorOptions{Bin: opts.KumoBin, Port: opts.Port, Region: region, Output: opts.Output})
	if err != nil {
		return nil, err
	}

	s.Timings.Emulator = time.Since(t)
	s.Clients = NewClients(s.Emulator.Endpoint, region)

	if s.proxy, err = startRuntimeProxy(ctx, s.Emulator.Endpoint); err != nil {
		return nil, err
	}

	s.Deployment, err = Deploy(ctx, s.Emulator.Endpoint, cfg.Values, opts.Program,
		WithProject(cfg.Project), WithStack(cfg.Stack), WithWorkDir(opts.WorkDir))
	if err != nil {
		return nil, err
	}

	s.Timings.Deploy = s.Deployment.Duration

	t = time.Now()
	if err := s.startTap(ctx, opts.OnDelivery); err != nil {
		return nil, err
	}

	s.Timings.Tap = time.Since(t)

	t = time.Now()
	if err := s.startFunctions(ctx, opts); err != nil {
		return nil, err
	}

	s.Timings.Functions = time.Since(t)
	s.Timings.Total = time.Since(start)

	return s, nil
}

// resolve fills the defaults that need the file system.
func (o *Options) resolve(ctx context.Context) error {
	if o.RepoRoot == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}

		if o.RepoRoot, err = FindRepoRoot(wd); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}

	if o.WorkDir == "" {
		o.WorkDir = o.RepoRoot
	}

	if o.KumoBin == "" {
		bin, err := LocateKumo(ctx, o.RepoRoot)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}

		o.KumoBin = bin
	}

	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}

	return nil
}

// config returns the program's configuration.
func (o *Options) config() (*StackConfig, error) {
	if o.Config != nil {
		cfg := &StackConfig{Project: o.Project, Stack: o.Stack, Values: o.Config}
		if cfg.Stack == "" {
			cfg.Stack = DefaultStack
		}

		if cfg.Project == "" {
			p, err := inferProject(o.Config)
			if err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}

			cfg.Project = p
		}

		return cfg, nil
	}

	if o.StackFile == "" {
		return nil, errors.New("sandbox: neither Config nor StackFile given")
	}

	path := o.StackFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(o.RepoRoot, path)
	}

	cfg, err := LoadStack(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	return cfg, nil
}

// startTap subscribes the tap to every deployed topic.
func (s *Sandbox) startTap(ctx context.Context, onDelivery func(Delivery)) error {
	tap, err := StartTap(ctx, s.Clients, onDelivery)
	if err != nil {
		return err
	}

	s.Tap = tap

	for _, topic := range s.Deployment.ByType(TypeTopic) {
		if err := tap.Subscribe(ctx, topic.Name, topic.ID); err != nil {
			return err
		}
	}

	return nil
}

// startFunctions starts every function and waits for all to be ready.
func (s *Sandbox) startFunctions(ctx context.Context, opts Options) error {
	specs, err := s.Deployment.FunctionSpecs()
	if err != nil {
		return err
	}

	host := FunctionHost{
		Endpoint:        s.Emulator.Endpoint,
		Region:          s.Deployment.Region,
		RuntimeAPI:      s.proxy.address,
		XRayDaemon:      s.XRay.Addr,
		ConnectEndpoint: s.Connect.URL,
		Output:          opts.Output,
	}

	for _, spec := range specs {
		s.proxy.setTracing(spec.Name, spec.ActiveTracing)

		fn, err := StartFunction(spec, host)
		if err != nil {
			return err
		}

		s.Functions[spec.LogicalName] = fn
	}

	errs := make(chan error, len(s.Functions))
	for _, fn := range s.Functions {
		go func() { errs <- fn.WaitReady(ctx, s.Clients.Lambda, opts.ReadyTimeout) }()
	}

	var all []error
	for range s.Functions {
		all = append(all, <-errs)
	}

	return errors.Join(all...)
}

// Function returns the running function with logical name name.
func (s *Sandbox) Function(name string) (*Function, bool) {
	fn, ok := s.Functions[name]

	return fn, ok
}

// HTTPClient returns a client that reaches the emulator's execute-api
// virtual hosts: it dials 127.0.0.1 for every *.localhost name, so the
// invoke URLs in the stack outputs
// (http://<api>.execute-api.localhost:<port>/<stage>/...) work as they
// are, with the Host header kumo routes by.
func (s *Sandbox) HTTPClient() *http.Client {
	return LocalhostClient()
}

// LocalhostClient returns an HTTP client that dials 127.0.0.1 for every
// *.localhost host name (RFC 6761), keeping the port and the Host header.
func LocalhostClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err == nil && strings.HasSuffix(host, ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}

			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
	}

	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// Logs returns the output of the emulator and every function, each under
// a header, for a failing test to print.
func (s *Sandbox) Logs() string {
	var b strings.Builder

	if s.Emulator != nil {
		fmt.Fprintf(&b, "===== kumo (pid %d) =====\n%s\n", s.Emulator.Pid(), s.Emulator.Output())
	}

	for _, name := range sortedKeys(s.Functions) {
		fn := s.Functions[name]
		fmt.Fprintf(&b, "===== function %s (%s, pid %d) =====\n%s\n", name, fn.Spec.Name, fn.Pid(), fn.Output())
	}

	return b.String()
}

// Pids returns the process ids of every child the sandbox started (each
// also a process group id).
func (s *Sandbox) Pids() []int {
	var pids []int
	if s.Emulator != nil {
		pids = append(pids, s.Emulator.Pid())
	}

	for _, name := range sortedKeys(s.Functions) {
		pids = append(pids, s.Functions[name].Pid())
	}

	return pids
}

// Close stops everything the sandbox started: functions first, then the
// tap, the runtime proxy, the emulator and the stubs. Every process group
// is killed and reaped. Safe to call more than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		var errs []error

		for _, fn := range s.Functions {
			errs = append(errs, fn.Stop())
		}

		if s.Tap != nil {
			errs = append(errs, s.Tap.Close())
		}

		if s.proxy != nil {
			errs = append(errs, s.proxy.close())
		}

		if s.Emulator != nil {
			errs = append(errs, s.Emulator.Stop())
		}

		if s.Connect != nil {
			errs = append(errs, s.Connect.Close())
		}

		if s.XRay != nil {
			errs = append(errs, s.XRay.Close())
		}

		s.closeErr = errors.Join(errs...)
	})

	return s.closeErr
}
