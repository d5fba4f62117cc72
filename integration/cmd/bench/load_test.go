package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func TestAlertBodyIsValidAndStable(t *testing.T) {
	t.Parallel()

	for k, want := range []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh, alert.PriorityMedium} {
		id := idMaker{run: "abc"}.id("u50", k)
		body := alertBody(id, k)

		a, err := alert.Decode(body, nil)
		if err != nil {
			t.Fatalf("alert %d does not validate: %v\n%s", k, err, body)
		}

		if a.MessageID != id || a.Priority != want || a.ContactID != contactID {
			t.Errorf("alert %d = %+v", k, a)
		}

		if !bytes.Equal(bodyFor(id), body) {
			t.Errorf("bodyFor(%q) differs from the original body: a replay would be refused", id)
		}
	}
}

func TestTargeterUniqueMix(t *testing.T) {
	t.Parallel()

	tr := &targeter{ids: idMaker{run: "abc"}, spec: phaseSpec{Tag: "u50", Rate: 50}}
	seen := map[string]bool{}

	for range 100 {
		id, _, kind := tr.next()
		if kind != kindFresh || seen[id] {
			t.Fatalf("request %s kind %v repeated or not fresh", id, kind)
		}

		seen[id] = true
	}
}

func TestTargeterReplayMix(t *testing.T) {
	t.Parallel()

	pool := []sent{{id: "bn-abc-u50-7", body: bodyFor("bn-abc-u50-7")}}
	tr := &targeter{ids: idMaker{run: "abc"}, spec: phaseSpec{Tag: "r4", Rate: 4, Replays: true}, pool: pool}

	type req struct {
		id   string
		kind requestKind
	}

	var got []req

	bodies := map[string][]byte{}

	for range 12 {
		id, body, kind := tr.next()
		got = append(got, req{id, kind})

		if prev, ok := bodies[id]; ok && !bytes.Equal(prev, body) {
			t.Errorf("replay of %s has another body", id)
		}

		bodies[id] = body
	}

	// Rate 4: a replay repeats the fresh alert sent 2 fresh alerts (about
	// a second) earlier, or, before there is one, the pool's.
	want := []req{
		{"bn-abc-r4-0", kindFresh}, {"bn-abc-u50-7", kindReplay},
		{"bn-abc-r4-1", kindFresh}, {"bn-abc-u50-7", kindReplay},
		{"bn-abc-r4-2", kindFresh}, {"bn-abc-r4-0", kindReplay},
		{"bn-abc-r4-3", kindFresh}, {"bn-abc-r4-1", kindReplay},
		{"bn-abc-r4-4", kindFresh}, {"bn-abc-r4-2", kindReplay},
		{"bn-abc-r4-5", kindFresh}, {"bn-abc-r4-3", kindReplay},
	}

	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestTargetAndOutcomeRoundTrip(t *testing.T) {
	t.Parallel()

	tr := &targeter{
		ids: idMaker{run: "abc"}, spec: phaseSpec{Tag: "r2", Rate: 2, Replays: true},
		url: "http://api.execute-api.localhost:4566/v1/notification", token: "tok",
		pool: []sent{{id: "bn-abc-u50-1", body: bodyFor("bn-abc-u50-1")}},
	}

	var fresh, replay vegeta.Target
	if err := tr.target(&fresh); err != nil {
		t.Fatal(err)
	}

	if err := tr.target(&replay); err != nil {
		t.Fatal(err)
	}

	if fresh.Method != http.MethodPost || fresh.Header.Get(names.HeaderAuthorization) != "tok" {
		t.Errorf("target %+v", fresh)
	}

	var a alert.Alert
	if err := json.Unmarshal(fresh.Body, &a); err != nil || a.MessageID != "bn-abc-r2-0" {
		t.Errorf("body %s: %v", fresh.Body, err)
	}

	res := &vegeta.Result{
		URL: replay.URL, Code: 200, Latency: 3 * time.Millisecond,
		Headers: http.Header{names.HeaderIdempotentReplay: {"true"}},
	}

	got := outcomeOf(res)
	want := outcome{ID: "bn-abc-u50-1", Kind: kindReplay, Code: 200, Replay: true, Latency: 3 * time.Millisecond}

	if got != want {
		t.Errorf("outcome %+v, want %+v", got, want)
	}

	if o := outcomeOf(&vegeta.Result{URL: fresh.URL, Error: "timeout"}); o.ID != "bn-abc-r2-0" || o.Kind != kindFresh || o.Code != 0 || o.Err != "timeout" {
		t.Errorf("error outcome %+v", o)
	}
}

func TestSaturated(t *testing.T) {
	t.Parallel()

	mk := func(rate, n int, elapsed, p50 time.Duration) phaseResult {
		return phaseResult{Spec: phaseSpec{Rate: rate}, Outcomes: make([]outcome, n), Elapsed: elapsed, All: summary{P50: p50}}
	}

	const ref = 4 * time.Millisecond

	tests := []struct {
		name string
		r    phaseResult
		ref  time.Duration
		want bool
	}{
		{"kept up", mk(100, 2000, 20*time.Second, 5*time.Millisecond), ref, false},
		{"slightly slow answers", mk(100, 2000, 20500*time.Millisecond, 5*time.Millisecond), ref, false},
		{"answers fell behind", mk(200, 4000, 23*time.Second, 5*time.Millisecond), ref, true},
		{"kept the rate but queued", mk(200, 4000, 20800*time.Millisecond, 900*time.Millisecond), ref, true},
		{"no reference latency", mk(200, 4000, 20800*time.Millisecond, 900*time.Millisecond), 0, false},
		{"closed loop never", mk(0, 100, time.Minute, time.Second), ref, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if got := tt.r.saturated(tt.ref); got != tt.want {
				t.Errorf("saturated = %v at %.1f/s, p50 %v, want %v", got, tt.r.achievedRate(), tt.r.All.P50, tt.want)
			}
		})
	}
}
