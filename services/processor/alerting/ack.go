package alerting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

// AckRequest is one acknowledgment, however it arrived: the one rule of
// Acknowledge applies to all four ways.
type AckRequest struct {
	// Key names the alert; Instance its instance ("" for the newest, as
	// the API names alerts).
	Key      alert.Key
	Instance string
	// Method is how it arrived.
	Method delivery.AckMethod
	// By is who acknowledged. Zero for a keypad acknowledgment: the
	// called attempt's contact.
	By delivery.Actor
	// Attempt is the attempt it answers (its link, code or call); 0 for
	// the API.
	Attempt int
	// ContactRef is, for a keypad acknowledgment, the Connect ContactId of
	// the call: it must be the one Attempt recorded.
	ContactRef string
	// Lookup is the link token or reply code used, recorded as used in
	// the same write.
	Lookup *Lookup
}

// AckResult is what Acknowledge did.
type AckResult struct {
	// Alert is the alert as recorded after.
	Alert *Alert
	// Ack is the acknowledgment in force: this one, or the first one's
	// when Already.
	Ack Ack
	// Already is true when the alert was acknowledged before and nothing
	// changed.
	Already bool
	// CancelErr says why the pending timer could not be deleted (a best
	// effort: it finds the alert acknowledged and does nothing).
	CancelErr error
}

// Errors of Acknowledge and AckByLookup.
var (
	// ErrNotAcknowledgeable: the alert failed on every channel, or is not
	// recorded yet; nobody has anything to acknowledge.
	ErrNotAcknowledgeable = errors.New("the alert reached nobody: nothing to acknowledge")
	// ErrRefused: a keypad acknowledgment whose call is not the one the
	// attempt recorded.
	ErrRefused = errors.New("the acknowledgment does not match the attempt it names")
	// ErrExpired: the link or code is past the alert's window and grace.
	ErrExpired = errors.New("the link or code has expired")
	// ErrUsed: the link or code has acknowledged the alert already.
	ErrUsed = errors.New("the link or code was used already")
)

// keypadWait bounds how long a keypad acknowledgment waits for its call's
// outcome to be recorded (the clinician may press 1 before the processor
// has written the call's ContactId); Connect waits at most 8 s for the
// function.
const (
	keypadWait = 4 * time.Second
	keypadPoll = 100 * time.Millisecond
)

// Acknowledge records that a clinician (or the owning API client) has
// the alert: who, how, when, and whether it came after the window
// (late). It is idempotent: an alert acknowledged before answers that
// first acknowledgment and changes nothing. The move is one write
// conditioned on the state read; when a timer or a delivery wrote first,
// it reloads and applies the acknowledgment to what it finds. Once
// recorded, the pending escalation timer is deleted (a best effort).
// Errors: ErrNotFound, ErrNotAcknowledgeable, ErrRefused, or the store's.
func (c *Core) Acknowledge(ctx context.Context, req AckRequest) (AckResult, error) {
	a, err := c.find(ctx, req.Key, req.Instance)
	if err != nil {
		return AckResult{}, err
	}
	if req.Method == delivery.AckKeypad {
		if a, err = c.awaitCall(ctx, a, req); err != nil {
			return AckResult{Alert: a}, err
		}
	}
	if req.By == (delivery.Actor{}) {
		if at := a.attempt(req.Attempt); at != nil {
			req.By = delivery.Contact(at.ContactID)
		}
	}
	var res AckResult
	var refusal error
	err = c.write(ctx, a, func(a *Alert) *change {
		var ch *change
		ch, res, refusal = c.ackChange(a, req)
		return ch
	})
	res.Alert = a
	if err == nil {
		err = refusal
	}
	if err != nil {
		return res, err
	}
	if !res.Already {
		c.cfg.Timeliness.Acknowledged(AckSummary{
			Priority: a.Priority, Method: res.Ack.Method, Late: res.Ack.Late, AcceptedToAcknowledged: res.Ack.At.Sub(a.AcceptedAt),
		})
		res.CancelErr = c.cancel(ctx, a)
	}
	return res, nil
}

// ackChange is the acknowledgment's change on a's state: nil when it was
// acknowledged before (Already) or cannot be.
func (c *Core) ackChange(a *Alert, req AckRequest) (*change, AckResult, error) {
	if a.Ack != nil {
		return nil, AckResult{Ack: *a.Ack, Already: true}, nil
	}
	if !delivery.AlertTransitions.Allows(a.Status, delivery.AlertAcknowledged) {
		return nil, AckResult{}, fmt.Errorf("alert %s is %s: %w", a.Key, a.Status, ErrNotAcknowledgeable)
	}
	now := c.cfg.Now()
	ack := Ack{At: now, By: req.By, Method: req.Method, Attempt: req.Attempt, Late: late(a, now)}
	ch := newChange(a, req.By, now).acknowledge(ack)
	if req.Lookup != nil {
		used := *req.Lookup
		used.Use, used.UsedAt = true, now
		ch.with(used)
	}
	return ch, AckResult{Ack: ack}, nil
}

// late reports whether an acknowledgment at t comes after a's window.
func late(a *Alert, t time.Time) bool {
	return a.Status == delivery.AlertUnacknowledged ||
		(a.Policy.Enabled() && t.After(a.AcceptedAt.Add(a.Policy.UnacknowledgedAfter)))
}

// find reads instance of key, or its newest instance when instance is "".
func (c *Core) find(ctx context.Context, key alert.Key, instance string) (*Alert, error) {
	var a *Alert
	var err error
	if instance == "" {
		a, err = c.cfg.Store.Latest(ctx, key)
	} else {
		a, err = c.cfg.Store.Load(ctx, key, instance)
	}
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", key, err)
	}
	return a, nil
}

// awaitCall checks a keypad acknowledgment against its attempt: a call
// whose recorded ContactId is req.ContactRef. While the call's outcome is
// not recorded yet it rereads the alert, for at most keypadWait.
func (c *Core) awaitCall(ctx context.Context, a *Alert, req AckRequest) (*Alert, error) {
	ctx, cancel := context.WithTimeout(ctx, keypadWait)
	defer cancel()
	for {
		at := a.attempt(req.Attempt)
		switch {
		case at == nil || at.Channel != contact.ChannelCall || req.ContactRef == "":
			return a, fmt.Errorf("attempt %d of alert %s is not a call: %w", req.Attempt, a.Key, ErrRefused)
		case at.ProviderRef == req.ContactRef:
			return a, nil
		case at.ProviderRef != "" || at.Status != delivery.AttemptSending:
			return a, fmt.Errorf("attempt %d of alert %s recorded another call: %w", req.Attempt, a.Key, ErrRefused)
		}
		select {
		case <-ctx.Done():
			return a, fmt.Errorf("attempt %d of alert %s recorded no call in time: %w", req.Attempt, a.Key, ErrRefused)
		case <-time.After(keypadPoll):
		}
		fresh, err := c.cfg.Store.Load(ctx, a.Key, a.Instance)
		if err != nil {
			return a, fmt.Errorf("reread alert %s: %w", a.Key, err)
		}
		a = fresh
	}
}

// cancel deletes a's pending escalation timer (the one after its stage).
func (c *Core) cancel(ctx context.Context, a *Alert) error {
	n := a.Stage + 1
	if _, ok := a.Policy.Due(n); !ok || c.cfg.Timers == nil {
		return nil
	}
	t := escalation.Timer{Key: a.Key, Instance: a.Instance, Number: n}
	if err := c.cfg.Timers.Cancel(ctx, t); err != nil {
		return fmt.Errorf("delete escalation timer %s of alert %s: %w", t.Name(), a.Key, err)
	}
	return nil
}

// Peek finds the lookup of kind with hash and its alert, changing
// nothing (what an acknowledgment page shows before the button is
// pressed). Errors: ErrNotFound; ErrUsed or ErrExpired with the lookup
// and its alert; or the store's.
func (c *Core) Peek(ctx context.Context, kind LookupKind, hash string) (Lookup, *Alert, error) {
	l, err := c.cfg.Store.FindLookup(ctx, kind, hash)
	if err != nil {
		return Lookup{}, nil, fmt.Errorf("find %s: %w", kind, err)
	}
	a, err := c.cfg.Store.Load(ctx, l.Ref.Key, l.Ref.Instance)
	switch {
	case err != nil:
		return l, nil, fmt.Errorf("read alert %s: %w", l.Ref.Key, err)
	case l.Used():
		return l, a, ErrUsed
	case l.Expired(c.cfg.Now()):
		return l, a, ErrExpired
	}
	return l, a, nil
}

// AckByLookup acknowledges the attempt a link token or reply code names,
// by its contact, if it is neither used (ErrUsed: the result holds the
// alert and its acknowledgment) nor past the alert's window and grace
// (ErrExpired). A link or code acknowledges once; on an alert that was
// acknowledged another way, it answers that acknowledgment (Already)
// without being used.
func (c *Core) AckByLookup(ctx context.Context, kind LookupKind, hash string, method delivery.AckMethod) (AckResult, error) {
	l, a, err := c.Peek(ctx, kind, hash)
	res := AckResult{Alert: a}
	if a != nil && a.Ack != nil {
		res.Ack, res.Already = *a.Ack, errors.Is(err, ErrUsed)
	}
	if err != nil {
		return res, err
	}
	return c.Acknowledge(ctx, AckRequest{
		Key: l.Ref.Key, Instance: l.Ref.Instance, Method: method, By: delivery.Contact(l.Ref.ContactID),
		Attempt: l.Ref.Attempt, Lookup: &l,
	})
}
