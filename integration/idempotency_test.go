package integration

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// delivered counts what reached a channel for the alert id: SNS deliveries
// read by the tap, or calls the Connect stub received (faulted ones too:
// each is an attempt to reach the clinician). Call tg.drain first when
// counting SNS deliveries.
func delivered(tb testing.TB, ch contact.Channel, id string) int {
	tb.Helper()

	if ch == contact.ChannelCall {
		return len(calls(tgt.needConnect(tb), id))
	}

	return len(deliveries(tgt.needTap(tb), id))
}

// deliveredAnywhere counts what reached any channel for the alert id.
func deliveredAnywhere(tb testing.TB, id string) int {
	tb.Helper()

	n := len(deliveries(tgt.needTap(tb), id))
	if tgt.connect != nil {
		n += len(calls(tgt.connect, id))
	}

	return n
}

// TestReplayAnswersTheStoredResponse repeats each priority's alert: the
// repeat answers the first answer's status and body with
// Idempotent-Replay: true and delivers nothing new, as does the same alert
// with its keys reordered and spaced differently.
func TestReplayAnswersTheStoredResponse(t *testing.T) {
	t.Parallel()

	sent := map[alert.Priority]api.Sent{}

	var mu sync.Mutex

	t.Run("replays", func(t *testing.T) {
		for _, p := range alert.Priorities {
			t.Run(p.Label(), func(t *testing.T) {
				t.Parallel()

				a := newAlert(t, p, "")
				first := tgt.postAlert(t, a)
				s := first.wantSent(t, a)

				mu.Lock()
				sent[p] = s
				mu.Unlock()

				reordered := fmt.Sprintf(" {\n\t\"priority\": %q, \"description\": %q, \"contact_id\": %q,\n"+
					"  \"patient_id\": %q, \"type\": %q, \"message_id\": %q }\n",
					a.Priority, a.Description, a.ContactID, a.PatientID, a.Type, a.MessageID)

				for name, body := range map[string][]byte{"same body": encode(t, a), "keys reordered": []byte(reordered)} {
					again := tgt.post(t, body)
					if again.status != first.status || !bytes.Equal(again.body, first.body) {
						t.Errorf("%s: replay %d %s, want the stored %d %s", name, again.status, again.body, first.status, first.body)
					}

					if !again.replayed() {
						t.Errorf("%s: replay lacks %s: true (headers %v)", name, names.HeaderIdempotentReplay, again.header)
					}
				}
			})
		}
	})

	// The replays were answered; once the tap has read everything sent
	// before the sentinel, each alert must have reached its channel once.
	tgt.drain(t)

	for _, p := range alert.Priorities {
		s, ok := sent[p]
		if !ok {
			continue // its subtest failed
		}

		t.Run(p.Label()+" delivered once", func(t *testing.T) {
			if got := delivered(t, contact.Channel(s.Channel), s.MessageID); got != 1 {
				t.Errorf("%d deliveries by %s, want 1", got, s.Channel)
			}
		})
	}
}

// duplicates is how many identical requests TestConcurrentDuplicates sends
// at once.
const duplicates = 20

// extraProcesses is how many more processes of each function
// TestConcurrentDuplicates runs in the embedded sandbox, as Lambda scales
// out under concurrent requests. With one process per function the
// emulator hands the duplicates to the processor one after another, and
// the idempotency lock is never contended.
const extraProcesses = 3

// TestConcurrentDuplicates posts one alert 20 times at once, for an SNS
// channel and for calls, with the functions scaled out to several
// processes: exactly one request delivers; each other answers either the
// replay of its answer or 409 in_progress with Retry-After; and exactly
// one alert arrives.
//
// It does not run in parallel with other tests: the extra processes serve
// every invocation of the processor while they run, and stopping one that
// holds another test's invocation would fail that test.
func TestConcurrentDuplicates(t *testing.T) {
	procs := tgt.scaleOut(t, extraProcesses)

	for _, p := range []alert.Priority{alert.PriorityMedium, alert.PriorityHigh} {
		t.Run(p.Label(), func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, p, "")
			body := encode(t, a)

			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				replies = make([]reply, duplicates)
				errs    = make([]error, duplicates)
			)

			for i := range duplicates {
				wg.Go(func() {
					<-start
					replies[i], errs[i] = tgt.do(t.Context(), body, auth{header: tgt.token})
				})
			}

			close(start)
			wg.Wait()

			var fresh, replays, inProgress []reply

			for i, r := range replies {
				switch {
				case errs[i] != nil:
					t.Fatalf("request %d: %v", i, errs[i])
				case r.status == http.StatusOK && !r.replayed():
					fresh = append(fresh, r)
				case r.status == http.StatusOK:
					replays = append(replays, r)
				case r.status == http.StatusConflict:
					inProgress = append(inProgress, r)
				default:
					t.Errorf("request %d: %d %s, want 200 or 409", i, r.status, r.body)
				}
			}

			t.Logf("%d requests: %d delivered, %d replays, %d in progress", duplicates, len(fresh), len(replays), len(inProgress))

			if procs != nil {
				t.Logf("served by %d of %d processor processes", servedBy(procs, a.MessageID), len(procs))
			}

			if len(fresh) != 1 {
				t.Fatalf("%d requests answered a fresh 200, want exactly 1", len(fresh))
			}

			s := fresh[0].wantSent(t, a)

			for _, r := range replays {
				if !bytes.Equal(r.body, fresh[0].body) {
					t.Errorf("replay %s, want the delivery's body %s", r.body, fresh[0].body)
				}
			}

			for _, r := range inProgress {
				r.wantError(t, api.CodeInProgress)

				if n, err := strconv.Atoi(r.header.Get(names.HeaderRetryAfter)); err != nil || n < 1 {
					t.Errorf("409 with %s %q, want whole seconds >= 1", names.HeaderRetryAfter, r.header.Get(names.HeaderRetryAfter))
				}
			}

			// Every request has been answered, so all delivered SNS
			// messages are on the tap's queue; the sentinel flushes them.
			tgt.drain(t)

			if got := delivered(t, contact.Channel(s.Channel), a.MessageID); got != 1 {
				t.Errorf("%d deliveries by %s, want exactly 1", got, s.Channel)
			}

			// One alert record, with one attempt.
			if env := tgt.env; env != nil {
				if n := len(stateItems(t, env, a.MessageID)); n != 1 {
					t.Errorf("%d alert records, want 1", n)
				}
			}

			if rec := tgt.get(t, a.MessageID, tgt.token).record(t, a); len(rec.Attempts) != 1 || rec.Status != "sent" {
				t.Errorf("record %s with %d attempts, want sent in 1", rec.Status, len(rec.Attempts))
			}

			// And the record is complete: a late duplicate replays.
			if late := tgt.post(t, body); late.status != http.StatusOK || !late.replayed() || !bytes.Equal(late.body, fresh[0].body) {
				t.Errorf("late duplicate: %d %s (replay %v), want the stored answer replayed", late.status, late.body, late.replayed())
			}
		})
	}
}

// servedLine is, per function output, the text of the log line each
// function writes once per invocation (the processor's "request" line, the
// authorizer's "authorizer decision" line, both JSON).
var servedLine = map[string]string{
	names.OutputProcessorFunction:  `"msg":"request"`,
	names.OutputAuthorizerFunction: `"msg":"authorizer decision"`,
}

// scaleOut starts n more processes of the embedded sandbox's authorizer
// and processor, each polling its function's Runtime API as a new Lambda
// execution environment would, and returns the processor's processes, the
// original first. It returns once every new process has served a request,
// and stops them when the test ends. An external target scales by
// itself: there it returns nil.
func (tg *target) scaleOut(t *testing.T, n int) []*lambdahost.Function {
	t.Helper()

	env := tg.env
	if env == nil {
		return nil
	}

	var extras, processors []*lambdahost.Function

	for _, output := range slices.Sorted(maps.Keys(servedLine)) {
		fn, err := env.Function(output)
		if err != nil {
			t.Fatal(err)
		}

		same := []*lambdahost.Function{fn}

		for range n {
			extra, err := fn.AddReplica()
			if err != nil {
				t.Fatal(err)
			}

			t.Cleanup(func() {
				if err := extra.Stop(); err != nil {
					t.Errorf("stop extra %s %d: %v", extra.Spec.Name, extra.Pid(), err)
				}

				if t.Failed() {
					t.Logf("===== extra %s (pid %d) =====\n%s", extra.Spec.Name, extra.Pid(), extra.Output())
				}
			})

			extras = append(extras, extra)
			same = append(same, extra)
		}

		if output == names.OutputProcessorFunction {
			processors = same
		}
	}

	// The emulator hands each invocation to a waiting poller. Send
	// invalid bodies, which pass the authorizer and touch no AWS service
	// in the processor, until every new process has served one: then all
	// of them poll.
	ctx := waitCtx(t)
	start := time.Now()

	for warmups := 0; ; warmups++ {
		idle := 0

		for _, p := range extras {
			if p.Exited() {
				t.Fatalf("extra %s %d exited:\n%s", p.Spec.Name, p.Pid(), p.Output())
			}

			for output, line := range servedLine {
				if p.Spec.Name == env.Deployment.OutputString(output) && !strings.Contains(p.Output(), line) {
					idle++
				}
			}
		}

		if idle == 0 {
			t.Logf("%d extra processes of each function serving after %d warm-up requests in %s",
				n, warmups, time.Since(start).Round(time.Millisecond))

			return processors
		}

		if ctx.Err() != nil {
			t.Fatalf("%d of %d extra processes never served a request", idle, len(extras))
		}

		r, err := tg.do(ctx, []byte("{}"), auth{header: tg.token})
		if err == nil && r.status != http.StatusBadRequest {
			t.Fatalf("warm-up request: %s, want 400", r)
		}
	}
}

// servedBy counts the processes whose log has a request for message_id id.
func servedBy(procs []*lambdahost.Function, id string) int {
	n := 0

	for _, p := range procs {
		if strings.Contains(p.Output(), `"message_id":"`+id+`"`) {
			n++
		}
	}

	return n
}

// TestChangedPayloadIsRefused reuses a delivered alert's message_id for a
// different alert: 422 idempotency_mismatch, nothing delivered, and the
// original still replays.
func TestChangedPayloadIsRefused(t *testing.T) {
	t.Parallel()

	a := newAlert(t, alert.PriorityLow, "")
	first := tgt.postAlert(t, a)
	first.wantSent(t, a)

	for name, change := range map[string]func(*alert.Alert){
		"description": func(x *alert.Alert) { x.Description += " (updated)" },
		"priority":    func(x *alert.Alert) { x.Priority = alert.PriorityHigh },
		"patient_id":  func(x *alert.Alert) { x.PatientID = "P-0000" },
		"type":        func(x *alert.Alert) { x.Type = "ecg_alert" },
	} {
		t.Run(name, func(t *testing.T) {
			changed := a
			change(&changed)
			tgt.postAlert(t, changed).wantError(t, api.CodeIdempotencyMismatch)
		})
	}

	again := tgt.postAlert(t, a)
	if !again.replayed() || !bytes.Equal(again.body, first.body) {
		t.Errorf("original after the mismatches: %d %s (replay %v), want the stored answer", again.status, again.body, again.replayed())
	}

	t.Run("delivered once", func(t *testing.T) {
		tgt.drain(t)

		if got := deliveredAnywhere(t, a.MessageID); got != 1 {
			t.Errorf("%d deliveries for %s, want only the first", got, a.MessageID)
		}
	})
}
