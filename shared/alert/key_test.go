package alert_test

import (
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

func TestKeyForm(t *testing.T) {
	t.Parallel()
	if got, want := (alert.Key{Client: "ward-7", MessageID: "lab-1"}).String(), "6:ward-7:lab-1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// Pairs that a plain "client:message_id" join would merge into one
	// string: a client name may hold any printable character, ":" too.
	pairs := [][2]alert.Key{
		{{Client: "a:b", MessageID: "c"}, {Client: "a", MessageID: "b:c"}},
		{{Client: "a", MessageID: "1:b"}, {Client: "a:1", MessageID: "b"}},
		{{Client: "", MessageID: "0:x"}, {Client: "0:x", MessageID: ""}},
		{{Client: "1:a", MessageID: "b"}, {Client: "1", MessageID: "a:b"}},
		{{Client: "é", MessageID: "x"}, {Client: "e", MessageID: "x"}},
	}
	for _, p := range pairs {
		if p[0].String() == p[1].String() {
			t.Errorf("%+v and %+v share the form %q", p[0], p[1], p[0].String())
		}
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, k := range []alert.Key{
		{Client: "ward-7", MessageID: "lab-1"},
		{Client: "a:b", MessageID: "c"},
		{Client: "a", MessageID: "b:c"},
		{Client: "Dr. O'Brien's ward: 7/8 ✓", MessageID: "x.y_z:1-2"},
		{Client: "", MessageID: ""},
		{Client: "1234567890", MessageID: "1"},
	} {
		got, err := alert.ParseKey(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "ward-7:lab-1", "x:ab:c", "-1::", "01:a:b", "+1:a:b", "5:abc:d", "3:abcd", "3:abc"} {
		if k, err := alert.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) = %+v, want an error", s, k)
		}
	}
}

// FuzzKeyInjective checks that the form identifies the key: parsing gives
// back exactly the key that was written.
func FuzzKeyInjective(f *testing.F) {
	f.Add("ward-7", "lab-1")
	f.Add("a:b", "c")
	f.Add("12:", ":34")
	f.Fuzz(func(t *testing.T, client, id string) {
		k := alert.Key{Client: client, MessageID: id}
		got, err := alert.ParseKey(k.String())
		if err != nil || got != k {
			t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
		}
	})
}
