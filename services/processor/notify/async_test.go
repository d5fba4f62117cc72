package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Tests of POST /notification with Prefer: respond-async (issue 13).

// fakeQueue records the alerts queued; fail, when set, fails Enqueue.
type fakeQueue struct {
	mu     sync.Mutex
	queued []alerting.Alert
	fail   error
}

func (q *fakeQueue) Enqueue(_ context.Context, a *alerting.Alert) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.queued = append(q.queued, *a)
	return nil
}

func (q *fakeQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued)
}

// withQueue is a fixture edit that gives the handler q.
func withQueue(q *fakeQueue) func(*notify.Config) {
	return func(c *notify.Config) { c.Queue = q }
}

// preferring is ev with a Prefer header of value.
func preferring(ev events.APIGatewayProxyRequest, value string) events.APIGatewayProxyRequest {
	ev.Headers = map[string]string{"Authorization": ev.Headers["Authorization"], "prefer": value}
	return ev
}

func TestAsyncAnswersAccepted(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	f := newFixture(t, withQueue(q))
	a := testAlert()
	resp := f.invoke(t, preferring(eventFor(t, a), "respond-async"))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d %s, want 202", resp.StatusCode, resp.Body)
	}
	var body api.Accepted
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body != (api.Accepted{MessageID: a.MessageID, Status: api.StatusAccepted}) {
		t.Errorf("body %s (%v), want message_id and status accepted", resp.Body, err)
	}
	for h, want := range map[string]string{
		names.HeaderLocation: "/prod/notification/" + a.MessageID, names.HeaderPreferenceApplied: names.PreferRespondAsync,
	} {
		if got := resp.Headers[h]; got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	rec := f.record(t, keyOf(a))
	if rec.Status != delivery.AlertAccepted || len(rec.Attempts) != 0 || len(f.alerts.Writes) != 1 {
		t.Errorf("record %s with %d attempts in %d writes: want accepted, nothing tried, one write", rec.Status, len(rec.Attempts), len(f.alerts.Writes))
	}
	if q.count() != 1 || q.queued[0].Instance != rec.Instance || q.queued[0].Status != delivery.AlertAccepted {
		t.Errorf("queued %+v, want the accepted instance %s", q.queued, rec.Instance)
	}
	if f.pub.count() != 0 || f.caller.count() != 0 {
		t.Error("the POST called a provider: the worker delivers a queued alert")
	}
	idem, _ := f.idem.record(keyOf(a))
	if idem.Status != notify.StatusCompleted || idem.Response.Status != http.StatusAccepted {
		t.Errorf("idempotency record %+v, want completed with the 202: the lock lasts only the request", idem)
	}
	if line := f.requestLine(t); line["outcome"] != names.OutcomeQueued || line["status"] != float64(http.StatusAccepted) {
		t.Errorf("log line %v, want outcome queued, status 202", line)
	}
}

func TestAsyncNeedsThePreferenceAndAQueue(t *testing.T) {
	t.Parallel()
	t.Run("no preference", func(t *testing.T) {
		t.Parallel()
		q := &fakeQueue{}
		f := newFixture(t, withQueue(q))
		resp := f.invoke(t, eventFor(t, testAlert()))
		if resp.StatusCode != http.StatusOK || q.count() != 0 || resp.Headers[names.HeaderPreferenceApplied] != "" {
			t.Errorf("status %d, %d queued, Preference-Applied %q: want delivered at once", resp.StatusCode, q.count(), resp.Headers[names.HeaderPreferenceApplied])
		}
	})
	t.Run("no queue", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		resp := f.invoke(t, preferring(eventFor(t, testAlert()), "respond-async"))
		if resp.StatusCode != http.StatusOK || resp.Headers[names.HeaderPreferenceApplied] != "" || f.pub.count() != 1 {
			t.Errorf("status %d, Preference-Applied %q: a stack without a queue ignores the preference", resp.StatusCode, resp.Headers[names.HeaderPreferenceApplied])
		}
	})
}

func TestPreferHeader(t *testing.T) {
	t.Parallel()
	for value, async := range map[string]bool{
		"respond-async":                         true,
		"RESPOND-ASYNC":                         true,
		"wait=10, respond-async":                true,
		"respond-async; foo=bar":                true,
		" return=minimal ,respond-async ":       true,
		"respond-async=\"\"":                    true,
		"return=representation":                 false,
		"respond-asynchronously":                false,
		`foo="a,respond-async"`:                 false,
		`foo="x, respond-async, y"`:             false,
		`foo="a\",respond-async", wait=5`:       false,
		`foo="a\"", respond-async`:              true,
		"handling=lenient; respond-async=later": false,
	} {
		t.Run(value, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{}
			f := newFixture(t, withQueue(q))
			resp := f.invoke(t, preferring(eventFor(t, testAlert()), value))
			if got := resp.StatusCode == http.StatusAccepted; got != async {
				t.Errorf("Prefer: %s answered %d, want async %v", value, resp.StatusCode, async)
			}
		})
	}
	t.Run("one of several headers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withQueue(&fakeQueue{}))
		ev := eventFor(t, testAlert())
		ev.MultiValueHeaders = map[string][]string{"Prefer": {"return=minimal", "respond-async"}}
		if resp := f.invoke(t, ev); resp.StatusCode != http.StatusAccepted {
			t.Errorf("status %d, want 202", resp.StatusCode)
		}
	})
}

// TestReplayAcrossModes: a replay answers what the first request
// answered, whichever mode each used, and queues or sends nothing again.
func TestReplayAcrossModes(t *testing.T) {
	t.Parallel()
	t.Run("sync then async", func(t *testing.T) {
		t.Parallel()
		q := &fakeQueue{}
		f := newFixture(t, withQueue(q))
		a := testAlert()
		first := f.invoke(t, eventFor(t, a))
		again := f.invoke(t, preferring(eventFor(t, a), "respond-async"))
		if first.StatusCode != http.StatusOK || again.StatusCode != http.StatusOK || again.Body != first.Body ||
			again.Headers[names.HeaderIdempotentReplay] != "true" || again.Headers[names.HeaderPreferenceApplied] != "" {
			t.Errorf("first %d %s, replay %d %s %v: want the 200 replayed", first.StatusCode, first.Body, again.StatusCode, again.Body, again.Headers)
		}
		if q.count() != 0 || f.pub.count() != 1 {
			t.Errorf("%d queued, %d sent: want nothing queued, one send", q.count(), f.pub.count())
		}
	})
	t.Run("async then sync", func(t *testing.T) {
		t.Parallel()
		q := &fakeQueue{}
		f := newFixture(t, withQueue(q))
		a := testAlert()
		first := f.invoke(t, preferring(eventFor(t, a), "respond-async"))
		again := f.invoke(t, eventFor(t, a))
		if again.StatusCode != http.StatusAccepted || again.Body != first.Body || again.Headers[names.HeaderIdempotentReplay] != "true" ||
			again.Headers[names.HeaderPreferenceApplied] != names.PreferRespondAsync || again.Headers[names.HeaderLocation] == "" {
			t.Errorf("replay %d %s %v: want the 202 replayed with Location and Preference-Applied", again.StatusCode, again.Body, again.Headers)
		}
		if q.count() != 1 || f.pub.count() != 0 {
			t.Errorf("%d queued, %d sent: want one queued, nothing sent by the POSTs", q.count(), f.pub.count())
		}
	})
}

func TestAsyncQueueFailure(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{fail: errors.New("eventbridge: throttled")}
	f := newFixture(t, withQueue(q))
	a := testAlert()
	resp := f.invoke(t, preferring(eventFor(t, a), "respond-async"))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers[names.HeaderRetryAfter] == "" {
		t.Fatalf("status %d %s, want 503 with Retry-After", resp.StatusCode, resp.Body)
	}
	first := f.record(t, keyOf(a))
	last := first.Events[len(first.Events)-1]
	if first.Status != delivery.AlertFailed || last.Reason != delivery.ReasonNotQueued {
		t.Errorf("record %s, last event %+v: want the unqueued instance failed (not_queued), so a late event sends nothing", first.Status, last)
	}
	if _, held := f.idem.record(keyOf(a)); held {
		t.Error("the lock was kept: a retry could not queue the alert")
	}
	q.fail = nil
	f.clock.Advance(time.Millisecond) // a new instance
	if resp := f.invoke(t, preferring(eventFor(t, a), "respond-async")); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("retry answered %d %s, want 202", resp.StatusCode, resp.Body)
	}
	if retry := f.record(t, keyOf(a)); retry.Instance == first.Instance || retry.Status != delivery.AlertAccepted || f.alerts.Instances(keyOf(a)) != 2 {
		t.Errorf("retry recorded %s %s: want a new, accepted instance", retry.Instance, retry.Status)
	}
}
