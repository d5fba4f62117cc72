package escalate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/escalate"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

type fakeCore struct {
	got []escalation.Timer
	res alerting.EscalateResult
	err error
}

func (f *fakeCore) Escalate(_ context.Context, t escalation.Timer, deadline time.Time) (alerting.EscalateResult, error) {
	f.got = append(f.got, t)
	if deadline.IsZero() {
		return alerting.EscalateResult{}, errors.New("no deadline")
	}
	return f.res, f.err
}

var tm = escalation.Timer{Key: alert.Key{Client: "ward", MessageID: "lab-1"}, Instance: "1796115600000-0a1b2c3d", Number: 2}

func handler(t *testing.T, core *fakeCore) (*escalate.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	h, err := escalate.New(core, slog.New(slog.NewJSONHandler(&logs, nil)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return h, &logs
}

func TestRunsTheTimer(t *testing.T) {
	t.Parallel()
	core := &fakeCore{res: alerting.EscalateResult{Outcome: alerting.EscalateEscalated, Saw: delivery.AlertSent, Stage: 2,
		TimerErr: errors.New("scheduler down")}}
	h, logs := handler(t, core)
	ans, err := h.Handle(t.Context(), json.RawMessage(tm.Input()))
	if err != nil || ans != (escalate.Answer{Outcome: "escalated", Saw: "sent", Stage: 2}) || core.got[0] != tm {
		t.Errorf("answer %+v, %v; core got %v", ans, err, core.got)
	}
	if !strings.Contains(logs.String(), `"msg":"`+names.LogTimerNotSet+`"`) || !strings.Contains(logs.String(), `"timer":3`) {
		t.Errorf("a timer that could not be set is not logged for its alarm:\n%s", logs)
	}
}

func TestErrorsAreRetriedAndJunkIsNot(t *testing.T) {
	t.Parallel()
	core := &fakeCore{err: errors.New("dynamodb down")}
	h, _ := handler(t, core)
	if _, err := h.Handle(t.Context(), json.RawMessage(tm.Input())); err == nil {
		t.Error("a failed read was not returned: Scheduler would not retry")
	}
	ans, err := h.Handle(t.Context(), json.RawMessage(`{"hello":"world"}`))
	if err != nil || ans.Outcome != "invalid" || len(core.got) != 1 {
		t.Errorf("junk: %+v, %v after %d runs; want invalid, not retried, not run", ans, err, len(core.got))
	}
}
