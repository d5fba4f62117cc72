package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// TestAsyncAlertEscalates: a high-priority alert accepted with Prefer:
// respond-async is delivered by the worker and then escalates exactly as
// a synchronous one does (issues 12 and 13 together): the worker sets its
// first timer, stage 1 sends the SMS, and an acknowledgment by the API
// stops it.
func TestAsyncAlertEscalates(t *testing.T) {
	env := tgt.needSandbox(t, "firing timers")
	q := tgt.needQueues(t)
	tap := tgt.needTap(t)
	a := escalatingAlert(t)
	tgt.postAsync(t, a).wantAccepted(t, a)
	waitDepth(t, q.work, 1)
	if b := poll(t, q.work); len(b.Deleted) != 1 {
		t.Fatalf("batch %+v, want the alert delivered and its message deleted", b)
	}
	if rec := recordOf(t, a); rec.Status != string(delivery.AlertSent) || len(rec.Attempts) != 1 || rec.Attempts[0].Channel != "call" {
		t.Fatalf("after the worker: %+v, want sent by one call", rec)
	}

	if e := fire(t, env, a.MessageID, 1); e.Outcome != "escalated" || e.Stage != 1 {
		t.Fatalf("timer 1 of a queued alert: %+v", e)
	}
	if sms := waitDeliveries(t, tap, a.MessageID, 1)[0]; !strings.HasSuffix(sms.TopicARN, escalatingContact+"-sms") || ackOf(sms.Message).Link == "" {
		t.Errorf("stage 1 SMS to %s, %q: want C-3's, with a link", sms.TopicARN, sms.Message)
	}
	tgt.ack(t, a.MessageID, tgt.token).wantStatus(t, http.StatusOK)
	if rec := recordOf(t, a); rec.Status != string(delivery.AlertAcknowledged) || rec.Stage != 1 {
		t.Errorf("after the acknowledgment: %s at stage %d, want acknowledged at stage 1", rec.Status, rec.Stage)
	}
	noTimer(t, env, a.MessageID, 2)
}
