// Package notify is the processor's domain core: it turns one POST
// /notification proxy event into at most one delivery. It validates the
// alert, takes an idempotency lock on its key (the API client and the
// message_id), looks up the contact, delivers by the contact's preferred
// channel within the invocation's time budget, and records the answer so a
// retry replays it instead of sending again.
//
// The package talks to no AWS service itself. What it needs from the
// outside is declared here as small interfaces (ContactStore,
// IdempotencyStore, Publisher, Caller, Tracer); the sibling packages dynamo,
// sns, connect and xray implement them. Publisher and Caller classify their
// failures as delivery.Error; this package answers by class.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
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
	// StatusCompleted: the request has its final answer (sent,
	// undeliverable or delivery_unknown), which the record holds.
	StatusCompleted RecordStatus = "COMPLETED"
)

// Lock is the in-progress record an invocation writes before it delivers.
type Lock struct {
	// Key is the alert's key: its API client and message_id.
	Key alert.Key
	// PayloadHash is alert.Alert.Hash of the request.
	PayloadHash string
	// Owner identifies the invocation holding the lock (a random value);
	// only the owner may complete or release it.
	Owner string
	// Now is the time the lock is taken; records that expired before it,
	// and in-progress locks that lapsed before it, may be taken over.
	Now time.Time
	// LockExpiry is when the lock lapses if the owner never completes or
	// releases it: the invocation's deadline plus Budget.LockMargin, so it
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
	// Channel is the channel the delivery used or tried.
	Channel contact.Channel
	// Failure is the class of a failed delivery (delivery.Permanent or
	// delivery.Ambiguous), "" when the alert was sent.
	Failure delivery.Class
	// Expiration is the record's new TTL.
	Expiration time.Time
}

// Record is an idempotency record as read back from the store.
type Record struct {
	// Key is the alert's key.
	Key alert.Key
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

// Publisher publishes alerts to SNS topics, whose subscriptions deliver
// them as SMS or email. Errors wrap a *delivery.Error saying what SNS
// may have done; an unclassified error counts as delivery.Ambiguous.
type Publisher interface {
	// PublishSMS sends text to an SMS topic as a transactional SMS and
	// returns the provider's message id.
	PublishSMS(ctx context.Context, topicARN, text string) (string, error)
	// PublishEmail sends an email with subject and body to an email topic
	// and returns the provider's message id.
	PublishEmail(ctx context.Context, topicARN, subject, body string) (string, error)
}

// CallRequest is one outbound voice call.
type CallRequest struct {
	// Destination is the E.164 number to call.
	Destination string
	// MessageSSML is the text to speak, already escaped for SSML.
	MessageSSML string
	// ClientToken is the Connect call client token
	// (delivery.CallClientToken): the provider starts at most one call per
	// token.
	ClientToken string
}

// Caller places outbound voice calls. Errors wrap a *delivery.Error, as
// Publisher's do.
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
