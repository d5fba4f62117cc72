package alerting

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Config is what a Core is built from.
type Config struct {
	// Store keeps the alert records. Required.
	Store Store
	// Contacts looks up contacts. Required.
	Contacts ContactStore
	// Publisher delivers SMS and email. Required.
	Publisher Publisher
	// Caller places voice calls. Nil when the stack has no Amazon Connect
	// settings; a call is then a failed attempt (and the next channel is
	// tried).
	Caller Caller
	// Metrics receives a summary per alert. Optional.
	Metrics Metrics
	// SMSContent is how much of an alert its SMS carries; "" is
	// render.SMSFull.
	SMSContent render.SMSContent
	// Retention is how long records are kept (the table's TTL). Required.
	Retention time.Duration
	// FallbackOnUnknown makes an attempt whose outcome is unknown fall
	// back to the next channel. Off by default: the clinician may then be
	// paged twice.
	FallbackOnUnknown bool
	// Budget divides each invocation's time. Optional; DefaultBudget.
	Budget delivery.Budget
	// Now is the clock. Optional; time.Now.
	Now func() time.Time
	// Random returns random hex digits for instances. Optional;
	// crypto/rand.
	Random func() string
	// DeliveryTimeout is the longest a delivering invocation runs (the
	// function's timeout): Resume and GiveUp take an attempt still sending
	// after it (and a margin) for one whose invocation is over. Optional;
	// DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration

	// Escalation is the stack's escalation policies and fail-safe
	// contact. An alert copies its priority's policy when it is accepted.
	// Optional: without it nothing asks for an acknowledgment.
	Escalation escalation.Set
	// Timers sets and cancels escalation timers. Required when some
	// policy of Escalation asks for an acknowledgment.
	Timers Timers
	// AckBaseURL is the public base of acknowledgment links
	// ("<AckBaseURL>/ack/<token>"); "" puts no link in messages (SMS keep
	// their reply code).
	AckBaseURL string
	// AckGrace is how long after an alert's window its links and codes
	// still acknowledge it (late). Optional; DefaultAckGrace.
	AckGrace time.Duration
	// AckReplyCodes puts a reply code in each SMS (SMS replies reach the
	// ack function). Optional; without it an SMS carries the link only.
	AckReplyCodes bool
	// Timeliness receives acknowledgment and escalation figures.
	// Optional.
	Timeliness Timeliness
}

// DefaultAckGrace is how long after its window an alert's links and codes
// still acknowledge it, late.
const DefaultAckGrace = time.Hour

// Core accepts, delivers and reads alerts. It is safe for concurrent use.
type Core struct {
	cfg Config
	*Records
	// acksOnly: built by NewAcknowledger; it never delivers.
	acksOnly bool
}

// New builds a Core, checking that every required part is present.
func New(cfg Config) (*Core, error) {
	var missing []string
	for name, absent := range map[string]bool{
		"Store": cfg.Store == nil, "Contacts": cfg.Contacts == nil, "Publisher": cfg.Publisher == nil,
	} {
		if absent {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("alerting: missing %s", strings.Join(missing, ", "))
	}
	if cfg.Retention <= 0 {
		return nil, fmt.Errorf("alerting: Retention must be positive, got %s", cfg.Retention)
	}
	if cfg.Escalation.Enabled() && cfg.Timers == nil {
		return nil, errors.New("alerting: an escalation policy asks for acknowledgments but no Timers are set")
	}
	if cfg.Budget == (delivery.Budget{}) {
		cfg.Budget = delivery.DefaultBudget
	}
	if err := cfg.Budget.Validate(); err != nil {
		return nil, err
	}
	return newCore(cfg, false)
}

// NewAcknowledger builds a Core that only reads and acknowledges alerts
// (Acknowledge, AckByLookup, Peek, Latest): the ack function's, whose
// role may neither publish, call nor read contacts. Only Store is
// required; Timers (to delete a pending timer), Timeliness and Now are
// used (a link's or code's validity, window plus grace, is stored with it
// by whoever sent the message). Its Accept, Deliver and Escalate refuse to
// run.
func NewAcknowledger(cfg Config) (*Core, error) {
	if cfg.Store == nil {
		return nil, errors.New("alerting: missing Store")
	}
	return newCore(cfg, true)
}

// newCore fills the optional parts of cfg and builds the Core with its
// Records.
func newCore(cfg Config, acksOnly bool) (*Core, error) {
	cfg = withDefaults(cfg)
	records, err := NewRecords(RecordsConfig{Store: cfg.Store, Metrics: cfg.Metrics, Now: cfg.Now, DeliveryTimeout: cfg.DeliveryTimeout})
	if err != nil {
		return nil, err
	}
	return &Core{cfg: cfg, Records: records, acksOnly: acksOnly}, nil
}

// withDefaults fills the optional parts of cfg.
func withDefaults(cfg Config) Config {
	cfg.AckGrace = cmp.Or(cfg.AckGrace, DefaultAckGrace)
	cfg.Timeliness = cmp.Or[Timeliness](cfg.Timeliness, noMetrics{})
	cfg.Metrics = cmp.Or[Metrics](cfg.Metrics, noMetrics{})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = randomHex
	}
	return cfg
}

// errAcksOnly refuses a delivery on a Core from NewAcknowledger.
var errAcksOnly = errors.New("alerting: this core only acknowledges (NewAcknowledger)")

func randomHex() string {
	b := make([]byte, instanceRandom/2)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Budget is the time budget the Core delivers within.
func (c *Core) Budget() delivery.Budget { return c.cfg.Budget }

// NewInstance returns a fresh instance for an alert accepted now.
func (c *Core) NewInstance() string {
	id, err := NewInstance(c.cfg.Now(), c.cfg.Random())
	if err != nil {
		panic(err) // Random returned too few digits: a wiring error every test hits
	}
	return id
}

// Intake is an alert to accept.
type Intake struct {
	// Key is the API client and message_id.
	Key alert.Key
	// Instance is the alert's instance (NewInstance); the idempotency
	// record remembers it.
	Instance string
	// Alert is the validated alert.
	Alert alert.Alert
	// Actor is who sent it (the API client).
	Actor delivery.Actor
	// WithFirstWrite defers recording the acceptance to the delivery's
	// first write (the first attempt's start, or the failure when none
	// can start), saving one write per alert: the synchronous path, which
	// delivers at once, sets it. Unset, Accept records the alert at once
	// (a path that delivers later, such as a queue's worker).
	WithFirstWrite bool
}

// ErrNoDestination reports that the contact has no destination for any
// channel it prefers at the alert's priority. It wraps
// contact.ErrNoDestination.
var ErrNoDestination = contact.ErrNoDestination

// Accepted is an alert recorded as accepted, ready to deliver. It keeps
// in memory what must never be stored in the record's plan or logged: the
// destinations, and the texts rendered from the alert.
type Accepted struct {
	alert *Alert
	// first is the first delivery: the alert's contact on its channels.
	first   reach
	secrets []string
	started bool
	// actor accepted the alert; its acceptance is still to be written
	// while the alert's status is delivery.AlertNone.
	actor delivery.Actor
	// planned is how many channels a round of attempts tries: the
	// alert's channels.
	planned int
	// from is how many attempts the alert had before the current round
	// (a round restarts at the first channel after a requeue); prior are
	// the round's attempts made before this delivery (a queued alert
	// taken up again after its invocation ended). The routes continue
	// after them.
	from  int
	prior []Attempt
	// queued marks an alert delivered from the queue (Resume): a delivery
	// that ends with OutcomeRetry requeues it instead of failing it.
	queued bool
}

// Record is the alert as recorded so far.
func (a *Accepted) Record() *Alert { return a.alert }

// DeliveryStarted reports whether a provider has been called for it: from
// then on nobody knows, after a crash, whether it was delivered.
func (a *Accepted) DeliveryStarted() bool { return a.started }

// redacted replaces a secret in a logged text.
const redacted = "[redacted]"

// Scrub removes from s every value of the alert that must not be logged:
// its free text and patient id, the rendered texts and the destinations,
// longest first so that a secret inside another is not left in pieces.
// Provider errors may echo what they were sent.
func (a *Accepted) Scrub(s string) string {
	secrets := slices.Clone(a.secrets)
	slices.SortFunc(secrets, func(x, y string) int { return cmp.Compare(len(y), len(x)) })
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// addReach adds a reach's destinations and phone numbers to the secrets.
func (a *Accepted) addReach(r reach) {
	a.addSecrets(r.contact.CallPhone, r.contact.SMSPhone)
	for _, rt := range r.routes {
		a.addSecrets(rt.Destination)
	}
}

func (a *Accepted) addSecrets(s ...string) {
	for _, v := range s {
		if v != "" {
			a.secrets = append(a.secrets, v)
		}
	}
}

// Accept looks the contact up, plans its channels for the alert's
// priority and records the alert as accepted (with the delivery's first
// write when in.WithFirstWrite is set). Nothing is recorded when
// the contact is unknown (an error wrapping ErrContactNotFound) or has no
// destination for any preferred channel (ErrNoDestination); any other
// error is the contact store's or the record's.
func (c *Core) Accept(ctx context.Context, in Intake) (*Accepted, error) {
	if c.acksOnly {
		return nil, errAcksOnly
	}
	ct, err := c.cfg.Contacts.GetContact(ctx, in.Alert.ContactID)
	if err != nil {
		return nil, fmt.Errorf("load contact %s: %w", in.Alert.ContactID, err)
	}
	routes, err := ct.Routes(in.Alert.Priority)
	if err != nil {
		return nil, fmt.Errorf("route contact %s: %w", ct.ID, err)
	}
	now := c.cfg.Now()
	a := &Alert{
		Key: in.Key, Instance: in.Instance, Priority: in.Alert.Priority, ContactID: ct.ID,
		PayloadHash: in.Alert.Hash(), Content: in.Alert, ExpiresAt: now.Add(c.cfg.Retention),
		Policy: c.cfg.Escalation.For(in.Alert.Priority, ct.Secondary),
	}
	for _, r := range routes {
		a.Channels = append(a.Channels, r.Channel)
	}
	acc := &Accepted{alert: a, first: reach{contact: ct, routes: routes}, actor: in.Actor, planned: len(routes)}
	acc.addSecrets(in.Alert.Description, render.EscapeSSML(in.Alert.Description), in.Alert.PatientID)
	acc.addReach(acc.first)
	if in.WithFirstWrite {
		return acc, nil
	}
	if err := newChange(a, in.Actor, now).alertTo(delivery.AlertAccepted).commit(ctx, c.cfg.Store); err != nil {
		return nil, err
	}
	return acc, nil
}

// newChangeOf starts a change of acc's alert made by the system, recording
// first, by acc's actor, the acceptance still to be written.
func (a *Accepted) newChangeOf(at time.Time) *change {
	ch := newChange(a.alert, a.actor, at)
	if a.alert.Status == delivery.AlertNone {
		ch.alertTo(delivery.AlertAccepted)
	}
	return ch.as(delivery.System)
}
