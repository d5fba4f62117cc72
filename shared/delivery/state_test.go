package delivery_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// The allowed moves, written out here apart from the tables in state.go:
// every pair of statuses not listed is forbidden, and the tests walk
// every pair both ways.
var (
	wantAlertMoves = map[[2]delivery.AlertStatus]bool{
		{delivery.AlertNone, delivery.AlertAccepted}:   true,
		{delivery.AlertAccepted, delivery.AlertSent}:   true,
		{delivery.AlertAccepted, delivery.AlertFailed}: true,
		// Acknowledgment and escalation (issue 12).
		{delivery.AlertAccepted, delivery.AlertAcknowledged}:       true,
		{delivery.AlertAccepted, delivery.AlertEscalated}:          true,
		{delivery.AlertAccepted, delivery.AlertUnacknowledged}:     true,
		{delivery.AlertSent, delivery.AlertAcknowledged}:           true,
		{delivery.AlertSent, delivery.AlertEscalated}:              true,
		{delivery.AlertSent, delivery.AlertUnacknowledged}:         true,
		{delivery.AlertEscalated, delivery.AlertEscalated}:         true,
		{delivery.AlertEscalated, delivery.AlertAcknowledged}:      true,
		{delivery.AlertEscalated, delivery.AlertUnacknowledged}:    true,
		{delivery.AlertUnacknowledged, delivery.AlertAcknowledged}: true,
	}
	wantAttemptMoves = map[[2]delivery.AttemptStatus]bool{
		{delivery.AttemptNone, delivery.AttemptSending}:    true,
		{delivery.AttemptSending, delivery.AttemptSent}:    true,
		{delivery.AttemptSending, delivery.AttemptFailed}:  true,
		{delivery.AttemptSending, delivery.AttemptUnknown}: true,
	}
)

func TestAlertTransitions(t *testing.T) {
	t.Parallel()
	all := append([]delivery.AlertStatus{delivery.AlertNone}, delivery.AlertStatuses...)
	walk(t, all, delivery.AlertTransitions, wantAlertMoves)
	for move := range wantAlertMoves {
		if !contains(all, move[1]) {
			t.Errorf("move %v leads to a status not in AlertStatuses", move)
		}
	}
}

func TestAttemptTransitions(t *testing.T) {
	t.Parallel()
	all := append([]delivery.AttemptStatus{delivery.AttemptNone}, delivery.AttemptStatuses...)
	walk(t, all, delivery.AttemptTransitions, wantAttemptMoves)
}

// walk checks every ordered pair of statuses, self-moves included,
// against want.
func walk[S ~string](t *testing.T, all []S, tr delivery.Transitions[S], want map[[2]S]bool) {
	t.Helper()
	allowed := 0
	for _, from := range all {
		for _, to := range all {
			move := [2]S{from, to}
			name := fmt.Sprintf("%q->%q", from, to)
			err := tr.Check(from, to)
			if got := tr.Allows(from, to); got != want[move] {
				t.Errorf("%s: Allows = %v, want %v", name, got, want[move])
			}
			switch {
			case want[move] && err != nil:
				t.Errorf("%s: Check = %v, want nil", name, err)
			case !want[move] && !errors.Is(err, delivery.ErrTransition):
				t.Errorf("%s: Check = %v, want ErrTransition", name, err)
			}
			if want[move] {
				allowed++
			}
		}
	}
	if allowed != len(want) {
		t.Errorf("walked %d allowed moves, the expected table has %d: a status is missing from the list", allowed, len(want))
	}
}

func contains[S comparable](xs []S, x S) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestEveryMoveHasOneEvent(t *testing.T) {
	t.Parallel()
	seen := map[delivery.EventType]string{}
	for _, s := range delivery.AlertStatuses {
		e := delivery.AlertEvent(s)
		if e == "" || seen[e] != "" {
			t.Errorf("alert status %s: event %q (already for %s)", s, e, seen[e])
		}
		seen[e] = "alert " + string(s)
	}
	for _, s := range delivery.AttemptStatuses {
		e := delivery.AttemptEvent(s)
		if e == "" || seen[e] != "" {
			t.Errorf("attempt status %s: event %q (already for %s)", s, e, seen[e])
		}
		seen[e] = "attempt " + string(s)
	}
	for _, e := range delivery.NoteEvents {
		if seen[e] != "" {
			t.Errorf("note event %s also records a move (%s)", e, seen[e])
		}
		seen[e] = "note"
	}
	for _, e := range delivery.EventTypes {
		if seen[e] == "" {
			t.Errorf("event type %s records no move and is not a note", e)
		}
	}
	if len(seen) != len(delivery.EventTypes) {
		t.Errorf("%d event types in use, EventTypes lists %d", len(seen), len(delivery.EventTypes))
	}
}

func TestAttemptStatusOf(t *testing.T) {
	t.Parallel()
	want := map[delivery.Class]delivery.AttemptStatus{
		delivery.Transient: delivery.AttemptFailed, delivery.Permanent: delivery.AttemptFailed, delivery.Ambiguous: delivery.AttemptUnknown,
	}
	for _, c := range delivery.Classes {
		if got := delivery.AttemptStatusOf(c); got != want[c] {
			t.Errorf("AttemptStatusOf(%s) = %s, want %s", c, got, want[c])
		}
	}
}

func TestActorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, a := range []delivery.Actor{delivery.System, delivery.Client("sandbox:second"), {Kind: delivery.ActorContact, ID: "C-1"}} {
		got, err := delivery.ParseActor(a.String())
		if err != nil || got != a {
			t.Errorf("ParseActor(%q) = %+v, %v; want %+v", a.String(), got, err, a)
		}
	}
	if got := delivery.Client("lab").String(); got != "client:lab" {
		t.Errorf("client actor = %q, want client:lab", got)
	}
	for _, bad := range []string{"", "client:", "robot:x", "lab"} {
		if _, err := delivery.ParseActor(bad); err == nil {
			t.Errorf("ParseActor(%q) succeeded", bad)
		}
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	if err := delivery.DefaultBudget.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, b := range []delivery.Budget{
		{Reserve: 0, Attempt: time.Second, Channel: time.Second},
		{Reserve: time.Second, Attempt: 0, Channel: time.Second},
		{Reserve: time.Second, Attempt: 2 * time.Second, Channel: time.Second},
	} {
		if b.Validate() == nil {
			t.Errorf("%+v validated", b)
		}
	}
	if got, want := delivery.DefaultBudget.Timeout(3), 24*time.Second; got != want {
		t.Errorf("Timeout(3) = %s, want %s", got, want)
	}
}
