package notify

import (
	"context"
	"time"
)

// DefaultLockMargin is how long the idempotency lock outlives the
// invocation's deadline: room for clock differences between Lambda hosts
// and DynamoDB, so that a lapsed lock never lets a retry send while the
// first request may still be sending.
const DefaultLockMargin = 5 * time.Second

// deadline is the invocation's deadline, or now plus the lock timeout when
// the context has none (outside Lambda).
func (h *Handler) deadline(ctx context.Context, now time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return now.Add(h.lockTimeout)
}

// bookkeeping returns a context for the writes after a send: not cancelled
// with the request's (the writes must run even when it is), bounded by the
// budget's reserve.
func (h *Handler) bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), h.alerts.Budget().Reserve)
}
