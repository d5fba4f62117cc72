package escalation_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
)

func TestDefaultsAreValidMinutePolicies(t *testing.T) {
	t.Parallel()
	d := escalation.Defaults()
	for _, p := range alert.Priorities {
		if probs := d[p].Check(time.Minute, nil); len(probs) > 0 {
			t.Errorf("default %s: %v", p, probs)
		}
	}
	h := d[alert.PriorityHigh]
	if got := []time.Duration{h.Stages[0].After, h.Stages[1].After, h.Stages[2].After}; !reflect.DeepEqual(got,
		[]time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}) {
		t.Errorf("H stages at %v, want 5, 10, 20 minutes", got)
	}
	if !reflect.DeepEqual(h.Stages[0].Targets, []escalation.Target{escalation.NextChannel, escalation.RepeatCall}) {
		t.Errorf("H stage 1 targets %v", h.Stages[0].Targets)
	}
	m := d[alert.PriorityMedium]
	if got := []time.Duration{m.Stages[0].After, m.Stages[1].After, m.Stages[2].After}; !reflect.DeepEqual(got,
		[]time.Duration{15 * time.Minute, 30 * time.Minute, 60 * time.Minute}) {
		t.Errorf("M stages at %v, want 15, 30, 60 minutes", got)
	}
	if d[alert.PriorityLow].Enabled() {
		t.Error("L asks for an acknowledgment by default")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	stage := func(after time.Duration, targets ...escalation.Target) escalation.Stage {
		return escalation.Stage{After: after, Targets: targets}
	}
	known := func(id string) bool { return id == "C-9" }
	tests := []struct {
		name  string
		p     escalation.Policy
		unit  time.Duration
		field string // "" when valid
	}{
		{"none", escalation.Policy{}, time.Minute, ""},
		{"window only", escalation.Policy{UnacknowledgedAfter: time.Hour}, time.Minute, ""},
		{"seconds on a test stack", escalation.Policy{Stages: []escalation.Stage{stage(2*time.Second, escalation.NextChannel)}, UnacknowledgedAfter: 5 * time.Second}, time.Second, ""},
		{"seconds elsewhere", escalation.Policy{Stages: []escalation.Stage{stage(30*time.Second, escalation.NextChannel)}, UnacknowledgedAfter: 5 * time.Minute}, time.Minute, "stages[0].after"},
		{"part minutes", escalation.Policy{Stages: []escalation.Stage{stage(90*time.Second, escalation.NextChannel)}, UnacknowledgedAfter: 5 * time.Minute}, time.Minute, "stages[0].after"},
		{"not increasing", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.NextChannel), stage(5*time.Minute, escalation.FailSafe)}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, "stages[1].after"},
		{"window before the last stage", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.NextChannel)}, UnacknowledgedAfter: 5 * time.Minute}, time.Minute, "unacknowledgedAfter"},
		{"stages without a window", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.NextChannel)}}, time.Minute, "unacknowledgedAfter"},
		{"window over a day", escalation.Policy{UnacknowledgedAfter: 25 * time.Hour}, time.Minute, "unacknowledgedAfter"},
		{"no targets", escalation.Policy{Stages: []escalation.Stage{stage(5 * time.Minute)}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, "stages[0].targets"},
		{"unknown target", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, "pager")}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, "stages[0].targets[0]"},
		{"target twice", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.RepeatCall, escalation.RepeatCall)}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, "stages[0].targets[1]"},
		{"unknown contact", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.ContactTarget("C-1"))}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, "stages[0].targets[0]"},
		{"known contact", escalation.Policy{Stages: []escalation.Stage{stage(5*time.Minute, escalation.ContactTarget("C-9"))}, UnacknowledgedAfter: 9 * time.Minute}, time.Minute, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			probs := tt.p.Check(tt.unit, known)
			switch {
			case tt.field == "" && len(probs) > 0:
				t.Errorf("problems %v, want none", probs)
			case tt.field != "" && (len(probs) == 0 || probs[0].Field != tt.field):
				t.Errorf("problems %v, want one at %s", probs, tt.field)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	p := escalation.Defaults()[alert.PriorityHigh]
	got := p.Resolve("C-2", "C-9")
	if want := []escalation.Target{escalation.ContactTarget("C-2")}; !reflect.DeepEqual(got.Stages[1].Targets, want) {
		t.Errorf("secondary resolved to %v, want %v", got.Stages[1].Targets, want)
	}
	if want := []escalation.Target{escalation.ContactTarget("C-9")}; !reflect.DeepEqual(got.Stages[2].Targets, want) {
		t.Errorf("fail-safe resolved to %v, want %v", got.Stages[2].Targets, want)
	}
	if got := p.Resolve("", "C-9").Stages[1].Targets; !reflect.DeepEqual(got, []escalation.Target{escalation.ContactTarget("C-9")}) {
		t.Errorf("no secondary resolved to %v, want the fail-safe contact", got)
	}
	if got := p.Resolve("", "").Stages[2].Targets; len(got) != 0 {
		t.Errorf("no fail-safe contact resolved to %v, want nothing", got)
	}
	if p.Stages[1].Targets[0] != escalation.Secondary {
		t.Error("Resolve changed the policy it was called on")
	}
}

func TestDue(t *testing.T) {
	t.Parallel()
	p := escalation.Defaults()[alert.PriorityHigh]
	for n, want := range map[int]time.Duration{1: 5 * time.Minute, 2: 10 * time.Minute, 3: 20 * time.Minute, 4: 30 * time.Minute} {
		if got, ok := p.Due(n); !ok || got != want {
			t.Errorf("Due(%d) = %s, %v; want %s", n, got, ok, want)
		}
	}
	for _, n := range []int{0, 5} {
		if _, ok := p.Due(n); ok {
			t.Errorf("Due(%d) exists", n)
		}
	}
	if _, ok := (escalation.Policy{}).Due(1); ok {
		t.Error("a policy asking for nothing has a timer")
	}
	if p.Final() != 4 {
		t.Errorf("Final = %d, want 4", p.Final())
	}
}

func TestSetRoundTrip(t *testing.T) {
	t.Parallel()
	s := escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-9"}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"after":"5m0s"`) {
		t.Errorf("JSON %s does not write durations as Go durations", b)
	}
	got, err := escalation.ParseSet(string(b))
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("ParseSet = %+v, %v; want %+v", got, err, s)
	}
	if _, err := escalation.ParseSet(`{"policies":{"X":{}}}`); err == nil {
		t.Error("an unknown priority parsed")
	}
	if got, err := escalation.ParseSet(""); err != nil || got.Enabled() {
		t.Errorf("empty set: %+v, %v", got, err)
	}
}

func TestTimer(t *testing.T) {
	t.Parallel()
	tm := escalation.Timer{Key: alert.Key{Client: "ward:7", MessageID: "lab-1"}, Instance: "1796115600000-0a1b2c3d", Number: 2}
	got, err := escalation.ParseTimer([]byte(tm.Input()))
	if err != nil || got != tm {
		t.Errorf("ParseTimer(Input) = %+v, %v; want %+v", got, err, tm)
	}
	name := tm.Name()
	if len(name) > 64 || !strings.HasSuffix(name, "-2") || strings.ContainsAny(name, ":") {
		t.Errorf("name %q: want at most 64 characters of Scheduler's alphabet, ending in the number", name)
	}
	other := tm
	other.Instance = "1796115600001-0a1b2c3d"
	if other.Name() == name {
		t.Error("two instances share a timer name")
	}
	for _, bad := range []string{`{}`, `{"key":"x","instance":"i","timer":1}`, `{"key":"1:a:b","instance":"i","timer":0}`, `[]`} {
		if _, err := escalation.ParseTimer([]byte(bad)); err == nil {
			t.Errorf("ParseTimer(%s) succeeded", bad)
		}
	}
}
