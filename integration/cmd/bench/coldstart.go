package main

import (
	"context"
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
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

// measureColdStarts stops the function and starts a fresh process of the
// same deployment package n times, timing each start. The last process
// keeps running (in env.Functions, so Close stops it). It returns the
// outcomes of the real invocations, for the delivery accounting.
func measureColdStarts(ctx context.Context, env *sandbox.Sandbox, spec coldStartSpec, n int) ([]coldStart, []outcome, error) {
	var (
		runs     []coldStart
		outcomes []outcome
	)

	for i := range n {
		fn := env.Functions[spec.Logical]
		if err := fn.Restart(); err != nil {
			return runs, outcomes, fmt.Errorf("restart %s: %w", spec.Logical, err)
		}

		// Restart returns once exec has succeeded: the clock starts with
		// the new image, after the package was unzipped (Lambda's init
		// duration does not count that either).
		t0 := time.Now()

		if err := fn.WaitReady(ctx, env.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
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
