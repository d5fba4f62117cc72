package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// Protection is how hard the stack guards its data against deletion.
type Protection string

// The protection levels of names.ConfigProtection.
const (
	// ProtectionNone suits dev stacks: tables are deleted with the stack.
	ProtectionNone Protection = "none"
	// ProtectionFull suits prod: point-in-time recovery, deletion
	// protection, and tables retained when Pulumi deletes them.
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
	// Preferences maps every priority (H, M, L) to a channel.
	Preferences map[alert.Priority]contact.Channel
}

// Uses reports whether some priority of the contact uses ch.
func (c ContactConfig) Uses(ch contact.Channel) bool {
	for _, got := range c.Preferences {
		if got == ch {
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

// APIClient is one caller of names.ConfigAPIClients. Its JSON form is the
// element of names.EnvAPIClients that the authorizer reads.
type APIClient = token.Client

// Config is the validated configuration of one stack. LoadConfig reads it
// from the stack's Pulumi configuration; Build takes it as is (after
// Validate), so the sandbox can adjust a loaded Config before building.
type Config struct {
	// Contacts are the clinicians to alert (names.ConfigContacts).
	Contacts []ContactConfig
	// APIClients are the callers the authorizer accepts (at least one).
	APIClients []APIClient
	// ConnectInstanceID is an existing Amazon Connect instance id.
	ConnectInstanceID string
	// CreateConnectInstance creates a Connect instance instead.
	CreateConnectInstance bool
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
	// SMSContent is how much of an alert its SMS carries: render.SMSFull
	// or render.SMSMinimal (names.ConfigSMSContent).
	SMSContent render.SMSContent
}

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

// DefaultConfig returns the configuration of a stack that sets no optional
// key. It has no contacts and no API clients, so it does not validate.
func DefaultConfig() *Config {
	ttl, err := time.ParseDuration(names.DefaultIdempotencyTTL)
	if err != nil {
		panic(fmt.Sprintf("names.DefaultIdempotencyTTL %q: %v", names.DefaultIdempotencyTTL, err)) // a constant: fails in every test run
	}
	return &Config{
		Voice:              DefaultVoice,
		Protection:         ProtectionNone,
		LogRetentionDays:   DefaultLogRetentionDays,
		LambdaArch:         ArchARM64,
		ArtifactDir:        DefaultArtifactDir,
		ThrottleRateLimit:  DefaultThrottleRateLimit,
		ThrottleBurstLimit: DefaultThrottleBurstLimit,
		AuthorizerCacheTTL: DefaultAuthorizerCacheTTL,
		IdempotencyTTL:     ttl,
		LogLevel:           DefaultLogLevel,
		SMSContent:         render.SMSFull,
	}
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
	{names.ConfigSMSContent, func(_ *configParser, _, raw string, c *Config) { c.SMSContent = render.SMSContent(raw) }},
}

// LoadConfig reads the stack's configuration (namespace: the project name),
// resolves a relative artifactDir against the project root, and validates
// the result. On failure it returns a *ConfigError naming every offending
// key; it registers nothing and calls no provider.
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

// configParser collects the problems of raw values that do not have the right
// type or shape. Semantic checks are Validate's.
type configParser struct {
	problems []Problem
	bad      []string
}

// add records a problem with key.
func (p *configParser) add(key, msg string) {
	p.problems = append(p.problems, Problem{Key: key, Message: msg})
	p.bad = append(p.bad, key)
}

// failed reports whether key, or a key it is part of, failed to parse.
func (p *configParser) failed(key string) bool {
	for _, b := range p.bad {
		if key == b || strings.HasPrefix(key, b+"[") || strings.HasPrefix(key, b+".") {
			return true
		}
	}
	return false
}

// boolean parses "true" or "false".
func (p *configParser) boolean(key, raw string, def bool) bool {
	v, err := strconv.ParseBool(raw)
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a boolean (want true or false)", raw))
		return def
	}
	return v
}

// integer parses a decimal integer.
func (p *configParser) integer(key, raw string, def int) int {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not an integer", raw))
		return def
	}
	return v
}

// float parses a decimal number.
func (p *configParser) float(key, raw string, def float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a number", raw))
		return def
	}
	return v
}

// duration parses a Go duration ("24h", "90m").
func (p *configParser) duration(key, raw string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(strings.TrimSpace(raw))
	if err != nil {
		p.add(key, fmt.Sprintf("%q is not a duration (e.g. 24h, 90m)", raw))
		return def
	}
	return v
}

// stringList parses a YAML list of strings, or a comma-separated string
// (what `pulumi config set` stores).
func (p *configParser) stringList(key, raw string) []string {
	var list []any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			raw = s
		}
		out := []string{}
		for _, part := range strings.Split(raw, ",") {
			out = append(out, strings.TrimSpace(part))
		}
		return out
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("must be a string, got %s", jsonType(v)))
			continue
		}
		out = append(out, s)
	}
	return out
}

// objects parses a YAML list of objects whose fields are all among allowed.
func (p *configParser) objects(key, raw string, allowed []string) []map[string]any {
	var list []any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		p.add(key, "must be a list (a YAML sequence of objects)")
		return nil
	}
	out := make([]map[string]any, 0, len(list))
	for i, v := range list {
		obj, ok := v.(map[string]any)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("must be an object, got %s", jsonType(v)))
			out = append(out, map[string]any{})
			continue
		}
		for _, field := range sortedKeys(obj) {
			if !contains(allowed, field) {
				p.add(fmt.Sprintf("%s[%d].%s", key, i, field),
					fmt.Sprintf("unknown field (want %s)", strings.Join(allowed, ", ")))
			}
		}
		out = append(out, obj)
	}
	return out
}

// str returns obj[field] as a string; absent is "".
func (p *configParser) str(key string, obj map[string]any, field string) string {
	v, ok := obj[field]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		msg := fmt.Sprintf("must be a string, got %s", jsonType(v))
		if _, isNum := v.(float64); isNum {
			msg += ` (quote phone numbers in YAML: "+15555550100")`
		}
		p.add(key+"."+field, msg)
		return ""
	}
	return s
}

// contactFields are the fields of a names.ConfigContacts element.
var contactFields = []string{"id", "name", "callPhone", "smsPhone", "email", "preferences"}

// contacts parses names.ConfigContacts.
func (p *configParser) contacts(key, raw string) []ContactConfig {
	objs := p.objects(key, raw, contactFields)
	out := make([]ContactConfig, 0, len(objs))
	for i, obj := range objs {
		k := fmt.Sprintf("%s[%d]", key, i)
		c := ContactConfig{
			ID:          p.str(k, obj, "id"),
			Name:        p.str(k, obj, "name"),
			CallPhone:   p.str(k, obj, "callPhone"),
			SMSPhone:    p.str(k, obj, "smsPhone"),
			Email:       p.str(k, obj, "email"),
			Preferences: map[alert.Priority]contact.Channel{},
		}
		if v, ok := obj["preferences"]; ok {
			prefs, isObj := v.(map[string]any)
			if !isObj {
				p.add(k+".preferences", fmt.Sprintf("must be an object of priority (H, M, L) to channel, got %s", jsonType(v)))
			}
			for _, pr := range sortedKeys(prefs) {
				ch, isStr := prefs[pr].(string)
				if !isStr {
					p.add(k+".preferences."+pr, fmt.Sprintf("must be a channel name (call, sms or email), got %s", jsonType(prefs[pr])))
					continue
				}
				c.Preferences[alert.Priority(pr)] = contact.Channel(ch)
			}
		}
		out = append(out, c)
	}
	return out
}

// apiClientFields are the fields of a names.ConfigAPIClients element.
var apiClientFields = []string{"name", "sha256"}

// apiClients parses names.ConfigAPIClients.
func (p *configParser) apiClients(key, raw string) []APIClient {
	objs := p.objects(key, raw, apiClientFields)
	out := make([]APIClient, 0, len(objs))
	for i, obj := range objs {
		k := fmt.Sprintf("%s[%d]", key, i)
		out = append(out, APIClient{Name: p.str(k, obj, "name"), SHA256: p.str(k, obj, "sha256")})
	}
	return out
}

// jsonType names the JSON type of a decoded value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
