package alert_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// valid returns a valid body with the given fields replaced (a nil value
// removes the field).
func valid(tb testing.TB, changes map[string]any) []byte {
	tb.Helper()
	m := map[string]any{
		"message_id":  "msg-123",
		"type":        "blood_test_alert",
		"patient_id":  "P-0001",
		"contact_id":  "C-1",
		"description": "Blood test results ready for patient",
		"priority":    "L",
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	got, err := alert.Decode(valid(t, nil), phi.Default())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := alert.Alert{
		MessageID: "msg-123", Type: "blood_test_alert", PatientID: "P-0001",
		ContactID: "C-1", Description: "Blood test results ready for patient", Priority: alert.PriorityLow,
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDecodeLimitsAccepted(t *testing.T) {
	t.Parallel()
	tests := map[string]map[string]any{
		"message_id at 128":          {"message_id": strings.Repeat("a", 128)},
		"message_id all symbols":     {"message_id": "a.b_c:d-E9"},
		"message_id of 1":            {"message_id": "1"},
		"type at 64":                 {"type": strings.Repeat("z", 64)},
		"patient_id at 64":           {"patient_id": strings.Repeat("A", 64)},
		"contact_id at 64":           {"contact_id": strings.Repeat("c", 64)},
		"description at 1000":        {"description": strings.Repeat("é", 1000)},
		"description of 1":           {"description": "x"},
		"description markup":         {"description": `<speak>& "quoted" 'text'</speak>`},
		"description nine digits":    {"description": "call ext 943476591"},
		"description 11 digits":      {"description": "ref 94347659190"},
		"invalid NHS check digit":    {"description": "id 9434765918"},
		"priority M":                 {"priority": "M"},
		"priority H":                 {"priority": "H"},
		"patient id not NHS":         {"patient_id": "1234567890"},
		"description emoji":          {"description": "results ready 🩸"},
		"description has unicode ":   {"description": "Ärztin Müller: Ergebnis liegt vor"},
		"description right-to-left":  {"description": "نتائج الدم جاهزة"},
		"description leading spaces": {"description": "  results ready"},
		"description no-break space": {"description": "K\u00a06.9"},
		"message_id dated":           {"message_id": "lab-2026-11-26-0001"},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := alert.Decode(valid(t, change), phi.Default()); err != nil {
				t.Errorf("Decode: %v", err)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body []byte
		want []alert.FieldError // field and a substring of the reason
	}{
		{"empty body", []byte(``), []alert.FieldError{{"body", "JSON object"}}},
		{"malformed", []byte(`{"message_id":`), []alert.FieldError{{"body", "not valid JSON"}}},
		{"array", []byte(`[1,2]`), []alert.FieldError{{"body", "JSON object"}}},
		{"string", []byte(`"hello"`), []alert.FieldError{{"body", "JSON object"}}},
		{"two objects", append(valid(t, nil), valid(t, nil)...), []alert.FieldError{{"body", "exactly one"}}},
		{"trailing garbage", append(valid(t, nil), 'x'), []alert.FieldError{{"body", "exactly one"}}},
		{"invalid utf8", []byte("{\"message_id\":\"\xff\"}"), []alert.FieldError{{"body", "UTF-8"}}},
		{"oversize", valid(t, map[string]any{"description": strings.Repeat("a", alert.MaxBodyBytes)}), []alert.FieldError{{"body", "over the limit of 16384 bytes"}}},
		{"unknown field", valid(t, map[string]any{"nhs": "x"}), []alert.FieldError{{"nhs", "not a known field"}}},
		{"duplicate field", []byte(`{"message_id":"a","message_id":"b","type":"t","patient_id":"p","contact_id":"c","description":"d","priority":"L"}`), []alert.FieldError{{"message_id", "more than once"}}},
		{"all missing", []byte(`{}`), []alert.FieldError{
			{"message_id", "required"}, {"type", "required"}, {"patient_id", "required"},
			{"contact_id", "required"}, {"description", "required"}, {"priority", "required"}}},
		{"number", valid(t, map[string]any{"message_id": 123}), []alert.FieldError{{"message_id", "string, not a number"}}},
		{"bool", valid(t, map[string]any{"priority": true}), []alert.FieldError{{"priority", "a boolean"}}},
		{"null", []byte(`{"message_id":null,"type":"t","patient_id":"p","contact_id":"c","description":"d","priority":"L"}`), []alert.FieldError{{"message_id", "null"}}},
		{"object", valid(t, map[string]any{"description": map[string]any{"a": 1}}), []alert.FieldError{{"description", "an object"}}},
		{"array value", valid(t, map[string]any{"contact_id": []string{"C-1"}}), []alert.FieldError{{"contact_id", "an array"}}},
		{"empty message_id", valid(t, map[string]any{"message_id": ""}), []alert.FieldError{{"message_id", "not be empty"}}},
		{"message_id too long", valid(t, map[string]any{"message_id": strings.Repeat("a", 129)}), []alert.FieldError{{"message_id", "at most 128"}}},
		{"message_id space", valid(t, map[string]any{"message_id": "a b"}), []alert.FieldError{{"message_id", "may only contain"}}},
		{"message_id slash", valid(t, map[string]any{"message_id": "a/b"}), []alert.FieldError{{"message_id", "may only contain"}}},
		{"empty type", valid(t, map[string]any{"type": ""}), []alert.FieldError{{"type", "not be empty"}}},
		{"type upper case", valid(t, map[string]any{"type": "Blood"}), []alert.FieldError{{"type", "may only contain"}}},
		{"type too long", valid(t, map[string]any{"type": strings.Repeat("a", 65)}), []alert.FieldError{{"type", "at most 64"}}},
		{"empty patient_id", valid(t, map[string]any{"patient_id": ""}), []alert.FieldError{{"patient_id", "not be empty"}}},
		{"patient_id dot", valid(t, map[string]any{"patient_id": "p.1"}), []alert.FieldError{{"patient_id", "may only contain"}}},
		{"patient_id too long", valid(t, map[string]any{"patient_id": strings.Repeat("p", 65)}), []alert.FieldError{{"patient_id", "at most 64"}}},
		{"empty contact_id", valid(t, map[string]any{"contact_id": ""}), []alert.FieldError{{"contact_id", "not be empty"}}},
		{"contact_id space", valid(t, map[string]any{"contact_id": "C 1"}), []alert.FieldError{{"contact_id", "may only contain"}}},
		{"contact_id too long", valid(t, map[string]any{"contact_id": strings.Repeat("c", 65)}), []alert.FieldError{{"contact_id", "at most 64"}}},
		{"empty description", valid(t, map[string]any{"description": ""}), []alert.FieldError{{"description", "not be empty"}}},
		{"description too long", valid(t, map[string]any{"description": strings.Repeat("é", 1001)}), []alert.FieldError{{"description", "at most 1000"}}},
		{"description newline", valid(t, map[string]any{"description": "a\nb"}), []alert.FieldError{{"description", "control characters"}}},
		{"description tab", valid(t, map[string]any{"description": "a\tb"}), []alert.FieldError{{"description", "control characters"}}},
		{"description NUL", valid(t, map[string]any{"description": "a\x00b"}), []alert.FieldError{{"description", "control characters"}}},
		{"description DEL", valid(t, map[string]any{"description": "a\x7fb"}), []alert.FieldError{{"description", "control characters"}}},
		{"description C1", valid(t, map[string]any{"description": "a\u0085b"}), []alert.FieldError{{"description", "control characters"}}},
		{"description only spaces", valid(t, map[string]any{"description": "   "}), []alert.FieldError{{"description", "only spaces"}}},
		{"description only no-break spaces", valid(t, map[string]any{"description": "\u00a0\u2007\u3000"}), []alert.FieldError{{"description", "only spaces"}}},
		{"description right-to-left override", valid(t, map[string]any{"description": "K \u202e9.6 lamron"}), []alert.FieldError{{"description", "format characters"}}},
		{"description isolate", valid(t, map[string]any{"description": "a\u2066b\u2069"}), []alert.FieldError{{"description", "format characters"}}},
		{"description zero-width space", valid(t, map[string]any{"description": "a\u200bb"}), []alert.FieldError{{"description", "format characters"}}},
		{"description zero-width joiner", valid(t, map[string]any{"description": "a\u200db"}), []alert.FieldError{{"description", "format characters"}}},
		{"description byte order mark", valid(t, map[string]any{"description": "\ufeffresults"}), []alert.FieldError{{"description", "format characters"}}},
		{"description soft hyphen", valid(t, map[string]any{"description": "potas\u00adsium"}), []alert.FieldError{{"description", "format characters"}}},
		{"description line separator", valid(t, map[string]any{"description": "a\u2028b"}), []alert.FieldError{{"description", "line or paragraph separators"}}},
		{"description paragraph separator", valid(t, map[string]any{"description": "a\u2029b"}), []alert.FieldError{{"description", "line or paragraph separators"}}},
		{"description replacement character", valid(t, map[string]any{"description": "a\ufffdb"}), []alert.FieldError{{"description", "U+FFFD"}}},
		{"description escaped lone high surrogate", rawBody(`"a\ud83e b"`), []alert.FieldError{{"description", "unpaired UTF-16 surrogate"}}},
		{"description escaped lone low surrogate", rawBody(`"a\udd7a"`), []alert.FieldError{{"description", "unpaired UTF-16 surrogate"}}},
		{"description escaped surrogates reversed", rawBody(`"\udd7a\ud83e"`), []alert.FieldError{{"description", "unpaired UTF-16 surrogate"}}},
		{"description high surrogate at the end", rawBody(`"ab\ud83e"`), []alert.FieldError{{"description", "unpaired UTF-16 surrogate"}}},
		{"description two high surrogates", rawBody(`"\ud83e\ud83e\udd7a"`), []alert.FieldError{{"description", "unpaired UTF-16 surrogate"}}},
		{"message_id escaped lone surrogate", rawField("message_id", `"m\udc00"`), []alert.FieldError{{"message_id", "unpaired UTF-16 surrogate"}}},
		{"type escaped lone surrogate", rawField("type", `"\ud800"`), []alert.FieldError{{"type", "unpaired UTF-16 surrogate"}}},
		{"empty priority", valid(t, map[string]any{"priority": ""}), []alert.FieldError{{"priority", "not be empty"}}},
		{"priority lower case", valid(t, map[string]any{"priority": "h"}), []alert.FieldError{{"priority", "one of L, M, H"}}},
		{"priority word", valid(t, map[string]any{"priority": "HIGH"}), []alert.FieldError{{"priority", "one of L, M, H"}}},
		{"NHS in patient_id", valid(t, map[string]any{"patient_id": "9434765919"}), []alert.FieldError{{"patient_id", "NHS number"}}},
		{"NHS hyphenated in patient_id", valid(t, map[string]any{"patient_id": "943-476-5919"}), []alert.FieldError{{"patient_id", "NHS number"}}},
		{"NHS in description", valid(t, map[string]any{"description": "patient 943 476 5919 results"}), []alert.FieldError{{"description", "NHS number"}}},
		{"NHS in message_id", valid(t, map[string]any{"message_id": "lab-943.476.5919"}), []alert.FieldError{{"message_id", "NHS number"}}},
		{"NHS in type", valid(t, map[string]any{"type": "result_943_476_5919"}), []alert.FieldError{{"type", "NHS number"}}},
		{"NHS in full-width digits", valid(t, map[string]any{"description": "patient \uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19"}), []alert.FieldError{{"description", "NHS number"}}},
		{"several at once", valid(t, map[string]any{"priority": "X", "message_id": nil, "extra": 1, "type": 7}), []alert.FieldError{
			{"extra", "not a known field"}, {"message_id", "required"}, {"type", "string"}, {"priority", "one of"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := alert.Decode(tt.body, phi.Default())
			var verr *alert.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Decode error = %v, want *ValidationError", err)
			}
			if len(verr.Fields) != len(tt.want) {
				t.Fatalf("got %d problems %+v, want %d %+v", len(verr.Fields), verr.Fields, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				g := verr.Fields[i]
				if g.Field != w.Field || !strings.Contains(g.Reason, w.Reason) {
					t.Errorf("problem %d = %+v, want field %q with reason containing %q", i, g, w.Field, w.Reason)
				}
			}
			for _, f := range verr.Fields {
				if !strings.Contains(err.Error(), f.Field+": "+f.Reason) {
					t.Errorf("Error() = %q does not list %s", err.Error(), f.Field)
				}
			}
		})
	}
}

// rawBody is a valid body whose description is the JSON literal lit,
// written as is so that it can hold escapes json.Marshal never writes.
func rawBody(lit string) []byte { return rawField("description", lit) }

// rawField is a valid body with field set to the JSON literal lit.
func rawField(field, lit string) []byte {
	body := map[string]string{
		"message_id": `"msg-123"`, "type": `"blood_test_alert"`, "patient_id": `"P-0001"`,
		"contact_id": `"C-1"`, "description": `"Blood test results ready"`, "priority": `"L"`,
	}
	body[field] = lit
	parts := make([]string, 0, len(alert.Fields))
	for _, f := range alert.Fields {
		parts = append(parts, fmt.Sprintf("%q:%s", f.Name, body[f.Name]))
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

func TestDecodeEscapesThatAreCharacters(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ lit, want string }{
		"surrogate pair":            {`"ok \ud83e\udd7a"`, "ok 🥺"},
		"upper-case hex pair":       {`"\uD83E\uDD7A"`, "🥺"},
		"escaped backslash then u":  {`"a\\ud800"`, `a\ud800`},
		"BMP escape":                {`"caf\u00e9"`, "café"},
		"escaped quote then escape": {`"\"\u00e9\""`, `"é"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := alert.Decode(rawBody(tt.lit), phi.Default())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if a.Description != tt.want {
				t.Errorf("description = %q, want %q", a.Description, tt.want)
			}
		})
	}
}

func TestDecodeNeverEchoesPHI(t *testing.T) {
	t.Parallel()
	_, err := alert.Decode(valid(t, map[string]any{"patient_id": "9434765919", "description": "nhs 943-476-5919"}), phi.Default())
	if err == nil {
		t.Fatal("Decode accepted NHS numbers")
	}
	for _, leaked := range []string{"9434765919", "943-476-5919"} {
		if strings.Contains(err.Error(), leaked) {
			t.Errorf("error %q repeats the NHS number %s", err, leaked)
		}
	}
}

func TestDecodeGuardSwitchedOff(t *testing.T) {
	t.Parallel()
	none, err := phi.Parse(phi.None)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alert.Decode(valid(t, map[string]any{"patient_id": "9434765919"}), none); err != nil {
		t.Errorf("with no detectors, Decode: %v", err)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	a, err := alert.Decode([]byte(`{"message_id":"1","type":"t","patient_id":"p","contact_id":"c","description":"d","priority":"L"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := alert.Decode([]byte(" {\"priority\":\"L\", \"description\":\"d\",\"contact_id\":\"c\",\n\"patient_id\":\"p\",\"type\":\"t\",\"message_id\":\"1\"}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != b.Hash() {
		t.Errorf("key order and spacing changed the hash")
	}
	c := a
	c.Description = "e"
	if a.Hash() == c.Hash() {
		t.Errorf("a changed description kept the hash")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q is not hex SHA-256", a.Hash())
	}
}

func TestSchemaMatchesFields(t *testing.T) {
	t.Parallel()
	var s struct {
		Schema               string   `json:"$schema"`
		Type                 string   `json:"type"`
		Required             []string `json:"required"`
		AdditionalProperties bool     `json:"additionalProperties"`
		Properties           map[string]struct {
			Type      string   `json:"type"`
			MinLength int      `json:"minLength"`
			MaxLength int      `json:"maxLength"`
			Pattern   string   `json:"pattern"`
			Enum      []string `json:"enum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(alert.Schema(), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s.Schema != alert.SchemaDraft || s.Type != "object" || s.AdditionalProperties {
		t.Errorf("schema header = %q %q additional=%v", s.Schema, s.Type, s.AdditionalProperties)
	}
	wantRequired := []string{"message_id", "type", "patient_id", "contact_id", "description", "priority"}
	if !reflect.DeepEqual(s.Required, wantRequired) {
		t.Errorf("required = %v, want %v", s.Required, wantRequired)
	}
	want := map[string][2]int{"message_id": {1, 128}, "type": {1, 64}, "patient_id": {1, 64}, "contact_id": {1, 64}, "description": {1, 1000}, "priority": {1, 1}}
	for name, lim := range want {
		p, ok := s.Properties[name]
		if !ok {
			t.Errorf("schema lacks %s", name)
			continue
		}
		if p.Type != "string" || p.MinLength != lim[0] || p.MaxLength != lim[1] {
			t.Errorf("%s = %+v, want string %d..%d", name, p, lim[0], lim[1])
		}
	}
	if got := s.Properties["priority"].Enum; !reflect.DeepEqual(got, []string{"L", "M", "H"}) {
		t.Errorf("priority enum = %v", got)
	}
	if got := s.Properties["message_id"].Pattern; got != `^[A-Za-z0-9._:-]+$` {
		t.Errorf("message_id pattern = %q", got)
	}
}

func TestPriority(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p     alert.Priority
		valid bool
		label string
	}{
		{"L", true, "low"}, {"M", true, "medium"}, {"H", true, "high"}, {"X", false, "unknown"}, {"", false, "unknown"},
	} {
		if got := tt.p.Valid(); got != tt.valid {
			t.Errorf("%q.Valid() = %v, want %v", tt.p, got, tt.valid)
		}
		if got := tt.p.Label(); got != tt.label {
			t.Errorf("%q.Label() = %q, want %q", tt.p, got, tt.label)
		}
	}
}

func TestCheckField(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, want string }{
		{alert.FieldContactID, "C-1", ""},
		{alert.FieldContactID, "", "must not be empty"},
		{alert.FieldContactID, "C 1", "may only contain"},
		{alert.FieldContactID, strings.Repeat("c", 65), "at most 64"},
		{"priority", "X", "must be one of"},
		{"patient_id", "9434765919", ""}, // the PHI guard is not applied
		{"no_such_field", "x", "is not a field"},
	}
	for _, tt := range tests {
		got := alert.CheckField(tt.name, tt.value)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("CheckField(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}
