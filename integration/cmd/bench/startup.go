package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// initRuns is how often the processor's bootstrap is started to time its
// package initialisation.
const initRuns = 30

// initGroup is a set of packages whose initialisation the report adds up.
type initGroup struct {
	Name     string
	prefixes []string
	// Xray marks packages only aws-xray-sdk-go links.
	Xray bool
}

// initGroups, first match wins.
var initGroups = []initGroup{
	{Name: "aws-sdk-go (v1): its endpoints table, sessions", prefixes: []string{"github.com/aws/aws-sdk-go/"}, Xray: true},
	{Name: "gRPC and protobuf", prefixes: []string{"google.golang.org/"}, Xray: true},
	{Name: "aws-xray-sdk-go and its other dependencies (fasthttp, compression)",
		prefixes: []string{"github.com/aws/aws-xray-sdk-go/", "github.com/valyala/", "github.com/klauspost/", "github.com/andybalholm/"}, Xray: true},
	{Name: "aws-sdk-go-v2 clients the processor calls (DynamoDB, SNS, Connect)",
		prefixes: []string{"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/sns", "github.com/aws/aws-sdk-go-v2/service/connect"}},
	{Name: "aws-sdk-go-v2 credential clients `config` links (STS, SSO, SSO OIDC, sign-in)", prefixes: []string{"github.com/aws/aws-sdk-go-v2/service/"}},
	{Name: "aws-sdk-go-v2 and smithy-go core", prefixes: []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}},
	{Name: "a2p-alerts", prefixes: []string{"github.com/a2p-alerts/"}},
	{Name: "Go standard library, golang.org/x and the rest", prefixes: []string{""}},
}

// initBreakdown is the processor's package initialisation as the Go
// runtime times it (GODEBUG=inittrace=1), medians over Runs starts.
type initBreakdown struct {
	Runs int
	// GOGC is the value the processor ran with, as deployed.
	GOGC string
	// End is when the last package finished initialising, from the
	// runtime's start; Total the sum of every package's init clock.
	End, Total time.Duration
	// Clock is each initGroups entry's init clock, in its order.
	Clock []time.Duration
}

// startup starts the processor's deployed bootstrap initRuns times with
// GODEBUG=inittrace=1 and the deployed GOGC, and nothing else: without
// its tables main stops at once, after package initialisation.
func startup(ctx context.Context, b *bench) error {
	f, err := b.sb.Function(names.OutputProcessorFunction)
	if err != nil {
		return err
	}

	b.step("package initialisation of the processor, %d starts", initRuns)

	bootstrap := filepath.Join(f.Env["LAMBDA_TASK_ROOT"], "bootstrap")
	br := &initBreakdown{Runs: initRuns, GOGC: f.Spec.Environment[names.EnvGoGC]}
	clocks := make([][]time.Duration, len(initGroups))

	var ends, totals []time.Duration

	for range initRuns {
		cmd := exec.CommandContext(ctx, bootstrap)
		cmd.Env = []string{"GODEBUG=inittrace=1"}

		if br.GOGC != "" {
			cmd.Env = append(cmd.Env, names.EnvGoGC+"="+br.GOGC)
		}

		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run() // exits 1: no tables

		end, byGroup := parseInittrace(stderr.String())
		if end == 0 {
			return fmt.Errorf("the processor printed no inittrace:\n%s", stderr.String())
		}

		ends = append(ends, end)

		var total time.Duration
		for i, d := range byGroup {
			clocks[i] = append(clocks[i], d)
			total += d
		}

		totals = append(totals, total)
	}

	br.End, br.Total = percentile(ends, 50), percentile(totals, 50)
	for _, c := range clocks {
		br.Clock = append(br.Clock, percentile(c, 50))
	}

	b.report.Init = br

	return nil
}

// parseInittrace reads the runtime's inittrace lines ("init <pkg> @<t>
// ms, <d> ms clock, ..."): when the last package finished, and each
// group's init clock.
func parseInittrace(out string) (time.Duration, []time.Duration) {
	byGroup := make([]time.Duration, len(initGroups))

	var end time.Duration

	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != "init" || !strings.HasPrefix(f[2], "@") {
			continue
		}

		at, err1 := strconv.ParseFloat(strings.TrimPrefix(f[2], "@"), 64)
		clock, err2 := strconv.ParseFloat(f[4], 64)

		if err1 != nil || err2 != nil {
			continue
		}

		d := time.Duration(clock * float64(time.Millisecond))
		end = max(end, time.Duration(at*float64(time.Millisecond))+d)
		byGroup[groupOfPackage(f[1])] += d
	}

	return end, byGroup
}

// groupOfPackage is the index of the initGroups entry pkg belongs to.
func groupOfPackage(pkg string) int {
	return slices.IndexFunc(initGroups, func(g initGroup) bool {
		return slices.ContainsFunc(g.prefixes, func(p string) bool { return strings.HasPrefix(pkg, p) })
	})
}

// xray is the init clock of the packages only aws-xray-sdk-go links.
func (br *initBreakdown) xray() time.Duration {
	var d time.Duration

	for i, g := range initGroups {
		if g.Xray && i < len(br.Clock) {
			d += br.Clock[i]
		}
	}

	return d
}

// reason says how much of a cold start package initialisation takes, and
// how much of that the X-Ray SDK's dependencies.
func (br *initBreakdown) reason() string {
	if br == nil {
		return "package initialisation was not measured"
	}

	return fmt.Sprintf("package initialisation alone ends p50 %s after the process starts (section 3); %s of it is spent in packages only aws-xray-sdk-go links (aws-sdk-go v1, gRPC, protobuf), a required dependency",
		ms(br.End), ms(br.xray()))
}

func (r *report) renderInit(b *strings.Builder) {
	br := r.Init
	if br == nil {
		return
	}

	fmt.Fprintf(b, "### Package initialisation of the processor\n\n")
	fmt.Fprintf(b, "The deployed bootstrap started %d times with `GODEBUG=inittrace=1` and the deployed `GOGC=%s` (and nothing else, so main stops at once): the last package finishes initialising p50 %s after the runtime starts; the packages' own init clock adds up to %s. By who links them (p50 of each group's sum):\n\n",
		br.Runs, br.GOGC, ms(br.End), ms(br.Total))
	fmt.Fprintf(b, "| Packages | Init clock (p50) | Linked only by aws-xray-sdk-go? |\n|---|---:|---|\n")

	for i, g := range initGroups {
		only := "no"
		if g.Xray {
			only = "yes"
		}

		fmt.Fprintf(b, "| %s | %s | %s |\n", g.Name, ms(br.Clock[i]), only)
	}

	fmt.Fprintf(b, "\n")
}
