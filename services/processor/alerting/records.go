package alerting

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// DefaultDeliveryTimeout is the longest a delivering invocation runs when
// the Config names none: the processor's and the worker's function
// timeout.
const DefaultDeliveryTimeout = 25 * time.Second

// staleMargin is added to the delivery timeout before an attempt still
// sending counts as abandoned: room for clock differences between hosts,
// as the idempotency lock's margin.
const staleMargin = 5 * time.Second

// ErrSettled reports an alert that has nothing left to deliver: it is
// sent or failed (or a later status), or its delivery ended with an
// unknown outcome that does not fall back. A queue message for it is done.
var ErrSettled = errors.New("the alert's delivery is settled")

// ErrInProgress reports an alert with an attempt still sending, whose
// invocation may still be under way: whoever holds it finishes it.
var ErrInProgress = errors.New("an attempt of the alert may still be under way")

// RecordsConfig is what Records are built from.
type RecordsConfig struct {
	// Store keeps the alert records. Required.
	Store Store
	// Metrics receives a summary per alert given up. Optional.
	Metrics Metrics
	// Now is the clock. Optional; time.Now.
	Now func() time.Time
	// DeliveryTimeout is Config.DeliveryTimeout. Optional;
	// DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration
}

// Records reads alert records and makes the changes that deliver
// nothing: reading an instance and giving an alert up. The dead-letter
// handler needs no more; Core embeds it. It is safe for concurrent use.
type Records struct {
	cfg RecordsConfig
}

// NewRecords builds Records.
func NewRecords(cfg RecordsConfig) (*Records, error) {
	if cfg.Store == nil {
		return nil, errors.New("alerting: missing Store")
	}
	if cfg.DeliveryTimeout < 0 {
		return nil, fmt.Errorf("alerting: DeliveryTimeout must not be negative, got %s", cfg.DeliveryTimeout)
	}
	cfg.Metrics = cmp.Or[Metrics](cfg.Metrics, noMetrics{})
	cfg.DeliveryTimeout = cmp.Or(cfg.DeliveryTimeout, DefaultDeliveryTimeout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Records{cfg: cfg}, nil
}

// Latest returns the newest instance of key with its attempts and events,
// or an error wrapping ErrNotFound.
func (r *Records) Latest(ctx context.Context, key alert.Key) (*Alert, error) {
	a, err := r.cfg.Store.Latest(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", key, err)
	}
	return a, nil
}

// Load returns instance of key with its attempts and events, or an error
// wrapping ErrNotFound.
func (r *Records) Load(ctx context.Context, key alert.Key, instance string) (*Alert, error) {
	a, err := r.cfg.Store.Load(ctx, key, instance)
	if err != nil {
		return nil, fmt.Errorf("read alert %s/%s: %w", key, instance, err)
	}
	return a, nil
}

// GiveUp records that the delivery of a (as read) is given up for reason:
// an attempt still sending is marked unknown (its provider may have been
// asked), then the alert failed, its failed event carrying the reason, in
// one write. Metrics count it as failed (retry for ReasonNotQueued: its
// caller was told to retry). It returns ErrSettled when a is not accepted,
// ErrInProgress when an attempt may still be under way, and an error
// wrapping ErrConflict when the record changed since it was read.
func (r *Records) GiveUp(ctx context.Context, a *Alert, reason delivery.Reason) error {
	if a.Status != delivery.AlertAccepted {
		return fmt.Errorf("give up alert %s/%s (%s): %w", a.Key, a.Instance, a.Status, ErrSettled)
	}
	now := r.cfg.Now()
	ch := newChange(a, delivery.System, now)
	if last := lastAttempt(a.Attempts); last != nil && last.Status == delivery.AttemptSending {
		if !r.abandoned(*last, now) {
			return fmt.Errorf("give up alert %s/%s: attempt %d: %w", a.Key, a.Instance, last.Number, ErrInProgress)
		}
		ch.attemptTo(last.Number, delivery.AttemptUnknown, interrupted)
	}
	ch.alertTo(delivery.AlertFailed).because(reason)
	if err := ch.commit(ctx, r.cfg.Store); err != nil {
		return err
	}
	outcome := OutcomeFailed
	if reason == delivery.ReasonNotQueued {
		outcome = OutcomeRetry
	}
	r.cfg.Metrics.Finished(Summary{Priority: a.Priority, Outcome: outcome})
	return nil
}

// abandoned reports whether attempt at, still sending, started long
// enough ago that its invocation is over: it can no longer finish it.
func (r *Records) abandoned(at Attempt, now time.Time) bool {
	return now.After(at.StartedAt.Add(r.cfg.DeliveryTimeout + staleMargin))
}

// interruptedCode is the failure code of an attempt whose invocation ended
// while it was sending (a crash or a timeout): nobody knows whether its
// provider delivered it.
const interruptedCode = "interrupted"

// interrupted sets the failure of an attempt whose invocation ended while
// it was sending.
func interrupted(at *Attempt) { at.Failure, at.FailureCode = delivery.Ambiguous, interruptedCode }

// lastAttempt returns the last of attempts, nil when there is none.
func lastAttempt(attempts []Attempt) *Attempt {
	if len(attempts) == 0 {
		return nil
	}
	return &attempts[len(attempts)-1]
}
