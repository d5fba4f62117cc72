package main

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// benchIDRE finds a message_id minted by this command (see idMaker) in a
// delivered text: SMS "Ref: <id>", email "Reference: <id>", call
// "Reference <id>.". The ids hold no '.', so the call's full stop is not
// taken.
var benchIDRE = regexp.MustCompile(`bn-[0-9a-f]+-[a-z0-9]+-[0-9]+`)

// idMaker mints unique message_ids: bn-<run>-<tag>-<n>.
type idMaker struct {
	run string
}

func (m idMaker) id(tag string, n int) string {
	return fmt.Sprintf("bn-%s-%s-%d", m.run, tag, n)
}

// deliveryLog counts what reached the clinicians' side: SNS deliveries read
// by the tap (SMS and email), keyed by the alert's message_id, with each
// SNS MessageId kept so that a message the tap read twice (an SQS
// redelivery) is not mistaken for a second publish.
type deliveryLog struct {
	mu     sync.Mutex
	reads  map[string]map[string]int // alert id -> SNS MessageId -> times read
	other  int                       // deliveries without a bench id
	notify chan struct{}
}

func newDeliveryLog() *deliveryLog {
	return &deliveryLog{reads: map[string]map[string]int{}, notify: make(chan struct{})}
}

// onDelivery is the tap's callback.
func (l *deliveryLog) onDelivery(d observe.Delivery) {
	id := benchIDRE.FindString(d.Message)

	l.mu.Lock()
	defer l.mu.Unlock()

	if id == "" {
		l.other++
	} else {
		if l.reads[id] == nil {
			l.reads[id] = map[string]int{}
		}

		l.reads[id][d.MessageID]++
	}

	close(l.notify)
	l.notify = make(chan struct{})
}

// snapshot returns, per alert id, the number of distinct SNS messages, and
// how many tap reads were repeats of a message already read.
func (l *deliveryLog) snapshot() (map[string]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()

	out := make(map[string]int, len(l.reads))
	rereads := 0

	for id, msgs := range l.reads {
		out[id] = len(msgs)
		for _, n := range msgs {
			rereads += n - 1
		}
	}

	return out, rereads
}

// changed returns a channel closed at the next delivery.
func (l *deliveryLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.notify
}

// callCounts counts the Connect stub's successful calls per alert id. A
// call whose ClientToken repeated an earlier one is still counted: the
// processor asked twice, even though Connect would not dial twice.
func callCounts(calls []standin.OutboundCall) map[string]int {
	out := map[string]int{}

	for _, c := range calls {
		if c.Fault != nil {
			continue
		}

		if id := benchIDRE.FindString(c.Attributes[names.ConnectMessageAttribute]); id != "" {
			out[id]++
		}
	}

	return out
}

// mergeCounts adds b's counts into a copy of a.
func mergeCounts(a, b map[string]int) map[string]int {
	out := make(map[string]int, len(a)+len(b))
	for k, v := range a {
		out[k] += v
	}

	for k, v := range b {
		out[k] += v
	}

	return out
}

// requestKind says why a request was sent.
type requestKind int

const (
	kindFresh  requestKind = iota // a new message_id
	kindReplay                    // a message_id sent before, same body
)

// outcome is one request's result.
type outcome struct {
	ID      string
	Kind    requestKind
	Code    int // 0 for a transport error
	Replay  bool
	Err     string
	Latency time.Duration
}

// accepted reports whether the API accepted the alert (200).
func (o outcome) accepted() bool { return o.Code == http.StatusOK }

// account is the delivery accounting of one phase.
type account struct {
	Requests, Fresh, Replays int
	// OK counts 200 answers; ReplayAnswers those marked Idempotent-Replay.
	OK, ReplayAnswers int
	// Codes counts answers by status (0: transport error).
	Codes map[int]int
	// AcceptedIDs counts the distinct message_ids new in this phase (never
	// delivered before it) that got a 200 to any of their requests.
	AcceptedIDs int
	// Deliveries counts the deliveries (SNS messages and calls) made
	// during the phase for its message_ids.
	Deliveries int
	// Lost: accepted, never delivered. Doubled: delivered more than once
	// in all. Unaccepted: delivered though no request for it got a 200.
	Lost, Doubled, Unaccepted []string
	// FreshReplayed counts requests with a new message_id answered as
	// replays, which should never happen.
	FreshReplayed int
}

// ok reports whether every accepted alert was delivered exactly once and
// nothing else was.
func (a account) ok() bool {
	return len(a.Lost) == 0 && len(a.Doubled) == 0 && len(a.Unaccepted) == 0 &&
		a.Deliveries == a.AcceptedIDs && a.FreshReplayed == 0
}

// problems describes what is wrong, if anything, for the report.
func (a account) problems() string {
	var p []string
	if len(a.Lost) > 0 {
		p = append(p, fmt.Sprintf("lost %d (e.g. %s)", len(a.Lost), a.Lost[0]))
	}

	if len(a.Doubled) > 0 {
		p = append(p, fmt.Sprintf("doubled %d (e.g. %s)", len(a.Doubled), a.Doubled[0]))
	}

	if len(a.Unaccepted) > 0 {
		p = append(p, fmt.Sprintf("delivered without a 200: %d (e.g. %s)", len(a.Unaccepted), a.Unaccepted[0]))
	}

	if a.FreshReplayed > 0 {
		p = append(p, fmt.Sprintf("%d new message_ids answered as replays", a.FreshReplayed))
	}

	if len(p) == 0 && a.Deliveries != a.AcceptedIDs {
		p = append(p, fmt.Sprintf("%d deliveries for %d accepted", a.Deliveries, a.AcceptedIDs))
	}

	return strings.Join(p, "; ")
}

// reckon accounts for a phase. outcomes are its requests; before and after
// are the delivery counts per message_id when the phase began and once its
// deliveries were drained.
//
// Each message_id the phase touched is judged once. One delivered before
// the phase (a replay of an earlier alert) must get no new delivery. Any
// other must get exactly one if any of its requests was answered 200, and
// none otherwise.
func reckon(outcomes []outcome, before, after map[string]int) account {
	a := account{Codes: map[int]int{}}
	accepted := map[string]bool{}

	for _, o := range outcomes {
		a.Requests++
		a.Codes[o.Code]++

		if o.Kind == kindFresh {
			a.Fresh++
		} else {
			a.Replays++
		}

		if o.accepted() {
			a.OK++
			if o.Replay {
				a.ReplayAnswers++
				if o.Kind == kindFresh {
					a.FreshReplayed++
				}
			}
		}

		accepted[o.ID] = accepted[o.ID] || o.accepted()
	}

	for _, id := range phaseIDs(outcomes) {
		was, now := before[id], after[id]
		a.Deliveries += now - was

		switch {
		case was > 0: // delivered in an earlier phase: must not be again
		case accepted[id]:
			a.AcceptedIDs++
			if now == 0 {
				a.Lost = append(a.Lost, id)
			}
		case now > 0:
			a.Unaccepted = append(a.Unaccepted, id)
		}

		if now > 1 {
			a.Doubled = append(a.Doubled, id)
		}
	}

	return a
}

// phaseIDs returns the distinct message_ids of outcomes, sorted.
func phaseIDs(outcomes []outcome) []string {
	ids := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		ids = append(ids, o.ID)
	}

	slices.Sort(ids)

	return slices.Compact(ids)
}
