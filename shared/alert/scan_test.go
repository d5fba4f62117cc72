package alert

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzReadFieldsAgreesWithReadObject: the fast reader of well-formed
// bodies finds exactly what encoding/json's tokenizer finds (values,
// problems, and whether the body is an object at all), whatever the body.
func FuzzReadFieldsAgreesWithReadObject(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `"x"`, `{} {}`, `{"a":1}x`, ` { "message_id" : "m" } `,
		`{"message_id":"m","type":"t","patient_id":"p","contact_id":"c","description":"d","priority":"L"}`,
		`{"message_id":"a","message_id":"b"}`, `{"x":1,"x":2,"y":[1,{"z":"}"}]}`,
		`{"message\u005fid":"m","description":"caf\u00e9 \"q\" \\ \ud83e\udd7a"}`,
		`{"description":"a\ud83e b"}`, `{"type":null,"priority":true,"contact_id":{"a":[]},"patient_id":-1.5e3}`,
		`{"description":"\u00e9\t"}`, `{"a":"\\u0041"}`, "{\"d\":\"\u2028\"}", `{"message_id":`, `{"a" "b"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // Decode refuses it before either reader runs
		}
		gotValues, gotProblems, gotOK := readFields(body)
		wantValues, wantProblems, wantOK := fromObject(readObject(body))
		if gotOK != wantOK || gotValues != wantValues || !reflect.DeepEqual(gotProblems, wantProblems) {
			t.Errorf("body %q:\nreadFields  %v %+v %+v\nreadObject  %v %+v %+v",
				body, gotOK, gotValues, gotProblems, wantOK, wantValues, wantProblems)
		}
	})
}

// FuzzUnescapeAgreesWithEncodingJSON: unescape reads any JSON string
// literal as encoding/json does, escapes of every kind and unpaired
// surrogates included.
func FuzzUnescapeAgreesWithEncodingJSON(f *testing.F) {
	for _, seed := range []string{`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"caf\u00e9"`, `"\ud83e\udd7a"`, `"\uD83E\uDD7A x"`,
		`"\ud83e"`, `"\udd7a"`, `"\ud83e\ud83e\udd7a"`, `"\ud83e x"`, `"a\\ud800"`, `"\u0000\u001f"`, `"é\u2028"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || len(raw) < 2 || raw[0] != '"' || endOfString(raw, 0) != len(raw) || !utf8.Valid(raw) {
			return // unescape reads one string literal, as readFields finds it
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if got := unescape(raw); got != want {
			t.Errorf("unescape(%q) = %q, want %q", raw, got, want)
		}
	})
}
