package lambdahost

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// Shared by the tests, prepared once by TestMain: one emulator and the
// real authorizer's deployment package, built for this machine.
var (
	kumo          *emulator.Emulator
	authorizerZip []byte
)

// decisionLine is in the authorizer's output once per invocation.
const decisionLine = `"msg":"authorizer decision"`

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdahost tests: setup failed:", err)

		code = 1
	}

	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return 0, err
	}

	out, err := os.MkdirTemp("", "a2p-lambdahost-test-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(out) }()

	if err := Build(ctx, root, out, nil); err != nil {
		return 0, err
	}

	if authorizerZip, err = os.ReadFile(filepath.Join(out, names.FunctionAuthorizer+".zip")); err != nil {
		return 0, err
	}

	bin, err := emulator.Locate(root)
	if err != nil {
		return 0, err
	}

	if kumo, err = emulator.Start(ctx, emulator.Options{Bin: bin}); err != nil {
		return 0, err
	}

	code := m.Run()
	if code != 0 {
		fmt.Printf("===== kumo output =====\n%s\n", kumo.Output())
	}

	return code, kumo.Stop()
}

func lambdaClient() *lambda.Client { return emulator.NewClients(kumo.Endpoint, "").Lambda }

// deployAuthorizer registers a fresh authorizer function in the emulator,
// as a deploy would, and returns its spec (with a client whose token it
// returns too) and a host pointing straight at kumo's Runtime API.
func deployAuthorizer(t *testing.T, env map[string]string) (provision.Function, Host, string) {
	t.Helper()

	tok, hash, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}

	if env == nil {
		env = map[string]string{names.EnvAPIClients: `[{"client":"tester","sha256":"` + hash + `"}]`}
	}

	spec := provision.Function{
		LogicalName: "authorizer", Name: "authorizer-" + randomHex(4), Zip: authorizerZip, Environment: env,
		Handler: "bootstrap", Runtime: "provided.al2023", Timeout: 5, MemorySize: 128,
	}

	if _, err := lambdaClient().CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(spec.Name), Role: aws.String("arn:aws:iam::123456789012:role/test"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{ZipFile: authorizerZip},
	}); err != nil {
		t.Fatal(err)
	}

	host := Host{
		Endpoint:   kumo.Endpoint,
		Region:     emulator.DefaultRegion,
		RuntimeAPI: func(fn string) string { return "127.0.0.1:" + strconv.Itoa(kumo.Port) + "/_runtime/" + fn },
	}

	return spec, host, tok
}

func startFunction(t *testing.T, spec provision.Function, host Host) *Function {
	t.Helper()

	fn, err := Start(spec, host)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = fn.Stop() })

	if err := fn.WaitReady(t.Context(), lambdaClient(), DefaultReadyTimeout); err != nil {
		t.Fatalf("WaitReady: %v\n%s", err, fn.Output())
	}

	return fn
}

// authorize invokes the function with a REQUEST event carrying tok and
// reports whether it allowed it.
func authorize(t *testing.T, name, tok string) bool {
	t.Helper()

	ev, err := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: "arn:aws:execute-api:us-east-1:000000000000:api/v1/POST/notification",
		Headers: map[string]string{names.HeaderAuthorization: tok},
	})
	if err != nil {
		t.Fatal(err)
	}

	out, err := lambdaClient().Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: ev})
	if err != nil {
		t.Fatal(err)
	}

	return out.FunctionError == nil && bytes.Contains(out.Payload, []byte(`"Allow"`))
}

func waitOutput(t *testing.T, fn *Function, substr string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	if err := fn.WaitOutput(ctx, substr); err != nil {
		t.Fatalf("%v; output:\n%s", err, fn.Output())
	}
}

// TestFunctionServesAndStops runs the real authorizer straight against
// kumo's Runtime API: kumo refuses invokes until the process polls,
// WaitReady's probe then reaches the process (no proxy here: the
// authorizer logs a decision for it), a real event is allowed, and Stop
// leaves neither process nor task root.
func TestFunctionServesAndStops(t *testing.T) {
	t.Parallel()

	spec, host, tok := deployAuthorizer(t, nil)

	_, err := lambdaClient().Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(spec.Name), Payload: []byte(`{}`)},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	if !isNoRuntimeHandler(err) {
		t.Fatalf("invoke before a process polls: %v; want kumo's no-runtime-handler error", err)
	}

	fn := startFunction(t, spec, host)
	waitOutput(t, fn, decisionLine) // the probe's

	for key, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        spec.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_ENDPOINT_URL":                kumo.Endpoint,
		"LAMBDA_TASK_ROOT":                fn.dir,
		names.EnvAPIClients:               spec.Environment[names.EnvAPIClients],
	} {
		if got := fn.Env[key]; got != want {
			t.Errorf("env %s=%q, want %q", key, got, want)
		}
	}

	if !authorize(t, spec.Name, tok) || authorize(t, spec.Name, "not-a-token") {
		t.Fatalf("the authorizer did not tell its client from a stranger:\n%s", fn.Output())
	}

	pid, dir := fn.Pid(), fn.dir
	if err := fn.Stop(); err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(dir); proc.Alive(pid) || !os.IsNotExist(err) {
		t.Fatalf("after Stop: pid %d alive %v, task root %s: %v", pid, proc.Alive(pid), dir, err)
	}
}

// TestRestartAndReplica: Restart replaces the process in place, and
// AddReplica adds a second process polling the same function; each
// serves invocations.
func TestRestartAndReplica(t *testing.T) {
	t.Parallel()

	spec, host, tok := deployAuthorizer(t, nil)
	fn := startFunction(t, spec, host)
	first := fn.Pid()

	if err := fn.Restart(); err != nil {
		t.Fatal(err)
	}

	if err := fn.WaitReady(t.Context(), lambdaClient(), DefaultReadyTimeout); err != nil {
		t.Fatalf("after Restart: %v\n%s", err, fn.Output())
	}

	if fn.Pid() == first || proc.Alive(first) {
		t.Fatalf("Restart kept pid %d (now %d, old alive %v)", first, fn.Pid(), proc.Alive(first))
	}

	replica, err := fn.AddReplica()
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = replica.Stop() })

	// kumo hands each invocation to a waiting poller: invoke until the
	// replica has served one (its first log line), within a deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	for !strings.Contains(replica.Output(), decisionLine) {
		if ctx.Err() != nil || replica.Exited() {
			t.Fatalf("the replica never served:\n%s", replica.Output())
		}

		if !authorize(t, spec.Name, tok) {
			t.Fatal("an invocation was not allowed")
		}
	}
}

// TestRestartWithAndTerminate: RestartWith adds a variable to the new
// process only, never over Lambda's own; Terminate ends the process with
// SIGTERM and returns once it has exited; Restart runs it as deployed.
func TestRestartWithAndTerminate(t *testing.T) {
	t.Parallel()

	spec, host, tok := deployAuthorizer(t, nil)
	fn := startFunction(t, spec, host)

	if err := fn.RestartWith(map[string]string{"A2P_TEST_SWITCH": "on", "AWS_LAMBDA_FUNCTION_NAME": "other"}); err != nil {
		t.Fatal(err)
	}

	if err := fn.WaitReady(t.Context(), lambdaClient(), DefaultReadyTimeout); err != nil {
		t.Fatalf("after RestartWith: %v\n%s", err, fn.Output())
	}

	if fn.Env["A2P_TEST_SWITCH"] != "on" || fn.Env["AWS_LAMBDA_FUNCTION_NAME"] != spec.Name {
		t.Errorf("env after RestartWith: switch %q, function name %q; want on and %q",
			fn.Env["A2P_TEST_SWITCH"], fn.Env["AWS_LAMBDA_FUNCTION_NAME"], spec.Name)
	}

	if !authorize(t, spec.Name, tok) {
		t.Fatalf("the restarted function did not serve:\n%s", fn.Output())
	}

	pid := fn.Pid()
	if err := fn.Terminate(t.Context()); err != nil {
		t.Fatal(err)
	}

	if !fn.Exited() || proc.Alive(pid) {
		t.Fatalf("after Terminate: exited %v, pid %d alive %v", fn.Exited(), pid, proc.Alive(pid))
	}

	if err := fn.Restart(); err != nil {
		t.Fatal(err)
	}

	if err := fn.WaitReady(t.Context(), lambdaClient(), DefaultReadyTimeout); err != nil {
		t.Fatalf("after Restart: %v\n%s", err, fn.Output())
	}

	if _, ok := fn.Env["A2P_TEST_SWITCH"]; ok {
		t.Error("Restart kept the variable RestartWith added")
	}
}

func TestExitingBeforeReadyFails(t *testing.T) {
	t.Parallel()

	// Without its clients the authorizer refuses to start (exit status 1).
	spec, host, _ := deployAuthorizer(t, map[string]string{})

	fn, err := Start(spec, host)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = fn.Stop() })

	if err := fn.WaitReady(t.Context(), lambdaClient(), DefaultReadyTimeout); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("WaitReady: %v; want the process's exit status 1", err)
	}

	waitOutput(t, fn, names.EnvAPIClients+" is not set")
}

// TestRuntimeProxy runs the authorizer behind the proxy: the readiness
// probe never reaches it, a real event does.
func TestRuntimeProxy(t *testing.T) {
	t.Parallel()

	rp, err := StartRuntimeProxy(t.Context(), kumo.Endpoint)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = rp.Close() })

	spec, host, tok := deployAuthorizer(t, nil)
	host.RuntimeAPI = rp.Address
	fn := startFunction(t, spec, host)

	if !authorize(t, spec.Name, tok) {
		t.Fatalf("not allowed through the proxy:\n%s", fn.Output())
	}

	// The process handles one invocation at a time and logs each before
	// it answers: had it received the probe, that line would be here too.
	waitOutput(t, fn, decisionLine)

	if n := strings.Count(fn.Output(), decisionLine); n != 1 {
		t.Fatalf("%d decisions logged, want 1 (the probe reached the process):\n%s", n, fn.Output())
	}
}

func TestStartRejectsForeignArchitecture(t *testing.T) {
	t.Parallel()

	bin, err := extractZip(authorizerZip, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	// Rewrite e_machine (offset 18) to the other architecture.
	other := map[string]uint16{"amd64": uint16(elfMachines["arm64"]), "arm64": uint16(elfMachines["amd64"])}[runtime.GOARCH]
	binary.LittleEndian.PutUint16(exe[18:20], other)

	spec := provision.Function{LogicalName: "foreign", Name: "foreign", Zip: zipOf(t, map[string][]byte{"bootstrap": exe})}

	fn, err := Start(spec, Host{RuntimeAPI: func(string) string { return "" }})
	if err == nil {
		_ = fn.Stop()
		t.Fatal("Start ran a foreign-architecture bootstrap")
	}

	if want := "LAMBDA_ARCH=" + runtime.GOARCH; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()

	var buf bytes.Buffer

	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}

	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes()
}

func TestExtractZip(t *testing.T) {
	t.Parallel()

	parent := t.TempDir()
	dir := filepath.Join(parent, "root")

	if _, err := extractZip(zipOf(t, map[string][]byte{"bootstrap": []byte("x"), "../escaped": []byte("x"), "conf/app.json": []byte("{}")}), dir); err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(filepath.Join(parent, "escaped")); !os.IsNotExist(err) {
		t.Errorf("../escaped was written outside the task root (%v)", err)
	}

	if info, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || info.Mode()&0o100 == 0 {
		t.Errorf("bootstrap not executable: %v %v", info, err)
	}

	if _, err := os.Stat(filepath.Join(dir, "conf", "app.json")); err != nil {
		t.Errorf("nested file not extracted: %v", err)
	}

	if _, err := extractZip(zipOf(t, map[string][]byte{"main": []byte("x")}), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no bootstrap") {
		t.Errorf("a package without bootstrap: %v, want refused", err)
	}
}

// TestSweepTaskRoots: the task roots of dead processes go; those of live
// ones stay.
func TestSweepTaskRoots(t *testing.T) {
	t.Parallel()

	dead := exec.CommandContext(t.Context(), "true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	roots := map[int]bool{dead.Process.Pid: false, os.Getpid(): true, os.Getppid(): true} // pid -> kept

	for pid := range roots {
		if err := os.Mkdir(filepath.Join(tmp, taskRootPrefix+strconv.Itoa(pid)+"-processor-1"), 0o750); err != nil {
			t.Fatal(err)
		}
	}

	sweepTaskRoots(tmp)

	for pid, kept := range roots {
		_, err := os.Stat(filepath.Join(tmp, taskRootPrefix+strconv.Itoa(pid)+"-processor-1"))
		if kept != (err == nil) {
			t.Errorf("task root of pid %d: kept %v, want %v", pid, err == nil, kept)
		}
	}
}
