package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goBenchLine is one result line of `go test -bench -benchmem`.
type goBenchLine struct {
	// Name is the benchmark's name without the -GOMAXPROCS suffix.
	Name        string
	Iterations  int
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
}

// goBenchOutput is what one `go test -bench` run printed.
type goBenchOutput struct {
	Lines []goBenchLine
	// Env holds the header lines: goos, goarch, pkg, cpu.
	Env map[string]string
}

// benchLineRE matches "BenchmarkX/sub-2   	 123	 456.7 ns/op	 89 B/op	 3 allocs/op"
// (the -N suffix and the memory columns are optional).
var benchLineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op(.*)$`)

// parseGoBench parses the output of `go test -bench . -benchmem`. Lines
// that are not results or header lines (PASS, ok, logs) are skipped.
func parseGoBench(out string) (goBenchOutput, error) {
	res := goBenchOutput{Env: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(out))

	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())

		if k, v, ok := strings.Cut(line, ": "); ok && slices.Contains([]string{"goos", "goarch", "pkg", "cpu"}, k) {
			res.Env[k] = strings.TrimSpace(v)

			continue
		}

		m := benchLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}

		iters, err := strconv.Atoi(m[2])
		if err != nil {
			return res, fmt.Errorf("benchmark line %q: %w", line, err)
		}

		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return res, fmt.Errorf("benchmark line %q: %w", line, err)
		}

		bl := goBenchLine{Name: m[1], Iterations: iters, NsPerOp: ns}

		fields := strings.Fields(m[4])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return res, fmt.Errorf("benchmark line %q: %w", line, err)
			}

			switch fields[i+1] {
			case "B/op":
				bl.BytesPerOp = v
			case "allocs/op":
				bl.AllocsPerOp = v
			}
		}

		res.Lines = append(res.Lines, bl)
	}

	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read benchmark output: %w", err)
	}

	return res, nil
}

// goBenchResult aggregates the runs (-count) of one benchmark.
type goBenchResult struct {
	// Package is the package's import path.
	Package string
	Name    string
	Runs    int
	// NsPerOp is the median; NsMin and NsMax bound the runs.
	NsPerOp, NsMin, NsMax float64
	// BytesPerOp and AllocsPerOp are medians.
	BytesPerOp, AllocsPerOp float64
}

// aggregateGoBench groups lines by name, in order of first appearance.
func aggregateGoBench(pkg string, lines []goBenchLine) []goBenchResult {
	var order []string

	byName := map[string][]goBenchLine{}

	for _, l := range lines {
		if _, seen := byName[l.Name]; !seen {
			order = append(order, l.Name)
		}

		byName[l.Name] = append(byName[l.Name], l)
	}

	out := make([]goBenchResult, 0, len(order))

	for _, name := range order {
		runs := byName[name]

		var ns, bytes, allocs []float64
		for _, r := range runs {
			ns = append(ns, r.NsPerOp)
			bytes = append(bytes, r.BytesPerOp)
			allocs = append(allocs, r.AllocsPerOp)
		}

		out = append(out, goBenchResult{
			Package:     pkg,
			Name:        name,
			Runs:        len(runs),
			NsPerOp:     medianFloat(ns),
			NsMin:       slices.Min(ns),
			NsMax:       slices.Max(ns),
			BytesPerOp:  medianFloat(bytes),
			AllocsPerOp: medianFloat(allocs),
		})
	}

	return out
}

// goBenchTarget is one package whose benchmarks the report includes.
type goBenchTarget struct {
	// Module is the module directory, relative to the repository root.
	Module string
	// Package is the package pattern inside it ("." or "./notify").
	Package string
}

// goBenchCommand is the command line run in each target, for the report.
func goBenchCommand(count int) string {
	return fmt.Sprintf("go test -run '^$' -bench . -benchmem -count %d", count)
}

// runGoBench runs the benchmarks of t and parses them.
func runGoBench(ctx context.Context, root string, t goBenchTarget, count int) ([]goBenchResult, map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(count), t.Package)
	cmd.Dir = filepath.Join(root, t.Module)
	cmd.Env = os.Environ()

	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, nil, fmt.Errorf("go test -bench in %s: %w\n%s", t.Module, err, out)
	}

	parsed, err := parseGoBench(string(out))
	if err != nil {
		return nil, nil, err
	}

	if len(parsed.Lines) == 0 {
		return nil, nil, fmt.Errorf("go test -bench in %s printed no benchmark results:\n%s", t.Module, out)
	}

	return aggregateGoBench(parsed.Env["pkg"], parsed.Lines), parsed.Env, nil
}
