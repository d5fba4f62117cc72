package setup

import (
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Escalation is what a function needs to set escalation timers and write
// acknowledgment links and codes: every function that delivers (the
// processor, the worker, the escalate function) and the ack function.
type Escalation struct {
	// Set is names.EnvEscalation: the policies and the fail-safe contact.
	Set escalation.Set
	// AckBaseURL is names.EnvAckBaseURL.
	AckBaseURL string
	// AckGrace is names.EnvAckGrace (alerting.DefaultAckGrace when unset).
	AckGrace time.Duration
	// ReplyCodes is names.EnvAckReplyCodes.
	ReplyCodes bool
	// Scheduler is where timers go; zero when none is configured.
	Scheduler scheduler.Settings
}

// LoadEscalation reads names.EnvEscalation, EnvAckBaseURL, EnvAckGrace,
// EnvAckReplyCodes and the scheduler's EnvScheduleGroup,
// EnvEscalateFunctionARN and EnvSchedulerRoleARN (all three, or none when
// nothing escalates). Every error names the variable at fault.
func LoadEscalation(get Getter) (Escalation, error) {
	var e Escalation
	var err error
	if e.Set, err = escalation.ParseSet(get(names.EnvEscalation)); err != nil {
		return e, fmt.Errorf("%s: %w", names.EnvEscalation, err)
	}
	e.AckBaseURL = get(names.EnvAckBaseURL)
	if e.ReplyCodes, err = Flag(names.EnvAckReplyCodes, get(names.EnvAckReplyCodes)); err != nil {
		return e, err
	}
	if e.AckGrace, err = PositiveDuration(names.EnvAckGrace, get(names.EnvAckGrace), alerting.DefaultAckGrace.String()); err != nil {
		return e, err
	}
	e.Scheduler = scheduler.Settings{
		Group: get(names.EnvScheduleGroup), TargetARN: get(names.EnvEscalateFunctionARN), RoleARN: get(names.EnvSchedulerRoleARN),
	}
	if e.Scheduler == (scheduler.Settings{}) {
		if e.Set.Enabled() {
			return e, fmt.Errorf("%s asks for acknowledgments but %s, %s and %s are unset", names.EnvEscalation,
				names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN)
		}
		return e, nil
	}
	if err := e.Scheduler.Validate(); err != nil {
		return e, fmt.Errorf("%s, %s, %s: %w", names.EnvScheduleGroup, names.EnvEscalateFunctionARN, names.EnvSchedulerRoleARN, err)
	}
	return e, nil
}
