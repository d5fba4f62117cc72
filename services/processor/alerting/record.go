package alerting

import (
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// Alert is one alert instance as recorded: its state, its attempts and,
// when read back (Store.Latest, Store.Load), its audit events.
type Alert struct {
	// Key is the API client and message_id.
	Key alert.Key
	// Instance tells apart two alerts of one key (a message_id reused
	// after its idempotency record expired): the accepted time in Unix
	// milliseconds, zero-padded to 13 digits, "-" and 8 hex digits, so
	// that instances sort by time (NewInstance).
	Instance string
	// Version counts the changes written; each write is conditional on
	// it.
	Version int
	// Status is the alert's status.
	Status delivery.AlertStatus
	// Priority is the alert's priority.
	Priority alert.Priority
	// ContactID is the contact alerted.
	ContactID string
	// Channels is the channel order planned when it was accepted.
	Channels []contact.Channel
	// PayloadHash is alert.Alert.Hash of the content.
	PayloadHash string
	// Content is the alert as sent, kept for re-sending: never returned
	// by an API, never logged.
	Content alert.Alert
	// AcceptedAt, SentAt (zero until sent) and UpdatedAt are the times of
	// its changes.
	AcceptedAt, SentAt, UpdatedAt time.Time
	// ExpiresAt is when the record may be deleted (the table's TTL).
	ExpiresAt time.Time
	// Attempts are its attempts, in order.
	Attempts []Attempt
	// Events is its audit trail, in order; filled by Store.Latest and
	// Store.Load only.
	Events []Event

	// Policy is the escalation policy in force, copied (and resolved for
	// the contact) when the alert was accepted.
	Policy escalation.Policy
	// Stage is the escalation stage reached: 0 until the first, then the
	// stage number, and Policy.Final() once unacknowledged.
	Stage int
	// Ack is the acknowledgment, nil until one is recorded.
	Ack *Ack
}

// Ack is an alert's acknowledgment: who, how, when.
type Ack struct {
	// At is when it was recorded.
	At time.Time
	// By is who acknowledged: a contact, or the API client.
	By delivery.Actor
	// Method is how it arrived.
	Method delivery.AckMethod
	// Attempt is the attempt it answered (its link, code or call); 0 for
	// an acknowledgment by the API.
	Attempt int
	// Late is true when it came after the alert's window.
	Late bool
}

// Attempt is one delivery on one channel to one contact.
type Attempt struct {
	// Number is the attempt's number, from 1.
	Number int
	// Channel is the channel tried.
	Channel contact.Channel
	// ContactID is the contact it went to.
	ContactID string
	// Status is the attempt's status.
	Status delivery.AttemptStatus
	// StartedAt is when it began; EndedAt when its outcome was recorded.
	StartedAt, EndedAt time.Time
	// ProviderRef is the SNS message id or the Connect contact id.
	ProviderRef string
	// Failure is the class of a failed or unknown attempt.
	Failure delivery.Class
	// FailureCode is the provider's error code (no PHI).
	FailureCode string
	// Stage is the escalation stage the attempt belongs to (0: the first
	// delivery).
	Stage int
}

// Event is one audit event.
type Event struct {
	// Seq orders the alert's events, from 1; it is the alert's version
	// just after the event.
	Seq int
	// Type is what happened.
	Type delivery.EventType
	// At is when.
	At time.Time
	// Actor is who caused it.
	Actor delivery.Actor
	// Status is the alert's status after the event.
	Status delivery.AlertStatus
	// Attempt is the attempt the event is about (0: none).
	Attempt int
	// Channel is that attempt's channel.
	Channel contact.Channel
	// FromChannel is, for a fallback, the channel that failed.
	FromChannel contact.Channel
	// Failure is, for a failed or unknown attempt, its class.
	Failure delivery.Class
	// Reason is, for an alert given up (GiveUp), why.
	Reason delivery.Reason
	// Stage is, for an escalation, the stage reached; for an
	// acknowledgment, the stage it came at; for a skipped target, its
	// stage.
	Stage int
	// Method is, for an acknowledgment, how it came.
	Method delivery.AckMethod
	// Late is true on an acknowledgment after the window.
	Late bool
	// Target is, for a skipped target, which one.
	Target escalation.Target
}

// Change is one atomic write of an alert record (Store.Write).
type Change struct {
	// Alert is the alert after the change; its Version is the new
	// version, From plus the number of events.
	Alert *Alert
	// From is the version the state item must have; 0 creates it.
	From int
	// Attempt is the attempt written, nil when none.
	Attempt *Attempt
	// AttemptFrom is the status the attempt must have;
	// delivery.AttemptNone creates it.
	AttemptFrom delivery.AttemptStatus
	// Events are appended, with Seq From+1, From+2, ...
	Events []Event
	// Lookups are written with the change: ack tokens and codes created
	// for the attempt it starts, or the one an acknowledgment used.
	Lookups []Lookup
}

// instanceRandom is how many hex digits end an instance.
const instanceRandom = 8

// NewInstance returns the instance of an alert accepted at t, with
// random hex digits (at least instanceRandom of them; the first are used).
func NewInstance(t time.Time, random string) (string, error) {
	if len(random) < instanceRandom {
		return "", fmt.Errorf("alerting: instance needs %d random hex digits, got %q", instanceRandom, random)
	}
	return fmt.Sprintf("%013d-%s", t.UnixMilli(), random[:instanceRandom]), nil
}

// attempt returns the attempt numbered n.
func (a *Alert) attempt(n int) *Attempt {
	for i := range a.Attempts {
		if a.Attempts[i].Number == n {
			return &a.Attempts[i]
		}
	}
	return nil
}

// clone copies the alert deeply enough for a change to be built on it.
func (a *Alert) clone() *Alert {
	c := *a
	c.Channels = append([]contact.Channel(nil), a.Channels...)
	c.Attempts = append([]Attempt(nil), a.Attempts...)
	c.Events = append([]Event(nil), a.Events...)
	if a.Ack != nil {
		ack := *a.Ack
		c.Ack = &ack
	}
	return &c
}

// consistent reports whether every change of the record has its event:
// the version is the last event's sequence number. A writer that moved
// the version without an event (an operator's hand edit) leaves it
// inconsistent; nothing is written on top of that.
func (a *Alert) consistent() bool {
	if len(a.Events) == 0 {
		return a.Version == 0
	}
	return a.Events[len(a.Events)-1].Seq == a.Version
}
