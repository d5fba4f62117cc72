// Package alert is the alert a clinical system sends to POST /notification:
// its fields, their limits, strict decoding that reports every failing
// field at once, the JSON Schema derived from the same limits, and the
// canonical hash the idempotency store compares.
package alert

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// MaxBodyBytes is the largest request body accepted, 16 KiB.
const MaxBodyBytes = 16 << 10

// Alert is one notification request.
type Alert struct {
	// MessageID is the caller's id for this alert and the idempotency key.
	MessageID string `json:"message_id"`
	// Type is the kind of alert, e.g. "blood_test_alert".
	Type string `json:"type"`
	// PatientID is a pseudonymous patient reference, never an NHS number.
	PatientID string `json:"patient_id"`
	// ContactID names the clinician to alert.
	ContactID string `json:"contact_id"`
	// Description is the alert text the clinician receives.
	Description string `json:"description"`
	// Priority selects the clinician's preferred channel.
	Priority Priority `json:"priority"`
}

// Field describes one field of the alert and its limits. Validation and
// the JSON Schema are both derived from Fields, so they cannot drift apart.
type Field struct {
	// Name is the JSON property name.
	Name string
	// Doc describes the field for the schema and the API reference.
	Doc string
	// MinLen and MaxLen bound the length in characters (runes).
	MinLen, MaxLen int
	// Pattern, when set, is a regular expression the whole value matches.
	Pattern string
	// PatternHint says in words what Pattern allows.
	PatternHint string
	// Enum, when set, lists the only values allowed.
	Enum []string
	// Text marks free text, which must be visible, well-formed text (see
	// TextRules).
	Text bool
	// PHI applies the stack's PHI guard to the value.
	PHI bool

	re *regexp.Regexp
}

// FieldContactID is the name of the field naming the contact; contact ids
// in configuration obey its rule too (see CheckField).
const FieldContactID = "contact_id"

// Fields lists the alert's fields in wire order.
var Fields = []*Field{
	{Name: "message_id", Doc: "Caller-chosen unique id; with the API client, the idempotency key.",
		MinLen: 1, MaxLen: 128, Pattern: `^[A-Za-z0-9._:-]+$`, PatternHint: "letters, digits and . _ : -", PHI: true},
	{Name: "type", Doc: "Kind of alert, e.g. blood_test_alert.",
		MinLen: 1, MaxLen: 64, Pattern: `^[a-z0-9_]+$`, PatternHint: "lower-case letters, digits and _", PHI: true},
	{Name: "patient_id", Doc: "Pseudonymous patient reference. Never an NHS number.",
		MinLen: 1, MaxLen: 64, Pattern: `^[A-Za-z0-9_-]+$`, PatternHint: "letters, digits, _ and -", PHI: true},
	{Name: FieldContactID, Doc: "Id of the clinician to alert.",
		MinLen: 1, MaxLen: 64, Pattern: `^[A-Za-z0-9_-]+$`, PatternHint: "letters, digits, _ and -"},
	{Name: "description", Doc: "Alert text delivered to the clinician. Visible text, no PHI.",
		MinLen: 1, MaxLen: 1000, Text: true, PHI: true},
	{Name: "priority", Doc: "L (low), M (medium) or H (high); selects the channel.",
		MinLen: 1, MaxLen: 1, Enum: []string{string(PriorityLow), string(PriorityMedium), string(PriorityHigh)}},
}

func init() {
	for _, f := range Fields {
		if f.Pattern != "" {
			f.re = regexp.MustCompile(f.Pattern)
		}
	}
}

// FieldError is one field's problem, safe to show to the caller: it never
// repeats the rejected value.
type FieldError struct {
	// Field is the JSON property name, or "body" for the whole body.
	Field string `json:"field"`
	// Reason says what is wrong.
	Reason string `json:"reason"`
}

// ValidationError lists every problem found in a request body.
type ValidationError struct {
	// Fields holds one entry per problem, in wire order of the fields.
	Fields []FieldError
}

// Error implements error, naming every failing field and why.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Reason)
	}
	return "invalid alert: " + strings.Join(parts, "; ")
}

// Decode parses and validates a request body strictly: malformed JSON,
// anything but one JSON object, duplicate or unknown fields, non-string
// values, \u escapes that are not characters, missing or empty fields,
// values outside their limits, free text that breaks TextRules, PHI found
// by guard, and bodies over MaxBodyBytes are rejected. It is the one place
// that checks the body's size. The error is always a *ValidationError
// listing every problem.
func Decode(body []byte, guard phi.Guard) (Alert, error) {
	if len(body) > MaxBodyBytes {
		return Alert{}, &ValidationError{Fields: []FieldError{{"body", fmt.Sprintf("is %d bytes, over the limit of %d bytes", len(body), MaxBodyBytes)}}}
	}
	if !utf8.Valid(body) {
		return Alert{}, &ValidationError{Fields: []FieldError{{"body", "is not valid UTF-8"}}}
	}
	values, problems, ok := readFields(body)
	if !ok {
		return Alert{}, &ValidationError{Fields: problems}
	}
	for i, f := range Fields {
		v := values[i]
		if !v.present {
			problems = append(problems, FieldError{f.Name, "is required"})
			continue
		}
		if !v.ok {
			continue // wrong type or bad escape, already reported
		}
		if reason := f.check(v.s, guard); reason != "" {
			problems = append(problems, FieldError{f.Name, reason})
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return Alert{}, &ValidationError{Fields: problems}
	}
	return Alert{
		MessageID:   values.get("message_id"),
		Type:        values.get("type"),
		PatientID:   values.get("patient_id"),
		ContactID:   values.get(FieldContactID),
		Description: values.get("description"),
		Priority:    Priority(values.get("priority")),
	}, nil
}

// readObject reads body as one JSON object of string values with
// encoding/json's tokenizer, which tells every kind of malformed body
// apart (readFields reads well-formed ones). It returns the string values
// by name (nil for a known field of the wrong type), and problems with the
// body's shape. values is nil when the body is not a JSON object at all.
func readObject(body []byte) (map[string]*string, []FieldError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, []FieldError{{"body", "must be a JSON object"}}
	}
	known := map[string]bool{}
	for _, f := range Fields {
		known[f.Name] = true
	}
	values := map[string]*string{}
	seen := map[string]bool{}
	var problems []FieldError
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, []FieldError{{"body", "is not valid JSON"}}
		}
		name, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, []FieldError{{"body", "is not valid JSON"}}
		}
		if seen[name] {
			problems = append(problems, FieldError{safeName(name), "appears more than once"})
			continue
		}
		seen[name] = true
		if !known[name] {
			problems = append(problems, FieldError{safeName(name), "is not a known field"})
			continue
		}
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil { // null decodes into a string without error
			values[name] = nil
			problems = append(problems, FieldError{name, "must be a string, not " + jsonKind(raw)})
			continue
		}
		if !validEscapes(raw) {
			values[name] = nil
			problems = append(problems, FieldError{name, reasonBadEscape})
			continue
		}
		values[name] = &s
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, []FieldError{{"body", "is not valid JSON"}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []FieldError{{"body", "must hold exactly one JSON object"}}
	}
	return values, problems
}

// safeName bounds an unknown field's name before it is echoed to the
// caller: at most 64 runes, anything but visible characters and spaces
// (control and format characters, separators other than the space)
// replaced.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if !unicode.IsGraphic(r) || (unicode.Is(unicode.Zs, r) && r != ' ') {
			return '?'
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > 64 {
		name = string([]rune(name)[:64]) + "…"
	}
	return name
}

func jsonKind(raw json.RawMessage) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	case t[0] == 'n':
		return "null"
	default:
		return "a number"
	}
}

// CheckField returns why value breaks the rules of the field called name
// (length, characters, allowed values; not the PHI guard), or "" when it
// does not. It lets other inputs that must fit a field, such as contact
// ids in configuration, share the field's one rule.
func CheckField(name, value string) string {
	for _, f := range Fields {
		if f.Name == name {
			return f.check(value, nil)
		}
	}
	return "is not a field of the alert"
}

// check returns why v breaks the field's rules, or "".
func (f *Field) check(v string, guard phi.Guard) string {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		return "must not be empty"
	case len(f.Enum) > 0:
		for _, e := range f.Enum {
			if v == e {
				return ""
			}
		}
		return "must be one of " + strings.Join(f.Enum, ", ")
	case n < f.MinLen:
		return fmt.Sprintf("must be at least %d characters", f.MinLen)
	case n > f.MaxLen:
		return fmt.Sprintf("must be at most %d characters (got %d)", f.MaxLen, n)
	case f.re != nil && !f.re.MatchString(v):
		return "may only contain " + f.PatternHint
	case f.Text:
		if reason := checkText(v); reason != "" {
			return reason
		}
	}
	if f.PHI {
		if d := guard.Check(v); d != nil {
			return d.Reason()
		}
	}
	return ""
}

// sortProblems orders problems by the fields' wire order, body-level and
// unknown fields first, keeping the order among equals.
func sortProblems(p []FieldError) {
	rank := func(name string) int {
		for i, f := range Fields {
			if f.Name == name {
				return i + 1
			}
		}
		return 0
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && rank(p[j].Field) < rank(p[j-1].Field); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// Hash returns the hex SHA-256 of the alert's canonical JSON (fields in
// wire order, no whitespace), so two bodies that differ only in key order
// or spacing hash the same and any change of value does not.
func (a Alert) Hash() string {
	canonical, err := json.Marshal(a)
	if err != nil {
		panic(fmt.Sprintf("alert: marshal of plain strings failed: %v", err)) // cannot happen
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}
