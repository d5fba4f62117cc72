package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

// TestAuthentication sends a valid alert without a token and with wrong
// ones: each answers 401 and delivers nothing. The same alert then goes
// through with "Bearer <token>" as a fresh delivery (so the refused
// requests never reached the processor's idempotency lock), and the raw
// token and a lower-case scheme are accepted too.
func TestAuthentication(t *testing.T) {
	t.Parallel()

	a := newAlert(t, alert.PriorityLow, "")
	body := encode(t, a)

	for name, au := range map[string]auth{
		"no header":            {omit: true},
		"empty header":         {header: ""},
		"unknown token":        {header: strings.Repeat("x", 43)},
		"unknown bearer token": {header: "Bearer " + strings.Repeat("x", 43)},
		"token with a suffix":  {header: tgt.token + "x"},
		"token truncated":      {header: tgt.token[:len(tgt.token)-1]},
		"scheme alone":         {header: "Bearer"},
		"other scheme":         {header: "Basic " + tgt.token},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			r := tgt.postAuth(t, body, au)
			if r.status != http.StatusUnauthorized {
				t.Errorf("status %d (%s), want 401", r.status, r)
			}
		})
	}

	// Subtests above are parallel: wait for them before the accepted
	// requests, so that a refused one cannot come after.
	t.Run("accepted", func(t *testing.T) {
		tgt.postAuth(t, body, auth{header: "Bearer " + tgt.token}).wantSent(t, a)

		for _, header := range []string{tgt.token, "bearer " + tgt.token} {
			b := newAlert(t, alert.PriorityLow, "")
			tgt.postAuth(t, encode(t, b), auth{header: header}).wantSent(t, b)
		}
	})

	t.Run("delivered once", func(t *testing.T) {
		tgt.drain(t)

		if got := deliveredAnywhere(t, a.MessageID); got != 1 {
			t.Errorf("%d deliveries for %s, want 1 (from the accepted request only)", got, a.MessageID)
		}
	})
}

// TestUnknownContact names a contact that does not exist: 404 not_found,
// again on a retry (the lock was released, so no 409 and no replay), and
// nothing delivered.
func TestUnknownContact(t *testing.T) {
	t.Parallel()

	a := newAlert(t, alert.PriorityHigh, "")
	a.ContactID = "C-nobody"

	for range 2 {
		r := tgt.postAlert(t, a)
		r.wantError(t, api.CodeNotFound)

		if r.replayed() {
			t.Errorf("404 marked as a replay")
		}
	}

	t.Run("nothing delivered", func(t *testing.T) {
		tgt.drain(t)

		if got := deliveredAnywhere(t, a.MessageID); got != 0 {
			t.Errorf("%d deliveries for an unknown contact, want 0", got)
		}
	})
}
