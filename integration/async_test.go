package integration

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Tests of asynchronous delivery (issue 13): POST with Prefer:
// respond-async, the bus and its rule to the alert queue (kumo's own),
// the worker fed by the queue poller that stands in for the event source
// mapping, kumo's redrive to the dead-letter queue, and the dead-letter
// handler. They drive the pollers themselves, so none runs in parallel:
// each starts and ends with both queues empty.

// queues are the embedded sandbox's pollers of the alert queue (the
// worker) and the dead-letter queue (the dead-letter handler).
type queues struct{ work, dead *standin.QueuePoller }

// needQueues returns the pollers, checking that both queues are empty, or
// skips on an external target (whose mappings poll by themselves).
func (tg *target) needQueues(tb testing.TB) queues {
	tb.Helper()

	if tg.env == nil {
		tg.lacks(tb, "no queue pollers to drive (a real event source mapping polls on its own); run against the embedded sandbox")
	}

	q := queues{
		work: tg.env.Pollers[tg.env.Deployment.OutputString(names.OutputWorkerFunction)],
		dead: tg.env.Pollers[tg.env.Deployment.OutputString(names.OutputDeadLetterFunction)],
	}
	if q.work == nil || q.dead == nil {
		tb.Fatalf("the sandbox has no poller for the worker or the dead-letter handler: %v", tg.env.Pollers)
	}

	waitDepth(tb, q.work, 0)
	waitDepth(tb, q.dead, 0)

	return q
}

// postAsync sends a with Prefer: respond-async.
func (tg *target) postAsync(tb testing.TB, a alert.Alert) reply {
	tb.Helper()

	r, err := tg.do(tb.Context(), encode(tb, a), auth{header: tg.token, extra: map[string]string{names.HeaderPrefer: names.PreferRespondAsync}})
	if err != nil {
		tb.Fatal(err)
	}

	return r
}

// wantAccepted fails the test unless r is a fresh 202 for a, with
// Location and Preference-Applied.
func (r reply) wantAccepted(tb testing.TB, a alert.Alert) {
	tb.Helper()

	r.wantStatus(tb, http.StatusAccepted)

	var body api.Accepted
	decodeStrict(tb, r.body, &body)

	if body != (api.Accepted{MessageID: a.MessageID, Status: api.StatusAccepted}) || r.replayed() {
		tb.Errorf("202 body %+v (replay %v), want message_id %s, status accepted, not a replay", body, r.replayed(), a.MessageID)
	}

	if r.header.Get(names.HeaderPreferenceApplied) != names.PreferRespondAsync || !strings.HasSuffix(r.header.Get(names.HeaderLocation), "/notification/"+a.MessageID) {
		tb.Errorf("headers %v, want Preference-Applied respond-async and Location", r.header)
	}
}

// waitDepth waits until p's queue holds n messages: kumo delivers the
// bus's events to SQS on a goroutine of its own, after PutEvents answered.
func waitDepth(tb testing.TB, p *standin.QueuePoller, n int) {
	tb.Helper()

	ctx := waitCtx(tb)

	for {
		got := depth(ctx, tb, p.QueueURL)

		if got == n {
			return
		}

		select {
		case <-ctx.Done():
			tb.Fatalf("queue %s holds %d messages, want %d", p.QueueURL, got, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// depth is how many messages the queue at url holds, visible or in
// flight.
func depth(ctx context.Context, tb testing.TB, url string) int {
	tb.Helper()

	out, err := tgt.env.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		tb.Fatalf("attributes of %s: %v", url, err)
	}

	n := 0

	for _, v := range out.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}

	return n
}

// poll feeds one batch to p's function.
func poll(tb testing.TB, p *standin.QueuePoller) standin.Batch {
	tb.Helper()

	b, err := p.Poll(waitCtx(tb), 0)
	if err != nil {
		tb.Fatal(err)
	}

	return b
}

// drainQueue polls p until its queue is empty.
func drainQueue(tb testing.TB, p *standin.QueuePoller) {
	tb.Helper()

	ctx := waitCtx(tb)

	for n := 1; n > 0; {
		poll(tb, p)

		if n = depth(ctx, tb, p.QueueURL); ctx.Err() != nil {
			tb.Fatalf("draining %s: %d left (%v)", p.QueueURL, n, ctx.Err())
		}
	}
}

// recordOf reads a's record through GET.
func recordOf(tb testing.TB, a alert.Alert) api.AlertRecord {
	tb.Helper()

	return tgt.get(tb, a.MessageID, tgt.token).record(tb, a)
}

func TestAsyncAcceptedThenSent(t *testing.T) {
	q := tgt.needQueues(t)
	tap := tgt.needTap(t)
	a := newAlert(t, priorityFor(t, contact.ChannelSMS), "async")

	r := tgt.postAsync(t, a)
	r.wantAccepted(t, a)

	if rec := tgt.getLocation(t, r).record(t, a); rec.Status != string(delivery.AlertAccepted) || len(rec.Attempts) != 0 {
		t.Fatalf("before the worker ran: %s with %d attempts, want accepted, nothing tried", rec.Status, len(rec.Attempts))
	}

	waitDepth(t, q.work, 1)

	if b := poll(t, q.work); len(b.Received) != 1 || len(b.Deleted) != 1 {
		t.Fatalf("batch %+v, want the alert's message received and deleted", b)
	}

	rec := recordOf(t, a)
	if rec.Status != string(delivery.AlertSent) || len(rec.Attempts) != 1 || rec.Attempts[0].Status != string(delivery.AttemptSent) {
		t.Errorf("after the worker: %+v, want sent in one attempt", rec)
	}

	tgt.drain(t)

	if n := len(deliveries(tap, a.MessageID)); n != 1 {
		t.Errorf("%d deliveries at the tap, want 1", n)
	}
}

// TestAsyncMessageTwice hands the worker the same message twice, as SQS
// may: both copies in one batch.
func TestAsyncMessageTwice(t *testing.T) {
	q := tgt.needQueues(t)
	tap := tgt.needTap(t)
	a := newAlert(t, priorityFor(t, contact.ChannelSMS), "twice")
	tgt.postAsync(t, a).wantAccepted(t, a)
	waitDepth(t, q.work, 1)

	// Take the message, put it back, and enqueue a copy of its body.
	c := tgt.env.Clients.SQS
	got, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.work.QueueURL)})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("receive: %v, %v", got, err)
	}

	m := got.Messages[0]
	for secret := range strings.SplitSeq(a.Description+"\n"+a.PatientID+"\n"+a.Type, "\n") {
		if strings.Contains(aws.ToString(m.Body), secret) {
			t.Errorf("the queued event holds the alert's %q: other consumers read the bus", secret)
		}
	}

	if _, err := c.ChangeMessageVisibility(t.Context(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.work.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q.work.QueueURL), MessageBody: m.Body}); err != nil {
		t.Fatal(err)
	}

	waitDepth(t, q.work, 2)

	if b := poll(t, q.work); len(b.Received) != 2 {
		t.Fatalf("batch %+v, want both copies in one batch", b)
	}

	drainQueue(t, q.work)
	// The copy handed out last was received twice by now (this test took
	// it once): kumo may have moved it to the dead-letter queue, whose
	// handler finds the alert sent and changes nothing.
	drainQueue(t, q.dead)
	tgt.drain(t)

	if n, rec := len(deliveries(tap, a.MessageID)), recordOf(t, a); n != 1 || rec.Status != string(delivery.AlertSent) || len(rec.Attempts) != 1 {
		t.Errorf("%d deliveries, record %s with %d attempts: want one of each, sent", n, rec.Status, len(rec.Attempts))
	}
}

// TestAsyncWorkerKeepsFailing: SNS throttles one alert of a batch every
// time; the others are delivered, and kumo's redrive moves its message to
// the dead-letter queue after the sandbox's asyncMaxReceiveCount (2)
// receives, whose handler fails the alert.
func TestAsyncWorkerKeepsFailing(t *testing.T) {
	q := tgt.needQueues(t)
	tap := tgt.needTap(t)
	proxy := tgt.needSNSFaults(t)
	p := priorityFor(t, contact.ChannelSMS)
	ok1, bad, ok2 := newAlert(t, p, "ok1"), newAlert(t, p, "bad"), newAlert(t, p, "ok2")
	snsFaults.inject(t, proxy.SetDecide, bad.MessageID, snsThrottled)

	for _, a := range []alert.Alert{ok1, bad, ok2} {
		tgt.postAsync(t, a).wantAccepted(t, a)
	}

	waitDepth(t, q.work, 3)

	if b := poll(t, q.work); len(b.Received) != 3 || len(b.Deleted) != 2 {
		t.Fatalf("first batch %+v, want three received, the two good ones deleted", b)
	}

	rec := recordOf(t, bad)
	if last := rec.Events[len(rec.Events)-1]; rec.Status != string(delivery.AlertAccepted) || last.Type != string(delivery.EventRequeued) {
		t.Errorf("the failing alert after one receive: %s, last event %s; want accepted, requeued", rec.Status, last.Type)
	}

	drainQueue(t, q.work)
	waitDepth(t, q.dead, 1)

	if b := poll(t, q.dead); len(b.Deleted) != 1 {
		t.Fatalf("dead-letter batch %+v, want the failing alert's message given up", b)
	}

	rec = recordOf(t, bad)
	if last := rec.Events[len(rec.Events)-1]; rec.Status != string(delivery.AlertFailed) || last.Type != string(delivery.EventFailed) || last.Reason != string(delivery.ReasonDeadLettered) {
		t.Errorf("the failing alert: %s, last event %+v; want failed, reason dead_lettered", rec.Status, last)
	}

	tgt.drain(t)

	for _, a := range []alert.Alert{ok1, ok2} {
		if n, rec := len(deliveries(tap, a.MessageID)), recordOf(t, a); n != 1 || rec.Status != string(delivery.AlertSent) {
			t.Errorf("%s: %d deliveries, %s; want one, sent", a.MessageID, n, rec.Status)
		}
	}

	if n := len(deliveries(tap, bad.MessageID)); n != 0 {
		t.Errorf("the failing alert was delivered %d times", n)
	}
}

// TestAsyncReplayAcrossModes: a replay answers what the first request
// answered, whichever mode each used, and nothing is queued or sent
// again.
func TestAsyncReplayAcrossModes(t *testing.T) {
	q := tgt.needQueues(t)
	tap := tgt.needTap(t)

	t.Run("sync then async", func(t *testing.T) {
		a := newAlert(t, priorityFor(t, contact.ChannelSMS), "sync-first")
		first := tgt.postAlert(t, a)
		first.wantSent(t, a)

		again := tgt.postAsync(t, a)
		again.wantStatus(t, http.StatusOK)

		if !again.replayed() || string(again.body) != string(first.body) || again.header.Get(names.HeaderPreferenceApplied) != "" {
			t.Errorf("replay %s %v, want the first 200 replayed, no Preference-Applied", again, again.header)
		}

		if b, err := q.work.Poll(waitCtx(t), time.Second); err != nil || len(b.Received) != 0 {
			t.Errorf("the replay queued %+v (%v), want nothing", b, err)
		}

		tgt.drain(t)

		if n := len(deliveries(tap, a.MessageID)); n != 1 {
			t.Errorf("%d deliveries, want 1", n)
		}
	})
	t.Run("async then sync", func(t *testing.T) {
		a := newAlert(t, priorityFor(t, contact.ChannelSMS), "async-first")
		first := tgt.postAsync(t, a)
		first.wantAccepted(t, a)

		waitDepth(t, q.work, 1)

		for _, when := range []string{"before delivery", "after delivery"} {
			again := tgt.postAlert(t, a)
			if again.status != http.StatusAccepted || !again.replayed() || string(again.body) != string(first.body) ||
				again.header.Get(names.HeaderPreferenceApplied) != names.PreferRespondAsync || again.header.Get(names.HeaderLocation) == "" {
				t.Errorf("%s: replay %s %v, want the 202 replayed with Location and Preference-Applied", when, again, again.header)
			}

			drainQueue(t, q.work)
		}

		tgt.drain(t)

		if n := len(deliveries(tap, a.MessageID)); n != 1 || recordOf(t, a).Status != string(delivery.AlertSent) {
			t.Errorf("%d deliveries, want 1 and the alert sent", n)
		}
	})
}
