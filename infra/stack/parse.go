package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// configParser collects the problems of raw values that do not have the right
// type or shape. Semantic checks are Validate's.
type configParser struct {
	problems []Problem
	bad      []string
}

// add records a problem with key.
func (p *configParser) add(key, msg string) {
	p.problems = append(p.problems, Problem{Key: key, Message: msg})
	p.bad = append(p.bad, key)
}

// failed reports whether key, or a key it is part of, failed to parse.
func (p *configParser) failed(key string) bool {
	for _, b := range p.bad {
		if key == b || strings.HasPrefix(key, b+"[") || strings.HasPrefix(key, b+".") {
			return true
		}
	}
	return false
}

// boolean parses "true" or "false".
func (p *configParser) boolean(key, raw string, def bool) bool {
	v, err := strconv.ParseBool(raw)
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a boolean (want true or false)", raw))
		return def
	}
	return v
}

// integer parses a decimal integer.
func (p *configParser) integer(key, raw string, def int) int {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not an integer", raw))
		return def
	}
	return v
}

// float parses a decimal number.
func (p *configParser) float(key, raw string, def float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a number", raw))
		return def
	}
	return v
}

// duration parses a Go duration ("24h", "90m").
func (p *configParser) duration(key, raw string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(strings.TrimSpace(raw))
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a duration (e.g. 24h, 90m)", raw))
		return def
	}
	return v
}

// stringList parses a YAML list of strings, or a comma-separated string
// (what `pulumi config set` stores).
func (p *configParser) stringList(key, raw string) []string {
	var list []any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			raw = s
		}
		out := []string{}
		for _, part := range strings.Split(raw, ",") {
			out = append(out, strings.TrimSpace(part))
		}
		return out
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("must be a string, got %s", jsonType(v)))
			continue
		}
		out = append(out, s)
	}
	return out
}

// objects parses a YAML list of objects whose fields are all among allowed.
func (p *configParser) objects(key, raw string, allowed []string) []map[string]any {
	var list []any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		p.add(key, "must be a list (a YAML sequence of objects)")
		return nil
	}
	out := make([]map[string]any, 0, len(list))
	for i, v := range list {
		obj, ok := v.(map[string]any)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("must be an object, got %s", jsonType(v)))
			out = append(out, map[string]any{})
			continue
		}
		for _, field := range slices.Sorted(maps.Keys(obj)) {
			if !slices.Contains(allowed, field) {
				p.add(fmt.Sprintf("%s[%d].%s", key, i, field),
					fmt.Sprintf("unknown field (want %s)", strings.Join(allowed, ", ")))
			}
		}
		out = append(out, obj)
	}
	return out
}

// str returns obj[field] as a string; absent is "".
func (p *configParser) str(key string, obj map[string]any, field string) string {
	v, ok := obj[field]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		msg := fmt.Sprintf("must be a string, got %s", jsonType(v))
		if _, isNum := v.(float64); isNum {
			msg += ` (quote phone numbers in YAML: "+15555550100")`
		}
		p.add(key+"."+field, msg)
		return ""
	}
	return s
}

// ParseContacts reads the raw value of names.ConfigContacts (its JSON) as
// LoadConfig does, without validating it: the sandbox and the integration
// tests read the stack file's contacts with it.
func ParseContacts(raw string) ([]ContactConfig, error) {
	p := &configParser{}
	contacts := p.contacts(names.ConfigContacts, raw)
	if len(p.problems) > 0 {
		return nil, &ConfigError{Problems: p.problems}
	}
	return contacts, nil
}

// contactFields are the fields of a names.ConfigContacts element.
var contactFields = []string{"id", "name", "callPhone", "smsPhone", "email", "preferences", "secondary"}

// contacts parses names.ConfigContacts.
func (p *configParser) contacts(key, raw string) []ContactConfig {
	objs := p.objects(key, raw, contactFields)
	out := make([]ContactConfig, 0, len(objs))
	for i, obj := range objs {
		k := fmt.Sprintf("%s[%d]", key, i)
		c := ContactConfig{
			ID:        p.str(k, obj, "id"),
			Name:      p.str(k, obj, "name"),
			CallPhone: p.str(k, obj, "callPhone"),
			SMSPhone:  p.str(k, obj, "smsPhone"),
			Email:     p.str(k, obj, "email"),
			Secondary: p.str(k, obj, "secondary"),
		}
		c.Preferences = p.preferences(k, obj)
		out = append(out, c)
	}
	return out
}

// preferences parses a contact's preferences: an object of priority (H,
// M, L) to a channel name or a list of them, in the order they are tried.
// Names are checked by Validate.
func (p *configParser) preferences(k string, obj map[string]any) map[alert.Priority][]contact.Channel {
	out := map[alert.Priority][]contact.Channel{}
	v, ok := obj["preferences"]
	if !ok {
		return out
	}
	prefs, isObj := v.(map[string]any)
	if !isObj {
		p.add(k+".preferences", fmt.Sprintf("must be an object of priority (H, M, L) to channels, got %s", jsonType(v)))
		return out
	}
	for _, pr := range slices.Sorted(maps.Keys(prefs)) {
		pk := k + ".preferences." + pr
		switch val := prefs[pr].(type) {
		case string:
			out[alert.Priority(pr)] = []contact.Channel{contact.Channel(val)}
		case []any:
			chs := make([]contact.Channel, 0, len(val))
			for j, e := range val {
				name, isStr := e.(string)
				if !isStr {
					p.add(fmt.Sprintf("%s[%d]", pk, j), fmt.Sprintf("must be a channel name (call, sms or email), got %s", jsonType(e)))
					continue
				}
				chs = append(chs, contact.Channel(name))
			}
			out[alert.Priority(pr)] = chs
		default:
			p.add(pk, fmt.Sprintf("must be a channel name (call, sms or email) or a list of them, got %s", jsonType(val)))
		}
	}
	return out
}

// apiClientFields are the fields of a names.ConfigAPIClients element.
var apiClientFields = []string{"name", "sha256", "rateLimit", "burstLimit", "dailyQuota"}

// apiClients parses names.ConfigAPIClients.
func (p *configParser) apiClients(key, raw string) []APIClient {
	objs := p.objects(key, raw, apiClientFields)
	out := make([]APIClient, 0, len(objs))
	for i, obj := range objs {
		k := fmt.Sprintf("%s[%d]", key, i)
		c := APIClient{Name: p.str(k, obj, "name"), SHA256: p.str(k, obj, "sha256")}
		if v, ok := p.number(k, obj, "rateLimit"); ok {
			c.RateLimit = v
		}
		if v, ok := p.wholeNumber(k, obj, "burstLimit"); ok {
			c.BurstLimit = v
		}
		if v, ok := p.wholeNumber(k, obj, "dailyQuota"); ok {
			c.DailyQuota = &v
		}
		out = append(out, c)
	}
	return out
}

// number returns obj[field] as a number, and whether it was set. YAML
// numbers arrive as JSON numbers; `pulumi config set --path` stores
// strings, which are parsed too.
func (p *configParser) number(key string, obj map[string]any, field string) (float64, bool) {
	v, ok := obj[field]
	if !ok || v == nil {
		return 0, false
	}
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err == nil {
			return f, true
		}
	}
	p.add(key+"."+field, fmt.Sprintf("must be a number, got %s", jsonType(v)))
	return 0, false
}

// wholeNumber is number for integers.
func (p *configParser) wholeNumber(key string, obj map[string]any, field string) (int, bool) {
	f, ok := p.number(key, obj, field)
	if !ok {
		return 0, false
	}
	if f != float64(int(f)) {
		p.add(key+"."+field, fmt.Sprintf("%g is not a whole number", f))
		return 0, false
	}
	return int(f), true
}

// jsonType names the JSON type of a decoded value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
