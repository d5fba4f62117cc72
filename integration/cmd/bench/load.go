package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// drainTimeout bounds the wait for a phase's deliveries.
const drainTimeout = 60 * time.Second

// The processes whose CPU the phases measure, in report order.
const procKumo, procBench = "kumo", "bench (load, tap, stub, collector)"

var cpuOrder = []string{procKumo, names.FunctionAuthorizer, names.FunctionProcessor, names.FunctionWorker, procBench}

// priorities is the rotation of the alerts' priorities: for the contact
// Pulumi.local.yaml seeds (C-1), one SMS, one email and one call in three.
var priorities = []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh}

// alertBody is the JSON body of the k-th alert, with message_id id.
func alertBody(id string, k int) []byte {
	body, err := json.Marshal(alert.Alert{MessageID: id, Type: "blood_test_alert", PatientID: "P-4F2A91", ContactID: "C-1",
		Description: "Potassium 6.9 mmol/L, please review", Priority: priorities[k%len(priorities)]})
	if err != nil {
		panic(err) // a struct of strings always encodes
	}
	return body
}

// phase is one open-loop load phase and what it measured.
type phase struct {
	Tag               string // in every message_id of the phase, unique in the run
	Async             bool   // every alert sent with Prefer: respond-async
	Rate              int
	Duration, Elapsed time.Duration // the attack's; from its start to its last answer
	Outcomes          []outcome
	Account           account
	CPU               map[string]time.Duration // each process's CPU time during the attack
	Sent              []time.Duration          // each sent alert's accepted → sent, from its record
}

// load runs one phase per rate in each mode, asynchronous first (kumo
// answers the worker's Query by reading the whole table under its lock:
// those figures worsen as the table fills), profiles the processor in one
// more phase and accounts for every alert of the run.
func load(ctx context.Context, b *bench) error {
	client := sandbox.LocalhostClient()
	if tr, ok := client.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost, tr.MaxIdleConns = 512, 512
	}
	for _, mode := range []string{"a", "r"} {
		for _, rate := range b.report.Settings.Rates {
			p := phase{Tag: mode + strconv.Itoa(rate), Async: mode == "a", Rate: rate, Duration: b.report.Settings.Duration}
			b.step("load %s: %d/s for %s (async %v)", p.Tag, rate, p.Duration, p.Async)
			if err := b.phase(ctx, client, &p); err != nil {
				return fmt.Errorf("load %s: %w", p.Tag, err)
			}
			b.report.Phases = append(b.report.Phases, p)
		}
	}
	if err := b.profileProcessor(ctx, client); err != nil {
		return err
	}
	b.report.Global = reckon(b.report.Outcomes, deliveries(b.sb.Tap.Deliveries(), b.sb.Connect.Calls()), b.report.Recorded)
	b.report.AWSCalls = awsCallsPerAlert(b.sb.XRay.Segments())
	return nil
}

// phase attacks at p's rate with new alerts, measuring each process's CPU,
// waits for the deliveries, then accounts for them and reads each alert's
// time from accepted to sent.
func (b *bench) phase(ctx context.Context, client *http.Client, p *phase) error {
	cpu0 := b.cpu()
	p.Outcomes, p.Elapsed = b.attack(ctx, client, p, vegeta.ConstantPacer{Freq: p.Rate, Per: time.Second})
	b.report.Outcomes = append(b.report.Outcomes, p.Outcomes...)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	p.CPU = b.cpu()
	for name, d := range cpu0 {
		p.CPU[name] -= d
	}
	// A request the client gave up on (no answer within its timeout) may
	// still have been accepted: its record says so.
	b.waitDelivered(ctx, p.Outcomes, b.recorded(ctx, p.Tag)) // a timeout leaves them lost: the accounting says so
	// Then one sentinel alert per priority. SNS deliveries are read in
	// order from one queue (and the stub records a call before it
	// answers), so once the sentinels are in, anything published before
	// them is too: a late double would be counted.
	sentinels, _ := b.attack(ctx, client, &phase{Tag: "s" + p.Tag}, burst(len(priorities)))
	b.report.Outcomes = append(b.report.Outcomes, sentinels...)
	if missing := b.waitDelivered(ctx, sentinels, nil); missing > 0 {
		return fmt.Errorf("%d of the sentinels %+v not delivered within %s", missing, sentinels, drainTimeout)
	}
	recorded := b.recorded(ctx, p.Tag) // again: the server may have taken a request after the client gave up
	maps.Copy(b.report.Recorded, recorded)
	p.Account, p.Sent = reckon(p.Outcomes, deliveries(b.sb.Tap.Deliveries(), b.sb.Connect.Calls()), recorded), b.acceptedToSent(ctx, p.Tag)
	return nil
}

// attack sends new alerts with vegeta as pacer says (open loop), each
// timed at the client and tagged with its message_id in a query parameter
// the API ignores.
func (b *bench) attack(ctx context.Context, client *http.Client, p *phase, pacer vegeta.Pacer) ([]outcome, time.Duration) {
	var n atomic.Int64
	targeter := func(t *vegeta.Target) error {
		k := int(n.Add(1) - 1)
		id := b.ids.id(p.Tag, k)
		t.Method, t.URL, t.Body = http.MethodPost, b.sb.URL+"?"+url.Values{"bench_id": {id}}.Encode(), alertBody(id, k)
		t.Header = http.Header{names.HeaderAuthorization: {b.sb.Token}, "Content-Type": {"application/json"}}
		if p.Async {
			t.Header.Set(names.HeaderPrefer, names.PreferRespondAsync)
		}
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Client(client), vegeta.Timeout(30*time.Second))
	defer context.AfterFunc(ctx, func() { attacker.Stop() })()
	var outcomes []outcome
	start, last := time.Now(), time.Now()
	for res := range attacker.Attack(targeter, pacer, p.Duration, p.Tag) {
		if end := res.End(); end.After(last) {
			last = end
		}
		u, _ := url.Parse(res.URL) // vegeta's copy of the URL above
		outcomes = append(outcomes, outcome{ID: u.Query().Get("bench_id"), Code: int(res.Code), Err: res.Error, Latency: res.Latency})
	}
	return outcomes, last.Sub(start)
}

// burst is a vegeta.Pacer that sends n requests at once.
type burst uint64

func (n burst) Pace(_ time.Duration, hits uint64) (time.Duration, bool) { return 0, hits >= uint64(n) }
func (n burst) Rate(time.Duration) float64                              { return 0 }

// waitDelivered waits until every accepted alert of outs (recorded ones
// included) has a delivery or drainTimeout passes, and returns how many of
// outs have none.
func (b *bench) waitDelivered(ctx context.Context, outs []outcome, recorded map[string]bool) int {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	for {
		delivered, missing, waiting := deliveries(b.sb.Tap.Deliveries(), b.sb.Connect.Calls()), 0, false
		for _, o := range outs {
			if delivered[o.ID] == 0 {
				missing, waiting = missing+1, waiting || o.accepted() || (o.Code == 0 && recorded[o.ID])
			}
		}
		if !waiting || ctx.Err() != nil {
			return missing
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cpu reads the CPU time each measured process has used so far.
func (b *bench) cpu() map[string]time.Duration {
	pids := map[string]int{procKumo: b.sb.Emulator.Pid(), procBench: os.Getpid()}
	for fn, output := range functionOutputs {
		if f, err := b.sb.Function(output); err == nil {
			pids[fn] = f.Pid()
		}
	}
	out := map[string]time.Duration{}
	for name, pid := range pids {
		if d, err := proc.CPUTime(pid); err == nil {
			out[name] = d
		}
	}
	return out
}

// acceptedToSent returns, for each alert of the phase tagged tag that its
// record says was sent, the time from accepted_at_ms to sent_at_ms.
func (b *bench) acceptedToSent(ctx context.Context, tag string) []time.Duration {
	var out []time.Duration
	b.scanStates(ctx, tag, func(item map[string]types.AttributeValue) {
		if accepted, sent := millis(item, names.AttrAcceptedAt), millis(item, names.AttrSentAt); accepted > 0 && sent > 0 {
			out = append(out, time.Duration(sent-accepted)*time.Millisecond)
		}
	})
	return out
}

// recorded returns the message_ids of the phase tagged tag whose record
// holds them accepted and not failed: the server took them, whatever the
// client saw.
func (b *bench) recorded(ctx context.Context, tag string) map[string]bool {
	out := map[string]bool{}
	b.scanStates(ctx, tag, func(item map[string]types.AttributeValue) {
		id, _ := item[names.AttrMessageID].(*types.AttributeValueMemberS)
		status, _ := item[names.AttrAlertStatus].(*types.AttributeValueMemberS)
		if id != nil && status != nil && status.Value != string(delivery.AlertFailed) {
			out[id.Value] = true
		}
	})
	return out
}

// scanStates calls f with each state item of the phase tagged tag.
func (b *bench) scanStates(ctx context.Context, tag string, f func(map[string]types.AttributeValue)) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(b.sb.Deployment.OutputString(names.OutputAlertsTable)),
		FilterExpression:         aws.String("#kind = :state AND begins_with(#mid, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#kind": names.AttrKind, "#mid": names.AttrMessageID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":state": &types.AttributeValueMemberS{Value: "state"},
			":prefix": &types.AttributeValueMemberS{Value: b.ids.prefix(tag)}},
	}
	for pages := dynamodb.NewScanPaginator(b.sb.Clients.DynamoDB, in); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return
		}
		for _, item := range page.Items {
			f(item)
		}
	}
}

// millis reads a number attribute, 0 when absent.
func millis(item map[string]types.AttributeValue, attr string) (v int64) {
	if n, ok := item[attr].(*types.AttributeValueMemberN); ok {
		v, _ = strconv.ParseInt(n.Value, 10, 64)
	}
	return v
}

// awsCallsPerAlert is the median number of AWS subsegments in the
// processor's (sub)segments of alerts that were sent, 0 if none was.
func awsCallsPerAlert(segments []observe.Segment) int {
	var counts []int
	for _, seg := range segments {
		if seg.Annotations[names.AnnotationOutcome] == names.OutcomeSent {
			n := 0
			seg.Walk(func(s observe.Segment) {
				if s.Namespace == "aws" {
					n++
				}
			})
			counts = append(counts, n)
		}
	}
	if len(counts) == 0 {
		return 0
	}
	slices.Sort(counts)
	return counts[len(counts)/2]
}

// benchIDRE finds an idMaker message_id in a delivered text (SMS "Ref:
// <id>", email "Reference: <id>", call "Reference <id>.").
var benchIDRE = regexp.MustCompile(`bn-[0-9a-f]+-[a-z0-9]+-[0-9]+`)

// idMaker mints unique message_ids: bn-<run>-<tag>-<n>.
type idMaker struct{ run string }

func (m idMaker) id(tag string, n int) string { return m.prefix(tag) + strconv.Itoa(n) }
func (m idMaker) prefix(tag string) string    { return "bn-" + m.run + "-" + tag + "-" }

// deliveries counts the deliveries per message_id: SNS messages the tap
// read, by distinct SNS MessageId (an SQS redelivery is not a second
// publish), and the calls the Connect stub answered without a fault (a
// call repeating a ClientToken counts: the processor asked twice).
func deliveries(sns []observe.Delivery, calls []standin.OutboundCall) map[string]int {
	out, seen := map[string]int{}, map[string]bool{}
	for _, d := range sns {
		if id := benchIDRE.FindString(d.Message); id != "" && !seen[d.MessageID] {
			seen[d.MessageID] = true
			out[id]++
		}
	}
	for _, c := range calls {
		if id := benchIDRE.FindString(c.Attributes[names.ConnectMessageAttribute]); id != "" && c.Fault == nil {
			out[id]++
		}
	}
	return out
}

// outcome is one request's result.
type outcome struct {
	ID      string
	Code    int // 0 for a transport error
	Err     string
	Latency time.Duration
}

// accepted: 200 sent, or 202 queued (Prefer: respond-async).
func (o outcome) accepted() bool { return o.Code == http.StatusOK || o.Code == http.StatusAccepted }

// account is the delivery accounting of a set of requests, by message_id.
// An alert is accepted when the client saw 200 or 202, or got no answer
// (Unanswered: its timeout passed) while the server's record holds it
// accepted. Lost: accepted, never delivered. Doubled: delivered more than
// once. Unaccepted: delivered though never accepted.
type account struct {
	Requests, Accepted, Deliveries, Unanswered int
	Lost, Doubled, Unaccepted                  []string
}

// reckon accounts for outcomes given the deliveries per message_id and
// the message_ids the server recorded as accepted.
func reckon(outcomes []outcome, delivered map[string]int, recorded map[string]bool) account {
	a, accepted := account{Requests: len(outcomes)}, map[string]bool{}
	for _, o := range outcomes {
		accepted[o.ID] = accepted[o.ID] || o.accepted() || (o.Code == 0 && recorded[o.ID])
		if o.Code == 0 {
			a.Unanswered++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(accepted)) {
		n := delivered[id]
		a.Deliveries += n
		switch {
		case accepted[id] && n == 0:
			a.Lost = append(a.Lost, id)
		case !accepted[id] && n > 0:
			a.Unaccepted = append(a.Unaccepted, id)
		case n > 1:
			a.Doubled = append(a.Doubled, id)
		}
		if accepted[id] {
			a.Accepted++
		}
	}
	return a
}

// problems says what is wrong, "" when every accepted alert was delivered
// exactly once and nothing else was.
func (a account) problems() string {
	var p []string
	for what, ids := range map[string][]string{"lost": a.Lost, "doubled": a.Doubled, "delivered though not accepted": a.Unaccepted} {
		if len(ids) > 0 {
			p = append(p, fmt.Sprintf("%s %d (e.g. %s)", what, len(ids), ids[0]))
		}
	}
	slices.Sort(p)
	return strings.Join(p, "; ")
}
