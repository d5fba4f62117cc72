package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// EnvKumoBin names a prebuilt kumo binary to use instead of building one.
// Only the sandbox reads it (make targets and developers set it).
const EnvKumoBin = "A2P_KUMO_BIN"

// DevPort is the emulator port of `make dev`, the port LocalStack and kumo
// use by default.
const DevPort = 4566

// kumoPackage is the emulator's main package, declared as a tool in
// tools/go.mod.
const kumoPackage = "github.com/sivchari/kumo/cmd/kumo"

// healthTimeout bounds how long a started emulator may take to answer its
// health check.
const healthTimeout = 15 * time.Second

// pollInterval is the pause between two readiness checks (health, function
// readiness, queue polls). Every wait that uses it also has a deadline.
const pollInterval = 5 * time.Millisecond

// FindRepoRoot walks up from dir to the folder holding go.work: the root of
// the a2p-alerts repository.
func FindRepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}

	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}

		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: not inside the a2p-alerts repository", abs)
		}
	}
}

// LocateKumo returns the path of a kumo binary: $A2P_KUMO_BIN when set,
// otherwise a binary built once from tools/go.mod into
// <repo>/build/kumo/<key>/kumo, where key hashes tools/go.mod, tools/go.sum
// and the Go toolchain, so a version bump rebuilds it. Building takes about
// a minute cold; later calls find the cached binary. Concurrent callers may
// both build; the rename into place is atomic, so both end with a whole
// binary.
func LocateKumo(ctx context.Context, repoRoot string) (string, error) {
	if bin := os.Getenv(EnvKumoBin); bin != "" {
		if _, err := os.Stat(bin); err != nil { //nolint:gosec // the developer names the binary to run
			return "", fmt.Errorf("%s=%s: %w", EnvKumoBin, bin, err)
		}

		return bin, nil
	}

	toolsDir := filepath.Join(repoRoot, "tools")

	key, err := kumoCacheKey(toolsDir)
	if err != nil {
		return "", err
	}

	dir := filepath.Join(repoRoot, "build", "kumo", key)
	bin := filepath.Join(dir, "kumo")

	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}

	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create kumo cache: %w", err)
	}

	tmp, err := os.CreateTemp(dir, "kumo-build-*")
	if err != nil {
		return "", fmt.Errorf("create kumo build output: %w", err)
	}

	tmpName := tmp.Name()
	_ = tmp.Close()

	defer func() { _ = os.Remove(tmpName) }()

	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", tmpName, kumoPackage)
	cmd.Dir = toolsDir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")

	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build kumo in %s: %w\n%s", toolsDir, err, out)
	}

	if err := os.Rename(tmpName, bin); err != nil {
		return "", fmt.Errorf("install kumo binary: %w", err)
	}

	return bin, nil
}

// kumoCacheKey hashes what decides the kumo binary.
func kumoCacheKey(toolsDir string) (string, error) {
	h := sha256.New()

	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(toolsDir, name)) //nolint:gosec // the repository's own tools/go.mod and go.sum
		if err != nil {
			return "", fmt.Errorf("read tools/%s: %w", name, err)
		}

		_, _ = h.Write(data)
	}

	_, _ = fmt.Fprintf(h, "%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)

	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// goTool returns the go command to build with: the one on PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}

	return "go" // fails when run, saying go is not found
}

// EmulatorOptions configures StartEmulator.
type EmulatorOptions struct {
	// Bin is the kumo binary (see LocateKumo).
	Bin string
	// Port to serve on; 0 picks a free one.
	Port int
	// Region is the emulator's AWS_DEFAULT_REGION, used in the ARNs of the
	// services that read it (Lambda, DynamoDB, KMS, CloudWatch Logs).
	// Default us-east-1.
	Region string
	// LogLevel is kumo's KUMO_LOG_LEVEL (debug, info, warn, error). Default
	// info: one line per request, which is what a failing test wants.
	LogLevel string
	// Output, if set, also receives the emulator's output live.
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

	proc *process
}

// StartEmulator starts kumo as a child process in its own process group,
// bound to 127.0.0.1 with KUMO_HOST and KUMO_PORT set to where it serves
// (kumo uses them for its own call-backs, such as API Gateway invoking
// Lambda), and returns once GET /health answers {"status":"healthy"}. When
// the port was picked here and kumo could not bind it (another process took
// it in between), it retries on a new port.
func StartEmulator(ctx context.Context, opts EmulatorOptions) (*Emulator, error) {
	if opts.Bin == "" {
		return nil, errors.New("start emulator: no kumo binary given (see LocateKumo)")
	}

	if opts.Region == "" {
		opts.Region = defaultRegion
	}

	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}

	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}

	var lastErr error

	for range attempts {
		port := opts.Port
		if port == 0 {
			p, err := FreePort(ctx)
			if err != nil {
				return nil, err
			}

			port = p
		}

		em, err := startEmulatorOnce(ctx, opts, port)
		if err == nil {
			return em, nil
		}

		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}

	return nil, lastErr
}

func startEmulatorOnce(ctx context.Context, opts EmulatorOptions, port int) (*Emulator, error) {
	env := cleanEnv(os.Environ(), "KUMO_", "AWS_")
	env = append(env,
		"KUMO_HOST=127.0.0.1",
		"KUMO_PORT="+strconv.Itoa(port),
		"KUMO_LOG_LEVEL="+opts.LogLevel,
		"AWS_DEFAULT_REGION="+opts.Region,
	)

	proc, err := startProcess(processSpec{
		name: "kumo",
		path: opts.Bin,
		env:  env,
		tee:  opts.Output,
	})
	if err != nil {
		return nil, err
	}

	em := &Emulator{
		Port:     port,
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		Region:   opts.Region,
		proc:     proc,
	}

	if err := em.waitHealthy(ctx); err != nil {
		_ = em.Stop()

		return nil, fmt.Errorf("%w\nkumo output:\n%s", err, em.Output())
	}

	return em, nil
}

// waitHealthy polls GET /health until kumo answers healthy, kumo exits, or
// the deadline passes.
func (e *Emulator) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()

	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(pollInterval)

	defer ticker.Stop()

	for {
		if e.proc.exited() {
			return fmt.Errorf("kumo on port %d: %w", e.Port, e.proc.exitError())
		}

		if ok := e.healthy(ctx, client); ok {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("kumo on port %d not healthy: %w", e.Port, ctx.Err())
		case <-ticker.C:
		}
	}
}

// healthy does one health check.
func (e *Emulator) healthy(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Endpoint+"/health", http.NoBody)
	if err != nil {
		return false
	}

	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()

	var body struct {
		Status string `json:"status"`
	}

	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return false
	}

	return body.Status == "healthy"
}

// Healthy reports whether the emulator answers its health check now.
func (e *Emulator) Healthy(ctx context.Context) bool {
	return e.healthy(ctx, &http.Client{Timeout: time.Second})
}

// Pid returns the emulator's process id (also its process group id).
func (e *Emulator) Pid() int { return e.proc.Pid() }

// Output returns what kumo has printed so far.
func (e *Emulator) Output() string { return e.proc.out.String() }

// Stop kills the emulator's process group and waits until it is reaped.
// Safe to call more than once.
func (e *Emulator) Stop() error { return e.proc.stop() }

// FreePort asks the kernel for a free TCP port on 127.0.0.1. Another
// process may take it before it is used; StartEmulator retries for that.
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

// cleanEnv returns env without the variables whose names start with any of
// prefixes.
func cleanEnv(env []string, prefixes ...string) []string {
	out := make([]string, 0, len(env))

outer:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue outer
			}
		}

		out = append(out, kv)
	}

	return out
}
