// Package observe watches what leaves the system for the outside world, as
// a test or `make dev` needs to see it: the SNS tap (every SMS and email
// publish) and the X-Ray collector (every trace segment). Each keeps what
// it saw in a List, which a test can wait on without polling.
package observe

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// List is what one observer has seen so far: items in arrival order and
// the errors met on the way. It is safe for concurrent use, and a caller
// can wait for items without polling: each addition wakes every waiter.
// The zero value is ready to use.
type List[T any] struct {
	mu     sync.Mutex
	items  []T
	errs   []error
	notify chan struct{} // closed and replaced on each addition
}

// Add appends item and wakes the waiters.
func (l *List[T]) Add(item T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, item)
	l.wake()
}

// AddErr records err and wakes the waiters.
func (l *List[T]) AddErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
	l.wake()
}

// wake closes the current notify channel; l.mu is held.
func (l *List[T]) wake() {
	if l.notify != nil {
		close(l.notify)
	}
	l.notify = make(chan struct{})
}

// All returns a copy of the items so far.
func (l *List[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// Errors returns a copy of the errors so far.
func (l *List[T]) Errors() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// WaitFor waits until n items satisfy match (nil matches all) and returns
// them, or fails when ctx ends first, returning those seen. what names the
// observer and its items in the error ("tap: deliveries").
func (l *List[T]) WaitFor(ctx context.Context, n int, match func(T) bool, what string) ([]T, error) {
	for {
		l.mu.Lock()
		var got []T
		for _, it := range l.items {
			if match == nil || match(it) {
				got = append(got, it)
			}
		}
		if l.notify == nil {
			l.notify = make(chan struct{})
		}
		notify := l.notify
		l.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%s: %d of %d: %w", what, len(got), n, ctx.Err())
		case <-notify:
		}
	}
}
