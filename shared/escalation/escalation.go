// Package escalation is what happens to an alert nobody acknowledges: for
// each priority a Policy of ordered stages, each reached a set time after
// the alert was accepted unless someone acknowledged it first, each
// reaching further (the same contact's next channel, a repeat call, the
// contact's secondary, the site's fail-safe contact, or a named contact),
// and the window after which the alert is unacknowledged.
//
// The stack configures one Policy per priority (Set, in the functions'
// environment as JSON). Each alert carries a copy of its priority's
// policy, resolved for its contact, from the moment it is accepted, so a
// later change of the configuration does not alter alerts in flight.
//
// A Timer is one pending stage of one alert: the escalate function's
// input, delivered by one EventBridge Scheduler schedule named by
// Timer.Name.
package escalation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// Target is who a stage reaches.
type Target string

// The targets of a stage. A target naming one contact is "contact:<id>"
// (ContactTarget).
const (
	// NextChannel: the alerted contact, on the channel after the last one
	// it was sent on (its preference list for the priority), falling back
	// along the list.
	NextChannel Target = "next-channel"
	// RepeatCall: the alerted contact, called again.
	RepeatCall Target = "repeat-call"
	// Secondary: the alerted contact's secondary (a registrar), or the
	// fail-safe contact when it has none.
	Secondary Target = "secondary"
	// FailSafe: the stack's fail-safe contact (the site's on-call or bleep
	// holder).
	FailSafe Target = "fail-safe"

	contactPrefix = "contact:"
)

// ContactTarget is the target that reaches contact id on its channels
// for the alert's priority.
func ContactTarget(id string) Target { return Target(contactPrefix + id) }

// Contact returns the contact id of a "contact:<id>" target.
func (t Target) Contact() (string, bool) {
	id, ok := strings.CutPrefix(string(t), contactPrefix)
	return id, ok && id != ""
}

// check reports what is wrong with the target's form, or "".
func (t Target) check() string {
	switch t {
	case NextChannel, RepeatCall, Secondary, FailSafe:
		return ""
	}
	id, ok := t.Contact()
	if !ok {
		return fmt.Sprintf("unknown target %q (want %s, %s, %s, %s or contact:<id>)", t, NextChannel, RepeatCall, Secondary, FailSafe)
	}
	if reason := alert.CheckField(alert.FieldContactID, id); reason != "" {
		return fmt.Sprintf("target %q: the contact id %s", t, reason)
	}
	return ""
}

// Stage is one step of a policy.
type Stage struct {
	// After is when the stage is due, counted from the alert's acceptance.
	After time.Duration
	// Targets are reached when it is due, in order.
	Targets []Target
}

// Policy is how long an alert of one priority may stay unacknowledged,
// and what happens meanwhile. The zero Policy asks for no
// acknowledgment: no link, no code, no timer.
type Policy struct {
	// Stages are due in order, each later than the one before.
	Stages []Stage
	// UnacknowledgedAfter is when, counted from acceptance, an alert still
	// unacknowledged becomes unacknowledged (and an alarm fires); after
	// the last stage. Zero: no acknowledgment is asked for.
	UnacknowledgedAfter time.Duration
}

// Enabled reports whether the policy asks for an acknowledgment.
func (p Policy) Enabled() bool { return p.UnacknowledgedAfter > 0 }

// Final is the number of the last timer of the policy: the one after the
// last stage, at UnacknowledgedAfter.
func (p Policy) Final() int { return len(p.Stages) + 1 }

// Due is when timer number n (1 to Final) is due, counted from the
// alert's acceptance.
func (p Policy) Due(n int) (time.Duration, bool) {
	switch {
	case !p.Enabled() || n < 1 || n > p.Final():
		return 0, false
	case n == p.Final():
		return p.UnacknowledgedAfter, true
	default:
		return p.Stages[n-1].After, true
	}
}

// Targets are the targets of stage n (1 to len(Stages)).
func (p Policy) Targets(n int) []Target {
	if n < 1 || n > len(p.Stages) {
		return nil
	}
	return p.Stages[n-1].Targets
}

// Resolve returns the policy as one alert carries it: Secondary becomes
// the contact's secondary (the fail-safe contact when it has none) and
// FailSafe the fail-safe contact, so that only NextChannel, RepeatCall and
// contact targets remain. A target left with no contact is dropped.
func (p Policy) Resolve(secondary, failSafe string) Policy {
	out := Policy{UnacknowledgedAfter: p.UnacknowledgedAfter}
	for _, s := range p.Stages {
		st := Stage{After: s.After}
		for _, t := range s.Targets {
			switch {
			case t == Secondary && secondary != "":
				t = ContactTarget(secondary)
			case t == Secondary || t == FailSafe:
				if failSafe == "" {
					continue
				}
				t = ContactTarget(failSafe)
			}
			if !slices.Contains(st.Targets, t) {
				st.Targets = append(st.Targets, t)
			}
		}
		out.Stages = append(out.Stages, st)
	}
	return out
}

// Limits of a policy.
const (
	// MaxStages bounds the stages of one policy.
	MaxStages = 10
	// MaxTargets bounds the targets of one stage.
	MaxTargets = 5
	// MaxWindow bounds UnacknowledgedAfter: a window longer than a day is
	// not an escalation.
	MaxWindow = 24 * time.Hour
)

// Problem is one thing wrong with a policy: the field at fault, relative
// to the policy ("stages[1].after"), and why.
type Problem struct {
	Field   string
	Message string
}

// Check reports what is wrong with p. Durations must be whole multiples
// of unit, at least one unit (time.Minute on stacks that page people,
// time.Second on test stacks), each stage later than the one before and
// the window after the last. knownContact says whether a contact target's
// id is configured.
func (p Policy) Check(unit time.Duration, knownContact func(string) bool) []Problem {
	if !p.Enabled() {
		if len(p.Stages) > 0 {
			return []Problem{{"unacknowledgedAfter", "missing: a policy with stages needs the window after the last"}}
		}
		return nil
	}
	var out []Problem
	if len(p.Stages) > MaxStages {
		out = append(out, Problem{"stages", fmt.Sprintf("%d stages: at most %d", len(p.Stages), MaxStages)})
	}
	var prev time.Duration
	for i, s := range p.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if msg := checkDuration(s.After, unit); msg != "" {
			out = append(out, Problem{f + ".after", msg})
		} else if s.After <= prev {
			out = append(out, Problem{f + ".after", fmt.Sprintf("%s must be later than the stage before (%s)", s.After, prev)})
		}
		prev = max(prev, s.After)
		out = append(out, checkTargets(f+".targets", s.Targets, knownContact)...)
	}
	switch msg := checkDuration(p.UnacknowledgedAfter, unit); {
	case msg != "":
		out = append(out, Problem{"unacknowledgedAfter", msg})
	case p.UnacknowledgedAfter <= prev:
		out = append(out, Problem{"unacknowledgedAfter", fmt.Sprintf("%s must be later than the last stage (%s)", p.UnacknowledgedAfter, prev)})
	case p.UnacknowledgedAfter > MaxWindow:
		out = append(out, Problem{"unacknowledgedAfter", fmt.Sprintf("%s is longer than %s", p.UnacknowledgedAfter, MaxWindow)})
	}
	return out
}

// checkDuration says what is wrong with one duration, or "".
func checkDuration(d, unit time.Duration) string {
	switch {
	case d < unit:
		return fmt.Sprintf("%s is shorter than the %s this stack allows", d, unit)
	case d%unit != 0:
		return fmt.Sprintf("%s is not a whole number of %ss", d, unitName(unit))
	}
	return ""
}

func unitName(unit time.Duration) string {
	if unit == time.Second {
		return "second"
	}
	return "minute"
}

func checkTargets(field string, targets []Target, knownContact func(string) bool) []Problem {
	var out []Problem
	if len(targets) == 0 || len(targets) > MaxTargets {
		out = append(out, Problem{field, fmt.Sprintf("%d targets: name 1 to %d", len(targets), MaxTargets)})
	}
	for j, t := range targets {
		tf := fmt.Sprintf("%s[%d]", field, j)
		if msg := t.check(); msg != "" {
			out = append(out, Problem{tf, msg})
			continue
		}
		if slices.Contains(targets[:j], t) {
			out = append(out, Problem{tf, fmt.Sprintf("target %s is named twice", t)})
		}
		if id, ok := t.Contact(); ok && knownContact != nil && !knownContact(id) {
			out = append(out, Problem{tf, fmt.Sprintf("no contact has the id %q", id)})
		}
	}
	return out
}

// UsesFailSafe reports whether the policy names the fail-safe contact (a
// Secondary target falls back to it too).
func (p Policy) UsesFailSafe() bool {
	for _, s := range p.Stages {
		if slices.Contains(s.Targets, FailSafe) || slices.Contains(s.Targets, Secondary) {
			return true
		}
	}
	return false
}

// Defaults are the policies of a stack that configures none: H
// acknowledges within 5 minutes, then its next channel and a repeat call,
// at +10 minutes its secondary contact, at +20 minutes the fail-safe
// contact, unacknowledged at +30 minutes; M at 15, 30 and 60 minutes,
// unacknowledged at 90; L asks for no acknowledgment.
func Defaults() map[alert.Priority]Policy {
	return map[alert.Priority]Policy{
		alert.PriorityHigh: {
			Stages: []Stage{
				{After: 5 * time.Minute, Targets: []Target{NextChannel, RepeatCall}},
				{After: 10 * time.Minute, Targets: []Target{Secondary}},
				{After: 20 * time.Minute, Targets: []Target{FailSafe}},
			},
			UnacknowledgedAfter: 30 * time.Minute,
		},
		alert.PriorityMedium: {
			Stages: []Stage{
				{After: 15 * time.Minute, Targets: []Target{NextChannel}},
				{After: 30 * time.Minute, Targets: []Target{Secondary}},
				{After: 60 * time.Minute, Targets: []Target{FailSafe}},
			},
			UnacknowledgedAfter: 90 * time.Minute,
		},
		alert.PriorityLow: {},
	}
}

// policyJSON is a policy's JSON form: durations as Go durations ("5m").
type policyJSON struct {
	Stages              []stageJSON `json:"stages,omitempty"`
	UnacknowledgedAfter string      `json:"unacknowledgedAfter,omitempty"`
}

type stageJSON struct {
	After   string   `json:"after"`
	Targets []Target `json:"targets"`
}

// MarshalJSON writes the policy's JSON form.
func (p Policy) MarshalJSON() ([]byte, error) {
	out := policyJSON{}
	if p.UnacknowledgedAfter > 0 {
		out.UnacknowledgedAfter = p.UnacknowledgedAfter.String()
	}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, stageJSON{After: s.After.String(), Targets: s.Targets})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("escalation policy: %w", err)
	}
	return b, nil
}

// UnmarshalJSON reads the policy's JSON form.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var in policyJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("escalation policy: %w", err)
	}
	out := Policy{}
	var err error
	if in.UnacknowledgedAfter != "" {
		if out.UnacknowledgedAfter, err = time.ParseDuration(in.UnacknowledgedAfter); err != nil {
			return fmt.Errorf("escalation policy: unacknowledgedAfter: %w", err)
		}
	}
	for i, s := range in.Stages {
		d, err := time.ParseDuration(s.After)
		if err != nil {
			return fmt.Errorf("escalation policy: stages[%d].after: %w", i, err)
		}
		out.Stages = append(out.Stages, Stage{After: d, Targets: s.Targets})
	}
	*p = out
	return nil
}

// Set is every policy of a stack and its fail-safe contact: the
// functions' names.EnvEscalation, as JSON.
type Set struct {
	// Policies by priority; a priority without one asks for no
	// acknowledgment.
	Policies map[alert.Priority]Policy `json:"policies"`
	// FailSafe is the fail-safe contact's id ("" when none is set).
	FailSafe string `json:"failSafe,omitempty"`
}

// For is the policy of priority p, resolved for a contact whose secondary
// is secondary ("" when it has none).
func (s Set) For(p alert.Priority, secondary string) Policy {
	return s.Policies[p].Resolve(secondary, s.FailSafe)
}

// Enabled reports whether some priority asks for an acknowledgment.
func (s Set) Enabled() bool {
	for _, p := range s.Policies {
		if p.Enabled() {
			return true
		}
	}
	return false
}

// ParseSet reads a Set's JSON ("" is the empty set: nothing escalates).
func ParseSet(s string) (Set, error) {
	var out Set
	if s == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return Set{}, fmt.Errorf("escalation set: %w", err)
	}
	for p := range out.Policies {
		if !p.Valid() {
			return Set{}, fmt.Errorf("escalation set: unknown priority %q", p)
		}
	}
	return out, nil
}

// Timer is one pending timer of one alert: the escalate function's input,
// which one EventBridge Scheduler schedule (Name) delivers when the timer
// is due. Number n of 1 to Policy.Final: stages 1 to len(Stages), then
// the window's end.
type Timer struct {
	// Key and Instance name the alert.
	Key      alert.Key
	Instance string
	// Number is the timer's number in the alert's policy.
	Number int
}

// timerNameHash is how many hex digits of the alert's hash a timer's name
// holds (Scheduler names are at most 64 characters).
const timerNameHash = 40

// Name is the schedule's name: "a2p-", a hash of the alert key and
// instance (the key may hold characters Scheduler refuses), "-" and the
// number. The same timer always has the same name, so it is created at
// most once.
func (t Timer) Name() string {
	sum := sha256.Sum256([]byte(t.Key.String() + "\x00" + t.Instance))
	return "a2p-" + hex.EncodeToString(sum[:])[:timerNameHash] + "-" + strconv.Itoa(t.Number)
}

// timerJSON is the schedule's input.
type timerJSON struct {
	Key      string `json:"key"`
	Instance string `json:"instance"`
	Number   int    `json:"timer"`
}

// Input is the schedule's input: the escalate function's event.
func (t Timer) Input() string {
	b, err := json.Marshal(timerJSON{Key: t.Key.String(), Instance: t.Instance, Number: t.Number})
	if err != nil {
		panic(fmt.Sprintf("escalation: marshal timer: %v", err)) // strings and an int cannot fail
	}
	return string(b)
}

// ErrTimerForm reports an escalate event that is not a timer's input.
var ErrTimerForm = errors.New("not an escalation timer (want {\"key\", \"instance\", \"timer\"})")

// ParseTimer reads the form Input writes.
func ParseTimer(b []byte) (Timer, error) {
	var in timerJSON
	if err := json.Unmarshal(b, &in); err != nil || in.Instance == "" || in.Number < 1 {
		return Timer{}, ErrTimerForm
	}
	key, err := alert.ParseKey(in.Key)
	if err != nil {
		return Timer{}, ErrTimerForm
	}
	return Timer{Key: key, Instance: in.Instance, Number: in.Number}, nil
}
