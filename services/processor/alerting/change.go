package alerting

import (
	"context"
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// change builds one Change on a copy of an alert: each move is checked
// against shared/delivery's transition tables and appends the one event
// that records it, so no move can be written without its event and no
// event without its move. commit writes it and, once written, makes the
// copy the alert.
type change struct {
	base  *Alert
	next  *Alert
	actor delivery.Actor
	at    time.Time
	out   Change
	err   error
}

func newChange(a *Alert, actor delivery.Actor, at time.Time) *change {
	next := a.clone()
	next.UpdatedAt = at
	return &change{base: a, next: next, actor: actor, at: at, out: Change{Alert: next, From: a.Version}}
}

// alertTo moves the alert to status.
func (c *change) alertTo(status delivery.AlertStatus) *change {
	if c.err != nil {
		return c
	}
	if err := delivery.AlertTransitions.Check(c.next.Status, status); err != nil {
		c.err = fmt.Errorf("alert %s: %w", c.next.Key, err)
		return c
	}
	c.next.Status = status
	switch status {
	case delivery.AlertAccepted:
		c.next.AcceptedAt = c.at
	case delivery.AlertSent:
		c.next.SentAt = c.at
	case delivery.AlertNone, delivery.AlertFailed, delivery.AlertAcknowledged, delivery.AlertEscalated, delivery.AlertUnacknowledged:
		// no time of their own here (an acknowledgment's is set with it)
	}
	c.event(Event{Type: delivery.AlertEvent(status)})
	return c
}

// startAttempt creates attempt n on ch to contactID, of escalation
// stage stage (0: the first delivery), as sending.
func (c *change) startAttempt(n int, ch contact.Channel, contactID string, stage int) *change {
	if c.err != nil {
		return c
	}
	if c.next.attempt(n) != nil || c.out.Attempt != nil {
		c.err = fmt.Errorf("alert %s: attempt %d exists already", c.next.Key, n)
		return c
	}
	c.next.Attempts = append(c.next.Attempts, Attempt{
		Number: n, Channel: ch, ContactID: contactID, Status: delivery.AttemptNone, StartedAt: c.at, Stage: stage,
	})
	return c.attemptTo(n, delivery.AttemptSending, nil)
}

// acknowledge moves the alert to acknowledged, recording ack.
func (c *change) acknowledge(ack Ack) *change {
	if c.err != nil {
		return c
	}
	if err := delivery.AlertTransitions.Check(c.next.Status, delivery.AlertAcknowledged); err != nil {
		c.err = fmt.Errorf("alert %s: %w", c.next.Key, err)
		return c
	}
	c.next.Status, c.next.Ack = delivery.AlertAcknowledged, &ack
	c.event(Event{Type: delivery.EventAcknowledged, Attempt: ack.Attempt, Method: ack.Method, Late: ack.Late, Stage: c.next.Stage})
	return c
}

// reach moves the alert to escalation timer n: escalated at stage n, or
// unacknowledged when n is the policy's final timer.
func (c *change) reach(n int) *change {
	if c.err != nil {
		return c
	}
	to := delivery.AlertEscalated
	if n == c.next.Policy.Final() {
		to = delivery.AlertUnacknowledged
	}
	if err := delivery.AlertTransitions.Check(c.next.Status, to); err != nil {
		c.err = fmt.Errorf("alert %s: %w", c.next.Key, err)
		return c
	}
	c.next.Status, c.next.Stage = to, n
	c.event(Event{Type: delivery.AlertEvent(to), Stage: n})
	return c
}

// with writes lookups (tokens and codes) with the change.
func (c *change) with(lookups ...Lookup) *change {
	if c.err == nil {
		c.out.Lookups = append(c.out.Lookups, lookups...)
	}
	return c
}

// attemptTo moves attempt n to status; set, when not nil, fills in the
// outcome's details.
func (c *change) attemptTo(n int, status delivery.AttemptStatus, set func(*Attempt)) *change {
	if c.err != nil {
		return c
	}
	at := c.next.attempt(n)
	switch {
	case at == nil:
		c.err = fmt.Errorf("alert %s: no attempt %d", c.next.Key, n)
		return c
	case c.out.Attempt != nil && c.out.Attempt.Number != n:
		c.err = fmt.Errorf("alert %s: one change writes one attempt", c.next.Key)
		return c
	}
	if err := delivery.AttemptTransitions.Check(at.Status, status); err != nil {
		c.err = fmt.Errorf("alert %s attempt %d: %w", c.next.Key, n, err)
		return c
	}
	if c.out.Attempt == nil {
		c.out.AttemptFrom = at.Status
	}
	at.Status = status
	if status != delivery.AttemptSending {
		at.EndedAt = c.at
	}
	if set != nil {
		set(at)
	}
	c.out.Attempt = at
	c.event(Event{Type: delivery.AttemptEvent(status), Attempt: n, Channel: at.Channel, Failure: at.Failure, Stage: at.Stage})
	return c
}

// because gives the last event recorded so far a reason (the failed
// event of an alert given up).
func (c *change) because(reason delivery.Reason) *change {
	if c.err == nil && len(c.out.Events) > 0 {
		c.out.Events[len(c.out.Events)-1].Reason = reason
	}
	return c
}

// as makes actor the actor of the moves and notes that follow in this
// change (the client accepts; the system starts the attempt).
func (c *change) as(actor delivery.Actor) *change {
	c.actor = actor
	return c
}

// note records an event that is a decision, not a move (a fallback).
func (c *change) note(e Event) *change {
	if c.err == nil {
		c.event(e)
	}
	return c
}

// event appends e with the next sequence number and the alert's status
// as it stands.
func (c *change) event(e Event) {
	c.next.Version++
	e.Seq = c.next.Version
	e.At = c.at
	e.Actor = c.actor
	e.Status = c.next.Status
	c.out.Events = append(c.out.Events, e)
}

// commit writes the change; on success the alert takes its new state.
// Every event of one change is written at once, so each carries the
// alert's status after the whole change.
func (c *change) commit(ctx context.Context, store Store) error {
	if c.err != nil {
		return c.err
	}
	if len(c.out.Events) == 0 && len(c.out.Lookups) == 0 {
		return nil
	}
	for i := range c.out.Events {
		c.out.Events[i].Status = c.next.Status
	}
	if err := store.Write(ctx, c.out); err != nil {
		return fmt.Errorf("write alert %s version %d: %w", c.next.Key, c.next.Version, err)
	}
	c.next.Events = append(c.next.Events, c.out.Events...)
	*c.base = *c.next
	return nil
}
