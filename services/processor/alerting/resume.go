package alerting

import (
	"context"
	"fmt"
	"slices"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Resume takes up a queued alert, as read (Load), for Deliver: the
// asynchronous path's worker calls it for each message, however often the
// queue hands the message out. It re-reads the contact for the
// destinations of the channels planned at acceptance (destinations are
// never stored) and continues the current round of attempts where the
// record stops:
//
//   - an alert that is not accepted, or whose round ended with an unknown
//     outcome that does not fall back, is settled (ErrSettled): nothing is
//     sent again;
//   - an attempt still sending whose invocation may still run is someone
//     else's (ErrInProgress); one whose invocation is over (it started
//     more than the delivery timeout ago) is recorded unknown first, as
//     its provider may have been asked, and then treated as any unknown
//     attempt;
//   - otherwise the round goes on at the channel after its last failed
//     attempt (the first channel when it has none).
//
// Every write Deliver then makes is conditional on the version read here,
// so a second taker of the same message (SQS delivers at least once) is
// refused before any provider call (its first write fails with
// ErrConflict).
func (c *Core) Resume(ctx context.Context, a *Alert) (*Accepted, error) {
	if a.Status != delivery.AlertAccepted {
		return nil, fmt.Errorf("resume alert %s/%s (%s): %w", a.Key, a.Instance, a.Status, ErrSettled)
	}
	ct, err := c.cfg.Contacts.GetContact(ctx, a.ContactID)
	if err != nil {
		return nil, fmt.Errorf("load contact %s: %w", a.ContactID, err)
	}
	from := roundStart(a)
	acc := &Accepted{alert: a, first: reach{contact: ct}, actor: delivery.System, planned: len(a.Channels), from: from, queued: true}
	for _, ch := range a.Channels {
		acc.first.routes = append(acc.first.routes, contact.Route{Channel: ch, Destination: ct.Destination(ch)})
	}
	acc.addSecrets(a.Content.Description, render.EscapeSSML(a.Content.Description), a.Content.PatientID)
	acc.addReach(acc.first)
	interruptedNow := false
	if last := lastAttempt(a.Attempts[from:]); last != nil && last.Status == delivery.AttemptSending {
		if !c.abandoned(*last, c.cfg.Now()) {
			return nil, fmt.Errorf("resume alert %s/%s: attempt %d: %w", a.Key, a.Instance, last.Number, ErrInProgress)
		}
		ch := newChange(a, delivery.System, c.cfg.Now()).attemptTo(last.Number, delivery.AttemptUnknown, interrupted)
		if err := ch.commit(ctx, c.cfg.Store); err != nil {
			return nil, err
		}
		interruptedNow = true
	}
	acc.prior = slices.Clone(a.Attempts[from:])
	switch last := lastAttempt(acc.prior); {
	case last == nil:
	case !c.mayFallBack(*last) && !interruptedNow:
		return nil, fmt.Errorf("resume alert %s/%s: attempt %d is %s: %w", a.Key, a.Instance, last.Number, last.Status, ErrSettled)
	case !c.mayFallBack(*last):
		acc.first.routes = nil // Deliver concludes: the outcome is unknown
	default:
		acc.first.routes = acc.first.routes[min(len(acc.prior), len(acc.first.routes)):]
	}
	return acc, nil
}

// roundStart is how many attempts a had before its current round: the
// attempt count its last requeued event noted, 0 when it has none.
func roundStart(a *Alert) int {
	for i := len(a.Events) - 1; i >= 0; i-- {
		if e := a.Events[i]; e.Type == delivery.EventRequeued {
			return min(e.Attempt, len(a.Attempts))
		}
	}
	return 0
}
