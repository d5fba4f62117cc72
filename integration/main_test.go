package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
)

// startTimeout bounds building the functions and starting the sandbox
// (a cold build of the functions takes a minute or two).
const startTimeout = 5 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run sets up the one target of the package, runs the tests and tears the
// target down. It returns the process's exit code.
func run(m *testing.M) int {
	if os.Getenv(envStackOutputs) != "" {
		return runExternal(m)
	}

	return runEmbedded(m)
}

// runExternal runs the tests against the deployment the environment names.
func runExternal(m *testing.M) int {
	spec, err := parseExternal(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)

		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	var cleanup func() error

	if tgt, cleanup, err = externalTarget(ctx, spec); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)

		return 1
	}

	fmt.Printf("integration: %s (tap: %v)\n", tgt.name, tgt.tap != nil)

	code := m.Run()

	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: removing the tap:", err)

		code = 1
	}

	return code
}

// runEmbedded builds the functions, starts one sandbox for every test,
// prints its logs when a test failed, closes it and checks that no child
// process outlived it.
func runEmbedded(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	start := time.Now()

	env, err := sandbox.Start(ctx, sandbox.Options{SNSFaults: true, Config: testEscalation})
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: starting the sandbox:", err)

		return 1
	}

	fmt.Printf("integration: functions built and sandbox started in %s; %s\n",
		time.Since(start).Round(time.Millisecond), env.Timings)

	if tgt, err = embeddedTarget(env); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)

		_ = env.Close()

		return 1
	}

	env.Connect.SetScript(callScripts.decide)

	code := m.Run()

	if code != 0 {
		fmt.Printf("===== sandbox logs (a test failed) =====\n%s\n", env.Logs())
	}

	pids := env.Pids()

	if err := env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: closing the sandbox:", err)

		code = 1
	}

	if left := leftovers(pids); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "integration: processes left after the sandbox closed: %s\n", strings.Join(left, "; "))

		code = 1
	}

	return code
}

// leftovers lists what is still alive after Close: any of the sandbox's
// processes or their process groups, and any other child of this process
// (zombies excluded).
func leftovers(pids []int) []string {
	var left []string

	for _, pid := range pids {
		if proc.Alive(pid) {
			left = append(left, fmt.Sprintf("pid %d", pid))
		}

		members, err := proc.GroupMembers(pid)
		if err != nil {
			left = append(left, fmt.Sprintf("group %d: %v", pid, err))
		} else if len(members) > 0 {
			left = append(left, fmt.Sprintf("group %d: %v", pid, members))
		}
	}

	children, err := proc.Children(os.Getpid())
	if err != nil {
		left = append(left, err.Error())
	}

	for _, c := range children {
		left = append(left, fmt.Sprintf("child %d", c))
	}

	return left
}
