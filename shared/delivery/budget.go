package delivery

import (
	"fmt"
	"time"
)

// Budget divides an invocation's time between the attempts and the
// writes that must follow them, so that an attempt never starts when its
// outcome could not be recorded, and a slow channel cannot use up the
// time the next one needs.
type Budget struct {
	// Reserve is kept after the last attempt for the writes that record
	// the outcome; it also bounds each of those writes.
	Reserve time.Duration
	// Attempt is one provider request's timeout (the adapters' HTTP
	// clients apply it). An attempt starts only while at least Attempt
	// remains before the Reserve, so its first request is never cut short.
	Attempt time.Duration
	// Channel bounds one channel's attempt, its SDK retries included, so
	// that the channels after it keep their time.
	Channel time.Duration
}

// DefaultBudget suits the processor's 25 s function timeout: three
// channels of at most 7 s each and the 2 s reserve fit in 23 s.
var DefaultBudget = Budget{Reserve: 2 * time.Second, Attempt: 3 * time.Second, Channel: 7 * time.Second}

// Validate checks that every part is positive and that a channel has at
// least one request's time.
func (b Budget) Validate() error {
	if b.Reserve <= 0 || b.Attempt <= 0 || b.Channel < b.Attempt {
		return fmt.Errorf("delivery: every part of the Budget must be positive and Channel at least Attempt, got %+v", b)
	}
	return nil
}

// Timeout is the function timeout that lets every one of channels
// attempts run to its Channel bound: channels * Channel + Reserve, plus a
// second for the writes between attempts.
func (b Budget) Timeout(channels int) time.Duration {
	return time.Duration(channels)*b.Channel + b.Reserve + time.Second
}
