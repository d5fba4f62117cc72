package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Query parameters that tag each load request, so that every result
// names its message_id and kind. The API ignores them.
const (
	queryID     = "bench_id"
	queryReplay = "replay"
)

// requestTimeout bounds one request, as a clinical system's client would.
const requestTimeout = 30 * time.Second

// drainTimeout bounds the wait for a phase's deliveries.
const drainTimeout = 60 * time.Second

// sent is an alert already sent: its id and body, to replay it.
type sent struct {
	id   string
	body []byte
}

// phaseSpec is one load phase.
type phaseSpec struct {
	// Tag names the phase in message_ids ("u50").
	Tag string
	// Rate is the target in requests per second; 0 means closed loop,
	// one request at a time.
	Rate int
	// Requests is the closed loop's request count.
	Requests int
	// Duration is the open loop's length.
	Duration time.Duration
	// Replays makes every second request a replay.
	Replays bool
}

// label describes the phase in the report.
func (p phaseSpec) label() string {
	mix := "unique alerts"
	if p.Replays {
		mix = "50% replays"
	}

	if p.Rate == 0 {
		return fmt.Sprintf("%s, one at a time", mix)
	}

	return mix
}

// phaseResult is what one phase measured.
type phaseResult struct {
	Spec     phaseSpec
	Outcomes []outcome
	// Elapsed is from the first request's start to the last answer.
	Elapsed time.Duration
	// All, Fresh and Replay summarise the latencies.
	All, Fresh, Replay summary
	Account            account
	// CPU is the CPU time each process used during the attack.
	CPU map[string]time.Duration
	// Busy is the machine's CPU use during the attack, in percent.
	Busy float64
	// Drain is from the end of the attack until every accepted alert's
	// delivery was seen.
	Drain time.Duration
	// TapRereads counts SQS messages the tap read more than once.
	TapRereads int
}

// achievedRate is requests per second over the attack.
func (r phaseResult) achievedRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}

	return float64(len(r.Outcomes)) / r.Elapsed.Seconds()
}

// saturated reports whether an open-loop phase could not keep up: its
// answers came more than 5% slower than its sends, or its median latency
// was more than ten times ref, the median of requests sent one at a time
// (requests queued). ref 0 skips the second test.
func (r phaseResult) saturated(ref time.Duration) bool {
	if r.Spec.Rate == 0 {
		return false
	}

	return r.achievedRate() < 0.95*float64(r.Spec.Rate) || (ref > 0 && r.All.P50 > 10*ref)
}

// targeter mints the phase's requests: fresh alerts, and for a replay mix
// every second request repeats an alert sent about a second earlier (or,
// in the phase's first second, one accepted in an earlier phase).
type targeter struct {
	ids   idMaker
	spec  phaseSpec
	url   string
	token string
	pool  []sent

	mu    sync.Mutex
	n     int
	fresh []sent
}

// next returns the next request's message_id, body and kind.
func (t *targeter) next() (string, []byte, requestKind) {
	t.mu.Lock()
	defer t.mu.Unlock()

	n := t.n
	t.n++

	if t.spec.Replays && n%2 == 1 {
		lag := max(t.spec.Rate/2, 1) // fresh alerts sent in about a second
		if i := len(t.fresh) - 1 - lag; i >= 0 {
			return t.fresh[i].id, t.fresh[i].body, kindReplay
		}

		if len(t.pool) > 0 {
			s := t.pool[(n/2)%len(t.pool)]

			return s.id, s.body, kindReplay
		}
	}

	k := len(t.fresh)
	id := t.ids.id(t.spec.Tag, k)
	body := alertBody(id, k)
	t.fresh = append(t.fresh, sent{id: id, body: body})

	return id, body, kindFresh
}

// target fills a vegeta target.
func (t *targeter) target(tgt *vegeta.Target) error {
	id, body, kind := t.next()

	q := url.Values{queryID: {id}}
	if kind == kindReplay {
		q.Set(queryReplay, "1")
	}

	tgt.Method = http.MethodPost
	tgt.URL = t.url + "?" + q.Encode()
	tgt.Body = body
	tgt.Header = http.Header{
		names.HeaderAuthorization: {t.token},
		"Content-Type":            {"application/json"},
	}

	return nil
}

// outcomeOf turns a vegeta result into an outcome.
func outcomeOf(res *vegeta.Result) outcome {
	o := outcome{Code: int(res.Code), Err: res.Error, Latency: res.Latency}

	if u, err := url.Parse(res.URL); err == nil {
		o.ID = u.Query().Get(queryID)
		if u.Query().Get(queryReplay) != "" {
			o.Kind = kindReplay
		}
	}

	o.Replay = res.Headers.Get(names.HeaderIdempotentReplay) == "true"

	return o
}

// loadClient is the HTTP client of the load: it reaches the emulator's
// *.localhost virtual host, keeps connections alive and bounds each
// request.
func loadClient() *http.Client {
	c := sandbox.LocalhostClient()
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 512
		tr.MaxIdleConns = 512
	}

	c.Timeout = requestTimeout

	return c
}

// runner runs phases against one sandbox.
type runner struct {
	env        *sandbox.Sandbox
	fns        stackFunctions
	ids        idMaker
	deliveries *deliveryLog
	client     *http.Client
	// pool holds alerts accepted so far, for replays.
	pool []sent
	// sentinels counts the sentinel rounds sent.
	sentinels int
}

// counts returns the delivery count of every message_id so far, and the
// tap's re-reads.
func (r *runner) counts() (map[string]int, int) {
	sns, rereads := r.deliveries.snapshot()

	return mergeCounts(sns, callCounts(r.env.Connect.Calls())), rereads
}

// Names of the processes whose CPU the phases measure, in report order.
const (
	procKumo  = "kumo (emulator)"
	procBench = "bench (load, tap, Connect stub, X-Ray collector)"
)

// cpuOrder is the order of the CPU columns.
var cpuOrder = []string{procKumo, names.FunctionAuthorizer, names.FunctionProcessor, procBench}

// pids are the processes whose CPU the phases measure.
func (r *runner) pids() map[string]int {
	return map[string]int{
		procKumo:                 r.env.Emulator.Pid(),
		names.FunctionAuthorizer: r.fns.authorizer.Pid(),
		names.FunctionProcessor:  r.fns.processor.Pid(),
		procBench:                os.Getpid(),
	}
}

// cpuNow reads each process's CPU time and the machine's.
func (r *runner) cpuNow() (map[string]time.Duration, machineCPU) {
	out := map[string]time.Duration{}

	for name, pid := range r.pids() {
		if d, err := processCPU(pid); err == nil {
			out[name] = d
		}
	}

	m, _ := readMachineCPU()

	return out, m
}

// attack runs an open-loop phase with vegeta, stopping early if ctx ends.
func (r *runner) attack(ctx context.Context, spec phaseSpec) ([]outcome, time.Duration) {
	t := &targeter{ids: r.ids, spec: spec, url: r.env.URL, token: r.env.Token, pool: r.pool}
	attacker := vegeta.NewAttacker(vegeta.Client(r.client))
	pacer := vegeta.ConstantPacer{Freq: spec.Rate, Per: time.Second}

	done := make(chan struct{})
	defer close(done)

	go func() {
		select {
		case <-ctx.Done():
			attacker.Stop()
		case <-done:
		}
	}()

	var (
		outcomes    []outcome
		first, last time.Time
	)

	for res := range attacker.Attack(t.target, pacer, spec.Duration, spec.Tag) {
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}

		if end := res.End(); end.After(last) {
			last = end
		}

		outcomes = append(outcomes, outcomeOf(res))
	}

	return outcomes, last.Sub(first)
}

// sequential sends n fresh alerts one at a time.
func (r *runner) sequential(ctx context.Context, spec phaseSpec) ([]outcome, time.Duration, error) {
	t := &targeter{ids: r.ids, spec: spec}
	start := time.Now()

	var outcomes []outcome

	for range spec.Requests {
		id, body, kind := t.next()

		o, err := r.post(ctx, id, body)
		if err != nil {
			return outcomes, time.Since(start), err
		}

		o.Kind = kind
		outcomes = append(outcomes, o)
	}

	return outcomes, time.Since(start), nil
}

// post sends one alert through API Gateway. A transport error is an
// outcome (code 0), not an error: the accounting reports it.
func (r *runner) post(ctx context.Context, id string, body []byte) (outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.env.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{}, fmt.Errorf("request: %w", err)
	}

	req.Header.Set(names.HeaderAuthorization, r.env.Token)
	req.Header.Set("Content-Type", "application/json")

	return r.do(req, id), nil
}

// do sends req and times it.
func (r *runner) do(req *http.Request, id string) outcome {
	start := time.Now()

	resp, err := r.client.Do(req)
	if err != nil {
		return outcome{ID: id, Err: err.Error(), Latency: time.Since(start)}
	}

	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	return outcome{
		ID:      id,
		Code:    resp.StatusCode,
		Replay:  resp.Header.Get(names.HeaderIdempotentReplay) == "true",
		Latency: time.Since(start),
	}
}

// runPhase runs one phase, then waits for its deliveries and accounts for
// them.
func (r *runner) runPhase(ctx context.Context, spec phaseSpec) (phaseResult, error) {
	before, _ := r.counts()
	cpu0, m0 := r.cpuNow()

	var (
		res = phaseResult{Spec: spec}
		err error
	)

	if spec.Rate == 0 {
		res.Outcomes, res.Elapsed, err = r.sequential(ctx, spec)
		if err != nil {
			return res, err
		}
	} else {
		res.Outcomes, res.Elapsed = r.attack(ctx, spec)
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("load: %w", err)
		}
	}

	attackEnd := time.Now()
	cpu1, m1 := r.cpuNow()

	res.CPU = map[string]time.Duration{}
	for name, d := range cpu1 {
		res.CPU[name] = d - cpu0[name]
	}

	res.Busy = busyPercent(m0, m1)

	if err := r.drain(ctx, res.Outcomes, before); err != nil {
		return res, err
	}

	res.Drain = time.Since(attackEnd)

	if err := r.sentinel(ctx); err != nil {
		return res, err
	}

	after, rereads := r.counts()
	res.TapRereads = rereads
	res.Account = reckon(res.Outcomes, before, after)
	res.All, res.Fresh, res.Replay = latencies(res.Outcomes)

	for _, o := range res.Outcomes {
		if o.Kind == kindFresh && o.accepted() && !o.Replay {
			r.pool = append(r.pool, sent{id: o.ID, body: bodyFor(o.ID)})
		}
	}

	return res, nil
}

// latencies summarises all, fresh and replay requests' latencies.
func latencies(outcomes []outcome) (all, fresh, replay summary) {
	var a, f, rp []time.Duration

	for _, o := range outcomes {
		a = append(a, o.Latency)
		if o.Kind == kindFresh {
			f = append(f, o.Latency)
		} else {
			rp = append(rp, o.Latency)
		}
	}

	return summarize(a), summarize(f), summarize(rp)
}

// drain waits until every message_id of outcomes that got a 200 and had
// no delivery before the phase has one, or drainTimeout passes. A timeout
// is not an error here: the accounting reports what is missing.
func (r *runner) drain(ctx context.Context, outcomes []outcome, before map[string]int) error {
	var want []string

	for _, o := range outcomes {
		if o.accepted() && before[o.ID] == 0 {
			want = append(want, o.ID)
		}
	}

	wait, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()

	r.waitDelivered(wait, want)

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("waiting for deliveries: %w", err)
	}

	return nil
}

// waitDelivered waits until every id has at least one delivery or ctx
// ends, and returns how many ids are still without one.
func (r *runner) waitDelivered(ctx context.Context, ids []string) int {
	tick := time.NewTicker(100 * time.Millisecond) // calls do not notify
	defer tick.Stop()

	for {
		changed := r.deliveries.changed()
		counts, _ := r.counts()

		missing := 0
		for _, id := range ids {
			if counts[id] == 0 {
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

// sentinel sends one alert per priority after everything else and waits
// until each is delivered. Deliveries are read in order from one queue, so
// once the sentinels are in, anything published before them is too; what
// arrives after is counted by a later phase's final check.
func (r *runner) sentinel(ctx context.Context) error {
	r.sentinels++

	var ids []string

	for k := range loadPriorities {
		id := r.ids.id("s"+strconv.Itoa(r.sentinels), k)

		o, err := r.post(ctx, id, alertBody(id, k))
		if err != nil {
			return err
		}

		if o.Code != http.StatusOK {
			return fmt.Errorf("sentinel %s answered %d %s", id, o.Code, o.Err)
		}

		ids = append(ids, id)
	}

	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()

	if missing := r.waitDelivered(ctx, ids); missing > 0 {
		return fmt.Errorf("sentinels %v: %d not delivered: %w", ids, missing, ctx.Err())
	}

	return nil
}
