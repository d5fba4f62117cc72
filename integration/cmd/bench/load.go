package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// queryID tags each load request with its message_id, so that every
// result names it. The API ignores query parameters.
const queryID = "bench_id"

// drainTimeout bounds the wait for a phase's deliveries.
const drainTimeout = 60 * time.Second

// Names of the processes whose CPU the phases measure, in report order.
const (
	procKumo  = "kumo"
	procBench = "bench (load, tap, stub, collector)"
)

var cpuOrder = []string{procKumo, names.FunctionAuthorizer, names.FunctionProcessor, procBench}

// phase is one open-loop load phase and what it measured.
type phase struct {
	// Tag is in every message_id of the phase, unique in the run.
	Tag      string
	Rate     int
	Duration time.Duration
	Outcomes []outcome
	// Elapsed is from the first request's start to the last answer.
	Elapsed time.Duration
	Account account
	// CPU is the CPU time each process used during the attack.
	CPU map[string]time.Duration
}

// achieved is the requests per second over the attack.
func (p phase) achieved() float64 {
	if p.Elapsed <= 0 {
		return 0
	}

	return float64(len(p.Outcomes)) / p.Elapsed.Seconds()
}

// load runs one open-loop phase per rate, accounts for each phase's
// deliveries, profiles the processor in one more phase, then accounts for
// every alert of the run.
func load(ctx context.Context, b *bench) error {
	client := sandbox.LocalhostClient()
	if tr, ok := client.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost, tr.MaxIdleConns = 512, 512
	}

	for _, rate := range b.report.Settings.Rates {
		b.step("load: %d/s for %s", rate, b.report.Settings.Duration)

		p, err := b.phase(ctx, client, "r"+strconv.Itoa(rate), rate)
		if err != nil {
			return fmt.Errorf("load at %d/s: %w", rate, err)
		}

		b.step("  p50 %s p99 %s, %d/%d answered 200, %d deliveries for %d accepted %s",
			ms(percentile(p.latencies(), 50)), ms(percentile(p.latencies(), 99)),
			p.Account.OK, p.Account.Requests, p.Account.Deliveries, p.Account.Accepted, p.Account.problems())

		b.report.Phases = append(b.report.Phases, p)
		b.report.Outcomes = append(b.report.Outcomes, p.Outcomes...)
	}

	if err := b.profileProcessor(ctx, client); err != nil {
		return err
	}

	delivered, _ := b.log.counts(b.sb.Connect.Calls())
	b.report.Global = reckon(b.report.Outcomes, delivered)
	b.report.AWSCalls = awsCallsPerAlert(b.sb.XRay.Segments())

	return nil
}

// awsCallsPerAlert is the median number of AWS subsegments in the
// processor's (sub)segments of alerts that were sent.
func awsCallsPerAlert(segments []observe.Segment) int {
	var counts []int

	for _, seg := range segments {
		if seg.Annotations[names.AnnotationOutcome] != names.OutcomeSent {
			continue
		}

		n := 0
		seg.Walk(func(s observe.Segment) {
			if s.Namespace == "aws" {
				n++
			}
		})
		counts = append(counts, n)
	}

	if len(counts) == 0 {
		return 0
	}

	slices.Sort(counts)

	return counts[len(counts)/2]
}

// phase attacks at rate for the run's duration with new alerts whose
// message_ids hold tag, measuring each process's CPU, then waits for the
// deliveries and accounts for them.
func (b *bench) phase(ctx context.Context, client *http.Client, tag string, rate int) (phase, error) {
	p := phase{Tag: tag, Rate: rate, Duration: b.report.Settings.Duration}
	cpu0 := b.cpu()

	p.Outcomes, p.Elapsed = b.attack(ctx, client, p)
	if err := ctx.Err(); err != nil {
		return p, fmt.Errorf("load: %w", err)
	}

	p.CPU = map[string]time.Duration{}
	for name, d := range b.cpu() {
		p.CPU[name] = d - cpu0[name]
	}

	var accepted []string

	for _, o := range p.Outcomes {
		if o.accepted() {
			accepted = append(accepted, o.ID)
		}
	}

	b.waitDelivered(ctx, accepted) // a timeout leaves them lost: the accounting says so

	if err := b.sentinels(ctx, client, "s"+tag); err != nil {
		return p, err
	}

	delivered, _ := b.log.counts(b.sb.Connect.Calls())
	p.Account = reckon(p.Outcomes, delivered)

	return p, nil
}

func (p phase) latencies() []time.Duration {
	out := make([]time.Duration, 0, len(p.Outcomes))
	for _, o := range p.Outcomes {
		out = append(out, o.Latency)
	}

	return out
}

// attack sends new alerts with vegeta at a constant rate (open loop: the
// schedule does not wait for answers), each request timed at the client.
func (b *bench) attack(ctx context.Context, client *http.Client, p phase) ([]outcome, time.Duration) {
	var n atomic.Int64

	tag := p.Tag
	targeter := func(t *vegeta.Target) error {
		k := int(n.Add(1) - 1)
		id := b.ids.id(tag, k)
		t.Method, t.URL, t.Body = http.MethodPost, b.sb.URL+"?"+url.Values{queryID: {id}}.Encode(), alertBody(id, k)
		t.Header = http.Header{names.HeaderAuthorization: {b.sb.Token}, "Content-Type": {"application/json"}}

		return nil
	}

	attacker := vegeta.NewAttacker(vegeta.Client(client), vegeta.Timeout(30*time.Second))

	stop := context.AfterFunc(ctx, func() { attacker.Stop() })
	defer stop()

	var (
		outcomes    []outcome
		first, last time.Time
	)

	for res := range attacker.Attack(targeter, vegeta.ConstantPacer{Freq: p.Rate, Per: time.Second}, p.Duration, tag) {
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}

		if end := res.End(); end.After(last) {
			last = end
		}

		o := outcome{Code: int(res.Code), Err: res.Error, Latency: res.Latency}
		if u, err := url.Parse(res.URL); err == nil {
			o.ID = u.Query().Get(queryID)
		}

		outcomes = append(outcomes, o)
	}

	return outcomes, last.Sub(first)
}

// cpu reads the CPU time each measured process has used so far.
func (b *bench) cpu() map[string]time.Duration {
	out := map[string]time.Duration{}

	pids := map[string]int{procKumo: b.sb.Emulator.Pid(), procBench: os.Getpid()}
	for _, fn := range functionOrder {
		if f, err := b.sb.Function(functionOutputs[fn]); err == nil {
			pids[fn] = f.Pid()
		}
	}

	for name, pid := range pids {
		if d, err := proc.CPUTime(pid); err == nil {
			out[name] = d
		}
	}

	return out
}

// waitDelivered waits until every id has a delivery or drainTimeout
// passes, and returns how many are still without one.
func (b *bench) waitDelivered(ctx context.Context, ids []string) int {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()

	tick := time.NewTicker(100 * time.Millisecond) // calls do not notify
	defer tick.Stop()

	for {
		delivered, changed := b.log.counts(b.sb.Connect.Calls())

		missing := 0
		for _, id := range ids {
			if delivered[id] == 0 {
				missing++
			}
		}

		if missing == 0 || ctx.Err() != nil {
			return missing
		}

		select {
		case <-ctx.Done():
		case <-changed:
		case <-tick.C:
		}
	}
}

// sentinels sends one alert per priority after a phase and waits until
// each is delivered. SNS deliveries are read in order from one queue (and
// the stub records a call before it answers), so once the sentinels are
// in, anything published before them is too: a late double would be
// counted. Their own deliveries count in the run's accounting.
func (b *bench) sentinels(ctx context.Context, client *http.Client, tag string) error {
	var ids []string

	for k := range priorities {
		id := b.ids.id(tag, k)
		o := post(ctx, client, b.sb, id, alertBody(id, k))
		b.report.Outcomes = append(b.report.Outcomes, o)

		if !o.accepted() {
			return fmt.Errorf("sentinel %s answered %d %s", id, o.Code, o.Err)
		}

		ids = append(ids, id)
	}

	if missing := b.waitDelivered(ctx, ids); missing > 0 {
		return fmt.Errorf("sentinels %v: %d not delivered within %s", ids, missing, drainTimeout)
	}

	return nil
}

// post sends one alert through API Gateway and times it.
func post(ctx context.Context, client *http.Client, sb *sandbox.Sandbox, id string, body []byte) outcome {
	start := time.Now()
	o := outcome{ID: id}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sb.URL, bytes.NewReader(body))
	if err != nil {
		o.Err = err.Error()

		return o
	}

	req.Header.Set(names.HeaderAuthorization, sb.Token)
	req.Header.Set("Content-Type", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		o.Err = err.Error()

		return o
	}

	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	o.Code, o.Latency = resp.StatusCode, time.Since(start)

	return o
}
