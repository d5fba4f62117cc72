package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

// validBody returns a valid alert body with a fresh message_id and the
// given fields replaced (a nil value removes the field).
func validBody(tb testing.TB, changes map[string]any) []byte {
	tb.Helper()

	a := newAlert(tb, alert.PriorityLow, "")
	m := map[string]any{
		"message_id":  a.MessageID,
		"type":        a.Type,
		"patient_id":  a.PatientID,
		"contact_id":  a.ContactID,
		"description": a.Description,
		"priority":    string(a.Priority),
	}

	for k, v := range changes {
		if v == nil {
			delete(m, k)

			continue
		}

		m[k] = v
	}

	return encode(tb, m)
}

// fixture reads testdata/bodies/<name>.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()

	b, err := os.ReadFile(filepath.Join("testdata", "bodies", name))
	if err != nil {
		tb.Fatal(err)
	}

	return b
}

// An NHS number (valid check digit) in each written form.
const (
	nhsPlain   = "9434765919"
	nhsSpaced  = "943 476 5919"
	nhsHyphens = "943-476-5919"
)

// badBody is one request body the API must refuse with 400 invalid.
type badBody struct {
	name string
	body func(testing.TB) []byte
	// want lists the field errors expected, in order: the field exactly,
	// the reason as a substring.
	want []alert.FieldError
	// alt, when set, is also accepted (see the row).
	alt []alert.FieldError
	// secret must not appear in the answer.
	secret string
}

func fe(field, reason string) alert.FieldError { return alert.FieldError{Field: field, Reason: reason} }

func raw(b string) func(testing.TB) []byte { return func(testing.TB) []byte { return []byte(b) } }

func file(name string) func(testing.TB) []byte {
	return func(tb testing.TB) []byte { return fixture(tb, name) }
}

func with(changes map[string]any) func(testing.TB) []byte {
	return func(tb testing.TB) []byte { return validBody(tb, changes) }
}

// allRequired is the answer to a body with no field at all.
var allRequired = []alert.FieldError{
	fe("message_id", "is required"), fe("type", "is required"), fe("patient_id", "is required"),
	fe("contact_id", "is required"), fe("description", "is required"), fe("priority", "is required"),
}

// badBodies are the refused bodies.
var badBodies = []badBody{
	// The body as a whole.
	{name: "empty body", body: raw(""), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "whitespace only", body: raw(" \n\t "), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "truncated JSON", body: file("truncated.json"), want: []alert.FieldError{fe("body", "is not valid JSON")}},
	{name: "trailing comma", body: file("trailing_comma.json"), want: []alert.FieldError{fe("body", "is not valid JSON")}},
	{name: "single quotes", body: file("single_quotes.json"), want: []alert.FieldError{fe("body", "is not valid JSON")}},
	{name: "comment", body: file("comment.json"), want: []alert.FieldError{fe("body", "is not valid JSON")}},
	{name: "two objects", body: file("two_objects.json"), want: []alert.FieldError{fe("body", "exactly one JSON object")}},
	{name: "trailing garbage", body: func(tb testing.TB) []byte { return append(validBody(tb, nil), "x"...) },
		want: []alert.FieldError{fe("body", "exactly one JSON object")}},
	{name: "array of an alert", body: file("array.json"), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "null", body: raw("null"), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "string", body: raw(`"alert"`), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "number", body: raw("42"), want: []alert.FieldError{fe("body", "must be a JSON object")}},
	{name: "over 16 KiB", body: with(map[string]any{"description": strings.Repeat("a", alert.MaxBodyBytes)}),
		want: []alert.FieldError{fe("body", "16384 bytes")}},
	// kumo builds the proxy event with encoding/json, which turns invalid
	// UTF-8 into U+FFFD, so there the processor sees a message_id with a
	// replacement character; API Gateway may pass the bytes on.
	{name: "invalid UTF-8", body: func(tb testing.TB) []byte {
		return bytes.Replace(validBody(tb, map[string]any{"message_id": "bad-utf8-MARK"}), []byte("MARK"), []byte{0xff, 0xfe}, 1)
	}, want: []alert.FieldError{fe("message_id", "may only contain")}, alt: []alert.FieldError{fe("body", "UTF-8")}},

	// Fields missing, unknown or repeated.
	{name: "empty object", body: raw("{}"), want: allRequired},
	{name: "missing priority", body: with(map[string]any{"priority": nil}), want: []alert.FieldError{fe("priority", "is required")}},
	{name: "missing description", body: with(map[string]any{"description": nil}), want: []alert.FieldError{fe("description", "is required")}},
	{name: "unknown field", body: with(map[string]any{"nhs_number": "x"}), want: []alert.FieldError{fe("nhs_number", "is not a known field")}},
	{name: "unknown field with a control character", body: with(map[string]any{"a\u0007b": "x"}),
		want: []alert.FieldError{fe("a?b", "is not a known field")}},
	{name: "duplicate key", body: file("duplicate_keys.json"), want: []alert.FieldError{fe("message_id", "appears more than once")}},

	// Wrong types.
	{name: "number value", body: with(map[string]any{"message_id": 12345}), want: []alert.FieldError{fe("message_id", "must be a string, not a number")}},
	{name: "boolean value", body: with(map[string]any{"priority": true}), want: []alert.FieldError{fe("priority", "must be a string, not a boolean")}},
	{name: "null value", body: with(map[string]any{"type": json.RawMessage("null")}), want: []alert.FieldError{fe("type", "must be a string, not null")}},
	{name: "object value", body: with(map[string]any{"description": map[string]string{"text": "x"}}),
		want: []alert.FieldError{fe("description", "must be a string, not an object")}},
	{name: "array value", body: with(map[string]any{"contact_id": []string{"C-1"}}), want: []alert.FieldError{fe("contact_id", "must be a string, not an array")}},

	// Limits and patterns.
	{name: "empty message_id", body: with(map[string]any{"message_id": ""}), want: []alert.FieldError{fe("message_id", "must not be empty")}},
	{name: "message_id over 128", body: with(map[string]any{"message_id": strings.Repeat("m", 129)}), want: []alert.FieldError{fe("message_id", "at most 128")}},
	{name: "message_id with a space", body: with(map[string]any{"message_id": "m 1"}), want: []alert.FieldError{fe("message_id", "may only contain")}},
	{name: "type upper case", body: with(map[string]any{"type": "Blood_Test"}), want: []alert.FieldError{fe("type", "may only contain")}},
	{name: "patient_id over 64", body: with(map[string]any{"patient_id": strings.Repeat("P", 65)}), want: []alert.FieldError{fe("patient_id", "at most 64")}},
	{name: "contact_id with a slash", body: with(map[string]any{"contact_id": "C/1"}), want: []alert.FieldError{fe("contact_id", "may only contain")}},
	{name: "description over 1000", body: with(map[string]any{"description": strings.Repeat("é", 1001)}), want: []alert.FieldError{fe("description", "at most 1000")}},

	// Control characters.
	{name: "newline", body: with(map[string]any{"description": "K+ 6.9\nreview"}), want: []alert.FieldError{fe("description", "control characters")}},
	{name: "tab", body: with(map[string]any{"description": "K+\t6.9"}), want: []alert.FieldError{fe("description", "control characters")}},
	{name: "NUL", body: with(map[string]any{"description": "K+ 6.9\x00"}), want: []alert.FieldError{fe("description", "control characters")}},
	{name: "DEL", body: with(map[string]any{"description": "K+ 6.9\x7f"}), want: []alert.FieldError{fe("description", "control characters")}},
	{name: "C1 control", body: with(map[string]any{"description": "K+ 6.9\u0085"}), want: []alert.FieldError{fe("description", "control characters")}},
	{name: "escaped bell", body: func(tb testing.TB) []byte {
		return bytes.Replace(validBody(tb, map[string]any{"description": "K+ 6.9 BELL"}), []byte("BELL"), []byte(`\u0007`), 1)
	}, want: []alert.FieldError{fe("description", "control characters")}},

	// Visible, well-formed text (escapes of any field, text rules of the
	// description). Each answer names the field and the rule.
	{name: "description only spaces", body: with(map[string]any{"description": "    "}), want: []alert.FieldError{fe("description", "must not be only spaces")}},
	{name: "description only no-break spaces", body: with(map[string]any{"description": "\u00a0\u2007\u3000"}),
		want: []alert.FieldError{fe("description", "must not be only spaces")}},
	{name: "right-to-left override", body: with(map[string]any{"description": "K+ \u202e9.6 lamron"}), want: []alert.FieldError{fe("description", "format characters")}},
	{name: "bidirectional isolate", body: with(map[string]any{"description": "K+ \u20666.9\u2069"}), want: []alert.FieldError{fe("description", "format characters")}},
	{name: "zero-width space", body: with(map[string]any{"description": "K+ 6.\u200b9"}), want: []alert.FieldError{fe("description", "format characters")}},
	{name: "line separator", body: with(map[string]any{"description": "K+ 6.9\u2028review"}), want: []alert.FieldError{fe("description", "line or paragraph separators")}},
	{name: "paragraph separator", body: with(map[string]any{"description": "K+ 6.9\u2029review"}), want: []alert.FieldError{fe("description", "line or paragraph separators")}},
	{name: "replacement character", body: with(map[string]any{"description": "K+ 6.9 \ufffd"}), want: []alert.FieldError{fe("description", "U+FFFD")}},
	{name: "escaped lone surrogate in description", body: func(tb testing.TB) []byte {
		return bytes.Replace(validBody(tb, map[string]any{"description": "K+ 6.9 SURROGATE"}), []byte("SURROGATE"), []byte(`\ud83e`), 1)
	}, want: []alert.FieldError{fe("description", "unpaired UTF-16 surrogate")}},
	{name: "escaped lone surrogate in message_id", body: func(tb testing.TB) []byte {
		return bytes.Replace(validBody(tb, map[string]any{"message_id": "m-SURROGATE"}), []byte("SURROGATE"), []byte(`\udc00`), 1)
	}, want: []alert.FieldError{fe("message_id", "unpaired UTF-16 surrogate")}},

	// Priority.
	{name: "priority X", body: with(map[string]any{"priority": "X"}), want: []alert.FieldError{fe("priority", "must be one of L, M, H")}},
	{name: "priority lower case", body: with(map[string]any{"priority": "h"}), want: []alert.FieldError{fe("priority", "must be one of L, M, H")}},
	{name: "priority word", body: with(map[string]any{"priority": "HIGH"}), want: []alert.FieldError{fe("priority", "must be one of L, M, H")}},
	{name: "priority empty", body: with(map[string]any{"priority": ""}), want: []alert.FieldError{fe("priority", "must not be empty")}},

	// An NHS number, in each written form, in patient_id and description.
	// The spaced form cannot pass patient_id's pattern, which is checked
	// first; the answer never repeats the number.
	{name: "NHS number in patient_id", body: with(map[string]any{"patient_id": nhsPlain}),
		want: []alert.FieldError{fe("patient_id", "NHS number")}, secret: nhsPlain},
	{name: "NHS number with hyphens in patient_id", body: with(map[string]any{"patient_id": nhsHyphens}),
		want: []alert.FieldError{fe("patient_id", "NHS number")}, secret: nhsHyphens},
	{name: "NHS number with spaces in patient_id", body: with(map[string]any{"patient_id": nhsSpaced}),
		want: []alert.FieldError{fe("patient_id", "may only contain")}, secret: nhsSpaced},
	{name: "NHS number in description", body: with(map[string]any{"description": "Patient " + nhsPlain + " K+ 6.9"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: nhsPlain},
	{name: "NHS number with spaces in description", body: with(map[string]any{"description": "Patient " + nhsSpaced + " K+ 6.9"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: nhsSpaced},
	{name: "NHS number with hyphens in description", body: with(map[string]any{"description": "Patient " + nhsHyphens + " K+ 6.9"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: nhsHyphens},
	{name: "NHS number glued to a word in description", body: with(map[string]any{"description": "nhs" + nhsPlain}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: nhsPlain},

	// The guard looks through formatting, and reads message_id and type.
	{name: "NHS number in full-width digits in description", body: with(map[string]any{"description": "Patient ９４３ ４７６ ５９１９ K+ 6.9"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: "９４３"},
	{name: "NHS number with dots in description", body: with(map[string]any{"description": "Patient 943.476.5919 K+"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: "943.476.5919"},
	{name: "NHS number with no-break spaces and slashes in description", body: with(map[string]any{"description": "Patient 943\u00a0476/5919"}),
		want: []alert.FieldError{fe("description", "NHS number")}, secret: "476/5919"},
	{name: "NHS number in message_id", body: with(map[string]any{"message_id": "lab-943.476.5919"}),
		want: []alert.FieldError{fe("message_id", "NHS number")}, secret: "943.476.5919"},
	{name: "NHS number in type", body: with(map[string]any{"type": "result_943_476_5919"}),
		want: []alert.FieldError{fe("type", "NHS number")}, secret: "943_476_5919"},

	// Several problems: all reported, body-level and unknown fields first,
	// then in wire order.
	{name: "several at once", body: with(map[string]any{"priority": "X", "message_id": nil, "extra": 1, "type": 7}), want: []alert.FieldError{
		fe("extra", "is not a known field"), fe("message_id", "is required"), fe("type", "must be a string"), fe("priority", "must be one of"),
	}},
}

// TestBadBodiesAreRefused posts every bad body: each answers 400 invalid
// with the expected field errors, and nothing at all is delivered, on any
// channel. It does not run in parallel with other tests, so that the
// tap's and the stub's totals can be compared.
func TestBadBodiesAreRefused(t *testing.T) {
	if len(badBodies) < 25 {
		t.Fatalf("%d bad bodies, want at least 25", len(badBodies))
	}

	var tapBefore, stubBefore int

	if tgt.tap != nil {
		tgt.drain(t) // earlier tests' deliveries are all read
		tapBefore = len(tgt.tap.Deliveries())
	}

	if tgt.connect != nil {
		stubBefore = len(tgt.connect.Calls())
	}

	t.Run("bodies", func(t *testing.T) {
		for _, bb := range badBodies {
			t.Run(bb.name, func(t *testing.T) {
				t.Parallel()

				r := tgt.post(t, bb.body(t))
				e := r.wantError(t, api.CodeInvalid)

				if !fieldsMatch(e.Fields, bb.want) && (bb.alt == nil || !fieldsMatch(e.Fields, bb.alt)) {
					t.Errorf("fields %+v, want %+v", e.Fields, bb.want)
				}

				if bb.secret != "" && (bytes.Contains(r.body, []byte(bb.secret)) || bytes.Contains(r.body, []byte(nhsPlain))) {
					t.Errorf("the answer repeats the NHS number: %s", r.body)
				}
			})
		}
	})

	// Every bad request has been answered.
	t.Run("no SNS delivery", func(t *testing.T) {
		// The tap's count is final once the sentinel is read, and the
		// sentinel is the only delivery allowed.
		tgt.drain(t)

		if got, want := len(tgt.tap.Deliveries()), tapBefore+1; got != want {
			t.Errorf("tap: %d deliveries, want %d (the sentinel only)", got, want)
		}
	})

	t.Run("no call", func(t *testing.T) {
		// The stub's count is final at once (see drain).
		if stub := tgt.needConnect(t); len(stub.Calls()) != stubBefore {
			t.Errorf("Connect stub: %d calls, want %d", len(stub.Calls()), stubBefore)
		}
	})
}

// fieldsMatch reports whether got has exactly want's fields, in order,
// each reason containing want's.
func fieldsMatch(got, want []alert.FieldError) bool {
	if len(got) != len(want) {
		return false
	}

	for i := range want {
		if got[i].Field != want[i].Field || !strings.Contains(got[i].Reason, want[i].Reason) {
			return false
		}
	}

	return true
}
