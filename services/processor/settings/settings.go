// Package settings reads, from a function's environment, what the
// functions of issue 12 share: the escalation settings every function
// that delivers or acknowledges needs (Escalation), and the delivery
// settings of a function that delivers outside a request (Delivery: the
// escalate function; the processor keeps its own config.go, which adds
// the idempotency table and the PHI guard). Every error names the
// variable at fault; an empty value counts as unset.
package settings

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Getenv reads one variable (os.Getenv); values are trimmed.
type Getenv func(string) string

func (g Getenv) get(name string) string { return strings.TrimSpace(g(name)) }

// Escalation is what a function needs to set timers and write ack links.
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
// EnvAckReplyCodes and
// the scheduler's EnvScheduleGroup, EnvEscalateFunctionARN and
// EnvSchedulerRoleARN (all three, or none when nothing escalates).
func LoadEscalation(getenv Getenv) (Escalation, error) {
	var e Escalation
	var err error
	if e.Set, err = escalation.ParseSet(getenv.get(names.EnvEscalation)); err != nil {
		return e, fmt.Errorf("%s: %w", names.EnvEscalation, err)
	}
	e.AckBaseURL = getenv.get(names.EnvAckBaseURL)
	if e.ReplyCodes, err = Flag(names.EnvAckReplyCodes, getenv.get(names.EnvAckReplyCodes)); err != nil {
		return e, err
	}
	if e.AckGrace, err = Duration(names.EnvAckGrace, getenv.get(names.EnvAckGrace), alerting.DefaultAckGrace); err != nil {
		return e, err
	}
	e.Scheduler = scheduler.Settings{
		Group: getenv.get(names.EnvScheduleGroup), TargetARN: getenv.get(names.EnvEscalateFunctionARN), RoleARN: getenv.get(names.EnvSchedulerRoleARN),
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

// Delivery is what a function that delivers outside an API request reads.
type Delivery struct {
	ContactsTable, AlertsTable string
	// Retention is names.EnvAlertRetentionDays.
	Retention time.Duration
	// FallbackOnUnknown is names.EnvFallbackOnUnknown.
	FallbackOnUnknown bool
	// MetricsNamespace is names.EnvMetricsNamespace ("" writes none).
	MetricsNamespace string
	// Connect is nil when the stack places no calls.
	Connect    *connect.Settings
	SMSContent render.SMSContent
	LogLevel   slog.Level
}

// LoadDelivery reads names.EnvContactsTable and EnvAlertsTable
// (required), EnvAlertRetentionDays, EnvFallbackOnUnknown,
// EnvMetricsNamespace, the three EnvConnect* (all or none), EnvSMSContent
// and EnvLogLevel.
func LoadDelivery(getenv Getenv) (Delivery, error) {
	d := Delivery{ContactsTable: getenv.get(names.EnvContactsTable), AlertsTable: getenv.get(names.EnvAlertsTable),
		MetricsNamespace: getenv.get(names.EnvMetricsNamespace)}
	for name, v := range map[string]string{names.EnvContactsTable: d.ContactsTable, names.EnvAlertsTable: d.AlertsTable} {
		if v == "" {
			return d, fmt.Errorf("%s is not set: it names a table", name)
		}
	}
	var err error
	if d.Retention, err = days(names.EnvAlertRetentionDays, getenv.get(names.EnvAlertRetentionDays), names.DefaultAlertRetentionDays); err != nil {
		return d, err
	}
	if d.FallbackOnUnknown, err = Flag(names.EnvFallbackOnUnknown, getenv.get(names.EnvFallbackOnUnknown)); err != nil {
		return d, err
	}
	s := connect.Settings{InstanceID: getenv.get(names.EnvConnectInstanceID), ContactFlowID: getenv.get(names.EnvConnectContactFlowID),
		SourcePhone: getenv.get(names.EnvConnectSourcePhone)}
	if s != (connect.Settings{}) {
		if err := s.Validate(); err != nil {
			return d, err
		}
		d.Connect = &s
	}
	if d.SMSContent, err = render.ParseSMSContent(getenv.get(names.EnvSMSContent)); err != nil {
		return d, fmt.Errorf("%s: %w", names.EnvSMSContent, err)
	}
	d.LogLevel, err = LogLevel(getenv.get(names.EnvLogLevel))
	return d, err
}

// Duration parses a positive Go duration; def when value is empty.
func Duration(name, value string, def time.Duration) (time.Duration, error) {
	if value == "" {
		return def, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive Go duration such as 1h or 30s", name, value)
	}
	return d, nil
}

// Flag parses true or false; empty is false.
func Flag(name, value string) (bool, error) {
	if value == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, value)
	}
	return b, nil
}

// days parses whole days, at least one; def when value is empty.
func days(name, value string, def int) (time.Duration, error) {
	n := def
	if value != "" {
		var err error
		if n, err = strconv.Atoi(value); err != nil || n < 1 {
			return 0, fmt.Errorf("%s: %q is not a whole number of days, at least 1", name, value)
		}
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// LogLevel parses names.EnvLogLevel (DEBUG, INFO, WARN, ERROR); empty is
// INFO.
func LogLevel(value string) (slog.Level, error) {
	var level slog.Level
	if value == "" {
		return level, nil
	}
	if err := level.UnmarshalText([]byte(value)); err != nil {
		return 0, fmt.Errorf("%s: %q is not DEBUG, INFO, WARN or ERROR", names.EnvLogLevel, value)
	}
	return level, nil
}
