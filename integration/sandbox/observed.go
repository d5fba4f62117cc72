package sandbox

import (
	"context"
	"fmt"
	"sync"
)

// observed is what one observer (the tap, the X-Ray collector, the Connect
// stub) has seen so far: items in arrival order and the errors met on the
// way. It is safe for concurrent use, and a caller can wait for items
// without polling: each addition wakes every waiter. The zero value is
// ready to use.
type observed[T any] struct {
	mu     sync.Mutex
	items  []T
	errs   []error
	notify chan struct{} // closed and replaced on each addition
}

// add appends item and wakes the waiters.
func (o *observed[T]) add(item T) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items = append(o.items, item)
	o.wake()
}

// addErr records err and wakes the waiters.
func (o *observed[T]) addErr(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
	o.wake()
}

// wake closes the current notify channel; o.mu is held.
func (o *observed[T]) wake() {
	if o.notify != nil {
		close(o.notify)
	}
	o.notify = make(chan struct{})
}

// all returns a copy of the items so far.
func (o *observed[T]) all() []T {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]T(nil), o.items...)
}

// errors returns a copy of the errors so far.
func (o *observed[T]) errors() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.errs...)
}

// waitFor waits until n items satisfy match (nil matches all) and returns
// them, or fails when ctx ends first, returning those seen. what names the
// observer and its items in the error ("tap", "deliveries").
func (o *observed[T]) waitFor(ctx context.Context, n int, match func(T) bool, what, items string) ([]T, error) {
	for {
		o.mu.Lock()
		var got []T
		for _, it := range o.items {
			if match == nil || match(it) {
				got = append(got, it)
			}
		}
		if o.notify == nil {
			o.notify = make(chan struct{})
		}
		notify := o.notify
		o.mu.Unlock()

		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%s: %d of %d %s: %w", what, len(got), n, items, ctx.Err())
		case <-notify:
		}
	}
}
