package sandbox

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
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
)

// createKumoFunction registers a function in the shared emulator, as a
// deploy would.
func createKumoFunction(t *testing.T, name string) {
	t.Helper()

	_, err := sharedClients().Lambda.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String("arn:aws:iam::123456789012:role/testfn"),
		Runtime:      lambdatypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &lambdatypes.FunctionCode{ZipFile: testFnZip},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// directHost points functions straight at the shared emulator's Runtime
// API.
func directHost() FunctionHost {
	return FunctionHost{
		Endpoint:   sharedEmulator.Endpoint,
		Region:     defaultRegion,
		RuntimeAPI: func(n string) string { return "127.0.0.1:" + strconv.Itoa(sharedEmulator.Port) + "/_runtime/" + n },
	}
}

func TestFunctionReadinessInvokeAndStop(t *testing.T) {
	t.Parallel()

	name := "echo-" + randomHex(7)
	createKumoFunction(t, name)

	lc := sharedClients().Lambda

	// Before any process polls, kumo answers an invoke at once with a 502
	// that WaitReady recognises.
	_, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	if !isNoRuntimeHandler(err) {
		t.Fatalf("invoke before the process polls: %v; want kumo's no-runtime-handler error", err)
	}

	fn, err := StartFunction(FunctionSpec{
		LogicalName: "echo",
		Name:        name,
		Zip:         testFnZip,
		Environment: map[string]string{"TESTFN_ROLE": "echo", "TESTFN_GREETING": "hello from the resource"},
		MemorySize:  256,
	}, directHost())
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = fn.Stop() })

	if err := fn.WaitReady(t.Context(), lc, DefaultReadyTimeout); err != nil {
		t.Fatalf("WaitReady: %v\n%s", err, fn.Output())
	}

	// The probe reached the process, which logged its decoding error, but
	// not the handler. stdout and stderr share one pipe, so a handler's
	// line would come before that error.
	assertProbeOnly(t, fn)

	for key, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_ENDPOINT_URL":                sharedEmulator.Endpoint,
		"TESTFN_GREETING":                 "hello from the resource",
		"LAMBDA_TASK_ROOT":                fn.dir,
	} {
		if got := fn.Env[key]; got != want {
			t.Errorf("env %s=%q, want %q", key, got, want)
		}
	}

	payload, err := json.Marshal(events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/hello"})
	if err != nil {
		t.Fatal(err)
	}

	out, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}

	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		t.Fatalf("invoke answered %s: %v", out.Payload, err)
	}

	var body echoedBody
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("echo body %q: %v", resp.Body, err)
	}

	if got, want := body.Greeting, "hello from the resource"; got != want {
		t.Fatalf("greeting %q, want %q", got, want)
	}

	waitOutput(t, fn, "echo: handling GET /hello")

	pid, dir := fn.Pid(), fn.dir
	if err := fn.Stop(); err != nil {
		t.Fatal(err)
	}

	if ProcessAlive(pid) {
		t.Fatalf("function %d alive after Stop", pid)
	}

	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("task root %s left behind (%v)", dir, err)
	}
}

// waitOutput waits for substr in the function's output.
func waitOutput(t *testing.T, fn *Function, substr string) {
	t.Helper()

	ctx, cancel := contextWithTimeout(t, 10*time.Second)
	defer cancel()

	if err := fn.WaitOutput(ctx, substr); err != nil {
		t.Fatalf("%v; output:\n%s", err, fn.Output())
	}
}

// assertProbeOnly checks that the readiness probe reached the function's
// process (aws-lambda-go logs its decoding error) without running the
// handler (whose first act is to print "handling").
func assertProbeOnly(t *testing.T, fn *Function) {
	t.Helper()

	waitOutput(t, fn, "UnmarshalTypeError")

	if strings.Contains(fn.Output(), "handling") {
		t.Fatalf("the readiness probe ran the handler of %s:\n%s", fn.Spec.LogicalName, fn.Output())
	}
}

// echoedBody is testfn's echo response body.
type echoedBody struct {
	Path     string `json:"path"`
	Method   string `json:"method"`
	Body     string `json:"body"`
	Greeting string `json:"greeting"`
	Trace    string `json:"trace"`
}

func TestFunctionExitingBeforeReadyFails(t *testing.T) {
	t.Parallel()

	name := "broken-" + randomHex(7)
	createKumoFunction(t, name)

	// No TESTFN_ROLE: testfn exits with status 3 at once.
	fn, err := StartFunction(FunctionSpec{LogicalName: "broken", Name: name, Zip: testFnZip}, directHost())
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = fn.Stop() })

	err = fn.WaitReady(t.Context(), sharedClients().Lambda, DefaultReadyTimeout)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("WaitReady: %v; want the process's exit status 3", err)
	}

	waitOutput(t, fn, "unknown TESTFN_ROLE")
}

func TestStartFunctionRejectsForeignArchitecture(t *testing.T) {
	t.Parallel()

	bin := unzipBootstrap(t, testFnZip)

	// Rewrite e_machine (offset 18) to the other architecture.
	other := map[string]uint16{"amd64": 183 /* EM_AARCH64 */, "arm64": 62 /* EM_X86_64 */}[runtime.GOARCH]
	binary.LittleEndian.PutUint16(bin[18:20], other)

	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, bin, 0o600); err != nil {
		t.Fatal(err)
	}

	foreign, err := zipBootstrap(path)
	if err != nil {
		t.Fatal(err)
	}

	fn, err := StartFunction(FunctionSpec{LogicalName: "foreign", Name: "foreign", Zip: foreign}, directHost())
	if err == nil {
		_ = fn.Stop()
		t.Fatal("StartFunction ran a foreign-architecture bootstrap")
	}

	if want := "LAMBDA_ARCH=" + runtime.GOARCH; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func unzipBootstrap(t *testing.T, data []byte) []byte {
	t.Helper()

	dir := t.TempDir()

	path, err := extractZip(data, dir)
	if err != nil {
		t.Fatal(err)
	}

	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	return bin
}

func TestExtractZip(t *testing.T) {
	t.Parallel()

	build := func(files map[string]string) []byte {
		var buf bytes.Buffer

		zw := zip.NewWriter(&buf)
		for _, name := range sortedKeys(files) {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}

			if _, err := w.Write([]byte(files[name])); err != nil {
				t.Fatal(err)
			}
		}

		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}

		return buf.Bytes()
	}

	t.Run("paths outside the task root are skipped", func(t *testing.T) {
		t.Parallel()

		parent := t.TempDir()
		dir := filepath.Join(parent, "root")

		if _, err := extractZip(build(map[string]string{
			"bootstrap": "x", "../escaped": "x", "conf/app.json": "{}",
		}), dir); err != nil {
			t.Fatal(err)
		}

		if _, err := os.Stat(filepath.Join(parent, "escaped")); !os.IsNotExist(err) {
			t.Fatalf("../escaped was written outside the task root (%v)", err)
		}

		if _, err := os.Stat(filepath.Join(dir, "conf", "app.json")); err != nil {
			t.Fatalf("nested file not extracted: %v", err)
		}

		info, err := os.Stat(filepath.Join(dir, "bootstrap"))
		if err != nil || info.Mode()&0o100 == 0 {
			t.Fatalf("bootstrap not executable: %v %v", info, err)
		}
	})

	t.Run("a package without bootstrap is refused", func(t *testing.T) {
		t.Parallel()

		_, err := extractZip(build(map[string]string{"main": "x"}), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "no bootstrap") {
			t.Fatalf("error %v, want one about the missing bootstrap", err)
		}
	})
}
