// Package setup is the wiring the processor's functions share (the
// processor behind POST /notification, the asynchronous path's worker, the
// escalate function; the ack function reads the escalation settings): reading the alerting core's settings from the environment
// (LoadCore, with the parsers each function's own settings use too) and
// building the core on its AWS adapters (NewCore). It is wiring only;
// each function's main calls it.
package setup

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/services/processor/sdkhttp"
	"github.com/a2p-alerts/a2p-alerts/services/processor/sns"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Getter reads one environment variable, trimmed; "" when unset.
type Getter func(name string) string

// Env is the Getter of lookup (os.LookupEnv in main).
func Env(lookup func(string) (string, bool)) Getter {
	return func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
}

// Core is the alerting core's settings.
type Core struct {
	ContactsTable, AlertsTable string
	// Retention is how long alert records are kept.
	Retention time.Duration
	// FallbackOnUnknown lets an unknown outcome fall back.
	FallbackOnUnknown bool
	// MetricsNamespace is the EMF namespace; "" writes no metrics.
	MetricsNamespace string
	// Connect is nil when the stack places no calls.
	Connect    *connect.Settings
	SMSContent render.SMSContent
	// DeliveryTimeout is alerting.Config.DeliveryTimeout.
	DeliveryTimeout time.Duration
	LogLevel        slog.Level
	// Escalation is the escalation policies, the timers' scheduler and
	// what messages ask to acknowledge with.
	Escalation Escalation
}

// LoadCore reads the core's settings. Required: names.EnvContactsTable,
// names.EnvAlertsTable. Optional: names.EnvAlertRetentionDays
// (names.DefaultAlertRetentionDays), names.EnvFallbackOnUnknown (false),
// names.EnvMetricsNamespace (no metrics), names.EnvSMSContent (full),
// names.EnvDeliveryTimeout (alerting.DefaultDeliveryTimeout),
// names.EnvLogLevel (INFO), the three names.EnvConnect* settings, all
// or none, and the escalation settings (LoadEscalation). An empty value counts as unset. Every error names the variable
// at fault.
func LoadCore(get Getter) (Core, error) {
	var c Core
	var err error
	if c.ContactsTable = get(names.EnvContactsTable); c.ContactsTable == "" {
		return c, fmt.Errorf("%s is not set: it names the contacts table", names.EnvContactsTable)
	}
	if c.AlertsTable = get(names.EnvAlertsTable); c.AlertsTable == "" {
		return c, fmt.Errorf("%s is not set: it names the alerts table", names.EnvAlertsTable)
	}
	if c.Retention, err = RetentionDays(get(names.EnvAlertRetentionDays)); err != nil {
		return c, err
	}
	if c.FallbackOnUnknown, err = Flag(names.EnvFallbackOnUnknown, get(names.EnvFallbackOnUnknown)); err != nil {
		return c, err
	}
	c.MetricsNamespace = get(names.EnvMetricsNamespace)
	if c.Connect, err = ConnectSettings(get); err != nil {
		return c, err
	}
	if c.SMSContent, err = render.ParseSMSContent(get(names.EnvSMSContent)); err != nil {
		return c, fmt.Errorf("%s: %w", names.EnvSMSContent, err)
	}
	if c.DeliveryTimeout, err = PositiveDuration(names.EnvDeliveryTimeout, get(names.EnvDeliveryTimeout), alerting.DefaultDeliveryTimeout.String()); err != nil {
		return c, err
	}
	if c.LogLevel, err = LogLevel(get(names.EnvLogLevel)); err != nil {
		return c, err
	}
	if c.Escalation, err = LoadEscalation(get); err != nil {
		return c, err
	}
	return c, nil
}

// SendFromMemory makes every client built from awsCfg send its request
// bodies from memory (package sdkhttp): one write per request, and no
// connection dropped for reuse.
func SendFromMemory(awsCfg *aws.Config) {
	if awsCfg.HTTPClient == nil { // LoadDefaultConfig always sets one
		awsCfg.HTTPClient = awshttp.NewBuildableClient()
	}
	awsCfg.HTTPClient = sdkhttp.Wrap(awsCfg.HTTPClient)
}

// NewCore builds the alerting core on its adapters from awsCfg (already
// instrumented as the function wants): the contacts and alerts tables, SNS
// and, when configured, Amazon Connect and EventBridge Scheduler (the
// escalation timers), with the default budget, and EMF metrics written to
// out.
func NewCore(c Core, awsCfg aws.Config, out io.Writer) (*alerting.Core, error) {
	db := dynamodb.NewFromConfig(awsCfg)
	budget := delivery.DefaultBudget
	var caller alerting.Caller // stays nil when the stack places no calls
	if c.Connect != nil {
		cl, err := connect.NewCaller(awsconnect.NewFromConfig(awsCfg, connect.ClientOptions(budget.Attempt)), *c.Connect)
		if err != nil {
			return nil, err
		}
		caller = cl
	}
	var metrics alerting.Metrics
	var timeliness alerting.Timeliness
	if c.MetricsNamespace != "" {
		m := emf.New(out, c.MetricsNamespace)
		metrics, timeliness = m, m
	}
	timers, err := Timers(c.Escalation, awsCfg)
	if err != nil {
		return nil, err
	}
	esc := c.Escalation
	return alerting.New(alerting.Config{
		Store:             dynamo.NewAlertStore(db, c.AlertsTable),
		Contacts:          dynamo.NewContactStore(db, c.ContactsTable),
		Publisher:         sns.NewPublisher(awssns.NewFromConfig(awsCfg, sns.ClientOptions(budget.Attempt))),
		Caller:            caller,
		Metrics:           metrics,
		SMSContent:        c.SMSContent,
		Retention:         c.Retention,
		FallbackOnUnknown: c.FallbackOnUnknown,
		Budget:            budget,
		DeliveryTimeout:   c.DeliveryTimeout,
		Escalation:        esc.Set,
		Timers:            timers,
		AckBaseURL:        esc.AckBaseURL,
		AckGrace:          esc.AckGrace,
		AckReplyCodes:     esc.ReplyCodes,
		Timeliness:        timeliness,
	})
}

// Timers returns the escalation timers' scheduler from awsCfg, nil when
// the stack names none (nothing escalates).
func Timers(e Escalation, awsCfg aws.Config) (alerting.Timers, error) {
	if e.Scheduler == (scheduler.Settings{}) {
		return nil, nil
	}
	return scheduler.New(awsscheduler.NewFromConfig(awsCfg), e.Scheduler)
}

// RetentionDays parses names.EnvAlertRetentionDays: whole days, at least
// one; names.DefaultAlertRetentionDays when empty.
func RetentionDays(value string) (time.Duration, error) {
	if value == "" {
		return names.DefaultAlertRetentionDays * 24 * time.Hour, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a whole number of days, at least 1", names.EnvAlertRetentionDays, value)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Flag parses "true" or "false"; empty is false.
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

// PositiveDuration parses a Go duration, def when value is empty.
func PositiveDuration(name, value, def string) (time.Duration, error) {
	d, err := Duration(name, value, def)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%s: %q must be positive", name, value)
	}
	return d, err
}

// Duration parses a Go duration that is not negative, def when value is
// empty.
func Duration(name, value, def string) (time.Duration, error) {
	if value == "" {
		value = def
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a Go duration such as 24h or 10s", name, value)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: %q must not be negative", name, value)
	}
	return d, nil
}

// ConnectSettings returns the Connect settings when any is set (they must
// then pass connect.Settings.Validate), nil when none is: the stack
// places no calls.
func ConnectSettings(get Getter) (*connect.Settings, error) {
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

// LogLevel reads a slog level name (DEBUG, INFO, WARN, ERROR, any case,
// optionally with an offset such as "INFO+2"); empty is INFO.
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

// Logger is a function's JSON logger on stdout at level (Lambda's JSON
// log format reads it).
func Logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// StartupFailed logs why function fn cannot start, with logger (nil: at
// the default level), and exits, which Lambda reports as an init error.
func StartupFailed(fn string, logger *slog.Logger, err error) {
	if logger == nil {
		logger = Logger(slog.LevelInfo)
	}
	logger.Error(fn+" start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
