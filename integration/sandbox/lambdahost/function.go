// Package lambdahost runs deployed Lambda functions on this machine, as
// Lambda would: each function's bootstrap, from the very zip the deploy
// uploaded, runs as a child process with the deployed environment plus what
// Lambda sets, AWS_ENDPOINT_URL at the emulator and AWS_LAMBDA_RUNTIME_API
// at the RuntimeProxy, which forwards to kumo's Runtime API and adds what
// Lambda sends and kumo does not. Build makes the zips for this machine.
//
// kumo v0.33.1, as this package relies on it:
//   - kumo runs no process itself: functions run as Runtime API clients at
//     /_runtime/{function}/2018-06-01/runtime/{invocation/next, ...}.
//   - Until a process first polls for a function, kumo answers every
//     invoke at once with 502 ServiceException "no runtime handler" (500
//     through API Gateway); afterwards a later invoke waits up to 30 s for
//     a poller instead. Restart a function's process, not kumo's memory of
//     it.
//   - The function's Timeout is the invocation deadline; a late answer is a
//     Sandbox.Timedout function error.
//   - /next sends no Lambda-Runtime-Trace-Id, and the proxy event (payload
//     1.0) has no requestContext.authorizer: see RuntimeProxy.
package lambdahost

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
)

// DefaultReadyTimeout bounds how long a function process may take to start
// polling the Runtime API.
const DefaultReadyTimeout = 20 * time.Second

// readinessProbe is the payload of the readiness invocation. Under the
// RuntimeProxy it never reaches the process: the proxy answers it (with
// probeAnswer) once kumo hands it to the process's poll.
const readinessProbe = `"a2p-sandbox-readiness-probe"`

// probeAnswer is the runtime proxy's response to the readiness probe.
const probeAnswer = `{"sandbox":"ready"}`

// Host is what a function process is pointed at.
type Host struct {
	// Endpoint is the emulator (AWS_ENDPOINT_URL); Region is AWS_REGION.
	Endpoint, Region string
	// RuntimeAPI returns AWS_LAMBDA_RUNTIME_API for a function name.
	RuntimeAPI func(function string) string
	// XRayDaemon is AWS_XRAY_DAEMON_ADDRESS ("" to leave it unset).
	XRayDaemon string
	// ConnectEndpoint is AWS_ENDPOINT_URL_CONNECT ("" to leave it unset).
	ConnectEndpoint string
	// SNSEndpoint is AWS_ENDPOINT_URL_SNS ("" to leave it unset: SNS is
	// the emulator's).
	SNSEndpoint string
	// Env replaces deployed variables a function has with values for this
	// machine (the acknowledgment links' base: kumo's stage URL).
	Env map[string]string
	// Output, if set, also receives the process's output live.
	Output io.Writer
}

// Function is a deployed function's bootstrap running as a child process
// against the Runtime API. Restart replaces its process in place; a
// Function's methods are not safe to call during a Restart.
type Function struct {
	// Spec is the deployed function.
	Spec provision.Function
	// Env is the process's complete environment.
	Env map[string]string

	host Host
	dir  string
	proc *proc.Process
	// extra holds variables added to this process's environment only
	// (RestartWith), nil when it runs as deployed.
	extra map[string]string
}

// Start extracts the bootstrap from spec.Zip into a temporary task root
// (LAMBDA_TASK_ROOT) and starts it with the function's deployed
// environment plus what Lambda itself sets. It fails at once when the
// bootstrap is built for another architecture. It returns once exec has
// succeeded; call WaitReady before invoking the function.
func Start(spec provision.Function, host Host) (*Function, error) {
	f := &Function{Spec: spec, host: host}
	if err := f.start(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Function) start() error {
	sweepOnce.Do(func() { sweepTaskRoots(os.TempDir()) })
	dir, err := os.MkdirTemp("", taskRootPrefix+strconv.Itoa(os.Getpid())+"-"+f.Spec.LogicalName+"-")
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Spec.LogicalName, err)
	}
	bootstrap, err := extractZip(f.Spec.Zip, dir)
	if err == nil {
		err = checkArch(bootstrap)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("function %s: %w", f.Spec.LogicalName, err)
	}
	env := lambdaEnv(f.Spec, f.host, dir, f.extra)
	list := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		list = append(list, k+"="+env[k])
	}
	p, err := proc.Start(proc.Spec{Name: f.Spec.LogicalName, Path: bootstrap, Env: list, Dir: dir, Tee: f.host.Output})
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	f.Env, f.dir, f.proc = env, dir, p
	return nil
}

// Restart stops the function's process and starts a fresh one of the same
// deployment package, as Lambda does for a new execution environment, with
// the deployed environment. It returns once exec has succeeded (the start
// of a cold start); call WaitReady next.
func (f *Function) Restart() error {
	return f.RestartWith(nil)
}

// RestartWith is Restart with extra added to the new process's environment,
// for a switch a measurement needs that no deploy sets (such as
// names.EnvCPUProfile). Variables Lambda itself sets cannot be overridden.
// A later Restart starts the function as deployed again.
func (f *Function) RestartWith(extra map[string]string) error {
	if err := f.Stop(); err != nil {
		return err
	}
	f.extra = extra
	return f.start()
}

// Terminate sends SIGTERM to the function's process, as Lambda does before
// it shuts an execution environment down, and waits until the process has
// exited or ctx ends. Restart starts the function again.
func (f *Function) Terminate(ctx context.Context) error {
	if err := syscall.Kill(f.Pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("function %s: SIGTERM: %w", f.Spec.LogicalName, err)
	}
	select {
	case <-f.proc.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("function %s still running after SIGTERM: %w", f.Spec.LogicalName, ctx.Err())
	}
}

// AddReplica starts one more process of the same function, polling the
// same Runtime API, as Lambda scales out to a second execution
// environment. The caller stops it.
func (f *Function) AddReplica() (*Function, error) {
	return Start(f.Spec, f.host)
}

// lambdaEnv is the function's deployed environment, with extra over it,
// plus the variables Lambda sets. Lambda's own variables win, as AWS rejects
// reserved names in a function's environment.
func lambdaEnv(spec provision.Function, host Host, dir string, extra map[string]string) map[string]string {
	env := map[string]string{}
	maps.Copy(env, spec.Environment)
	maps.Copy(env, extra)
	maps.Copy(env, map[string]string{
		"AWS_ENDPOINT_URL":                host.Endpoint,
		"AWS_LAMBDA_RUNTIME_API":          host.RuntimeAPI(spec.Name),
		"AWS_REGION":                      host.Region,
		"AWS_DEFAULT_REGION":              host.Region,
		"AWS_ACCESS_KEY_ID":               emulator.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           emulator.SecretAccessKey,
		"AWS_LAMBDA_FUNCTION_NAME":        spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(spec.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + spec.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "sandbox",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + spec.Runtime,
		"LAMBDA_TASK_ROOT":                dir,
		"_HANDLER":                        spec.Handler,
		"AWS_XRAY_CONTEXT_MISSING":        "LOG_ERROR",
		"TZ":                              ":UTC",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	})
	for k, v := range map[string]string{
		"AWS_XRAY_DAEMON_ADDRESS": host.XRayDaemon, "AWS_ENDPOINT_URL_CONNECT": host.ConnectEndpoint, "AWS_ENDPOINT_URL_SNS": host.SNSEndpoint,
	} {
		if v != "" {
			env[k] = v
		}
	}
	for k, v := range host.Env {
		if _, deployed := env[k]; deployed {
			env[k] = v
		}
	}
	return env
}

// taskRootPrefix starts the name of each function's temporary task root,
// followed by the pid of the process that made it.
const taskRootPrefix = "a2p-fn-"

var sweepOnce sync.Once

// sweepTaskRoots removes the task roots of processes that died without
// cleaning up (killed, crashed). Each holds a bootstrap of several MB.
func sweepTaskRoots(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), taskRootPrefix)
		owner, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(owner)
		if !ok || !e.IsDir() || err != nil || pid == os.Getpid() || proc.Alive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// extractZip unpacks the regular files of a deployment package into dir
// and returns the path of its bootstrap, which it makes executable as
// Lambda does.
func extractZip(data []byte, dir string) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("read deployment package: %w", err)
	}
	for _, f := range zr.File {
		if err := extractFile(f, dir); err != nil {
			return "", err
		}
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(bootstrap); err != nil {
		return "", errors.New("deployment package has no bootstrap at its root")
	}
	return bootstrap, nil
}

func extractFile(f *zip.File, dir string) error {
	name := filepath.Clean(filepath.FromSlash(f.Name))
	if !f.Mode().IsRegular() || !filepath.IsLocal(name) {
		return nil // directories, links and paths outside dir are skipped
	}
	dst := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	return proc.WriteExecutable(dst, rc)
}

// elfMachines maps GOARCH to the ELF machine of its executables.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkArch fails when the bootstrap cannot run on this machine, saying
// how to build one that can.
func checkArch(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not a Linux executable: %w", err)
	}
	defer func() { _ = f.Close() }()
	if want, known := elfMachines[runtime.GOARCH]; !known || f.Machine == want {
		return nil
	}
	return fmt.Errorf("bootstrap is built for %s but this machine is %s: build the functions with LAMBDA_ARCH=%s",
		f.Machine, runtime.GOARCH, runtime.GOARCH)
}

// WaitReady returns once the function's process is polling the Runtime
// API, proven by a probe invocation through the emulator. Until the
// process first polls, kumo answers every invoke with a 502 "no runtime
// handler" at once; the probe is repeated until then, up to timeout. It
// fails early when the process exits.
func (f *Function) WaitReady(ctx context.Context, client *lambda.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Abandon a probe in flight if the process dies: kumo would hold it
	// for its 30 s pickup timeout.
	go func() {
		select {
		case <-f.proc.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	ticker := time.NewTicker(emulator.PollInterval)
	defer ticker.Stop()
	for {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.Spec.Name), Payload: []byte(readinessProbe)},
			func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
		switch {
		case err == nil:
			return nil
		case f.proc.Exited():
			return fmt.Errorf("function %s: %w before it was ready", f.Spec.LogicalName, f.proc.ExitError())
		case !isNoRuntimeHandler(err):
			return fmt.Errorf("function %s: readiness probe: %w", f.Spec.LogicalName, err)
		}
		select {
		case <-ctx.Done():
			if f.proc.Exited() {
				return fmt.Errorf("function %s: %w before it was ready", f.Spec.LogicalName, f.proc.ExitError())
			}
			return fmt.Errorf("function %s not polling the Runtime API after %s: %w", f.Spec.LogicalName, timeout, ctx.Err())
		case <-ticker.C:
		}
	}
}

// isNoRuntimeHandler recognises kumo's answer to an invoke of a function
// that no process polls yet.
func isNoRuntimeHandler(err error) bool {
	var se *lambdatypes.ServiceException
	return errors.As(err, &se) && strings.Contains(aws.ToString(se.Message), "no runtime handler")
}

// Pid returns the process id (also its process group id).
func (f *Function) Pid() int { return f.proc.Pid() }

// Output returns what the function has printed so far.
func (f *Function) Output() string { return f.proc.Output().String() }

// WaitOutput waits until the function's output contains substr, or ctx
// ends.
func (f *Function) WaitOutput(ctx context.Context, substr string) error {
	if err := f.proc.Output().WaitFor(ctx, substr); err != nil {
		return fmt.Errorf("function %s: %w", f.Spec.LogicalName, err)
	}
	return nil
}

// Exited reports whether the process has ended.
func (f *Function) Exited() bool { return f.proc.Exited() }

// Stop kills the function's process group, waits until it is reaped and
// removes its task root. Safe to call more than once.
func (f *Function) Stop() error {
	err := f.proc.Stop()
	if rmErr := os.RemoveAll(f.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove %s: %w", f.dir, rmErr)
	}
	return err
}
