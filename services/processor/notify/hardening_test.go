package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Tests of the service-hardening rules, one group per rule.

// callAlert is testAlert by call.
func callAlert() alert.Alert {
	a := testAlert()
	a.Priority = alert.PriorityHigh
	return a
}

// TestReusedMessageIDNeverAnswersSentWithoutACall: Connect remembers a
// ClientToken for 7 days, the record lives for the TTL. A different alert
// that reuses a message_id after the record expired must still be called.
func TestReusedMessageIDNeverAnswersSentWithoutACall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := callAlert()
	if resp := f.invoke(t, eventFor(t, first)); resp.StatusCode != http.StatusOK {
		t.Fatalf("first alert: %d %s", resp.StatusCode, resp.Body)
	}
	f.clock.Advance(testTTL + time.Minute) // the record expires; Connect still remembers

	second := first
	second.Description = "A different result altogether"
	resp := f.invoke(t, eventFor(t, second))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second alert: %d %s", resp.StatusCode, resp.Body)
	}
	if got := f.caller.placedCalls(); got != 2 {
		t.Errorf("Connect placed %d calls for two different alerts, want 2", got)
	}
	if got := decodeSent(t, resp).ProviderMessageID; got != "connect-contact-2" {
		t.Errorf("second alert answered contact %q, want a new call", got)
	}
	if f.caller.calls[0].ClientToken == f.caller.calls[1].ClientToken {
		t.Error("two different alerts share a Connect ClientToken")
	}
	if want := delivery.CallClientToken(keyOf(second), second.Hash(), delivery.CallAttempt{ContactID: "dr-jones", Number: 1}); f.caller.calls[1].ClientToken != want {
		t.Errorf("ClientToken %q, want delivery.CallClientToken of the key and payload hash", f.caller.calls[1].ClientToken)
	}
}

// TestRetryOfTheSameAlertKeepsTheCallToken: a retry after a failure must
// reach Connect with the same token, so Connect calls at most once.
func TestRetryOfTheSameAlertKeepsTheCallToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := callAlert()
	failing(f, a.Priority, &delivery.Error{Class: delivery.Transient, Code: "LimitExceededException", Err: errors.New("limit")})
	if resp := f.invoke(t, eventFor(t, a)); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("first attempt: %d %s", resp.StatusCode, resp.Body)
	}
	failing(f, a.Priority, nil)
	f.clock.Advance(time.Second)
	if resp := f.invoke(t, eventFor(t, a)); resp.StatusCode != http.StatusOK {
		t.Fatalf("retry: %d %s", resp.StatusCode, resp.Body)
	}
	if len(f.caller.calls) != 2 || f.caller.calls[0].ClientToken != f.caller.calls[1].ClientToken {
		t.Errorf("calls %+v, want two with the same ClientToken", f.caller.calls)
	}
}

// TestIdempotencyIsScopedByClient: one client's message_id neither blocks
// nor replays another client's alert.
func TestIdempotencyIsScopedByClient(t *testing.T) {
	t.Parallel()
	a := testAlert()
	other := a
	other.Description = "Another client's alert"
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture) // as client "lab:1" with a
		alert alert.Alert                    // then sent as client "lab"
	}{
		{"same id, same payload: not a replay", func(t *testing.T, f *fixture) {
			mustStatus(t, f.invoke(t, eventFrom(t, "lab:1", a)), http.StatusOK)
		}, a},
		{"same id, other payload: not a mismatch", func(t *testing.T, f *fixture) {
			mustStatus(t, f.invoke(t, eventFrom(t, "lab:1", a)), http.StatusOK)
		}, other},
		{"same id in progress: not 409", func(_ *testing.T, f *fixture) {
			f.idem.put(notify.Record{Key: alert.Key{Client: "lab:1", MessageID: a.MessageID}, Status: notify.StatusInProgress,
				PayloadHash: a.Hash(), LockOwner: "x", LockExpiry: t0.Add(time.Minute), Expiration: t0.Add(testTTL)})
		}, a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.setup(t, f)
			before := f.pub.count()
			// "lab" + ":1" + message_id would join to the same string as
			// "lab:1" + message_id without the key's length prefix.
			resp := f.invoke(t, eventFrom(t, "lab", tt.alert))
			mustStatus(t, resp, http.StatusOK)
			if resp.Headers[names.HeaderIdempotentReplay] != "" {
				t.Error("answered as a replay of another client's alert")
			}
			if got := f.pub.count() - before; got != 1 {
				t.Errorf("delivered %d times for the second client, want 1", got)
			}
			if _, ok := f.idem.record(alert.Key{Client: "lab", MessageID: a.MessageID}); !ok {
				t.Error("no record under the second client's key")
			}
			// The first client's own retry is unchanged.
			if tt.name != "same id in progress: not 409" {
				again := f.invoke(t, eventFrom(t, "lab:1", a))
				if again.StatusCode != http.StatusOK || again.Headers[names.HeaderIdempotentReplay] != "true" {
					t.Errorf("first client's retry: %d replay=%q, want a 200 replay", again.StatusCode, again.Headers[names.HeaderIdempotentReplay])
				}
			}
		})
	}
}

func mustStatus(tb testing.TB, resp events.APIGatewayProxyResponse, want int) {
	tb.Helper()
	if resp.StatusCode != want {
		tb.Fatalf("status = %d, want %d; body %s", resp.StatusCode, want, resp.Body)
	}
}

// TestRecordedFailures: a permanent refusal and an unknown outcome are
// answered, recorded, and replayed to a retry without a second attempt.
func TestRecordedFailures(t *testing.T) {
	t.Parallel()
	classes := []struct {
		name   string
		err    error
		status int
		code   api.Code
		class  delivery.Class
	}{
		{"permanent", &delivery.Error{Class: delivery.Permanent, Code: "InvalidParameter", Err: errors.New("InvalidParameter: bad")},
			http.StatusBadGateway, api.CodeUndeliverableAllChannels, delivery.Permanent},
		{"ambiguous", &delivery.Error{Class: delivery.Ambiguous, Code: "timeout", Err: errors.New("context deadline exceeded")},
			http.StatusBadGateway, api.CodeDeliveryUnknown, delivery.Ambiguous},
		{"unclassified", errors.New("something nobody classified"), http.StatusBadGateway, api.CodeDeliveryUnknown, delivery.Ambiguous},
	}
	for _, cl := range classes {
		for _, ch := range channels {
			t.Run(cl.name+" "+ch.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				a := testAlert()
				a.Priority = ch.priority
				asked := failing(f, ch.priority, fmt.Errorf("provider: %w", cl.err))
				first := f.invoke(t, eventFor(t, a))
				mustStatus(t, first, cl.status)
				detail := decodeError(t, first)
				wantAttempts := []api.FailedAttempt{{Channel: string(ch.channel), FailureClass: string(cl.class)}}
				if detail.Code != cl.code || !slices.Equal(detail.Attempts, wantAttempts) {
					t.Errorf("error = %+v, want %s with attempts %+v", detail, cl.code, wantAttempts)
				}
				if unknown := cl.code == api.CodeDeliveryUnknown; unknown != (detail.Channel == string(ch.channel)) ||
					unknown != strings.Contains(detail.Message, string(ch.channel)) {
					t.Errorf("error = %+v: only delivery_unknown names the channel whose outcome is unknown", detail)
				}
				if _, ok := first.Headers[names.HeaderRetryAfter]; ok {
					t.Error("a recorded failure invites a retry with Retry-After")
				}
				if len(f.idem.releases) != 0 {
					t.Error("the lock was released: a retry would send again")
				}
				rec, _ := f.idem.record(keyOf(a))
				if rec.Status != notify.StatusCompleted || rec.Failure != cl.class || rec.Channel != ch.channel || rec.Response.Body != first.Body {
					t.Errorf("record = %+v, want COMPLETED %s on %s with the answer", rec, cl.class, ch.channel)
				}

				failing(f, ch.priority, nil) // the provider would now accept it
				f.clock.Advance(time.Minute)
				again := f.invoke(t, eventFor(t, a))
				if again.StatusCode != cl.status || again.Body != first.Body || again.Headers[names.HeaderIdempotentReplay] != "true" {
					t.Errorf("retry = %d %s (replay %q), want the recorded answer replayed", again.StatusCode, again.Body, again.Headers[names.HeaderIdempotentReplay])
				}
				if got := asked(); got != 1 {
					t.Errorf("provider asked %d times, want 1: a retry must not send again", got)
				}
				if line := f.requestLine(t); line["outcome"] != names.OutcomeReplay || line["channel"] != string(ch.channel) {
					t.Errorf("replay log line = %v", line)
				}
			})
		}
	}
}

// invokeWithDeadline handles the standard SMS alert with the invocation
// deadline at t0+d.
func invokeWithDeadline(t *testing.T, f *fixture, d time.Duration) events.APIGatewayProxyResponse {
	t.Helper()
	ctx, cancel := context.WithDeadline(t.Context(), t0.Add(d))
	defer cancel()
	return f.invokeCtx(t, ctx, eventFor(t, testAlert()))
}

func TestSendStaysWithinTheBudget(t *testing.T) {
	t.Parallel()
	b := delivery.DefaultBudget
	t.Run("the send ends before the reserve, the lock after the deadline", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		mustStatus(t, invokeWithDeadline(t, f, 8*time.Second), http.StatusOK)
		if got, want := f.pub.calls[0].deadline, t0.Add(8*time.Second-b.Reserve); !got.Equal(want) {
			t.Errorf("send deadline = %v, want the invocation's deadline minus the reserve, %v", got, want)
		}
		if got, want := f.idem.acquires[0].LockExpiry, t0.Add(8*time.Second+notify.DefaultLockMargin); !got.Equal(want) {
			t.Errorf("lock expiry = %v, want the deadline plus the margin, %v", got, want)
		}
	})
	t.Run("a channel's send ends at its bound", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		mustStatus(t, invokeWithDeadline(t, f, 25*time.Second), http.StatusOK)
		if got, want := f.pub.calls[0].deadline, t0.Add(b.Channel); !got.Equal(want) {
			t.Errorf("send deadline = %v, want the channel's bound %v, leaving time for the next channel", got, want)
		}
	})
	t.Run("exactly one attempt's time left: sends", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		mustStatus(t, invokeWithDeadline(t, f, b.Reserve+b.Attempt), http.StatusOK)
		if f.pub.count() != 1 {
			t.Errorf("published %d, want 1", f.pub.count())
		}
	})
	t.Run("less than one attempt's time left: nothing sent, 503", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		resp := invokeWithDeadline(t, f, b.Reserve+b.Attempt-time.Millisecond)
		mustStatus(t, resp, http.StatusServiceUnavailable)
		if f.pub.count() != 0 {
			t.Error("a send started without time to record its outcome")
		}
		if resp.Headers[names.HeaderRetryAfter] == "" || len(f.idem.releases) != 1 {
			t.Errorf("Retry-After %q, releases %d; want a retry invited and the lock released", resp.Headers[names.HeaderRetryAfter], len(f.idem.releases))
		}
	})
	t.Run("time spent before the send counts", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.contacts.get = func(ctx context.Context, id string) (contact.Contact, error) {
			f.clock.Advance(6 * time.Second) // a slow lookup
			return memContacts(ctx, id)
		}
		mustStatus(t, invokeWithDeadline(t, f, 10*time.Second), http.StatusServiceUnavailable)
		if f.pub.count() != 0 {
			t.Error("a send started 6 s into a 10 s invocation")
		}
	})
}

// TestOwnLockCountsAsTaken: when the store's retried write finds the lock
// this request wrote on its first attempt, the request goes on.
func TestOwnLockCountsAsTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.idem.acquire = func(ctx context.Context, l notify.Lock) (notify.Record, error) {
		if _, err := f.idem.memAcquire(ctx, l); err != nil { // the first attempt's write
			return notify.Record{}, err
		}
		rec, _ := f.idem.record(l.Key) // the retry's failed condition
		return rec, fmt.Errorf("retried put: %w", notify.ErrRecordExists)
	}
	resp := f.invoke(t, eventFor(t, testAlert()))
	mustStatus(t, resp, http.StatusOK)
	if f.pub.count() != 1 {
		t.Errorf("published %d, want 1", f.pub.count())
	}
	if rec, _ := f.idem.record(keyOf(testAlert())); rec.Status != notify.StatusCompleted {
		t.Errorf("record = %+v, want COMPLETED", rec)
	}
}

func TestSMSContent(t *testing.T) {
	t.Parallel()
	for _, content := range render.SMSContents {
		t.Run(string(content), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *alerting.Config) { c.SMSContent = content })
			a := testAlert()
			mustStatus(t, f.invoke(t, eventFor(t, a)), http.StatusOK)
			got := f.pub.calls[0]
			if !got.sms || got.text != render.SMS(a, content).Text {
				t.Errorf("publish = %+v, want the %s SMS text", got, content)
			}
			if hides := !strings.Contains(got.text, a.Description) && !strings.Contains(got.text, a.PatientID); hides != (content == render.SMSMinimal) {
				t.Errorf("%s SMS %q: hides description and patient = %v", content, got.text, hides)
			}
		})
	}
}
