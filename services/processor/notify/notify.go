// Package notify is the processor's POST /notification handler: the HTTP
// side of accepting an alert. It decodes and validates the proxy event,
// takes an idempotency lock on the alert's key (the API client and the
// message_id) so that a retry replays the first answer instead of sending
// again, hands the alert to the alerting core (package alerting: accept,
// deliver with fallback, record every step), and turns the core's result
// into the answer, with a Location header naming the alert's record.
// With Prefer: respond-async (RFC 7240) and a queue configured, it
// records the alert accepted, queues it and answers 202 instead
// (async.go); the worker delivers it with the same core.
//
// The package talks to no AWS service itself. What it needs is declared
// here as small interfaces (Alerts, IdempotencyStore, Tracer); the core
// and the sibling packages dynamo and xray implement them.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// Alerts is the part of the alerting core the handler drives
// (*alerting.Core).
type Alerts interface {
	// NewInstance returns a fresh instance for an alert accepted now.
	NewInstance() string
	// Budget is the time budget deliveries run within.
	Budget() delivery.Budget
	// Accept looks the contact up and records the alert as accepted.
	Accept(ctx context.Context, in alerting.Intake) (*alerting.Accepted, error)
	// Deliver tries the alert's channels in order and records each step.
	Deliver(ctx context.Context, acc *alerting.Accepted, deadline time.Time) alerting.Result
	// GiveUp records an accepted alert as failed for reason (an alert the
	// asynchronous path could not queue).
	GiveUp(ctx context.Context, a *alerting.Alert, reason delivery.Reason) error
}

// Enqueuer puts an accepted alert on the event bus, from which the
// queue's worker delivers it (queue.Publisher). An error means it may not
// be queued.
type Enqueuer interface {
	// Enqueue queues the alert a, as recorded.
	Enqueue(ctx context.Context, a *alerting.Alert) error
}

var _ Alerts = (*alerting.Core)(nil)

// RecordStatus is the state of an idempotency record.
type RecordStatus string

// The states of an idempotency record, as stored in names.AttrStatus.
const (
	// StatusInProgress: an invocation holds the lock and is delivering.
	StatusInProgress RecordStatus = "INPROGRESS"
	// StatusCompleted: the request has its final answer (sent,
	// undeliverable_all_channels or delivery_unknown), which the record
	// holds.
	StatusCompleted RecordStatus = "COMPLETED"
)

// Lock is the in-progress record an invocation writes before it delivers.
type Lock struct {
	// Key is the alert's key: its API client and message_id.
	Key alert.Key
	// Instance is the alert instance the request records (the alerts
	// table keeps every instance of a key apart).
	Instance string
	// PayloadHash is alert.Alert.Hash of the request.
	PayloadHash string
	// Owner identifies the invocation holding the lock (a random value);
	// only the owner may complete or release it.
	Owner string
	// Now is the time the lock is taken; records that expired before it,
	// and in-progress locks that lapsed before it, may be taken over.
	Now time.Time
	// LockExpiry is when the lock lapses if the owner never completes or
	// releases it: the invocation's deadline plus Config.LockMargin, so it
	// never lapses while the owner may still be sending.
	LockExpiry time.Time
	// Expiration is when the record may be deleted (the table's TTL).
	Expiration time.Time
}

// StoredResponse is the answer recorded with a completed request, replayed
// to retries.
type StoredResponse struct {
	// Status is the HTTP status code.
	Status int
	// Body is the JSON body.
	Body string
}

// Outcome is what completing a record stores.
type Outcome struct {
	// Response is the answer to replay.
	Response StoredResponse
	// Channel is the channel that delivered, or the one whose outcome is
	// unknown, or the last one tried.
	Channel contact.Channel
	// Failure is delivery.Permanent when every channel failed,
	// delivery.Ambiguous when an outcome is unknown, "" when sent.
	Failure delivery.Class
	// Expiration is the record's new TTL.
	Expiration time.Time
}

// Record is an idempotency record as read back from the store.
type Record struct {
	// Key is the alert's key.
	Key alert.Key
	// Instance is the alert instance the record belongs to.
	Instance string
	// Status is in progress or completed.
	Status RecordStatus
	// PayloadHash is the hash of the alert that wrote the record.
	PayloadHash string
	// LockOwner identifies the invocation that wrote the record.
	LockOwner string
	// LockExpiry is when an in-progress lock lapses.
	LockExpiry time.Time
	// Expiration is the record's TTL.
	Expiration time.Time
	// Response is the stored answer of a completed record.
	Response StoredResponse
	// Channel is the channel of a completed record.
	Channel contact.Channel
	// Failure is the failure class of a completed record, "" when sent.
	Failure delivery.Class
}

// IdempotencyStore keeps one record per alert key.
type IdempotencyStore interface {
	// Acquire writes lock as an in-progress record unless a live record
	// holds the key. When one does, it returns that record and an error
	// wrapping ErrRecordExists; the record may be the caller's own lock,
	// when a retried write finds what its first attempt wrote.
	Acquire(ctx context.Context, lock Lock) (Record, error)
	// Complete marks lock's record completed with out, provided lock's
	// owner still holds it; otherwise it returns an error wrapping
	// ErrLockLost.
	Complete(ctx context.Context, lock Lock, out Outcome) error
	// Release deletes lock's in-progress record so that a retry can
	// deliver, provided lock's owner still holds it; otherwise it returns
	// an error wrapping ErrLockLost.
	Release(ctx context.Context, lock Lock) error
}

// ErrRecordExists reports that a live idempotency record holds the key.
var ErrRecordExists = errors.New("idempotency record exists")

// ErrLockLost reports that the lock is no longer held by its owner: it
// lapsed and another invocation took it, or the record is gone.
var ErrLockLost = errors.New("idempotency lock no longer held")

// Tracer starts the trace span of one request.
type Tracer interface {
	// Start begins the request's span; calls made with the returned
	// context are traced inside it.
	Start(ctx context.Context) (context.Context, Span)
}

// Span is the trace span of one request.
type Span interface {
	// Annotate records an indexed key/value pair. Never pass PHI.
	Annotate(key, value string)
	// End closes the span with the response's HTTP status.
	End(status int)
}
