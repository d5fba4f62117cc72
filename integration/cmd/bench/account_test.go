package main

import (
	"slices"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func TestBenchIDInDeliveredTexts(t *testing.T) {
	t.Parallel()

	id := idMaker{run: "a1b2c3"}.id("u200", 1234)
	if id != "bn-a1b2c3-u200-1234" {
		t.Fatalf("id = %q", id)
	}

	tests := []struct {
		name, text string
	}{
		{"sms", "Medium priority: blood_test_alert\nPatient: P-1\nK 6.9\nRef: " + id},
		{"email", "A low priority alert needs your attention.\n\nReference: " + id + "\n"},
		{"call", "This is a high priority alert. Reference " + id + "."},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if got := benchIDRE.FindString(tt.text); got != id {
				t.Errorf("found %q in %q, want %q", got, tt.text, id)
			}
		})
	}
}

func TestDeliveryLogCountsDistinctSNSMessages(t *testing.T) {
	t.Parallel()

	l := newDeliveryLog()
	changed := l.changed()

	l.onDelivery(observe.Delivery{MessageID: "sns-1", Message: "Ref: bn-aa-u50-1"})

	select {
	case <-changed:
	default:
		t.Fatal("a delivery did not signal a change")
	}

	l.onDelivery(observe.Delivery{MessageID: "sns-1", Message: "Ref: bn-aa-u50-1"}) // SQS re-read
	l.onDelivery(observe.Delivery{MessageID: "sns-2", Message: "Ref: bn-aa-u50-2"})
	l.onDelivery(observe.Delivery{MessageID: "sns-3", Message: "Ref: bn-aa-u50-2"}) // a real second publish
	l.onDelivery(observe.Delivery{MessageID: "sns-4", Message: "no id here"})

	got, rereads := l.snapshot()
	if got["bn-aa-u50-1"] != 1 || got["bn-aa-u50-2"] != 2 || len(got) != 2 {
		t.Errorf("counts = %v", got)
	}

	if rereads != 1 {
		t.Errorf("rereads = %d, want 1", rereads)
	}
}

func TestCallCounts(t *testing.T) {
	t.Parallel()

	call := func(id string, fault bool) standin.OutboundCall {
		c := standin.OutboundCall{Attributes: map[string]string{names.ConnectMessageAttribute: "Reference " + id + "."}}
		if fault {
			c.Fault = &standin.ConnectError{Status: 500}
		}

		return c
	}

	got := callCounts([]standin.OutboundCall{
		call("bn-aa-u50-3", false),
		call("bn-aa-u50-3", false), // asked twice: counted twice
		call("bn-aa-u50-4", true),  // refused: no call
	})

	if got["bn-aa-u50-3"] != 2 || got["bn-aa-u50-4"] != 0 {
		t.Errorf("counts = %v", got)
	}

	merged := mergeCounts(got, map[string]int{"bn-aa-u50-3": 1, "x": 1})
	if merged["bn-aa-u50-3"] != 3 || merged["x"] != 1 {
		t.Errorf("merged = %v", merged)
	}
}

func TestReckon(t *testing.T) {
	t.Parallel()

	ok := func(id string) outcome { return outcome{ID: id, Code: 200} }
	replayOK := func(id string) outcome { return outcome{ID: id, Kind: kindReplay, Code: 200, Replay: true} }
	failed := func(id string, code int) outcome { return outcome{ID: id, Code: code} }

	tests := []struct {
		name          string
		outcomes      []outcome
		before, after map[string]int
		wantOK        bool
		wantAccepted  int
		wantDelivered int
		wantLost      []string
		wantDoubled   []string
		wantUnacc     []string
	}{
		{
			name:     "every accepted alert delivered once",
			outcomes: []outcome{ok("a"), ok("b"), failed("c", 500)},
			after:    map[string]int{"a": 1, "b": 1},
			wantOK:   true, wantAccepted: 2, wantDelivered: 2,
		},
		{
			name:         "lost",
			outcomes:     []outcome{ok("a"), ok("b")},
			after:        map[string]int{"a": 1},
			wantAccepted: 2, wantDelivered: 1, wantLost: []string{"b"},
		},
		{
			name:         "doubled",
			outcomes:     []outcome{ok("a")},
			after:        map[string]int{"a": 2},
			wantAccepted: 1, wantDelivered: 2, wantDoubled: []string{"a"},
		},
		{
			name:         "delivered without a 200",
			outcomes:     []outcome{failed("a", 0), ok("b")},
			after:        map[string]int{"a": 1, "b": 1},
			wantAccepted: 1, wantDelivered: 2, wantUnacc: []string{"a"},
		},
		{
			name:     "in-phase replay delivers nothing more",
			outcomes: []outcome{ok("a"), replayOK("a"), ok("b")},
			after:    map[string]int{"a": 1, "b": 1},
			wantOK:   true, wantAccepted: 2, wantDelivered: 2,
		},
		{
			name:     "replay of an earlier phase's alert",
			outcomes: []outcome{replayOK("old"), ok("b")},
			before:   map[string]int{"old": 1},
			after:    map[string]int{"old": 1, "b": 1},
			wantOK:   true, wantAccepted: 1, wantDelivered: 1,
		},
		{
			name:         "replay of an earlier phase's alert delivered again",
			outcomes:     []outcome{replayOK("old")},
			before:       map[string]int{"old": 1},
			after:        map[string]int{"old": 2},
			wantAccepted: 0, wantDelivered: 1, wantDoubled: []string{"old"},
		},
		{
			name:     "replay answered 409 while the original is in flight",
			outcomes: []outcome{ok("a"), {ID: "a", Kind: kindReplay, Code: 409}},
			after:    map[string]int{"a": 1},
			wantOK:   true, wantAccepted: 1, wantDelivered: 1,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := reckon(tt.outcomes, tt.before, tt.after)

			if got.ok() != tt.wantOK {
				t.Errorf("ok = %v, want %v (%s)", got.ok(), tt.wantOK, got.problems())
			}

			if got.AcceptedIDs != tt.wantAccepted || got.Deliveries != tt.wantDelivered {
				t.Errorf("accepted %d, deliveries %d; want %d, %d", got.AcceptedIDs, got.Deliveries, tt.wantAccepted, tt.wantDelivered)
			}

			if !slices.Equal(got.Lost, tt.wantLost) || !slices.Equal(got.Doubled, tt.wantDoubled) || !slices.Equal(got.Unaccepted, tt.wantUnacc) {
				t.Errorf("lost %v doubled %v unaccepted %v; want %v %v %v", got.Lost, got.Doubled, got.Unaccepted, tt.wantLost, tt.wantDoubled, tt.wantUnacc)
			}

			if tt.wantOK != (got.problems() == "") {
				t.Errorf("problems() = %q with ok %v", got.problems(), tt.wantOK)
			}
		})
	}
}

func TestReckonCountsAnswers(t *testing.T) {
	t.Parallel()

	got := reckon([]outcome{
		{ID: "a", Code: 200},
		{ID: "a", Kind: kindReplay, Code: 200, Replay: true},
		{ID: "b", Code: 200, Replay: true}, // a new id answered as a replay
		{ID: "c", Code: 0, Err: "timeout"},
	}, nil, map[string]int{"a": 1, "b": 1})

	if got.Requests != 4 || got.Fresh != 3 || got.Replays != 1 || got.OK != 3 || got.ReplayAnswers != 2 {
		t.Errorf("counts %+v", got)
	}

	if got.Codes[200] != 3 || got.Codes[0] != 1 {
		t.Errorf("codes %v", got.Codes)
	}

	if got.FreshReplayed != 1 || got.ok() {
		t.Errorf("a new message_id answered as a replay must fail the phase: %+v", got)
	}
}
