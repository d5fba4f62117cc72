package setup_test

import (
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func env(m map[string]string) setup.Getter { return func(k string) string { return m[k] } }

func TestLoadEscalation(t *testing.T) {
	t.Parallel()
	set := `{"policies":{"H":{"stages":[{"after":"5m","targets":["next-channel"]}],"unacknowledgedAfter":"30m"}},"failSafe":"C-9"}`
	full := map[string]string{
		names.EnvEscalation: set, names.EnvAckBaseURL: "https://x/v1", names.EnvAckGrace: "15m", names.EnvAckReplyCodes: "true",
		names.EnvScheduleGroup: "g", names.EnvEscalateFunctionARN: "arn:fn", names.EnvSchedulerRoleARN: "arn:role",
	}
	e, err := setup.LoadEscalation(env(full))
	if err != nil || !e.Set.Enabled() || e.Set.FailSafe != "C-9" || e.AckGrace != 15*time.Minute || e.Scheduler.Group != "g" || e.AckBaseURL != "https://x/v1" || !e.ReplyCodes {
		t.Fatalf("%+v, %v", e, err)
	}
	if e, err := setup.LoadEscalation(env(nil)); err != nil || e.Set.Enabled() || e.AckGrace == 0 {
		t.Errorf("nothing set: %+v, %v; want no escalation and the default grace", e, err)
	}
	for name, edit := range map[string]func(map[string]string){
		names.EnvEscalation:    func(m map[string]string) { m[names.EnvEscalation] = "{" },
		names.EnvAckGrace:      func(m map[string]string) { m[names.EnvAckGrace] = "-1h" },
		names.EnvAckReplyCodes: func(m map[string]string) { m[names.EnvAckReplyCodes] = "yes" },
		names.EnvScheduleGroup: func(m map[string]string) { delete(m, names.EnvScheduleGroup) },
		names.EnvEscalateFunctionARN: func(m map[string]string) {
			delete(m, names.EnvScheduleGroup)
			delete(m, names.EnvEscalateFunctionARN)
			delete(m, names.EnvSchedulerRoleARN)
		},
	} {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		edit(m)
		if _, err := setup.LoadEscalation(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s broken: %v, want an error naming it", name, err)
		}
	}
}
