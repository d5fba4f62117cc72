// Package notify is the processor's domain core: it turns one POST
// /notification proxy event into at most one delivery. It validates the
// alert, takes an idempotency lock on its message_id, looks up the contact,
// delivers by the contact's preferred channel and records the answer so a
// retry replays it instead of sending again.
//
// The package talks to no AWS service itself. What it needs from the
// outside is declared here as small interfaces (ContactStore,
// IdempotencyStore, Publisher, Caller, Tracer); the sibling packages dynamo,
// sns, connect and xray implement them.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// ContactStore reads contacts.
type ContactStore interface {
	// GetContact returns the contact with id. It returns an error wrapping
	// ErrContactNotFound when there is none.
	GetContact(ctx context.Context, id string) (contact.Contact, error)
}

// ErrContactNotFound reports that no contact has the id asked for.
var ErrContactNotFound = errors.New("contact not found")

// RecordStatus is the state of an idempotency record.
type RecordStatus string

// The states of an idempotency record, as stored in names.AttrStatus.
const (
	// StatusInProgress: an invocation holds the lock and is delivering.
	StatusInProgress RecordStatus = "INPROGRESS"
	// StatusCompleted: the alert was delivered; the record holds the answer.
	StatusCompleted RecordStatus = "COMPLETED"
)

// Lock is the in-progress record an invocation writes before it delivers.
type Lock struct {
	// Key is the alert's message_id.
	Key string
	// PayloadHash is alert.Alert.Hash of the request.
	PayloadHash string
	// Token identifies this invocation; only its holder may complete or
	// release the lock.
	Token string
	// Now is the time the lock is taken; records that expired before it,
	// and in-progress locks that lapsed before it, may be taken over.
	Now time.Time
	// LockExpiry is when the lock lapses if the holder never completes or
	// releases it: the invocation's deadline.
	LockExpiry time.Time
	// Expiration is when the record may be deleted (the table's TTL).
	Expiration time.Time
}

// StoredResponse is the answer recorded with a completed alert, replayed to
// retries.
type StoredResponse struct {
	// Status is the HTTP status code.
	Status int
	// Body is the JSON body.
	Body string
}

// Record is an idempotency record as read back from the store.
type Record struct {
	// Key is the message_id.
	Key string
	// Status is in progress or completed.
	Status RecordStatus
	// PayloadHash is the hash of the alert that wrote the record.
	PayloadHash string
	// LockToken identifies the invocation that wrote the record.
	LockToken string
	// LockExpiry is when an in-progress lock lapses.
	LockExpiry time.Time
	// Expiration is the record's TTL.
	Expiration time.Time
	// Response is the stored answer of a completed record.
	Response StoredResponse
}

// IdempotencyStore keeps one record per message_id.
type IdempotencyStore interface {
	// Acquire writes lock as an in-progress record unless a live record
	// holds the key. When one does, it returns that record and an error
	// wrapping ErrRecordExists.
	Acquire(ctx context.Context, lock Lock) (Record, error)
	// Complete marks the record completed with resp and a new expiration,
	// provided token still holds the lock; otherwise it returns an error
	// wrapping ErrLockLost.
	Complete(ctx context.Context, key, token string, resp StoredResponse, expiration time.Time) error
	// Release deletes the in-progress record so that a retry can deliver,
	// provided token still holds the lock; otherwise it returns an error
	// wrapping ErrLockLost.
	Release(ctx context.Context, key, token string) error
}

// ErrRecordExists reports that a live idempotency record holds the key.
var ErrRecordExists = errors.New("idempotency record exists")

// ErrLockLost reports that the lock is no longer held by the given token:
// it lapsed and another invocation took it, or the record is gone.
var ErrLockLost = errors.New("idempotency lock no longer held")

// Publisher publishes a message to an SNS topic, which delivers it as SMS
// or email to the topic's subscription.
type Publisher interface {
	// Publish sends message (with subject, when not empty) to the topic
	// and returns the provider's message id.
	Publish(ctx context.Context, topicARN, subject, message string) (string, error)
}

// CallRequest is one outbound voice call.
type CallRequest struct {
	// Destination is the E.164 number to call.
	Destination string
	// MessageSSML is the text to speak, already escaped for SSML.
	MessageSSML string
	// ClientToken makes the call idempotent at the provider.
	ClientToken string
}

// Caller places outbound voice calls.
type Caller interface {
	// Call places the call and returns the provider's contact id.
	Call(ctx context.Context, req CallRequest) (string, error)
}

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
