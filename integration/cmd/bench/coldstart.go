package main

import (
	"context"
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/local"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
)

// coldStart is one start of a function's bootstrap, timed from the moment
// exec succeeded.
type coldStart struct {
	// Init: exec to the process's first poll of the Runtime API (the
	// readiness probe answered), comparable to Lambda's Init Duration.
	Init time.Duration
	// First: the first real invocation's round trip through the
	// emulator's Invoke API.
	First time.Duration
	// Total: exec to the first real invocation completed.
	Total time.Duration
	// Warm: the second invocation's round trip, for comparison.
	Warm time.Duration
	// RSSKiB is VmHWM right after the first invocation.
	RSSKiB int64
}

// coldStartSpec says how to cold-start one function.
type coldStartSpec struct {
	// Logical is the function's key in Sandbox.Functions.
	Logical string
	// Payload returns the i-th invocation's event.
	Payload func(i int) ([]byte, outcome, error)
	// Check fails on a wrong answer.
	Check func([]byte) error
}

// restartHost rebuilds the FunctionHost a running function was started
// with, from its environment.
func restartHost(fn *sandbox.Function) sandbox.FunctionHost {
	env := fn.Env

	return sandbox.FunctionHost{
		Endpoint:        env["AWS_ENDPOINT_URL"],
		Region:          env["AWS_REGION"],
		RuntimeAPI:      func(string) string { return env["AWS_LAMBDA_RUNTIME_API"] },
		XRayDaemon:      env["AWS_XRAY_DAEMON_ADDRESS"],
		ConnectEndpoint: env["AWS_ENDPOINT_URL_CONNECT"],
	}
}

// measureColdStarts stops the function and starts a fresh process of the
// same deployment package n times, timing each start. The last process
// keeps running (in env.Functions, so Close stops it). It returns the
// outcomes of the real invocations, for the delivery accounting.
func measureColdStarts(ctx context.Context, env *local.Env, spec coldStartSpec, n int) ([]coldStart, []outcome, error) {
	var (
		runs     []coldStart
		outcomes []outcome
	)

	for i := range n {
		old := env.Functions[spec.Logical]
		host := restartHost(old)

		if err := old.Stop(); err != nil {
			return runs, outcomes, fmt.Errorf("stop %s: %w", spec.Logical, err)
		}

		fn, err := sandbox.StartFunction(old.Spec, host)
		if err != nil {
			return runs, outcomes, fmt.Errorf("start %s: %w", spec.Logical, err)
		}

		// StartFunction returns once exec has succeeded: the clock starts
		// with the new image, after the package was unzipped (Lambda's
		// init duration does not count that either).
		t0 := time.Now()
		env.Functions[spec.Logical] = fn

		if err := fn.WaitReady(ctx, env.Clients.Lambda, sandbox.DefaultReadyTimeout); err != nil {
			return runs, outcomes, fmt.Errorf("cold start %d of %s: %w\n%s", i+1, spec.Logical, err, fn.Output())
		}

		var cs coldStart
		cs.Init = time.Since(t0)

		for j, d := range []*time.Duration{&cs.First, &cs.Warm} {
			payload, o, err := spec.Payload(2*i + j)
			if err != nil {
				return runs, outcomes, err
			}

			answer, took, err := invoke(ctx, env.Clients.Lambda, fn, payload)
			if err == nil {
				err = spec.Check(answer)
			}

			if o.ID != "" {
				o.Latency = took
				if err == nil {
					o.Code = 200
				}

				outcomes = append(outcomes, o)
			}

			if err != nil {
				return runs, outcomes, fmt.Errorf("cold start %d of %s: %w\n%s", i+1, spec.Logical, err, fn.Output())
			}

			*d = took

			if j == 0 {
				cs.Total = time.Since(t0)

				if cs.RSSKiB, err = peakRSSKiB(fn.Pid()); err != nil {
					return runs, outcomes, err
				}
			}
		}

		runs = append(runs, cs)
	}

	return runs, outcomes, nil
}
