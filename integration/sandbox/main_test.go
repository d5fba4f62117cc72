package sandbox

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Shared by the tests: one emulator, the kumo binary and the test
// function's deployment package, all prepared once by TestMain.
var (
	sharedEmulator *Emulator
	kumoBin        string
	repoRoot       string
	testFnZip      []byte
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()

		return
	}

	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var err error

	if repoRoot, err = FindRepoRoot("."); err != nil {
		return setupFailed(err)
	}

	start := time.Now()

	if kumoBin, err = LocateKumo(ctx, repoRoot); err != nil {
		return setupFailed(err)
	}

	if testFnZip, err = buildTestFunction(ctx); err != nil {
		return setupFailed(err)
	}

	fmt.Printf("sandbox tests: kumo and test function ready in %s\n", time.Since(start).Round(time.Millisecond))

	if sharedEmulator, err = StartEmulator(ctx, EmulatorOptions{Bin: kumoBin}); err != nil {
		return setupFailed(err)
	}

	code := m.Run()

	if err := sharedEmulator.Stop(); err != nil {
		return setupFailed(err)
	}

	if code != 0 {
		fmt.Printf("===== shared kumo output =====\n%s\n", sharedEmulator.Output())
	}

	return code
}

// setupFailed reports a failure to prepare the tests. The tests never skip:
// without kumo nothing here is proven.
func setupFailed(err error) int {
	fmt.Fprintln(os.Stderr, "sandbox tests: setup failed:", err)

	return 1
}

// buildTestFunction builds testdata/testfn for this machine and zips it as
// a Lambda deployment package.
func buildTestFunction(ctx context.Context) ([]byte, error) {
	dir, err := os.MkdirTemp("", "a2p-testfn-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	bin := filepath.Join(dir, "bootstrap")

	cmd := exec.CommandContext(ctx, goTool(), "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/testfn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)

	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build test function: %w\n%s", err, out)
	}

	return zipBootstrap(bin)
}

// zipBootstrap packs an executable as a deployment package's bootstrap.
func zipBootstrap(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer

	zw := zip.NewWriter(&buf)

	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)

	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}

	if _, err := w.Write(data); err != nil {
		return nil, err
	}

	if err := zw.Close(); err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}

// writeTestZip writes the test function's package into a temporary
// directory and returns its path.
func writeTestZip(tb testing.TB) string {
	tb.Helper()

	path := filepath.Join(tb.TempDir(), "testfn.zip")
	if err := os.WriteFile(path, testFnZip, 0o600); err != nil {
		tb.Fatal(err)
	}

	return path
}

// sharedClients returns SDK clients for the shared emulator.
func sharedClients() *Clients {
	return NewClients(sharedEmulator.Endpoint, defaultRegion)
}

// waitGone waits until none of pids is alive, failing after a deadline.
func waitGone(tb testing.TB, pids ...int) {
	tb.Helper()

	deadline := time.Now().Add(10 * time.Second)

	for {
		var alive []int

		for _, pid := range pids {
			if ProcessAlive(pid) {
				alive = append(alive, pid)
			}

			members, err := GroupMembers(pid)
			if err != nil {
				tb.Fatal(err)
			}

			alive = append(alive, members...)
		}

		if len(alive) == 0 {
			return
		}

		if time.Now().After(deadline) {
			tb.Fatalf("processes still alive 10s later: %v", alive)
		}

		time.Sleep(10 * time.Millisecond) // bounded by the deadline above
	}
}

// contextWithTimeout bounds a wait inside a test.
func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()

	return context.WithTimeout(t.Context(), d)
}
