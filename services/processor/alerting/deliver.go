package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
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
	// TimerErr says why the alert's first escalation timer could not be
	// set: it will not escalate.
	TimerErr error
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

// reach is one contact reached on its channels in order, falling back
// from a failed channel to the next: the first delivery of an alert, or
// one target of an escalation stage.
type reach struct {
	contact contact.Contact
	routes  []contact.Route
	// stage is the escalation stage (0: the first delivery).
	stage int
}

// Deliver tries acc's channels in order until one is sent. Each attempt
// is recorded as sending before its provider is called and with its
// outcome after; a failed attempt falls back to the next channel at once
// (an unknown one only with Config.FallbackOnUnknown). An attempt starts
// only while the budget leaves it time before deadline, and never when
// its start could not be recorded. The alert ends sent, failed, or (when
// an outcome is unknown) accepted; a queued alert (Resume) that may
// succeed on a retry ends accepted and requeued instead of failed. When
// another delivery took the alert first, it stops at once (Result.Taken).
// When it is sent or unknown and its policy asks for an acknowledgment,
// its first escalation timer is set (Result.TimerErr says when that
// failed).
func (c *Core) Deliver(ctx context.Context, acc *Accepted, deadline time.Time) Result {
	var res Result
	fallbacks := c.deliverReach(ctx, acc, acc.first, deadline, &res)
	if res.Taken {
		return res
	}
	c.conclude(ctx, acc, &res)
	c.cfg.Metrics.Finished(c.summary(acc.alert, &res, fallbacks))
	if res.Outcome == OutcomeSent || res.Outcome == OutcomeUnknown {
		res.TimerErr = c.arm(ctx, acc.alert, 1)
	}
	return res
}

// deliverReach tries r's channels in order until one is sent, adding its
// attempts to res; it returns how often it fell back.
func (c *Core) deliverReach(ctx context.Context, acc *Accepted, r reach, deadline time.Time, res *Result) int {
	fallbacks := 0
	var last Attempt
	for i := range r.routes {
		if i > 0 && !c.mayFallBack(last) {
			break
		}
		if window := deadline.Sub(c.cfg.Now()) - c.cfg.Budget.Reserve; window < c.cfg.Budget.Attempt {
			res.Cause = fmt.Errorf("%w: %s before the reserve, %s needed", errOutOfTime, window, c.cfg.Budget.Attempt)
			break
		}
		if i > 0 || len(acc.prior) > 0 {
			fallbacks++
		}
		at, ok := c.attempt(ctx, acc, r, i, deadline, res)
		if !ok && errors.Is(res.Cause, errTaken) {
			res.Outcome, res.Taken = OutcomeRetry, true
			return fallbacks
		}
		if !ok {
			break
		}
		res.Attempts = append(res.Attempts, at)
		last = at
		if at.Status == delivery.AttemptSent {
			break
		}
	}
	return fallbacks
}

// mayFallBack reports whether the channel after attempt at may be tried.
func (c *Core) mayFallBack(at Attempt) bool {
	return at.Status == delivery.AttemptFailed || (at.Status == delivery.AttemptUnknown && c.cfg.FallbackOnUnknown)
}

// errAcknowledged stops a delivery: the alert was acknowledged meanwhile.
var errAcknowledged = errors.New("the alert was acknowledged meanwhile")

// errTaken stops a delivery: another delivery started an attempt of the
// alert since it was read (a second taker of a queued message).
var errTaken = fmt.Errorf("another delivery took the alert: %w", ErrConflict)

// attempt records route i of r as the alert's next attempt, sending
// (after a fallback event when it is not r's first route), with the ack
// token and code its message carries; calls the provider; and records
// the outcome. ok is false when the start could not be recorded (then
// nothing was sent), the alert was acknowledged meanwhile, or another
// delivery took it (errTaken: the record gained an attempt since it was
// read).
func (c *Core) attempt(ctx context.Context, acc *Accepted, r reach, i int, deadline time.Time, res *Result) (Attempt, bool) {
	n, ack, err := c.start(ctx, acc, r, i)
	if err != nil {
		if !errors.Is(err, errAcknowledged) && !errors.Is(err, errTaken) {
			res.RecordErrors = append(res.RecordErrors, err)
		}
		res.Cause = err
		return Attempt{}, false
	}
	acc.addSecrets(ack.Link, ack.Code)

	sendCtx, cancel := context.WithDeadline(ctx, c.sendDeadline(deadline))
	ref, err := c.send(sendCtx, acc, r, r.routes[i], n, ack, res)
	cancel()

	status, set := delivery.AttemptSent, func(at *Attempt) { at.ProviderRef = ref }
	if err != nil {
		res.Cause = err
		class, code := classify(err)
		status, set = delivery.AttemptStatusOf(class), func(at *Attempt) { at.Failure, at.FailureCode = class, code }
	}
	return c.finish(ctx, acc.alert, n, status, set, res), true
}

// start records route i of r as the alert's next attempt, sending, and
// returns its number and what its message asks to acknowledge with. It
// fails with errTaken when the record gained an attempt since it was
// read, and with errAcknowledged when the alert was acknowledged.
func (c *Core) start(ctx context.Context, acc *Accepted, r reach, i int) (int, render.Ack, error) {
	a, route := acc.alert, r.routes[i]
	var n int
	var ack render.Ack
	read, taken := len(a.Attempts), false
	err := c.write(ctx, a, func(a *Alert) *change {
		if taken = len(a.Attempts) != read; taken || a.Status == delivery.AlertAcknowledged {
			return nil
		}
		n = len(a.Attempts) + 1
		start := acc.newChangeOf(c.cfg.Now())
		switch {
		case i > 0:
			start.note(Event{Type: delivery.EventFallback, Attempt: n, Channel: route.Channel, FromChannel: r.routes[i-1].Channel, Stage: r.stage})
		case len(acc.prior) > 0: // a queued alert's round goes on after its last failed attempt
			start.note(Event{Type: delivery.EventFallback, Attempt: n, Channel: route.Channel, FromChannel: acc.prior[len(acc.prior)-1].Channel})
		}
		var lookups []Lookup
		ack, lookups = c.ackFor(start.next, r.contact, route.Channel, n)
		return start.startAttempt(n, route.Channel, r.contact.ID, r.stage).with(lookups...)
	})
	switch {
	case err != nil:
	case taken:
		err = errTaken
	case a.Status == delivery.AlertAcknowledged:
		err = errAcknowledged
	}
	return n, ack, err
}

// finish records attempt n's outcome (and the alert sent, when it is the
// first sent attempt) and returns the attempt as it happened, recorded or
// not.
func (c *Core) finish(ctx context.Context, a *Alert, n int, status delivery.AttemptStatus, set func(*Attempt), res *Result) Attempt {
	out := Attempt{}
	werr := c.writeAfterSend(ctx, a, func(a *Alert) *change {
		if at := a.attempt(n); at == nil || at.Status != delivery.AttemptSending {
			return nil
		}
		finish := newChange(a, delivery.System, c.cfg.Now()).attemptTo(n, status, set)
		if status == delivery.AttemptSent && delivery.AlertTransitions.Allows(a.Status, delivery.AlertSent) {
			finish.alertTo(delivery.AlertSent)
		}
		if at := finish.next.attempt(n); at != nil {
			out = *at
		}
		return finish
	})
	if werr != nil {
		res.RecordErrors = append(res.RecordErrors, werr)
	}
	if out.Number == 0 && a.attempt(n) != nil {
		out = *a.attempt(n)
	}
	return out
}

// ackFor returns what the message of attempt n (to ct on ch) asks the
// clinician to acknowledge with, and the lookups that record it: a link
// token (with Config.AckBaseURL) for SMS and email, a reply code (with
// Config.AckReplyCodes) for SMS to a contact whose number is known. Calls carry their attempt instead
// (CallRequest.Ref). Nothing when the alert's policy asks for no
// acknowledgment. Each is valid until the alert's window and the grace
// have passed.
func (c *Core) ackFor(a *Alert, ct contact.Contact, ch contact.Channel, n int) (render.Ack, []Lookup) {
	if !a.Policy.Enabled() || ch == contact.ChannelCall {
		return render.Ack{}, nil
	}
	ref := AckRef{Key: a.Key, Instance: a.Instance, Attempt: n, ContactID: ct.ID}
	lookup := func(kind LookupKind, hash string) Lookup {
		return Lookup{Kind: kind, Hash: hash, Ref: ref, ExpiresAt: a.ExpiresAt,
			ValidUntil: a.AcceptedAt.Add(a.Policy.UnacknowledgedAfter + c.cfg.AckGrace)}
	}
	var ack render.Ack
	var lookups []Lookup
	if c.cfg.AckBaseURL != "" {
		token := NewToken()
		ack.Link = strings.TrimSuffix(c.cfg.AckBaseURL, "/") + "/" + names.AckPath + "/" + token
		lookups = append(lookups, lookup(LookupToken, TokenHash(token)))
	}
	if c.cfg.AckReplyCodes && ch == contact.ChannelSMS && ct.SMSPhone != "" {
		ack.Code = NewCode()
		lookups = append(lookups, lookup(LookupCode, CodeHash(ct.SMSPhone, ack.Code)))
	}
	return ack, lookups
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

// writeAfterSend writes a change that follows a provider call: not
// cancelled with the request (the outcome must be recorded even then),
// bounded by the reserve.
func (c *Core) writeAfterSend(ctx context.Context, a *Alert, build func(*Alert) *change) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Budget.Reserve)
	defer cancel()
	return c.write(ctx, a, build)
}

// maxReloads bounds how often one write is built again after another
// writer changed the record first.
const maxReloads = 4

// write commits the change build makes from a's current state. When
// another writer changed the record first (a version conflict: an
// acknowledgment racing a timer, or a delivery's outcome), it reloads a
// and builds again, so the loser applies its move to what the winner
// left, or finds that the move no longer applies; unless the record it
// finds was moved without an audit event (an inconsistent record, which
// nothing is written on top of). build returns nil when there is nothing
// left to write.
func (c *Core) write(ctx context.Context, a *Alert, build func(*Alert) *change) error {
	for i := 0; ; i++ {
		ch := build(a)
		if ch == nil {
			return nil
		}
		err := ch.commit(ctx, c.cfg.Store)
		if err == nil || !errors.Is(err, ErrConflict) || i == maxReloads {
			return err
		}
		fresh, lerr := c.cfg.Store.Load(ctx, a.Key, a.Instance)
		switch {
		case errors.Is(lerr, ErrNotFound) && a.Version == 0:
			continue // nothing recorded yet: a new lookup collided; build again
		case lerr != nil:
			return errors.Join(err, lerr)
		case !fresh.consistent():
			return err
		}
		*a = *fresh
	}
}

// classify returns the class and code of a provider error.
func classify(err error) (delivery.Class, string) {
	var f *delivery.Error
	if errors.As(err, &f) {
		return f.Class, f.Code
	}
	return delivery.Ambiguous, "unclassified"
}

// send renders the alert for the route's channel, with what it asks to
// acknowledge with, and hands it to the provider. Errors are the
// provider's, classified by the adapter.
func (c *Core) send(ctx context.Context, acc *Accepted, r reach, route contact.Route, n int, ack render.Ack, res *Result) (string, error) {
	a := acc.alert
	if route.Destination == "" { // a queued alert's contact lost the channel's destination since
		return "", &delivery.Error{Class: delivery.Permanent, Code: "no_destination",
			Err: fmt.Errorf("contact %s has no %s destination", a.ContactID, route.Channel)}
	}
	switch route.Channel {
	case contact.ChannelEmail:
		e := render.EmailWithAck(a.Content, ack)
		acc.addSecrets(e.Body)
		acc.started = true
		return c.cfg.Publisher.PublishEmail(ctx, route.Destination, e.Subject, e.Body)
	case contact.ChannelSMS:
		s := render.SMSWithAck(a.Content, c.cfg.SMSContent, ack)
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
		req := CallRequest{
			Destination: route.Destination, MessageSSML: voice,
			ClientToken: delivery.CallClientToken(a.Key, a.PayloadHash, delivery.CallAttempt{ContactID: r.contact.ID, Number: n}),
		}
		if a.Policy.Enabled() {
			req.Ref = AckRef{Key: a.Key, Instance: a.Instance, Attempt: n, ContactID: r.contact.ID}
		}
		return c.cfg.Caller.Call(ctx, req)
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
	err := c.writeAfterSend(ctx, acc.alert, func(a *Alert) *change {
		if a.Status != delivery.AlertNone && !delivery.AlertTransitions.Allows(a.Status, delivery.AlertFailed) {
			return nil
		}
		ch := acc.newChangeOf(c.cfg.Now())
		if res.Outcome == OutcomeRetry && acc.queued {
			return ch.note(Event{Type: delivery.EventRequeued, Attempt: len(a.Attempts)})
		}
		return ch.alertTo(delivery.AlertFailed)
	})
	if err != nil {
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
