package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// EscalateOutcome is what one escalation timer did.
type EscalateOutcome string

// The outcomes of Escalate.
const (
	// EscalateEscalated: the alert moved to the timer's stage and its
	// targets were tried.
	EscalateEscalated EscalateOutcome = "escalated"
	// EscalateUnacknowledged: the window passed; the alert is
	// unacknowledged.
	EscalateUnacknowledged EscalateOutcome = "unacknowledged"
	// EscalateSkipped: the timer found nothing to do (the alert was
	// acknowledged, failed or already at or past the stage: a late,
	// duplicate or raced timer), and changed nothing.
	EscalateSkipped EscalateOutcome = "skipped"
)

// EscalateResult is what Escalate did.
type EscalateResult struct {
	// Outcome is how it ended.
	Outcome EscalateOutcome
	// Saw is the alert's status the timer found: what a skipped timer
	// saw, or the status it moved the alert from.
	Saw delivery.AlertStatus
	// Stage is the alert's stage after the timer.
	Stage int
	// Delivery holds the stage's attempts and what went wrong with them.
	Delivery Result
	// Skipped lists the stage's targets that reached nobody.
	Skipped []escalation.Target
	// TimerErr says why the next timer could not be set.
	TimerErr error

	acc *Accepted
}

// Scrub removes the alert's text, patient id, rendered messages and
// destinations from s before it is logged.
func (r *EscalateResult) Scrub(s string) string {
	if r.acc == nil {
		return s
	}
	return r.acc.Scrub(s)
}

// Escalate runs escalation timer t: when the alert is still
// unacknowledged and short of t's stage, it moves the alert to that stage
// (escalated, or unacknowledged after the last window) in one write
// conditioned on the state it read, sets the next timer and tries the
// stage's targets; otherwise it changes nothing. A timer that races an
// acknowledgment loses or wins on that one write: the loser reloads and
// finds its move no longer applies (the timer) or applies it after (the
// acknowledgment). An error means nothing was moved and the timer should
// be retried (the scheduler does).
func (c *Core) Escalate(ctx context.Context, t escalation.Timer, deadline time.Time) (EscalateResult, error) {
	if c.acksOnly {
		return EscalateResult{}, errAcksOnly
	}
	a, err := c.cfg.Store.Load(ctx, t.Key, t.Instance)
	if errors.Is(err, ErrNotFound) {
		return EscalateResult{Outcome: EscalateSkipped}, nil
	}
	if err != nil {
		return EscalateResult{}, fmt.Errorf("read alert %s/%s: %w", t.Key, t.Instance, err)
	}
	res := EscalateResult{Outcome: EscalateSkipped, Saw: a.Status, Stage: a.Stage}
	var reaches []reach
	if due(a, t.Number) && t.Number < a.Policy.Final() {
		// The contacts are read before anything is moved: a failed read
		// leaves the timer to be retried whole.
		if reaches, res.Skipped, err = c.resolveStage(ctx, a, t.Number); err != nil {
			return res, err
		}
	}
	moved := false
	err = c.write(ctx, a, func(a *Alert) *change {
		res.Saw, res.Stage, moved = a.Status, a.Stage, false
		if !due(a, t.Number) {
			return nil
		}
		moved = true
		return newChange(a, delivery.System, c.cfg.Now()).reach(t.Number)
	})
	if err != nil {
		return res, err
	}
	if !moved {
		if a.Status == delivery.AlertEscalated && a.Stage == t.Number {
			// A retried timer whose first run stopped before it set the next.
			res.TimerErr = c.arm(ctx, a, t.Number+1)
		}
		return res, nil
	}
	res.Stage = a.Stage
	c.cfg.Timeliness.Escalated(EscalationSummary{Priority: a.Priority, Stage: a.Stage, Unacknowledged: a.Status == delivery.AlertUnacknowledged})
	if a.Status == delivery.AlertUnacknowledged {
		res.Outcome = EscalateUnacknowledged
		return res, nil
	}
	res.Outcome = EscalateEscalated
	res.TimerErr = c.arm(ctx, a, t.Number+1)
	res.acc = c.deliverStage(ctx, a, t.Number, reaches, res.Skipped, deadline, &res.Delivery)
	return res, nil
}

// due reports whether timer n may still move a on: its policy has it, the
// alert is short of it, and it is open (not acknowledged, failed or
// unacknowledged).
func due(a *Alert, n int) bool {
	if _, ok := a.Policy.Due(n); !ok || a.Stage >= n {
		return false
	}
	to := delivery.AlertEscalated
	if n == a.Policy.Final() {
		to = delivery.AlertUnacknowledged
	}
	return delivery.AlertTransitions.Allows(a.Status, to)
}

// arm sets the alert's timer n, due its policy's time after acceptance
// (at once when that has passed). No timer is set past the policy's
// last.
func (c *Core) arm(ctx context.Context, a *Alert, n int) error {
	d, ok := a.Policy.Due(n)
	if !ok || c.cfg.Timers == nil || a.Status == delivery.AlertAcknowledged {
		return nil
	}
	at := a.AcceptedAt.Add(d)
	if now := c.cfg.Now(); at.Before(now) {
		at = now
	}
	t := escalation.Timer{Key: a.Key, Instance: a.Instance, Number: n}
	if err := c.cfg.Timers.Set(ctx, t, at); err != nil {
		return fmt.Errorf("set escalation timer %d (%s) of alert %s: %w", n, t.Name(), a.Key, err)
	}
	return nil
}

// resolveStage turns stage n's targets into reaches: who, on which
// channels. A target with nobody to reach is returned in skipped. An
// error is a contact that could not be read.
func (c *Core) resolveStage(ctx context.Context, a *Alert, n int) ([]reach, []escalation.Target, error) {
	var reaches []reach
	var skipped []escalation.Target
	for _, t := range a.Policy.Targets(n) {
		r, err := c.resolve(ctx, a, t)
		switch {
		case errors.Is(err, ErrContactNotFound), errors.Is(err, contact.ErrNoDestination):
			skipped = append(skipped, t)
		case err != nil:
			return nil, nil, err
		case len(r.routes) == 0:
			skipped = append(skipped, t)
		default:
			r.stage = n
			reaches = append(reaches, r)
		}
	}
	return reaches, skipped, nil
}

// resolve is who target t reaches for alert a, and on which channels.
func (c *Core) resolve(ctx context.Context, a *Alert, t escalation.Target) (reach, error) {
	id := a.ContactID
	if cid, ok := t.Contact(); ok {
		id = cid
	}
	ct, err := c.cfg.Contacts.GetContact(ctx, id)
	if err != nil {
		return reach{}, fmt.Errorf("load contact %s: %w", id, err)
	}
	switch t {
	case escalation.RepeatCall:
		if dest := ct.Destination(contact.ChannelCall); dest != "" {
			return reach{contact: ct, routes: []contact.Route{{Channel: contact.ChannelCall, Destination: dest}}}, nil
		}
		return reach{contact: ct}, nil
	case escalation.NextChannel:
		routes, err := ct.Routes(a.Priority)
		if err != nil {
			return reach{}, fmt.Errorf("route contact %s: %w", ct.ID, err)
		}
		last := slices.IndexFunc(routes, func(r contact.Route) bool { return r.Channel == lastReached(a) })
		return reach{contact: ct, routes: routes[last+1:]}, nil
	case escalation.Secondary, escalation.FailSafe: // resolved to contacts at acceptance (Set.For)
	}
	routes, err := ct.Routes(a.Priority)
	if err != nil {
		return reach{}, fmt.Errorf("route contact %s: %w", ct.ID, err)
	}
	return reach{contact: ct, routes: routes}, nil
}

// lastReached is the channel the alert's own contact was last sent on
// (or may have been: an unknown outcome), "" when none.
func lastReached(a *Alert) contact.Channel {
	for i := len(a.Attempts) - 1; i >= 0; i-- {
		at := a.Attempts[i]
		if at.ContactID == a.ContactID && (at.Status == delivery.AttemptSent || at.Status == delivery.AttemptUnknown) {
			return at.Channel
		}
	}
	return ""
}

// deliverStage records the stage's skipped targets and tries each reach
// in turn, stopping once the alert is acknowledged.
func (c *Core) deliverStage(ctx context.Context, a *Alert, n int, reaches []reach, skipped []escalation.Target,
	deadline time.Time, res *Result,
) *Accepted {
	acc := &Accepted{alert: a, actor: delivery.System}
	acc.addSecrets(a.Content.Description, render.EscapeSSML(a.Content.Description), a.Content.PatientID)
	if len(skipped) > 0 {
		err := c.write(ctx, a, func(a *Alert) *change {
			if a.Status == delivery.AlertAcknowledged {
				return nil
			}
			ch := newChange(a, delivery.System, c.cfg.Now())
			for _, t := range skipped {
				ch.note(Event{Type: delivery.EventTargetSkipped, Stage: n, Target: t})
			}
			return ch
		})
		if err != nil {
			res.RecordErrors = append(res.RecordErrors, err)
		}
	}
	for _, r := range reaches {
		if a.Status == delivery.AlertAcknowledged {
			break
		}
		acc.addReach(r)
		c.deliverReach(ctx, acc, r, deadline, res)
	}
	return acc
}
