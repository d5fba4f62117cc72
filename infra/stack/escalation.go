package stack

// Acknowledgment and escalation (issue 12): parsing and validating the
// escalation keys.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// noPolicy is the value of a priority that asks for no acknowledgment.
const noPolicy = "none"

// maxAckGrace bounds ackGrace: a link that acknowledges a week after the
// alert's window is no longer about that alert.
const maxAckGrace = 7 * 24 * time.Hour

// escalation parses names.ConfigEscalation into policies, a priority at a
// time: "none", or {stages: [{after, targets}], unacknowledgedAfter} with
// durations such as "5m". Priorities left out keep what policies holds.
func (p *configParser) escalation(key, raw string, policies map[alert.Priority]escalation.Policy) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		p.add(key, `must be an object of priority (H, M, L) to "none" or {stages, unacknowledgedAfter}`)
		return
	}
	for _, pr := range slices.Sorted(maps.Keys(obj)) {
		pk := key + "." + pr
		if !alert.Priority(pr).Valid() {
			p.add(pk, fmt.Sprintf("unknown priority (want %s)", priorityList()))
			continue
		}
		if s, ok := obj[pr].(string); ok && s == noPolicy {
			policies[alert.Priority(pr)] = escalation.Policy{}
			continue
		}
		pol, ok := p.policy(pk, obj[pr])
		if ok {
			policies[alert.Priority(pr)] = pol
		}
	}
}

// policy parses one priority's policy object.
func (p *configParser) policy(key string, v any) (escalation.Policy, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		p.add(key, fmt.Sprintf(`must be "none" or an object {stages, unacknowledgedAfter}, got %s`, jsonType(v)))
		return escalation.Policy{}, false
	}
	for _, f := range slices.Sorted(maps.Keys(obj)) {
		if f != "stages" && f != "unacknowledgedAfter" {
			p.add(key+"."+f, "unknown field (want stages, unacknowledgedAfter)")
		}
	}
	before := len(p.problems)
	var pol escalation.Policy
	pol.UnacknowledgedAfter = p.policyDuration(key+".unacknowledgedAfter", obj["unacknowledgedAfter"])
	stages, _ := obj["stages"].([]any)
	if _, present := obj["stages"]; present && stages == nil {
		p.add(key+".stages", "must be a list of {after, targets}")
	}
	for i, sv := range stages {
		sk := fmt.Sprintf("%s.stages[%d]", key, i)
		so, ok := sv.(map[string]any)
		if !ok {
			p.add(sk, fmt.Sprintf("must be an object {after, targets}, got %s", jsonType(sv)))
			continue
		}
		st := escalation.Stage{After: p.policyDuration(sk+".after", so["after"])}
		for _, t := range p.stringList(sk+".targets", mustJSONValue(so["targets"])) {
			st.Targets = append(st.Targets, escalation.Target(t))
		}
		pol.Stages = append(pol.Stages, st)
	}
	return pol, len(p.problems) == before
}

// policyDuration parses a duration string of a policy ("5m"); absent is 0.
func (p *configParser) policyDuration(key string, v any) time.Duration {
	if v == nil {
		return 0
	}
	s, ok := v.(string)
	if !ok {
		p.add(key, fmt.Sprintf(`must be a duration such as "5m", got %s`, jsonType(v)))
		return 0
	}
	return p.duration(key, s, 0)
}

// mustJSONValue is v as JSON, for stringList ("" for nil, which reads as
// no targets).
func mustJSONValue(v any) string {
	if v == nil {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "[]" // a decoded JSON value always marshals
	}
	return string(b)
}

// escalation checks the policies against the stack's unit, the contacts
// they name, the fail-safe contact, the secondaries, the test-stack mark,
// the grace and the links' base.
func (v *validator) escalation(c *Config) {
	known := map[string]bool{}
	lackSecondary := false
	for _, ct := range c.Contacts {
		known[ct.ID] = true
		lackSecondary = lackSecondary || ct.Secondary == ""
	}
	isKnown := func(id string) bool { return known[id] }
	var needing []string
	for _, pr := range alert.Priorities {
		pol := c.Escalation[pr]
		for _, prob := range pol.Check(c.DurationUnit(), isKnown) {
			v.add(fmt.Sprintf("%s.%s.%s", names.ConfigEscalation, pr, prob.Field), prob.Message)
		}
		if needsFailSafe(pol, lackSecondary) {
			needing = append(needing, names.ConfigEscalation+"."+string(pr))
		}
	}
	if c.FailSafeContact == "" && len(needing) > 0 {
		v.add(names.ConfigFailSafeContact, fmt.Sprintf("missing: %s reach the fail-safe contact (directly, or for a contact "+
			"without a secondary): name the site's on-call or bleep holder (a contact id), or change the policies", strings.Join(needing, " and ")))
	}
	v.contactsNamed(c, known)
	if c.TestStack && c.Protection.Full() {
		v.add(names.ConfigTestStack, fmt.Sprintf("a stack with %s: full pages people: it cannot be a test stack", names.ConfigProtection))
	}
	v.ackGrace(c)
	v.ackBaseURL(c)
}

// contactsNamed checks that the fail-safe contact and each contact's
// secondary name a contact (not the contact itself).
func (v *validator) contactsNamed(c *Config, known map[string]bool) {
	if c.FailSafeContact != "" && !known[c.FailSafeContact] {
		v.add(names.ConfigFailSafeContact, fmt.Sprintf("no contact has the id %q", c.FailSafeContact))
	}
	for i, ct := range c.Contacts {
		switch {
		case ct.Secondary == "":
		case ct.Secondary == ct.ID:
			v.add(fmt.Sprintf("%s[%d].secondary", names.ConfigContacts, i), "names the contact itself")
		case !known[ct.Secondary]:
			v.add(fmt.Sprintf("%s[%d].secondary", names.ConfigContacts, i), fmt.Sprintf("no contact has the id %q", ct.Secondary))
		}
	}
}

// needsFailSafe reports whether pol reaches the fail-safe contact: a
// fail-safe target, or a secondary target when some contact has none.
func needsFailSafe(pol escalation.Policy, lackSecondary bool) bool {
	for _, s := range pol.Stages {
		if slices.Contains(s.Targets, escalation.FailSafe) || (lackSecondary && slices.Contains(s.Targets, escalation.Secondary)) {
			return true
		}
	}
	return false
}

// ackGrace checks names.ConfigAckGrace: whole units, at most a week.
func (v *validator) ackGrace(c *Config) {
	unit := c.DurationUnit()
	switch g := c.AckGrace; {
	case g < unit || g%unit != 0:
		v.add(names.ConfigAckGrace, fmt.Sprintf("%s must be a whole number of %ss, at least one (seconds only on a test stack)",
			FormatDuration(g), map[time.Duration]string{time.Second: "second", time.Minute: "minute"}[unit]))
	case g > maxAckGrace:
		v.add(names.ConfigAckGrace, fmt.Sprintf("%s is longer than %s", FormatDuration(g), FormatDuration(maxAckGrace)))
	}
}

// ackBaseURL checks names.ConfigAckBaseURL: an absolute https URL with no
// query or fragment (http only on a test stack).
func (v *validator) ackBaseURL(c *Config) {
	if c.AckBaseURL == "" {
		return
	}
	u, err := url.Parse(c.AckBaseURL)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		v.add(names.ConfigAckBaseURL, "must be an absolute URL such as https://alerts.example.org/v1, with no query or fragment")
	case u.Scheme != "https" && (!c.TestStack || u.Scheme != "http"):
		v.add(names.ConfigAckBaseURL, "must be https: the links carry acknowledgment tokens")
	}
}
