package delivery

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// AlertStatus is where an alert stands as a whole: the response status
// of the alert, kept apart from the delivery status of each attempt.
type AlertStatus string

// The alert statuses. The zero value, AlertNone, is the status of an
// alert that has no record yet.
const (
	// AlertNone: no record yet; the only way out is AlertAccepted.
	AlertNone AlertStatus = ""
	// AlertAccepted: validated and recorded; delivery has not succeeded
	// (yet). An alert whose only outcome is an unknown attempt stays
	// accepted: nobody can say it was sent, nor that it failed.
	AlertAccepted AlertStatus = "accepted"
	// AlertSent: an attempt was accepted by its provider.
	AlertSent AlertStatus = "sent"
	// AlertFailed: every channel was tried and failed; nothing was
	// delivered.
	AlertFailed AlertStatus = "failed"
)

// The alert statuses of acknowledgment and escalation (issue 12).
const (
	// AlertAcknowledged: a clinician (or the owning API client) confirmed
	// receipt. Final: a second acknowledgment answers the first one's.
	AlertAcknowledged AlertStatus = "acknowledged"
	// AlertEscalated: no acknowledgment came within a stage's window, and
	// the alert's escalation policy moved it to its next stage (the stage
	// is in the record). It moves on to the next stage, or to
	// acknowledged, or to unacknowledged.
	AlertEscalated AlertStatus = "escalated"
	// AlertUnacknowledged: the policy's last window passed without an
	// acknowledgment; an alarm fires. A late acknowledgment still moves it
	// to acknowledged (marked late).
	AlertUnacknowledged AlertStatus = "unacknowledged"
)

// AlertStatuses lists every status an alert record can hold.
var AlertStatuses = []AlertStatus{
	AlertAccepted, AlertSent, AlertFailed,
	AlertAcknowledged, AlertEscalated, AlertUnacknowledged,
}

// AttemptStatus is where one attempt stands: one delivery on one channel
// to one contact.
type AttemptStatus string

// The attempt statuses. The zero value, AttemptNone, is the status of an
// attempt that has no record yet.
const (
	// AttemptNone: no record yet; the only way out is AttemptSending.
	AttemptNone AttemptStatus = ""
	// AttemptSending: recorded before the provider is called, so that a
	// crash leaves a trace that the provider may have been asked.
	AttemptSending AttemptStatus = "sending"
	// AttemptSent: the provider accepted the request.
	AttemptSent AttemptStatus = "sent"
	// AttemptFailed: the provider refused it, or provably did nothing
	// (a transient or permanent failure).
	AttemptFailed AttemptStatus = "failed"
	// AttemptUnknown: the outcome is ambiguous; the provider may have
	// delivered it.
	AttemptUnknown AttemptStatus = "unknown"
)

// AttemptStatuses lists every status an attempt record can hold.
var AttemptStatuses = []AttemptStatus{AttemptSending, AttemptSent, AttemptFailed, AttemptUnknown}

// Transitions is one state machine: each status and the statuses it may
// move to. A status with no entry is final.
type Transitions[S ~string] map[S][]S

// Allows reports whether a move from one status to another is allowed.
func (t Transitions[S]) Allows(from, to S) bool {
	return slices.Contains(t[from], to)
}

// Check returns nil when the move is allowed, else an error wrapping
// ErrTransition that names both statuses.
func (t Transitions[S]) Check(from, to S) error {
	if t.Allows(from, to) {
		return nil
	}
	return fmt.Errorf("%w: %s -> %s", ErrTransition, orNone(string(from)), orNone(string(to)))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ErrTransition reports a move the state machine forbids.
var ErrTransition = errors.New("transition not allowed")

// AlertTransitions is the one table of the alert's allowed moves.
//
// An accepted alert (delivery under way, or its outcome unknown) and a
// sent one may be acknowledged, escalated (the timer is the safety net
// for an unknown outcome) or expire unacknowledged; an escalated one
// moves to its next stage (escalated again) or ends the same ways; an
// unacknowledged one may still be acknowledged, late. A failed alert
// reached nobody and is never escalated (its alarm fires instead);
// acknowledged is final.
var AlertTransitions = Transitions[AlertStatus]{
	AlertNone:           {AlertAccepted},
	AlertAccepted:       {AlertSent, AlertFailed, AlertAcknowledged, AlertEscalated, AlertUnacknowledged},
	AlertSent:           {AlertAcknowledged, AlertEscalated, AlertUnacknowledged},
	AlertEscalated:      {AlertEscalated, AlertAcknowledged, AlertUnacknowledged},
	AlertUnacknowledged: {AlertAcknowledged},
}

// AttemptTransitions is the one table of an attempt's allowed moves.
// Sent, failed and unknown are final (a later "delivered" receipt would
// move sent or unknown on).
var AttemptTransitions = Transitions[AttemptStatus]{
	AttemptNone:    {AttemptSending},
	AttemptSending: {AttemptSent, AttemptFailed, AttemptUnknown},
}

// AttemptStatusOf is the status an attempt ends in after a failure of
// class c: failed when the provider refused it or provably did nothing,
// unknown when it may have delivered.
func AttemptStatusOf(c Class) AttemptStatus {
	if c == Transient || c == Permanent {
		return AttemptFailed
	}
	return AttemptUnknown
}

// EventType names an audit event. Every move of an alert or an attempt
// has exactly one event type (AlertEvent, AttemptEvent); EventFallback
// records a decision, not a move.
type EventType string

// The audit event types.
const (
	EventAccepted       EventType = "accepted"
	EventSent           EventType = "sent"
	EventFailed         EventType = "failed"
	EventAttemptStarted EventType = "attempt_started"
	EventAttemptSent    EventType = "attempt_sent"
	EventAttemptFailed  EventType = "attempt_failed"
	EventAttemptUnknown EventType = "attempt_unknown"
	// EventFallback: the previous channel failed and the next is tried.
	EventFallback EventType = "fallback"
)

// The audit event types of acknowledgment and escalation (issue 12).
const (
	EventAcknowledged   EventType = "acknowledged"
	EventEscalated      EventType = "escalated"
	EventUnacknowledged EventType = "unacknowledged"
	// EventTargetSkipped: a stage's target had nobody to reach (no next
	// channel, no phone for a repeat call, no route for a contact).
	EventTargetSkipped EventType = "escalation_target_skipped"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventAccepted, EventAttemptStarted, EventFallback, EventAttemptSent, EventAttemptFailed, EventAttemptUnknown,
	EventSent, EventFailed,
	EventEscalated, EventTargetSkipped, EventAcknowledged, EventUnacknowledged,
	EventRequeued,
}

// NoteEvents are the event types that record a decision, not a move.
var NoteEvents = []EventType{EventFallback, EventTargetSkipped, EventRequeued}

// Event types of the asynchronous path (issue 13). Like EventFallback,
// each records a decision, not a move.
const (
	// EventRequeued: a queued alert's round of attempts ended with nothing
	// sent and a retry possible (every failure transient, or too little
	// time left); the alert stays accepted, its message goes back to the
	// queue, and the next receive starts a new round at the first channel.
	EventRequeued EventType = "requeued"
)

// Reason says why an alert failed other than by every channel failing:
// the Reason of its failed event. It is a fixed word, never free text.
type Reason string

// The reasons of the asynchronous path (issue 13).
const (
	// ReasonDeadLettered: its queue message was received the stack's
	// asyncMaxReceiveCount times without a final outcome and moved to the
	// dead-letter queue, whose handler gave the alert up.
	ReasonDeadLettered Reason = "dead_lettered"
	// ReasonNotQueued: the POST recorded it but could not put it on the
	// event bus; the caller was answered 503 and may retry.
	ReasonNotQueued Reason = "not_queued"
)

// Reasons lists every reason.
var Reasons = []Reason{ReasonDeadLettered, ReasonNotQueued}

// alertEvents and attemptEvents give the event that records a move into
// each status.
var (
	alertEvents = map[AlertStatus]EventType{
		AlertAccepted: EventAccepted, AlertSent: EventSent, AlertFailed: EventFailed,
		AlertAcknowledged: EventAcknowledged, AlertEscalated: EventEscalated, AlertUnacknowledged: EventUnacknowledged,
	}
	attemptEvents = map[AttemptStatus]EventType{
		AttemptSending: EventAttemptStarted, AttemptSent: EventAttemptSent,
		AttemptFailed: EventAttemptFailed, AttemptUnknown: EventAttemptUnknown,
	}
)

// AlertEvent is the event type that records an alert's move into to.
func AlertEvent(to AlertStatus) EventType { return alertEvents[to] }

// AttemptEvent is the event type that records an attempt's move into to.
func AttemptEvent(to AttemptStatus) EventType { return attemptEvents[to] }

// ActorKind is who caused an event.
type ActorKind string

// The kinds of actor.
const (
	// ActorClient: the API client that sent or asked about the alert.
	ActorClient ActorKind = "client"
	// ActorContact: the clinician (an acknowledgment by link, keypad or
	// SMS reply).
	ActorContact ActorKind = "contact"
	// ActorSystem: the service itself (attempts, fallback, timers).
	ActorSystem ActorKind = "system"
)

// Actor is who caused an event: a kind and, for a client or a contact,
// its name or id (never a phone number or address).
type Actor struct {
	Kind ActorKind
	ID   string
}

// System is the service acting on its own.
var System = Actor{Kind: ActorSystem}

// Client is the API client named name.
func Client(name string) Actor { return Actor{Kind: ActorClient, ID: name} }

// Contact is the clinician with contact id id.
func Contact(id string) Actor { return Actor{Kind: ActorContact, ID: id} }

// String is the actor's stored form: "system", "client:<name>" or
// "contact:<id>" (ParseActor inverts it).
func (a Actor) String() string {
	if a.Kind == ActorSystem {
		return string(ActorSystem)
	}
	return string(a.Kind) + ":" + a.ID
}

// ParseActor reads the form String writes.
func ParseActor(s string) (Actor, error) {
	if s == string(ActorSystem) {
		return System, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" || (ActorKind(kind) != ActorClient && ActorKind(kind) != ActorContact) {
		return Actor{}, fmt.Errorf("actor %q is not system, client:<name> or contact:<id>", s)
	}
	return Actor{Kind: ActorKind(kind), ID: id}, nil
}

// Outcome is how one delivery of an alert ended: the processor's answer,
// and the Outcome dimension of its metrics (names.DimOutcome), which the
// alarms watch.
type Outcome string

// The outcomes of a delivery.
const (
	// OutcomeSent: a provider accepted an attempt; the alert is sent.
	OutcomeSent Outcome = "sent"
	// OutcomeFailed: every channel was tried and failed, at least one for
	// good; nothing was delivered and the alert is failed.
	OutcomeFailed Outcome = "failed"
	// OutcomeUnknown: an attempt's outcome is unknown and none was sent;
	// the alert stays accepted (it may have been delivered).
	OutcomeUnknown Outcome = "unknown"
	// OutcomeRetry: nothing was sent and a retry may succeed: every
	// attempt failed transiently, or time (or the record) ran out before
	// every channel was tried. That instance is failed; a retry is a new
	// one.
	OutcomeRetry Outcome = "retry"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeSent, OutcomeFailed, OutcomeUnknown, OutcomeRetry}

// AckMethod is how an acknowledgment arrived.
type AckMethod string

// The ways to acknowledge an alert. Each drives the one Acknowledge rule
// of the alerting core.
const (
	// AckAPI: POST /notification/{message_id}/ack by the owning API
	// client (ward software, an EHR).
	AckAPI AckMethod = "api"
	// AckLink: POST /ack/{token} from the link in an SMS or email.
	AckLink AckMethod = "link"
	// AckKeypad: 1 pressed on the call, reported by the contact flow.
	AckKeypad AckMethod = "keypad"
	// AckSMS: a reply with the SMS's code, from the number it went to.
	AckSMS AckMethod = "sms"
)

// AckMethods lists every acknowledgment method.
var AckMethods = []AckMethod{AckAPI, AckLink, AckKeypad, AckSMS}
