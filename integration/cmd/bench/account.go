package main

import (
	"fmt"
	"maps"
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
type idMaker struct{ run string }

func (m idMaker) id(tag string, n int) string { return fmt.Sprintf("bn-%s-%s-%d", m.run, tag, n) }

// deliveryLog counts the SNS deliveries the tap reads (SMS and email) per
// alert message_id, by distinct SNS MessageId: a message the tap reads
// twice (an SQS redelivery) is not a second publish.
type deliveryLog struct {
	mu     sync.Mutex
	reads  map[string]map[string]bool // alert id -> SNS MessageIds
	notify chan struct{}              // closed and replaced on each delivery
}

func newDeliveryLog() *deliveryLog {
	return &deliveryLog{reads: map[string]map[string]bool{}, notify: make(chan struct{})}
}

// onDelivery is the tap's callback.
func (l *deliveryLog) onDelivery(d observe.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if id := benchIDRE.FindString(d.Message); id != "" {
		if l.reads[id] == nil {
			l.reads[id] = map[string]bool{}
		}

		l.reads[id][d.MessageID] = true
	}

	close(l.notify)
	l.notify = make(chan struct{})
}

// counts returns the deliveries per alert id so far: SNS messages, plus
// the calls the Connect stub answered without a fault. A call that
// repeated an earlier ClientToken still counts: the processor asked twice.
func (l *deliveryLog) counts(calls []standin.OutboundCall) (map[string]int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()

	out := make(map[string]int, len(l.reads))
	for id, msgs := range l.reads {
		out[id] = len(msgs)
	}

	for _, c := range calls {
		if id := benchIDRE.FindString(c.Attributes[names.ConnectMessageAttribute]); c.Fault == nil && id != "" {
			out[id]++
		}
	}

	return out, l.notify
}

// outcome is one request's result.
type outcome struct {
	ID      string
	Code    int // 0 for a transport error
	Err     string
	Latency time.Duration
}

// accepted reports whether the API accepted the alert: 200 sent, or 202
// queued (Prefer: respond-async).
func (o outcome) accepted() bool { return o.Code == http.StatusOK || o.Code == http.StatusAccepted }

// account is the delivery accounting of a set of requests.
type account struct {
	// Requests, and OK of them answered 200; Codes counts answers by
	// status (0: transport error).
	Requests, OK int
	Codes        map[int]int
	// Accepted counts the distinct message_ids answered 200; Deliveries
	// the deliveries made for the requests' message_ids.
	Accepted, Deliveries int
	// Lost: accepted, never delivered. Doubled: delivered more than once.
	// Unaccepted: delivered though never answered 200.
	Lost, Doubled, Unaccepted []string
}

// reckon accounts for outcomes, each with a message_id of its own, given
// the deliveries per message_id once they were drained.
func reckon(outcomes []outcome, delivered map[string]int) account {
	a := account{Codes: map[int]int{}}
	accepted := map[string]bool{}

	for _, o := range outcomes {
		a.Requests++
		a.Codes[o.Code]++

		if o.accepted() {
			a.OK++
		}

		accepted[o.ID] = accepted[o.ID] || o.accepted()
	}

	for _, id := range slices.Sorted(maps.Keys(accepted)) {
		n := delivered[id]
		a.Deliveries += n

		switch {
		case accepted[id] && n == 0:
			a.Lost = append(a.Lost, id)
		case !accepted[id] && n > 0:
			a.Unaccepted = append(a.Unaccepted, id)
		}

		if accepted[id] {
			a.Accepted++
		}

		if n > 1 {
			a.Doubled = append(a.Doubled, id)
		}
	}

	return a
}

// problems describes what is wrong, "" when every accepted alert was
// delivered exactly once and nothing else was.
func (a account) problems() string {
	var p []string

	for _, c := range []struct {
		what string
		ids  []string
	}{{"lost", a.Lost}, {"doubled", a.Doubled}, {"delivered without a 200", a.Unaccepted}} {
		if len(c.ids) > 0 {
			p = append(p, fmt.Sprintf("%s %d (e.g. %s)", c.what, len(c.ids), c.ids[0]))
		}
	}

	return strings.Join(p, "; ")
}
