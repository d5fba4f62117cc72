package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
)

// buildPackage is the repository's Lambda build command.
const buildPackage = "github.com/a2p-alerts/a2p-alerts/scripts/lambdazip"

// HostLambdaArch is this machine's Lambda architecture name ("x86_64" or
// "arm64"), for the stack's lambdaArch when its functions run here.
func HostLambdaArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}

	return "x86_64"
}

// BuildFunctions runs the repository's build (scripts/lambdazip) for this
// machine's architecture, writing <outDir>/<function>.zip, each holding a
// bootstrap the sandbox can run here. The build's output goes to output
// (nil discards it) and into the error when it fails.
func BuildFunctions(ctx context.Context, repoRoot, outDir string, output io.Writer) error {
	cmd := exec.CommandContext(ctx, goTool(), "run", buildPackage, "-out", outDir)
	cmd.Dir = repoRoot
	cmd.Env = append(cleanEnv(os.Environ(), "LAMBDA_ARCH="), "LAMBDA_ARCH="+runtime.GOARCH)

	var kept OutputBuffer
	if output != nil {
		kept.tee = output
	}

	cmd.Stdout = &kept
	cmd.Stderr = &kept

	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the functions for %s: %w\n%s", runtime.GOARCH, err, kept.String())
	}

	return nil
}
