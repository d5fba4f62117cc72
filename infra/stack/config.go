package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// Protection is how hard the stack guards its data against deletion.
type Protection string

// The protection levels of names.ConfigProtection.
const (
	// ProtectionNone suits dev stacks: tables are deleted with the stack.
	ProtectionNone Protection = "none"
	// ProtectionFull suits prod: point-in-time recovery, deletion
	// protection, and tables and contact items retained when Pulumi
	// deletes them.
	ProtectionFull Protection = "full"
)

// Full reports whether p asks for full protection.
func (p Protection) Full() bool { return p == ProtectionFull }

// The Lambda architectures of names.ConfigLambdaArch.
const (
	// ArchARM64 is Graviton, the default: cheaper per millisecond.
	ArchARM64 = "arm64"
	// ArchX86 is x86_64.
	ArchX86 = "x86_64"
)

// Defaults of the optional configuration keys. The README's configuration
// table repeats them.
const (
	// DefaultVoice is the Amazon Polly voice of the contact flow.
	DefaultVoice = "Joanna"
	// DefaultLogRetentionDays is the CloudWatch Logs retention.
	DefaultLogRetentionDays = 30
	// DefaultArtifactDir holds <function>.zip, relative to the project root.
	DefaultArtifactDir = "build/lambda"
	// DefaultThrottleRateLimit is the stage's steady requests per second.
	DefaultThrottleRateLimit = 50.0
	// DefaultThrottleBurstLimit is the stage's burst of requests.
	DefaultThrottleBurstLimit = 100
	// DefaultAuthorizerCacheTTL is the authorizer result TTL in seconds.
	DefaultAuthorizerCacheTTL = 300
	// DefaultLogLevel is the functions' slog level.
	DefaultLogLevel = "INFO"
	// maxAlertRetentionDays bounds alertRetentionDays: ten years.
	maxAlertRetentionDays = 3653
	// DefaultClientDailyQuota is each API client's requests per day: about
	// one alert every nine seconds all day, far above a ward's need, low
	// enough to stop a runaway loop paging clinicians all day.
	DefaultClientDailyQuota = 10000
	// DefaultSMSMonthlySpendLimit is SNS's SMS spend limit of a new
	// account, in USD.
	DefaultSMSMonthlySpendLimit = 1.0
	// DefaultSMSSpendAlarmPercent is the share of the SMS spend limit at
	// which the spend alarm fires: SNS stops sending SMS at 100%.
	DefaultSMSSpendAlarmPercent = 80
	// NoReservedConcurrency leaves a function's concurrency unreserved
	// (Lambda's -1).
	NoReservedConcurrency = -1
	// projectFile marks the project root.
	projectFile = "Pulumi.yaml"
)

// ContactConfig is one clinician of names.ConfigContacts.
type ContactConfig struct {
	// ID is the contact_id alerts name; it also names the contact's
	// resources, so it is limited to letters, digits, "-" and "_".
	ID string
	// Name is the clinician's display name.
	Name string
	// CallPhone is the E.164 number voice calls go to.
	CallPhone string
	// SMSPhone is the E.164 number the SMS topic's subscription texts.
	SMSPhone string
	// Email is the address the email topic's subscription mails.
	Email string
	// Preferences maps every priority (H, M, L) to its channels, in the
	// order they are tried (a single channel in the stack file is a list
	// of one).
	Preferences map[alert.Priority][]contact.Channel
	// Secondary is the contact an escalation policy's "secondary" target
	// reaches for this one (a registrar); "" falls back to the fail-safe
	// contact.
	Secondary string
}

// Uses reports whether some priority of the contact uses ch.
func (c ContactConfig) Uses(ch contact.Channel) bool {
	for _, chs := range c.Preferences {
		if slices.Contains(chs, ch) {
			return true
		}
	}
	return false
}

// destinationKey names the field that holds ch's destination.
func destinationKey(ch contact.Channel) string {
	switch ch {
	case contact.ChannelCall:
		return "callPhone"
	case contact.ChannelSMS:
		return "smsPhone"
	case contact.ChannelEmail:
		return "email"
	default:
		return ""
	}
}

// destination returns the configured destination of ch, or "".
func (c ContactConfig) destination(ch contact.Channel) string {
	switch ch {
	case contact.ChannelCall:
		return c.CallPhone
	case contact.ChannelSMS:
		return c.SMSPhone
	case contact.ChannelEmail:
		return c.Email
	default:
		return ""
	}
}

// APIClient is one caller of names.ConfigAPIClients: a name, its token's
// hash and, optionally, its own usage plan limits.
type APIClient struct {
	// Name identifies the caller (token.ValidateClientName).
	Name string
	// SHA256 is token.Hash of the caller's token.
	SHA256 string
	// RateLimit is the client's steady requests per second; 0 takes
	// Config.ClientRateLimit.
	RateLimit float64
	// BurstLimit is the client's burst; 0 takes Config.ClientBurstLimit.
	BurstLimit int
	// DailyQuota is the client's requests per day (0: none); nil takes
	// Config.ClientDailyQuota.
	DailyQuota *int
}

// ClientLimits are the usage plan limits of one API client.
type ClientLimits struct {
	// RateLimit is the steady requests per second.
	RateLimit float64
	// BurstLimit is the burst of requests.
	BurstLimit int
	// DailyQuota is the requests per day; 0 means no quota.
	DailyQuota int
}

// Config is the validated configuration of one stack. LoadConfig reads it
// from the stack's Pulumi configuration.
type Config struct {
	// Contacts are the clinicians to alert (names.ConfigContacts).
	Contacts []ContactConfig
	// APIClients are the callers the authorizer accepts (at least one).
	APIClients []APIClient
	// ConnectInstanceID is an existing Amazon Connect instance id.
	ConnectInstanceID string
	// CreateConnectInstance creates a Connect instance instead.
	CreateConnectInstance bool
	// ConnectInstanceAlias names a created instance; "" derives one that is
	// unique per account and region (see Stack.connectInstanceAlias).
	ConnectInstanceAlias string
	// SourcePhoneNumber is the E.164 number calls come from.
	SourcePhoneNumber string
	// ClaimPhoneNumberCountry claims a DID in this ISO 3166-1 alpha-2
	// country instead of using SourcePhoneNumber.
	ClaimPhoneNumberCountry string
	// Voice is the Amazon Polly voice of the contact flow.
	Voice string
	// Protection is ProtectionNone or ProtectionFull.
	Protection Protection
	// LogRetentionDays is the retention of every log group.
	LogRetentionDays int
	// LambdaArch is ArchARM64 or ArchX86.
	LambdaArch string
	// ArtifactDir holds <names.FunctionX>.zip. LoadConfig makes it absolute.
	ArtifactDir string
	// ThrottleRateLimit is the stage's steady requests per second.
	ThrottleRateLimit float64
	// ThrottleBurstLimit is the stage's burst of requests.
	ThrottleBurstLimit int
	// ClientRateLimit is each client's steady rate unless it sets its own;
	// 0 is half the stage's.
	ClientRateLimit float64
	// ClientBurstLimit is each client's burst unless it sets its own; 0 is
	// half the stage's (at least 1).
	ClientBurstLimit int
	// ClientDailyQuota is each client's requests per day unless it sets
	// its own; 0 is no quota.
	ClientDailyQuota int
	// EnableWAF attaches a WAF web ACL to the stage.
	EnableWAF bool
	// AuthorizerCacheTTL is the authorizer result TTL in seconds (0: off).
	AuthorizerCacheTTL int
	// IdempotencyTTL is how long a completed alert answers replays.
	IdempotencyTTL time.Duration
	// PHIDetectors lists the detectors to enforce; nil means all of them,
	// []string{"none"} none.
	PHIDetectors []string
	// LogLevel is DEBUG, INFO, WARN or ERROR.
	LogLevel string
	// ManageAPIGatewayAccount makes the stack own the region's API Gateway
	// CloudWatch Logs role (an account-wide singleton).
	ManageAPIGatewayAccount bool
	// AuthorizerReservedConcurrency and ProcessorReservedConcurrency
	// reserve concurrency for each function; NoReservedConcurrency leaves
	// it unreserved.
	AuthorizerReservedConcurrency, ProcessorReservedConcurrency int
	// AlarmEmail, when set, is subscribed to the operations topic.
	AlarmEmail string
	// SMSMonthlySpendLimit is the account's SNS SMS spend limit in USD.
	SMSMonthlySpendLimit float64
	// SMSSpendAlarmPercent is the share of SMSMonthlySpendLimit at which
	// the spend alarm fires.
	SMSSpendAlarmPercent int
	// SMSContent is how much of an alert its SMS carries: render.SMSFull
	// or render.SMSMinimal (names.ConfigSMSContent).
	SMSContent render.SMSContent
	// AlertRetentionDays is how long alert records are kept (the alerts
	// table's TTL), names.ConfigAlertRetentionDays.
	AlertRetentionDays int
	// FallbackOnUnknown lets an attempt whose outcome is unknown fall back
	// to the next channel (names.ConfigFallbackOnUnknown).
	FallbackOnUnknown bool
	// AsyncMaxReceiveCount is how often the alert queue hands a message
	// out before dead-lettering it (names.ConfigAsyncMaxReceiveCount).
	AsyncMaxReceiveCount int
	// AsyncRetryDelay is how long the worker defers a requeued message
	// (names.ConfigAsyncRetryDelay).
	AsyncRetryDelay time.Duration

	// Escalation is the escalation policy of each priority
	// (names.ConfigEscalation); a priority the stack leaves out keeps its
	// default (escalation.Defaults).
	Escalation map[alert.Priority]escalation.Policy
	// FailSafeContact is the contact the fail-safe target reaches
	// (names.ConfigFailSafeContact).
	FailSafeContact string
	// TestStack allows seconds in escalation windows and the ack grace
	// (names.ConfigTestStack); never with full protection.
	TestStack bool
	// AckGrace is how long after an alert's window its links and codes
	// still acknowledge it, late (names.ConfigAckGrace).
	AckGrace time.Duration
	// AckBaseURL is the public base of acknowledgment links
	// (names.ConfigAckBaseURL); "" is the stage's execute-api URL.
	AckBaseURL string
	// TwoWaySMS creates the topic SMS replies arrive on and subscribes the
	// ack function (names.ConfigTwoWaySMS).
	TwoWaySMS bool
}

// DefaultAckGrace is how long after an alert's window its links and codes
// still acknowledge it, unless the stack sets ackGrace.
const DefaultAckGrace = time.Hour

// EscalationSet is what the functions read (names.EnvEscalation): every
// priority's policy and the fail-safe contact.
func (c *Config) EscalationSet() escalation.Set {
	return escalation.Set{Policies: c.Escalation, FailSafe: c.FailSafeContact}
}

// DurationUnit is the unit escalation windows and the ack grace must be
// whole multiples of: seconds on a test stack, minutes elsewhere.
func (c *Config) DurationUnit() time.Duration {
	if c.TestStack {
		return time.Second
	}
	return time.Minute
}

// AsksForAcknowledgment reports whether some priority's policy asks for
// one: only then are the timers, links and codes in use.
func (c *Config) AsksForAcknowledgment() bool { return c.EscalationSet().Enabled() }

// UsesChannel reports whether some contact prefers ch for some priority.
func (c *Config) UsesChannel(ch contact.Channel) bool {
	for _, ct := range c.Contacts {
		if ct.Uses(ch) {
			return true
		}
	}
	return false
}

// UsesCalls reports whether the stack needs Amazon Connect.
func (c *Config) UsesCalls() bool { return c.UsesChannel(contact.ChannelCall) }

// ClientLimits resolves the usage plan limits of cl: its own, else the
// client defaults, else half the stage's throttling.
func (c *Config) ClientLimits(cl APIClient) ClientLimits {
	l := ClientLimits{RateLimit: cl.RateLimit, BurstLimit: cl.BurstLimit, DailyQuota: c.ClientDailyQuota}
	if l.RateLimit == 0 {
		l.RateLimit = c.ClientRateLimit
	}
	if l.RateLimit == 0 {
		l.RateLimit = c.ThrottleRateLimit / 2
	}
	if l.BurstLimit == 0 {
		l.BurstLimit = c.ClientBurstLimit
	}
	if l.BurstLimit == 0 {
		l.BurstLimit = max(1, c.ThrottleBurstLimit/2)
	}
	if cl.DailyQuota != nil {
		l.DailyQuota = *cl.DailyQuota
	}
	return l
}

// DefaultConfig returns the configuration of a stack that sets no optional
// key. It has no contacts and no API clients, so it does not validate.
func DefaultConfig() *Config {
	ttl, err := time.ParseDuration(names.DefaultIdempotencyTTL)
	if err != nil {
		panic(fmt.Sprintf("names.DefaultIdempotencyTTL %q: %v", names.DefaultIdempotencyTTL, err)) // a constant: fails in every test run
	}
	return &Config{
		Voice:                         DefaultVoice,
		Protection:                    ProtectionNone,
		LogRetentionDays:              DefaultLogRetentionDays,
		LambdaArch:                    ArchARM64,
		ArtifactDir:                   DefaultArtifactDir,
		ThrottleRateLimit:             DefaultThrottleRateLimit,
		ThrottleBurstLimit:            DefaultThrottleBurstLimit,
		ClientDailyQuota:              DefaultClientDailyQuota,
		AuthorizerCacheTTL:            DefaultAuthorizerCacheTTL,
		IdempotencyTTL:                ttl,
		LogLevel:                      DefaultLogLevel,
		AuthorizerReservedConcurrency: NoReservedConcurrency,
		ProcessorReservedConcurrency:  NoReservedConcurrency,
		SMSMonthlySpendLimit:          DefaultSMSMonthlySpendLimit,
		SMSSpendAlarmPercent:          DefaultSMSSpendAlarmPercent,
		SMSContent:                    render.SMSFull,
		AlertRetentionDays:            names.DefaultAlertRetentionDays,
		AsyncMaxReceiveCount:          names.DefaultAsyncMaxReceiveCount,
		AsyncRetryDelay:               mustDuration(names.DefaultAsyncRetryDelay),
		Escalation:                    escalation.Defaults(),
		AckGrace:                      DefaultAckGrace,
	}
}

// mustDuration parses a duration constant; a bad one fails every test run.
func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("duration constant %q: %v", s, err))
	}
	return d
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the full path of the offending value, such as
	// "a2p-alerts:contacts[1].preferences.H".
	Key string
	// Message says what is wrong and what is expected.
	Message string
}

// String renders the problem as "key: message".
func (p Problem) String() string { return p.Key + ": " + p.Message }

// ConfigError lists every problem of a configuration, so that one run
// reports all of them. Nothing has been registered when it is returned.
type ConfigError struct {
	// Problems are in the order of the configuration keys.
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ConfigError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid configuration (%d problem(s)):", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// configKey is one configuration key: its name (a names.Config* constant)
// and how LoadConfig parses its raw value into Config. The raw value is a
// string, or JSON for structured values.
type configKey struct {
	name  string
	parse func(p *configParser, key, raw string, c *Config)
}

// configKeys is the one list of keys LoadConfig reads. The README's
// configuration table must list exactly these (TestREADMEConfigTable), and
// it must hold every names.Config* constant (TestConfigKeysCoverNames).
var configKeys = []configKey{
	{names.ConfigContacts, func(p *configParser, key, raw string, c *Config) { c.Contacts = p.contacts(key, raw) }},
	{names.ConfigAPIClients, func(p *configParser, key, raw string, c *Config) { c.APIClients = p.apiClients(key, raw) }},
	{names.ConfigConnectInstanceID, func(_ *configParser, _, raw string, c *Config) { c.ConnectInstanceID = raw }},
	{names.ConfigCreateConnectInstance, func(p *configParser, key, raw string, c *Config) {
		c.CreateConnectInstance = p.boolean(key, raw, c.CreateConnectInstance)
	}},
	{names.ConfigConnectInstanceAlias, func(_ *configParser, _, raw string, c *Config) { c.ConnectInstanceAlias = raw }},
	{names.ConfigSourcePhoneNumber, func(_ *configParser, _, raw string, c *Config) { c.SourcePhoneNumber = raw }},
	{names.ConfigClaimPhoneNumberCountry, func(_ *configParser, _, raw string, c *Config) { c.ClaimPhoneNumberCountry = raw }},
	{names.ConfigVoice, func(_ *configParser, _, raw string, c *Config) { c.Voice = raw }},
	{names.ConfigProtection, func(_ *configParser, _, raw string, c *Config) { c.Protection = Protection(raw) }},
	{names.ConfigLogRetentionDays, func(p *configParser, key, raw string, c *Config) {
		c.LogRetentionDays = p.integer(key, raw, c.LogRetentionDays)
	}},
	{names.ConfigLambdaArch, func(_ *configParser, _, raw string, c *Config) { c.LambdaArch = raw }},
	{names.ConfigArtifactDir, func(_ *configParser, _, raw string, c *Config) { c.ArtifactDir = raw }},
	{names.ConfigThrottleRateLimit, func(p *configParser, key, raw string, c *Config) {
		c.ThrottleRateLimit = p.float(key, raw, c.ThrottleRateLimit)
	}},
	{names.ConfigThrottleBurstLimit, func(p *configParser, key, raw string, c *Config) {
		c.ThrottleBurstLimit = p.integer(key, raw, c.ThrottleBurstLimit)
	}},
	{names.ConfigClientRateLimit, func(p *configParser, key, raw string, c *Config) {
		c.ClientRateLimit = p.float(key, raw, c.ClientRateLimit)
	}},
	{names.ConfigClientBurstLimit, func(p *configParser, key, raw string, c *Config) {
		c.ClientBurstLimit = p.integer(key, raw, c.ClientBurstLimit)
	}},
	{names.ConfigClientDailyQuota, func(p *configParser, key, raw string, c *Config) {
		c.ClientDailyQuota = p.integer(key, raw, c.ClientDailyQuota)
	}},
	{names.ConfigEnableWAF, func(p *configParser, key, raw string, c *Config) { c.EnableWAF = p.boolean(key, raw, c.EnableWAF) }},
	{names.ConfigAuthorizerCacheTTL, func(p *configParser, key, raw string, c *Config) {
		c.AuthorizerCacheTTL = p.integer(key, raw, c.AuthorizerCacheTTL)
	}},
	{names.ConfigIdempotencyTTL, func(p *configParser, key, raw string, c *Config) {
		c.IdempotencyTTL = p.duration(key, raw, c.IdempotencyTTL)
	}},
	{names.ConfigPHIDetectors, func(p *configParser, key, raw string, c *Config) { c.PHIDetectors = p.stringList(key, raw) }},
	{names.ConfigLogLevel, func(_ *configParser, _, raw string, c *Config) { c.LogLevel = strings.ToUpper(raw) }},
	{names.ConfigManageAPIGatewayAccount, func(p *configParser, key, raw string, c *Config) {
		c.ManageAPIGatewayAccount = p.boolean(key, raw, c.ManageAPIGatewayAccount)
	}},
	{names.ConfigAuthorizerReservedConcurrency, func(p *configParser, key, raw string, c *Config) {
		c.AuthorizerReservedConcurrency = p.integer(key, raw, c.AuthorizerReservedConcurrency)
	}},
	{names.ConfigProcessorReservedConcurrency, func(p *configParser, key, raw string, c *Config) {
		c.ProcessorReservedConcurrency = p.integer(key, raw, c.ProcessorReservedConcurrency)
	}},
	{names.ConfigAlarmEmail, func(_ *configParser, _, raw string, c *Config) { c.AlarmEmail = raw }},
	{names.ConfigSMSMonthlySpendLimit, func(p *configParser, key, raw string, c *Config) {
		c.SMSMonthlySpendLimit = p.float(key, raw, c.SMSMonthlySpendLimit)
	}},
	{names.ConfigSMSSpendAlarmPercent, func(p *configParser, key, raw string, c *Config) {
		c.SMSSpendAlarmPercent = p.integer(key, raw, c.SMSSpendAlarmPercent)
	}},
	{names.ConfigSMSContent, func(_ *configParser, _, raw string, c *Config) { c.SMSContent = render.SMSContent(raw) }},
	{names.ConfigAlertRetentionDays, func(p *configParser, key, raw string, c *Config) {
		c.AlertRetentionDays = p.integer(key, raw, c.AlertRetentionDays)
	}},
	{names.ConfigFallbackOnUnknown, func(p *configParser, key, raw string, c *Config) {
		c.FallbackOnUnknown = p.boolean(key, raw, c.FallbackOnUnknown)
	}},
	{names.ConfigAsyncMaxReceiveCount, func(p *configParser, key, raw string, c *Config) {
		c.AsyncMaxReceiveCount = p.integer(key, raw, c.AsyncMaxReceiveCount)
	}},
	{names.ConfigAsyncRetryDelay, func(p *configParser, key, raw string, c *Config) {
		c.AsyncRetryDelay = p.duration(key, raw, c.AsyncRetryDelay)
	}},
	// Acknowledgment and escalation (issue 12).
	{names.ConfigEscalation, func(p *configParser, key, raw string, c *Config) { p.escalation(key, raw, c.Escalation) }},
	{names.ConfigFailSafeContact, func(_ *configParser, _, raw string, c *Config) { c.FailSafeContact = raw }},
	{names.ConfigTestStack, func(p *configParser, key, raw string, c *Config) { c.TestStack = p.boolean(key, raw, c.TestStack) }},
	{names.ConfigAckGrace, func(p *configParser, key, raw string, c *Config) { c.AckGrace = p.duration(key, raw, c.AckGrace) }},
	{names.ConfigAckBaseURL, func(_ *configParser, _, raw string, c *Config) { c.AckBaseURL = raw }},
	{names.ConfigTwoWaySMS, func(p *configParser, key, raw string, c *Config) { c.TwoWaySMS = p.boolean(key, raw, c.TwoWaySMS) }},
}

// LoadConfig reads the stack's configuration (namespace: the project name),
// resolves a relative artifactDir against the project root, validates the
// result and checks the function packages (CheckArtifacts). On failure it
// returns a *ConfigError naming every offending key; it registers nothing
// and calls no provider.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	project := ctx.Project()
	c := DefaultConfig()
	p := &configParser{}
	for _, k := range configKeys {
		key := project + ":" + k.name
		raw, ok := ctx.GetConfig(key)
		if !ok {
			continue
		}
		k.parse(p, key, raw, c)
	}

	if c.ArtifactDir != "" && !filepath.IsAbs(c.ArtifactDir) {
		root, err := projectRoot(ctx.RootDirectory())
		if err != nil {
			p.add(project+":"+names.ConfigArtifactDir, fmt.Sprintf("cannot resolve relative path %q: %v", c.ArtifactDir, err))
		} else {
			c.ArtifactDir = filepath.Join(root, c.ArtifactDir)
		}
	}

	problems := p.problems
	var verr *ConfigError
	if err := c.Validate(project); errors.As(err, &verr) {
		// A key that did not parse kept its default; do not also report
		// what validation thinks of that default.
		for _, v := range verr.Problems {
			if !p.failed(v.Key) {
				problems = append(problems, v)
			}
		}
	}
	if len(problems) == 0 {
		// Only a valid architecture and folder can be checked.
		problems = CheckArtifacts(project, c.ArtifactDir, c.LambdaArch)
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return c, nil
}

// projectRoot returns the nearest ancestor of the working directory (itself
// included) that holds Pulumi.yaml, so that the program resolves paths the
// same way whether pulumi runs it from the project root or from infra/.
// When there is none it falls back to the engine's root directory.
func projectRoot(engineRoot string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, projectFile)); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if engineRoot != "" {
		return engineRoot, nil
	}
	return "", fmt.Errorf("no %s in %s or any parent directory", projectFile, wd)
}
