package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Outcome is how a delivery ended (delivery.Outcome, shared with the
// metrics and alarms).
type Outcome = delivery.Outcome

// The outcomes of Deliver.
const (
	OutcomeSent    = delivery.OutcomeSent
	OutcomeFailed  = delivery.OutcomeFailed
	OutcomeUnknown = delivery.OutcomeUnknown
	OutcomeRetry   = delivery.OutcomeRetry
)

// Result is what Deliver did.
type Result struct {
	// Outcome is how it ended.
	Outcome Outcome
	// Attempts are this delivery's attempts as they happened (the record
	// has them too, unless a write failed: see RecordErrors).
	Attempts []Attempt
	// Sent is the attempt that was sent (OutcomeSent).
	Sent *Attempt
	// Unknown is the first attempt whose outcome is unknown.
	Unknown *Attempt
	// Cause is the last provider error, or why no attempt could start; it
	// may echo what was sent: Scrub it before logging.
	Cause error
	// RecordErrors are the record writes that failed; the record lacks
	// what they held.
	RecordErrors []error
	// SMSSegments is how many parts the SMS had, when one was sent.
	SMSSegments int
	// Taken reports that another writer changed the record before an
	// attempt could start (its start was refused with ErrConflict): the
	// alert is someone else's now, so this delivery stopped at once,
	// without a provider call, a conclusion or metrics (Outcome is
	// OutcomeRetry). A second taker of a queued message gets this.
	Taken bool
}

// Summary is what Metrics receives about one alert.
type Summary struct {
	// Priority is the alert's priority.
	Priority alert.Priority
	// Outcome is how its delivery ended.
	Outcome Outcome
	// Attempts are its attempts in this delivery.
	Attempts []Attempt
	// Fallbacks is how often it fell back to a next channel.
	Fallbacks int
	// AcceptedToSent is the time from accepted to sent (OutcomeSent only).
	AcceptedToSent time.Duration
}

// errOutOfTime says why no further attempt started.
var errOutOfTime = errors.New("too little time left to try a channel and record the outcome")

// Deliver tries acc's channels in order until one is sent. Each attempt
// is recorded as sending before its provider is called and with its
// outcome after; a failed attempt falls back to the next channel at once
// (an unknown one only with Config.FallbackOnUnknown). An attempt starts
// only while the budget leaves it time before deadline, and never when
// its start could not be recorded. The alert ends sent, failed, or (when
// an outcome is unknown) accepted; a queued alert (Resume) that may
// succeed on a retry ends accepted and requeued instead of failed. When
// another writer changed the record first, it stops at once
// (Result.Taken).
func (c *Core) Deliver(ctx context.Context, acc *Accepted, deadline time.Time) Result {
	var res Result
	fallbacks := 0
	for i, route := range acc.routes {
		if i > 0 && !c.mayFallBack(res.Attempts[len(res.Attempts)-1]) {
			break
		}
		if window := deadline.Sub(c.cfg.Now()) - c.cfg.Budget.Reserve; window < c.cfg.Budget.Attempt {
			res.Cause = fmt.Errorf("%w: %s before the reserve, %s needed", errOutOfTime, window, c.cfg.Budget.Attempt)
			break
		}
		if i > 0 || len(acc.prior) > 0 {
			fallbacks++
		}
		at, ok := c.attempt(ctx, acc, route, deadline, &res)
		if !ok && errors.Is(res.Cause, ErrConflict) {
			res.Outcome, res.Taken = OutcomeRetry, true
			return res
		}
		if !ok {
			break
		}
		res.Attempts = append(res.Attempts, at)
		if at.Status == delivery.AttemptSent {
			break
		}
	}
	c.conclude(ctx, acc, &res)
	c.cfg.Metrics.Finished(c.summary(acc.alert, &res, fallbacks))
	return res
}

// mayFallBack reports whether the channel after attempt at may be tried.
func (c *Core) mayFallBack(at Attempt) bool {
	return at.Status == delivery.AttemptFailed || (at.Status == delivery.AttemptUnknown && c.cfg.FallbackOnUnknown)
}

// attempt records the next attempt as sending (after a fallback event
// when it is not the first), calls the provider and records the outcome.
// ok is false when the start could not be recorded: then nothing was
// sent.
func (c *Core) attempt(ctx context.Context, acc *Accepted, route contact.Route, deadline time.Time, res *Result) (Attempt, bool) {
	a := acc.alert
	n := len(a.Attempts) + 1
	start := acc.newChangeOf(c.cfg.Now())
	if n-1 > acc.from { // the previous attempt is this round's: fall back from it
		prev := a.Attempts[n-2]
		start.note(Event{Type: delivery.EventFallback, Attempt: n, Channel: route.Channel, FromChannel: prev.Channel})
	}
	if err := start.startAttempt(n, route.Channel).commit(ctx, c.cfg.Store); err != nil {
		res.RecordErrors = append(res.RecordErrors, err)
		res.Cause = err
		return Attempt{}, false
	}

	sendCtx, cancel := context.WithDeadline(ctx, c.sendDeadline(deadline))
	ref, err := c.send(sendCtx, acc, route, n, res)
	cancel()

	status, set := delivery.AttemptSent, func(at *Attempt) { at.ProviderRef = ref }
	if err != nil {
		res.Cause = err
		class, code := classify(err)
		status, set = delivery.AttemptStatusOf(class), func(at *Attempt) { at.Failure, at.FailureCode = class, code }
	}
	finish := newChange(a, delivery.System, c.cfg.Now()).attemptTo(n, status, set)
	if status == delivery.AttemptSent && delivery.AlertTransitions.Allows(a.Status, delivery.AlertSent) {
		finish.alertTo(delivery.AlertSent)
	}
	if err := c.commitAfterSend(ctx, finish); err != nil {
		res.RecordErrors = append(res.RecordErrors, err)
	}
	out := *finish.next.attempt(n) // what happened, recorded or not
	return out, true
}

// sendDeadline is when one channel's attempt must end: at the reserve
// before the invocation's deadline, or at the channel's bound.
func (c *Core) sendDeadline(deadline time.Time) time.Time {
	end := deadline.Add(-c.cfg.Budget.Reserve)
	if bound := c.cfg.Now().Add(c.cfg.Budget.Channel); bound.Before(end) {
		return bound
	}
	return end
}

// commitAfterSend writes a change that follows a provider call: not
// cancelled with the request (the outcome must be recorded even then),
// bounded by the reserve.
func (c *Core) commitAfterSend(ctx context.Context, ch *change) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Budget.Reserve)
	defer cancel()
	return ch.commit(ctx, c.cfg.Store)
}

// classify returns the class and code of a provider error.
func classify(err error) (delivery.Class, string) {
	var f *delivery.Error
	if errors.As(err, &f) {
		return f.Class, f.Code
	}
	return delivery.Ambiguous, "unclassified"
}

// send renders the alert for the route's channel and hands it to the
// provider. Errors are the provider's, classified by the adapter.
func (c *Core) send(ctx context.Context, acc *Accepted, route contact.Route, n int, res *Result) (string, error) {
	a := acc.alert
	if route.Destination == "" { // a queued alert's contact lost the channel's destination since
		return "", &delivery.Error{Class: delivery.Permanent, Code: "no_destination",
			Err: fmt.Errorf("contact %s has no %s destination", a.ContactID, route.Channel)}
	}
	switch route.Channel {
	case contact.ChannelEmail:
		e := render.Email(a.Content)
		acc.addSecrets(e.Body)
		acc.started = true
		return c.cfg.Publisher.PublishEmail(ctx, route.Destination, e.Subject, e.Body)
	case contact.ChannelSMS:
		s := render.SMS(a.Content, c.cfg.SMSContent)
		acc.addSecrets(s.Text)
		res.SMSSegments = s.Segments
		acc.started = true
		return c.cfg.Publisher.PublishSMS(ctx, route.Destination, s.Text)
	case contact.ChannelCall:
		if c.cfg.Caller == nil {
			return "", &delivery.Error{Class: delivery.Permanent, Code: "calls_not_configured",
				Err: errors.New("a call is due but calls are not configured (the Amazon Connect settings are unset)")}
		}
		voice := render.Voice(a.Content)
		acc.addSecrets(voice)
		acc.started = true
		return c.cfg.Caller.Call(ctx, CallRequest{
			Destination: route.Destination, MessageSSML: voice,
			ClientToken: delivery.CallClientToken(a.Key, a.PayloadHash, delivery.CallAttempt{ContactID: a.ContactID, Number: n}),
		})
	default:
		return "", &delivery.Error{Class: delivery.Permanent, Code: "unknown_channel", Err: fmt.Errorf("unknown channel %q", route.Channel)}
	}
}

// conclude decides the outcome of the round (its attempts before this
// delivery and this delivery's) and, unless an attempt was sent or is
// unknown, records the alert as failed, or, for a queued alert that may
// succeed on a retry, as requeued.
func (c *Core) conclude(ctx context.Context, acc *Accepted, res *Result) {
	round := append(slices.Clone(acc.prior), res.Attempts...)
	res.Outcome = outcomeOf(round, acc.planned)
	for i := range round {
		at := &round[i]
		switch {
		case at.Status == delivery.AttemptSent && res.Sent == nil:
			res.Sent = at
		case at.Status == delivery.AttemptUnknown && res.Unknown == nil:
			res.Unknown = at
		}
	}
	if res.Outcome != OutcomeFailed && res.Outcome != OutcomeRetry {
		return
	}
	a := acc.alert
	if a.Status != delivery.AlertNone && !delivery.AlertTransitions.Allows(a.Status, delivery.AlertFailed) {
		return
	}
	ch := acc.newChangeOf(c.cfg.Now())
	if res.Outcome == OutcomeRetry && acc.queued {
		ch = ch.note(Event{Type: delivery.EventRequeued, Attempt: len(a.Attempts)})
	} else {
		ch = ch.alertTo(delivery.AlertFailed)
	}
	if err := c.commitAfterSend(ctx, ch); err != nil {
		res.RecordErrors = append(res.RecordErrors, err)
	}
}

// outcomeOf decides the outcome of attempts out of planned channels.
func outcomeOf(attempts []Attempt, planned int) Outcome {
	unknown, transientOnly := false, true
	for _, at := range attempts {
		switch at.Status {
		case delivery.AttemptSent:
			return OutcomeSent
		case delivery.AttemptUnknown:
			unknown = true
		case delivery.AttemptFailed:
			transientOnly = transientOnly && at.Failure == delivery.Transient
		case delivery.AttemptNone, delivery.AttemptSending: // not an attempt this delivery made
		}
	}
	switch {
	case unknown:
		return OutcomeUnknown
	case len(attempts) < planned || transientOnly:
		return OutcomeRetry
	default:
		return OutcomeFailed
	}
}

// summary is the metrics summary of a's delivery.
func (c *Core) summary(a *Alert, res *Result, fallbacks int) Summary {
	s := Summary{Priority: a.Priority, Outcome: res.Outcome, Attempts: res.Attempts, Fallbacks: fallbacks}
	if res.Sent != nil && !a.AcceptedAt.IsZero() {
		s.AcceptedToSent = res.Sent.EndedAt.Sub(a.AcceptedAt)
	}
	return s
}
