package delivery_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

func TestCallClientToken(t *testing.T) {
	t.Parallel()
	key := alert.Key{Client: "ward-7", MessageID: "msg-0001"}
	a := alert.Alert{MessageID: "msg-0001", Type: "t", PatientID: "p", ContactID: "c", Description: "d", Priority: alert.PriorityHigh}
	edited := a
	edited.Description = "another alert"
	first := delivery.CallAttempt{ContactID: "C-1", Number: 1}
	tok := delivery.CallClientToken(key, a.Hash(), first)

	if again := delivery.CallClientToken(alert.Key{Client: "ward-7", MessageID: "msg-0001"}, a.Hash(), delivery.CallAttempt{ContactID: "C-1", Number: 1}); again != tok {
		t.Error("a retry of the same alert gets another token: Connect would call twice")
	}
	others := map[string]string{
		"another alert, same message_id": delivery.CallClientToken(key, edited.Hash(), first),
		"another client, same alert":     delivery.CallClientToken(alert.Key{Client: "lab", MessageID: "msg-0001"}, a.Hash(), first),
		"another message_id":             delivery.CallClientToken(alert.Key{Client: "ward-7", MessageID: "msg-0002"}, a.Hash(), first),
		"client and id split elsewhere":  delivery.CallClientToken(alert.Key{Client: "ward-7:msg", MessageID: "0001"}, a.Hash(), first),
		"another attempt":                delivery.CallClientToken(key, a.Hash(), delivery.CallAttempt{ContactID: "C-1", Number: 2}),
		"another contact":                delivery.CallClientToken(key, a.Hash(), delivery.CallAttempt{ContactID: "C-2", Number: 1}),
		"contact and number split elsewhere": delivery.CallClientToken(key, a.Hash(), delivery.CallAttempt{ContactID: "C-11", Number: 1}) +
			delivery.CallClientToken(key, a.Hash(), delivery.CallAttempt{ContactID: "C-1", Number: 11}),
	}
	for name, other := range others {
		if strings.Contains(other, tok) {
			t.Errorf("%s: same token, so Connect would place no call", name)
		}
	}
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("token %q is not 64 lowercase hex characters", tok)
	}
	if strings.Contains(tok, "msg-0001") || strings.Contains(tok, "ward-7") {
		t.Error("the token holds the message_id or client in clear")
	}
	// The v2 token (before attempts) of the same alert: v3 must differ, so
	// that a call after the upgrade is never mistaken for an old one.
	v2 := sha256.Sum256([]byte("a2p-alerts/call/v2\x00" + key.String() + "\x00" + a.Hash()))
	if tok == hex.EncodeToString(v2[:]) {
		t.Error("the token did not change version with its inputs")
	}
}

func TestClassOf(t *testing.T) {
	t.Parallel()
	cause := errors.New("Throttled: rate exceeded")
	for _, c := range delivery.Classes {
		err := fmt.Errorf("publish: %w", &delivery.Error{Class: c, Code: "X", Err: cause})
		if got := delivery.ClassOf(err); got != c {
			t.Errorf("ClassOf(%v) = %s, want %s", err, got, c)
		}
		if !errors.Is(err, cause) {
			t.Errorf("%s failure does not unwrap to its cause", c)
		}
	}
	if got := delivery.ClassOf(errors.New("unclassified")); got != delivery.Ambiguous {
		t.Errorf("an unclassified error is %s, want ambiguous: nobody knows whether it was sent", got)
	}
	f := &delivery.Error{Class: delivery.Permanent, Code: "InvalidParameter", Err: cause}
	if got, want := f.Error(), "permanent delivery failure InvalidParameter: Throttled: rate exceeded"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
