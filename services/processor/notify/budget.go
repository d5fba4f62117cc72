package notify

import (
	"context"
	"fmt"
	"time"
)

// Budget divides an invocation's time between sending and the bookkeeping
// that must follow a send, so that a send never starts when its outcome
// could not be recorded, and a lapsed lock never lets a retry send while
// the first send may still be running.
type Budget struct {
	// Reserve is kept after the send for the writes that record its
	// outcome (or release the lock); it also bounds those writes.
	Reserve time.Duration
	// Attempt is one provider attempt's timeout (the adapters' HTTP
	// clients apply it). A send starts only while at least Attempt remains
	// before the Reserve, so its first attempt is never cut short.
	Attempt time.Duration
	// LockMargin is how long the lock outlives the invocation's deadline:
	// room for clock differences between Lambda hosts and DynamoDB.
	LockMargin time.Duration
}

// DefaultBudget suits the processor's 10 s function timeout: a send may
// start up to 5 s into the invocation and has until 8 s; the lock lapses
// 5 s after the deadline.
var DefaultBudget = Budget{Reserve: 2 * time.Second, Attempt: 3 * time.Second, LockMargin: 5 * time.Second}

// validate checks that every part of the budget is positive.
func (b Budget) validate() error {
	if b.Reserve <= 0 || b.Attempt <= 0 || b.LockMargin <= 0 {
		return fmt.Errorf("notify: every part of the Budget must be positive, got %+v", b)
	}
	return nil
}

// deadline is the invocation's deadline, or now plus the lock timeout when
// the context has none (outside Lambda).
func (h *Handler) deadline(ctx context.Context, now time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return now.Add(h.lockTimeout)
}

// sendWindow returns how long a send may take, measured on the handler's
// clock: the time left before the reserve (the send's context ends at
// deadline minus the reserve). ok is false when less than one attempt's
// timeout is left.
func (h *Handler) sendWindow(deadline time.Time) (window time.Duration, ok bool) {
	window = deadline.Sub(h.now()) - h.budget.Reserve
	return window, window >= h.budget.Attempt
}

// bookkeeping returns a context for the writes after a send: not cancelled
// with the request's (the writes must run even when it is), bounded by the
// reserve.
func (h *Handler) bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), h.budget.Reserve)
}
