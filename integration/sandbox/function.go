package sandbox

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// readinessProbe is the payload of the readiness invocation. Under the
// sandbox's runtime proxy it never reaches the process: the proxy answers
// it (with probeAnswer) once kumo hands it to the process's poll. Started
// without the proxy, the process receives it; it is a JSON string, which
// aws-lambda-go fails to decode into an event struct before calling the
// handler.
const readinessProbe = `"a2p-sandbox-readiness-probe"`

// probeAnswer is the runtime proxy's response to the readiness probe.
const probeAnswer = `{"sandbox":"ready"}`

// DefaultReadyTimeout bounds how long a function process may take to start
// polling the Runtime API.
const DefaultReadyTimeout = 20 * time.Second

// FunctionSpec is what the sandbox needs to run one deployed function.
type FunctionSpec struct {
	// LogicalName is the Pulumi logical name ("processor").
	LogicalName string
	// Name is the deployed function name, which the Runtime API path uses.
	Name string
	// Zip is the deployment package holding the bootstrap.
	Zip []byte
	// Environment is the function's environment.variables as deployed.
	Environment map[string]string
	// Handler, Runtime, Timeout (seconds), MemorySize (MB) as deployed.
	Handler    string
	Runtime    string
	Timeout    int
	MemorySize int
	// ActiveTracing is true for tracingConfig mode Active.
	ActiveTracing bool
}

// FunctionSpecs returns the specs of every function in the deployment,
// with each one's environment taken from the deployed resource.
func (d *Deployment) FunctionSpecs() ([]FunctionSpec, error) {
	var specs []FunctionSpec

	for _, r := range d.ByType(TypeFunction) {
		if len(r.code) == 0 {
			return nil, fmt.Errorf("function %s has no zip recorded", r.Name)
		}

		st := props(r.State)

		spec := FunctionSpec{
			LogicalName: r.Name,
			Name:        st.str("name"),
			Zip:         r.code,
			Handler:     st.str("handler"),
			Runtime:     st.str("runtime"),
			Timeout:     int(st.num("timeout", defaultLambdaTimeout)),
			MemorySize:  int(st.num("memorySize", defaultLambdaMemory)),
		}
		if env := st.obj("environment"); env != nil {
			spec.Environment = env.strMap("variables")
		}

		if tc := st.obj("tracingConfig"); tc != nil {
			spec.ActiveTracing = tc.str("mode") == "Active"
		}

		specs = append(specs, spec)
	}

	return specs, nil
}

// FunctionHost is what a function process is pointed at.
type FunctionHost struct {
	// Endpoint is the emulator (AWS_ENDPOINT_URL).
	Endpoint string
	// Region is AWS_REGION.
	Region string
	// RuntimeAPI returns AWS_LAMBDA_RUNTIME_API for a function name.
	RuntimeAPI func(function string) string
	// XRayDaemon is AWS_XRAY_DAEMON_ADDRESS ("" to leave unset).
	XRayDaemon string
	// ConnectEndpoint is AWS_ENDPOINT_URL_CONNECT ("" to leave unset).
	ConnectEndpoint string
	// Output, if set, also receives the process's output live.
	Output io.Writer
}

// Function is a deployed function's bootstrap running as a child process
// against the emulator's Runtime API.
type Function struct {
	// Spec is what was started.
	Spec FunctionSpec
	// Env is the process's complete environment.
	Env map[string]string

	dir  string
	proc *process
}

// StartFunction extracts the bootstrap from spec.Zip into a temporary
// directory (LAMBDA_TASK_ROOT) and starts it, in its own process group,
// with the function's deployed environment plus what Lambda itself sets,
// pointed at the emulator. It fails at once when the bootstrap is built
// for another architecture. Call WaitReady before invoking it.
func StartFunction(spec FunctionSpec, host FunctionHost) (*Function, error) {
	sweepOnce.Do(func() { sweepTaskRoots(os.TempDir()) })

	dir, err := os.MkdirTemp("", taskRootPrefix+strconv.Itoa(os.Getpid())+"-"+spec.LogicalName+"-")
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", spec.LogicalName, err)
	}

	bootstrap, err := extractZip(spec.Zip, dir)
	if err == nil {
		err = checkArch(bootstrap)
	}

	if err != nil {
		_ = os.RemoveAll(dir)

		return nil, fmt.Errorf("function %s: %w", spec.LogicalName, err)
	}

	env := functionEnv(spec, host, dir)

	proc, err := startProcess(processSpec{
		name: spec.LogicalName,
		path: bootstrap,
		env:  envList(env),
		dir:  dir,
		tee:  host.Output,
	})
	if err != nil {
		_ = os.RemoveAll(dir)

		return nil, err
	}

	return &Function{Spec: spec, Env: env, dir: dir, proc: proc}, nil
}

// taskRootPrefix starts the name of each function's temporary task root,
// followed by the pid of the process that made it.
const taskRootPrefix = "a2p-fn-"

var sweepOnce sync.Once

// sweepTaskRoots removes the task roots of processes that have died
// without cleaning up (killed, crashed), which Stop would have removed.
// Each holds a bootstrap of several megabytes.
func sweepTaskRoots(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}

	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), taskRootPrefix)
		if !ok || !e.IsDir() {
			continue
		}

		owner, _, _ := strings.Cut(rest, "-")

		pid, err := strconv.Atoi(owner)
		if err != nil || pid == os.Getpid() || ProcessAlive(pid) {
			continue
		}

		_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// functionEnv is the function's deployed environment plus the variables
// Lambda sets. Lambda's own variables win, as AWS rejects reserved names
// in a function's environment.
func functionEnv(spec FunctionSpec, host FunctionHost, dir string) map[string]string {
	env := map[string]string{}
	for k, v := range spec.Environment {
		env[k] = v
	}

	lambdaEnv := map[string]string{
		"AWS_ENDPOINT_URL":                host.Endpoint,
		"AWS_LAMBDA_RUNTIME_API":          host.RuntimeAPI(spec.Name),
		"AWS_REGION":                      host.Region,
		"AWS_DEFAULT_REGION":              host.Region,
		"AWS_ACCESS_KEY_ID":               testAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           testSecretAccessKey,
		"AWS_LAMBDA_FUNCTION_NAME":        spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     latestVersion,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(spec.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + spec.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "sandbox",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + orDefault(spec.Runtime, "provided.al2023"),
		"LAMBDA_TASK_ROOT":                dir,
		"_HANDLER":                        orDefault(spec.Handler, "bootstrap"),
		"AWS_XRAY_CONTEXT_MISSING":        "LOG_ERROR",
		"TZ":                              ":UTC",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	}
	if host.XRayDaemon != "" {
		lambdaEnv["AWS_XRAY_DAEMON_ADDRESS"] = host.XRayDaemon
	}

	if host.ConnectEndpoint != "" {
		lambdaEnv["AWS_ENDPOINT_URL_CONNECT"] = host.ConnectEndpoint
	}

	for k, v := range lambdaEnv {
		env[k] = v
	}

	return env
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}

	return out
}

// extractZip unpacks the regular files of a deployment package into dir
// and returns the path of its bootstrap.
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

	// Lambda runs the bootstrap whatever mode the zip recorded.
	if err := os.Chmod(bootstrap, 0o755); err != nil { //nolint:gosec // an executable must be executable
		return "", fmt.Errorf("make bootstrap executable: %w", err)
	}

	return bootstrap, nil
}

func extractFile(f *zip.File, dir string) error {
	name := filepath.Clean(filepath.FromSlash(f.Name))
	if !f.Mode().IsRegular() || filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
		return nil // directories, links and paths outside dir are skipped
	}

	dst := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil { //nolint:gosec // dst is inside dir, checked above
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}

	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}
	defer func() { _ = rc.Close() }()

	if err := writeExecutable(dst, rc); err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}

	return nil
}

// writeExecutable writes r to path while holding forkLock, so that no
// child this package forks inherits the open descriptor (see forkLock).
func writeExecutable(path string, r io.Reader) error {
	forkLock.Lock()
	defer forkLock.Unlock()

	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // path is inside the task root, checked by the caller
	if err != nil {
		return err //nolint:wrapcheck // the caller names the file
	}

	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()

		return err //nolint:wrapcheck // the caller names the file
	}

	return out.Close() //nolint:wrapcheck // the caller names the file
}

// elfMachines maps GOARCH to the ELF machine of its executables.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// checkArch fails when the bootstrap cannot run on this machine, saying
// how to build one that can.
func checkArch(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not a Linux executable: %w", err)
	}
	defer func() { _ = f.Close() }()

	want, known := elfMachines[runtime.GOARCH]
	if !known || f.Machine == want {
		return nil
	}

	got := f.Machine.String()
	for arch, m := range elfMachines {
		if m == f.Machine {
			got = arch
		}
	}

	return fmt.Errorf("bootstrap is built for %s but this machine is %s: build the functions with LAMBDA_ARCH=%s",
		got, runtime.GOARCH, runtime.GOARCH)
}

// WaitReady returns once the function's process is polling the Runtime
// API, proven by a probe invocation through the emulator that the process
// answers (see readinessProbe). Until the process first polls, kumo
// answers every invoke with a 502 "no runtime handler" at once; the probe
// is repeated until then, up to timeout. It fails early when the process
// exits.
func (f *Function) WaitReady(ctx context.Context, client *lambda.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Abandon a probe in flight if the process dies: kumo would hold it
	// for its 30 s pickup timeout.
	go func() {
		select {
		case <-f.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	for {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{
			FunctionName: aws.String(f.Spec.Name),
			Payload:      []byte(readinessProbe),
		}, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
		if err == nil {
			return nil
		}

		switch {
		case f.proc.exited():
			return fmt.Errorf("function %s: %w before it was ready", f.Spec.LogicalName, f.proc.exitError())
		case !isNoRuntimeHandler(err):
			return fmt.Errorf("function %s: readiness probe: %w", f.Spec.LogicalName, err)
		}

		select {
		case <-ctx.Done():
			if f.proc.exited() {
				return fmt.Errorf("function %s: %w before it was ready", f.Spec.LogicalName, f.proc.exitError())
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
func (f *Function) Output() string { return f.proc.out.String() }

// WaitOutput waits until the function's output contains substr, or ctx
// ends.
func (f *Function) WaitOutput(ctx context.Context, substr string) error {
	if err := f.proc.out.WaitFor(ctx, func(out string) bool { return strings.Contains(out, substr) }); err != nil {
		return fmt.Errorf("function %s: %q: %w", f.Spec.LogicalName, substr, err)
	}

	return nil
}

// Exited reports whether the process has ended.
func (f *Function) Exited() bool { return f.proc.exited() }

// Stop kills the function's process group, waits until it is reaped and
// removes its directory. Safe to call more than once.
func (f *Function) Stop() error {
	err := f.proc.stop()
	if rmErr := os.RemoveAll(f.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove %s: %w", f.dir, rmErr)
	}

	return err
}
