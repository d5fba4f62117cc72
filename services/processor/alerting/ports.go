package alerting

import (
	"context"
	"errors"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// ContactStore reads contacts.
type ContactStore interface {
	// GetContact returns the contact with id. It returns an error wrapping
	// ErrContactNotFound when there is none.
	GetContact(ctx context.Context, id string) (contact.Contact, error)
}

// ErrContactNotFound reports that no contact has the id asked for.
var ErrContactNotFound = errors.New("contact not found")

// Publisher publishes alerts to SNS topics, whose subscriptions deliver
// them as SMS or email. Errors wrap a *delivery.Error saying what SNS may
// have done; an unclassified error counts as delivery.Ambiguous.
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
	// Ref names the attempt, when the alert asks for an acknowledgment:
	// the call carries it (contact attributes) to the contact flow, whose
	// keypad acknowledgment hands it back with the call's ContactId. Zero
	// when no acknowledgment is asked for.
	Ref AckRef
}

// Caller places outbound voice calls. Errors wrap a *delivery.Error, as
// Publisher's do.
type Caller interface {
	// Call places the call and returns the provider's contact id.
	Call(ctx context.Context, req CallRequest) (string, error)
}

// Store keeps alert records: per alert instance a state item, one item
// per attempt and the append-only audit events.
type Store interface {
	// Write applies ch atomically: the state item moves from version
	// ch.From to ch.Alert.Version (From 0 creates it), the attempt is
	// created or moved from ch.AttemptFrom, and ch.Events are appended.
	// Nothing is written unless all of it is. It returns an error wrapping
	// ErrConflict when the state item is not at version ch.From (or the
	// attempt not in ch.AttemptFrom): another writer got there first.
	Write(ctx context.Context, ch Change) error
	// Latest returns the newest instance of the alert key, with its
	// attempts and events in order. It returns an error wrapping
	// ErrNotFound when the key has none.
	Latest(ctx context.Context, key alert.Key) (*Alert, error)
	// Load returns one instance of the alert key, as Latest does, or an
	// error wrapping ErrNotFound.
	Load(ctx context.Context, key alert.Key, instance string) (*Alert, error)
	// FindLookup returns the lookup of kind with hash, or an error
	// wrapping ErrNotFound.
	FindLookup(ctx context.Context, kind LookupKind, hash string) (Lookup, error)
}

// ErrConflict reports a write refused because the record changed since it
// was read.
var ErrConflict = errors.New("alert record changed since it was read")

// ErrNotFound reports that no alert record has the key asked for.
var ErrNotFound = errors.New("alert record not found")

// Metrics receives one summary per delivered (or failed) alert. It must
// never fail the delivery; the emf adapter writes CloudWatch embedded
// metric lines.
type Metrics interface {
	// Finished records the outcome of one alert's delivery.
	Finished(s Summary)
}

// noMetrics records nothing.
type noMetrics struct{}

func (noMetrics) Finished(Summary)            {}
func (noMetrics) Acknowledged(AckSummary)     {}
func (noMetrics) Escalated(EscalationSummary) {}

// Timers sets and cancels escalation timers (EventBridge Scheduler
// one-time schedules, the scheduler adapter). A timer's Name is its
// identity: setting one that exists already succeeds.
type Timers interface {
	// Set creates the timer, due at at.
	Set(ctx context.Context, t escalation.Timer, at time.Time) error
	// Cancel deletes the timer, if it exists. Only a best effort: a timer
	// that fires anyway finds its stage passed and does nothing.
	Cancel(ctx context.Context, t escalation.Timer) error
}

// Timeliness receives the figures of acknowledgment and escalation (the
// emf adapter writes them as metrics). It must never fail the caller.
type Timeliness interface {
	// Acknowledged records one acknowledgment.
	Acknowledged(s AckSummary)
	// Escalated records one escalation timer that moved an alert on.
	Escalated(s EscalationSummary)
}

// AckSummary is what Timeliness receives about an acknowledgment.
type AckSummary struct {
	Priority alert.Priority
	Method   delivery.AckMethod
	Late     bool
	// AcceptedToAcknowledged is the time to acknowledge.
	AcceptedToAcknowledged time.Duration
}

// EscalationSummary is what Timeliness receives about a timer that moved
// an alert on.
type EscalationSummary struct {
	Priority alert.Priority
	// Stage is the stage reached.
	Stage int
	// Unacknowledged is true when the window passed (the final timer).
	Unacknowledged bool
}
