package lambdahost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
)

// HostArch is this machine's Lambda architecture name ("x86_64" or
// "arm64"), the stack's lambdaArch when its functions run here.
func HostArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// Build runs the repository's build (scripts/lambdazip) for this machine's
// architecture, writing <outDir>/<function>.zip, each holding a bootstrap
// that can run here. The build's output goes to output (nil discards it)
// and into the error when it fails.
func Build(ctx context.Context, root, outDir string, output io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "run", "./scripts/lambdazip", "-out", outDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LAMBDA_ARCH="+runtime.GOARCH) // the last value of a name wins
	var kept bytes.Buffer
	var w io.Writer = &kept
	if output != nil {
		w = io.MultiWriter(&kept, output)
	}
	cmd.Stdout, cmd.Stderr = w, w // one writer: exec then serialises the writes
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the functions for %s: %w\n%s", runtime.GOARCH, err, kept.String())
	}
	return nil
}
