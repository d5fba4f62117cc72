package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// defaultLockTimeout bounds the idempotency lock when an invocation has no
// deadline; it matches the function's timeout.
const defaultLockTimeout = 25 * time.Second

// config is what the function reads from its environment at start-up.
type config struct {
	contactsTable    string
	idempotencyTable string
	alertsTable      string
	idempotencyTTL   time.Duration
	lockTimeout      time.Duration
	// retention is how long alert records are kept.
	retention time.Duration
	// fallbackOnUnknown lets an unknown outcome fall back.
	fallbackOnUnknown bool
	// metricsNamespace is the EMF namespace; "" writes no metrics.
	metricsNamespace string
	// connect is nil when the stack places no calls.
	connect    *connect.Settings
	guard      phi.Guard
	smsContent render.SMSContent
	logLevel   slog.Level
	// cpuProfile is the file of the CPU profile, "" when none is asked
	// for (names.EnvCPUProfile).
	cpuProfile string
}

// loadConfig reads the environment through lookup (os.LookupEnv in main).
// Required: names.EnvContactsTable, names.EnvIdempotencyTable,
// names.EnvAlertsTable. Optional: names.EnvIdempotencyTTL
// (names.DefaultIdempotencyTTL), names.EnvLockTimeout (25s),
// names.EnvAlertRetentionDays (names.DefaultAlertRetentionDays),
// names.EnvFallbackOnUnknown (false), names.EnvMetricsNamespace (no
// metrics), names.EnvPHIDetectors (all detectors), names.EnvSMSContent
// (full), names.EnvLogLevel (INFO), names.EnvCPUProfile (none), and the
// three names.EnvConnect* settings, all or none. An empty value counts as
// unset. Every error names the variable at fault.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var cfg config
	var err error

	if cfg.contactsTable = get(names.EnvContactsTable); cfg.contactsTable == "" {
		return cfg, fmt.Errorf("%s is not set: it names the contacts table", names.EnvContactsTable)
	}
	if cfg.idempotencyTable = get(names.EnvIdempotencyTable); cfg.idempotencyTable == "" {
		return cfg, fmt.Errorf("%s is not set: it names the idempotency table", names.EnvIdempotencyTable)
	}
	if cfg.alertsTable = get(names.EnvAlertsTable); cfg.alertsTable == "" {
		return cfg, fmt.Errorf("%s is not set: it names the alerts table", names.EnvAlertsTable)
	}
	if cfg.retention, err = retentionDays(get(names.EnvAlertRetentionDays)); err != nil {
		return cfg, err
	}
	if cfg.fallbackOnUnknown, err = flag(names.EnvFallbackOnUnknown, get(names.EnvFallbackOnUnknown)); err != nil {
		return cfg, err
	}
	cfg.metricsNamespace = get(names.EnvMetricsNamespace)
	if cfg.idempotencyTTL, err = positiveDuration(names.EnvIdempotencyTTL, get(names.EnvIdempotencyTTL), names.DefaultIdempotencyTTL); err != nil {
		return cfg, err
	}
	if cfg.lockTimeout, err = positiveDuration(names.EnvLockTimeout, get(names.EnvLockTimeout), defaultLockTimeout.String()); err != nil {
		return cfg, err
	}
	if cfg.connect, err = connectSettings(get); err != nil {
		return cfg, err
	}
	if cfg.guard, err = phi.Parse(get(names.EnvPHIDetectors)); err != nil {
		return cfg, fmt.Errorf("%s: %w", names.EnvPHIDetectors, err)
	}
	if cfg.smsContent, err = render.ParseSMSContent(get(names.EnvSMSContent)); err != nil {
		return cfg, fmt.Errorf("%s: %w", names.EnvSMSContent, err)
	}
	if cfg.logLevel, err = parseLogLevel(get(names.EnvLogLevel)); err != nil {
		return cfg, err
	}
	cfg.cpuProfile = get(names.EnvCPUProfile)
	return cfg, nil
}

// retentionDays parses names.EnvAlertRetentionDays: whole days, at least
// one; names.DefaultAlertRetentionDays when empty.
func retentionDays(value string) (time.Duration, error) {
	if value == "" {
		return names.DefaultAlertRetentionDays * 24 * time.Hour, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a whole number of days, at least 1", names.EnvAlertRetentionDays, value)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// flag parses "true" or "false"; empty is false.
func flag(name, value string) (bool, error) {
	if value == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, value)
	}
	return b, nil
}

// positiveDuration parses a Go duration, def when value is empty.
func positiveDuration(name, value, def string) (time.Duration, error) {
	if value == "" {
		value = def
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a Go duration such as 24h or 10s", name, value)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %q must be positive", name, value)
	}
	return d, nil
}

// connectSettings returns the Connect settings when any is set (they must
// then pass connect.Settings.Validate), nil when none is: the stack places
// no calls.
func connectSettings(get func(string) string) (*connect.Settings, error) {
	s := connect.Settings{
		InstanceID:    get(names.EnvConnectInstanceID),
		ContactFlowID: get(names.EnvConnectContactFlowID),
		SourcePhone:   get(names.EnvConnectSourcePhone),
	}
	if s == (connect.Settings{}) {
		return nil, nil // valid: the stack places no calls
	}
	if err := s.Validate(); err != nil {
		return nil, err // it names the variables
	}
	return &s, nil
}

// parseLogLevel reads a slog level name (DEBUG, INFO, WARN, ERROR, any
// case, optionally with an offset such as "INFO+2"); empty is INFO.
func parseLogLevel(value string) (slog.Level, error) {
	var level slog.Level
	if value == "" {
		return level, nil
	}
	if err := level.UnmarshalText([]byte(value)); err != nil {
		return 0, fmt.Errorf("%s: %q is not DEBUG, INFO, WARN or ERROR", names.EnvLogLevel, value)
	}
	return level, nil
}
