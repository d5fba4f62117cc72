package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// goBenchTargets are the packages whose Go benchmarks the report shows:
// module directory and package pattern.
var goBenchTargets = [][2]string{
	{"services/processor", "./notify"},
	{"services/processor", "."},
	{"services/authorizer", "."},
}

// functionOrder is the order functions appear in the report.
var functionOrder = []string{names.FunctionAuthorizer, names.FunctionProcessor}

// functionOutputs names each function's stack output.
var functionOutputs = map[string]string{
	names.FunctionAuthorizer: names.OutputAuthorizerFunction,
	names.FunctionProcessor:  names.OutputProcessorFunction,
}

// goBenchmarks runs the Go benchmarks of every target into one file and
// summarises it with benchstat, built from tools/perf/go.mod as a Go tool.
func goBenchmarks(ctx context.Context, b *bench) error {
	var raw bytes.Buffer

	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(b.report.Settings.BenchCount)}
	b.report.GoBenchCommand = "go " + strings.Join(args, " ")

	for _, t := range goBenchTargets {
		b.step("Go benchmarks in %s (%s)", t[0], t[1])

		cmd := exec.CommandContext(ctx, "go", append(args, t[1])...)
		cmd.Dir = filepath.Join(b.root, t[0])

		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go test -bench in %s: %w\n%s", t[0], err, out)
		}

		raw.Write(out)
	}

	file := filepath.Join(b.root, "build", "bench", "gobench.txt")
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return fmt.Errorf("bench output: %w", err)
	}

	if err := os.WriteFile(file, raw.Bytes(), 0o600); err != nil {
		return fmt.Errorf("bench output: %w", err)
	}

	cmd := exec.CommandContext(ctx, "go", "tool", "benchstat", "median="+file)
	cmd.Dir = filepath.Join(b.root, "tools", "perf")
	cmd.Env = append(os.Environ(), "GOWORK=off")

	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("benchstat: %w\n%s", err, out)
	}

	b.report.GoBench = string(out)
	b.report.Allocs = benchAllocs(raw.String())

	return nil
}

// packages builds the arm64 zips, as `make build` does for a deploy, and
// reads their sizes.
func packages(ctx context.Context, b *bench) error {
	b.step("building the arm64 deployment zips")

	dir := filepath.Join(b.root, "build", "bench", "arm64")
	cmd := exec.CommandContext(ctx, "go", "run", "./scripts/lambdazip", "-out", dir)
	cmd.Dir = b.root
	cmd.Env = append(os.Environ(), "LAMBDA_ARCH=arm64")

	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the arm64 zips: %w\n%s", err, out)
	}

	b.report.Zips = map[string][2]int64{}

	for _, fn := range functionOrder {
		arm64, err := os.Stat(filepath.Join(dir, fn+".zip"))
		if err != nil {
			return fmt.Errorf("zip: %w", err)
		}

		// The sandbox builds the host's zips when it starts; they are read
		// in the next step.
		b.report.Zips[fn] = [2]int64{arm64.Size(), 0}
	}

	return nil
}

// hostZips reads the sizes of the zips the sandbox built for this machine.
func hostZips(b *bench) error {
	for _, fn := range functionOrder {
		host, err := os.Stat(filepath.Join(b.root, filepath.FromSlash(sandbox.ArtifactDir), fn+".zip"))
		if err != nil {
			return fmt.Errorf("zip: %w", err)
		}

		b.report.Zips[fn] = [2]int64{b.report.Zips[fn][0], host.Size()}
	}

	return nil
}
