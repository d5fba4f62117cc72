// Package emulator runs kumo (github.com/sivchari/kumo), the AWS emulator
// the sandbox deploys into, as a child process on 127.0.0.1, and makes
// aws-sdk-go-v2 clients for it.
//
// kumo is built in one way only: `make bin/kumo` (every make target that
// needs it depends on it) builds it from tools/go.mod into bin/kumo.
// Locate finds that binary, or the one $A2P_KUMO_BIN names.
//
// kumo v0.33.1, as this package relies on it (read in its source, checked
// by the tests):
//   - KUMO_HOST and KUMO_PORT set both where kumo listens and the base URL
//     of its own call-backs (API Gateway -> Lambda). With
//     KUMO_HOST=127.0.0.1 it binds loopback only. GET /health answers
//     {"status":"healthy"} once listening (20-50 ms after start). A port in
//     use makes it exit with status 1.
//   - It logs one INFO line per request to stdout.
//   - STS GetCallerIdentity answers account 000000000000, which every ARN
//     uses except IAM's (123456789012). Lambda, DynamoDB, KMS and
//     CloudWatch Logs put kumo's AWS_DEFAULT_REGION in their ARNs; SNS, SQS
//     and execute-api hard-code us-east-1, and SQS queue URLs always say
//     http://localhost:4566 (SDK calls still work: the SDK sends them to
//     its own endpoint).
package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
)

// EnvBin names a kumo binary to use instead of <repo>/bin/kumo.
const EnvBin = "A2P_KUMO_BIN"

// DevPort is the port of `make dev`, the one LocalStack and kumo use by
// default.
const DevPort = 4566

// healthTimeout bounds how long a started emulator may take to answer its
// health check.
const healthTimeout = 15 * time.Second

// PollInterval is the pause between two readiness checks. Every wait that
// uses it also has a deadline.
const PollInterval = 5 * time.Millisecond

// Locate returns the kumo binary to run: $A2P_KUMO_BIN when set, else
// <root>/bin/kumo, which must be at least as new as tools/go.mod and
// tools/go.sum (make rebuilds it when they change).
func Locate(root string) (string, error) {
	if bin := os.Getenv(EnvBin); bin != "" {
		if _, err := os.Stat(bin); err != nil { //nolint:gosec // the developer names the binary to run
			return "", fmt.Errorf("%s=%s: %w", EnvBin, bin, err)
		}
		return bin, nil
	}
	bin := filepath.Join(root, "bin", "kumo")
	st, err := os.Stat(bin)
	if err != nil {
		return "", fmt.Errorf("no emulator at %s: run `make bin/kumo` (it builds kumo from tools/go.mod), or set %s", bin, EnvBin)
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		dep, err := os.Stat(filepath.Join(root, "tools", name))
		if err == nil && dep.ModTime().After(st.ModTime()) {
			return "", fmt.Errorf("%s is older than tools/%s: run `make bin/kumo` to rebuild it", bin, name)
		}
	}
	return bin, nil
}

// Options configures Start.
type Options struct {
	// Bin is the kumo binary (see Locate).
	Bin string
	// Port to serve on; 0 picks a free one.
	Port int
	// Region is kumo's AWS_DEFAULT_REGION (see the package comment);
	// default DefaultRegion.
	Region string
	// Output, if set, also receives kumo's output live.
	Output io.Writer
}

// Emulator is a kumo process serving the AWS APIs on 127.0.0.1.
type Emulator struct {
	// Port is the TCP port kumo serves on.
	Port int
	// Endpoint is the base URL for SDK clients: http://127.0.0.1:<port>.
	Endpoint string
	// Region is the region kumo was started with.
	Region string

	proc *proc.Process
}

// Start starts kumo in its own process group, bound to 127.0.0.1 with
// KUMO_HOST and KUMO_PORT set to where it serves, and returns once it
// answers its health check. When the port was picked here and kumo could
// not bind it (another process took it in between), it retries on a new
// port.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if opts.Bin == "" {
		return nil, errors.New("start emulator: no kumo binary given (see Locate)")
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	var err error
	for range 3 {
		port := opts.Port
		if port == 0 {
			if port, err = FreePort(ctx); err != nil {
				return nil, err
			}
		}
		var em *Emulator
		if em, err = start(ctx, opts, port); err == nil || opts.Port != 0 || ctx.Err() != nil {
			return em, err
		}
	}
	return nil, err
}

func start(ctx context.Context, opts Options, port int) (*Emulator, error) {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "KUMO_") || strings.HasPrefix(kv, "AWS_")
	})
	env = append(env, "KUMO_HOST=127.0.0.1", "KUMO_PORT="+strconv.Itoa(port),
		"KUMO_LOG_LEVEL=info", // one line per request, what a failing test wants
		"AWS_DEFAULT_REGION="+opts.Region)
	p, err := proc.Start(proc.Spec{Name: "kumo", Path: opts.Bin, Env: env, Tee: opts.Output})
	if err != nil {
		return nil, err
	}
	em := &Emulator{Port: port, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Region: opts.Region, proc: p}
	if err := em.waitHealthy(ctx); err != nil {
		_ = em.Stop()
		return nil, fmt.Errorf("%w\nkumo output:\n%s", err, em.Output())
	}
	return em, nil
}

// waitHealthy polls GET /health until kumo answers healthy, exits, or the
// deadline passes.
func (e *Emulator) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	for {
		if e.proc.Exited() {
			return fmt.Errorf("kumo on port %d: %w", e.Port, e.proc.ExitError())
		}
		if e.Healthy(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kumo on port %d not healthy: %w", e.Port, ctx.Err())
		case <-ticker.C:
		}
	}
}

// Healthy reports whether the emulator answers its health check now.
func (e *Emulator) Healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Endpoint+"/health", http.NoBody)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Status string `json:"status"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&body) == nil && body.Status == "healthy"
}

// Pid returns kumo's process id (also its process group id).
func (e *Emulator) Pid() int { return e.proc.Pid() }

// Output returns what kumo has printed so far.
func (e *Emulator) Output() string { return e.proc.Output().String() }

// Stop kills kumo's process group and waits until it is reaped. Safe to
// call more than once.
func (e *Emulator) Stop() error { return e.proc.Stop() }

// FreePort asks the kernel for a free TCP port on 127.0.0.1. Another
// process may take it before it is used; Start retries for that.
func FreePort(ctx context.Context) (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected listener address %v", ln.Addr())
	}
	return addr.Port, nil
}
