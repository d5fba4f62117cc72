package stack

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

var (
	// uuidPattern is the form of an Amazon Connect instance id.
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// countryPattern is an ISO 3166-1 alpha-2 code.
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	// voicePattern is the form of an Amazon Polly voice id.
	voicePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{1,31}$`)
	// aliasPattern is what this stack accepts as a Connect instance alias:
	// lower-case letters and digits in groups joined by single hyphens.
	// Connect also refuses aliases that start with "d-" (checked apart).
	aliasPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// logRetentionDays are the retentions CloudWatch Logs accepts. "Never
// expire" (0) is deliberately not offered: every log group gets a bound.
var logRetentionDays = []int{
	1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
	1096, 1827, 2192, 2557, 2922, 3288, 3653,
}

// logLevels are the slog levels the functions understand.
var logLevels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

// Limits of keys.
const (
	// maxAuthorizerCacheTTL is API Gateway's limit for authorizer results.
	maxAuthorizerCacheTTL = 3600
	// minIdempotencyTTL keeps replays answerable at least a little while
	// after the lock (processorTimeout) has lapsed.
	minIdempotencyTTL = time.Minute
	// maxAliasName is Connect's limit for an instance alias.
	maxAliasName = 45
	// reservedAliasPrefix starts the aliases Connect keeps for directory
	// ids; it refuses them.
	reservedAliasPrefix = "d-"
)

// Validate checks the configuration as a whole and returns a *ConfigError
// listing every problem, or nil. Keys in messages are in project's
// namespace ("a2p-alerts:contacts[1].preferences.H"). Contact phone
// numbers and email addresses are secrets: no message repeats them.
func (c *Config) Validate(project string) error {
	v := &validator{project: project}
	v.contacts(c.Contacts)
	v.apiClients(c)
	v.connectForm(c)
	v.connectChoice(c)
	v.functions(c)
	v.api(c)
	v.operations(c)
	v.async(c)
	v.escalation(c)
	if len(v.problems) > 0 {
		return &ConfigError{Problems: v.problems}
	}
	return nil
}

// validator collects the problems Validate finds.
type validator struct {
	project  string
	problems []Problem
}

// add records a problem with key, a path below the project's namespace.
func (v *validator) add(key, msg string) {
	v.problems = append(v.problems, Problem{Key: v.project + ":" + key, Message: msg})
}

// contacts checks every contact and that ids are unique.
func (v *validator) contacts(contacts []ContactConfig) {
	seen := map[string]int{}
	for i, c := range contacts {
		k := fmt.Sprintf("%s[%d]", names.ConfigContacts, i)
		v.contactID(k, c.ID, i, seen)
		if strings.TrimSpace(c.Name) == "" {
			v.add(k+".name", "missing")
		}
		for _, f := range []struct{ field, phone string }{{"callPhone", c.CallPhone}, {"smsPhone", c.SMSPhone}} {
			if f.phone != "" && contact.ValidateE164(f.phone) != nil {
				v.add(k+"."+f.field, "is not an E.164 phone number: + then 2 to 15 digits, no leading 0, no spaces (e.g. +447700900123)")
			}
		}
		if c.Email != "" && !bareEmail(c.Email) {
			v.add(k+".email", "is not a bare email address (e.g. oncall@example.org, without a display name)")
		}
		v.preferences(k, c)
	}
}

// contactID checks one contact's id and records it in seen.
func (v *validator) contactID(k, id string, i int, seen map[string]int) {
	// A contact id is what alerts name in contact_id: the same rule.
	problem := alert.CheckField(alert.FieldContactID, id)
	switch {
	case id == "":
		v.add(k+".id", "missing")
	case problem != "":
		v.add(k+".id", fmt.Sprintf("%q must be a valid alert contact_id: it %s", id, problem))
	default:
		if j, dup := seen[id]; dup {
			v.add(k+".id", fmt.Sprintf("duplicate contact id %q (also %s[%d])", id, names.ConfigContacts, j))
		} else {
			seen[id] = i
		}
	}
}

// bareEmail reports whether s is an address without a display name.
func bareEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s
}

// preferences checks that every priority has a non-empty list of known
// channels, none named twice, each with a destination, and that no
// unknown priority is named.
func (v *validator) preferences(k string, c ContactConfig) {
	for _, p := range slices.Sorted(maps.Keys(c.Preferences)) {
		pk := fmt.Sprintf("%s.preferences.%s", k, p)
		if !p.Valid() {
			v.add(pk, fmt.Sprintf("unknown priority %q (want %s)", string(p), priorityList()))
			continue
		}
		chs := c.Preferences[p]
		if len(chs) == 0 {
			v.add(pk, "empty list: name at least one channel (call, sms or email)")
		}
		for j, ch := range chs {
			ek := pk
			if len(chs) > 1 {
				ek = fmt.Sprintf("%s[%d]", pk, j)
			}
			v.channel(k, ek, c, ch, slices.Contains(chs[:j], ch))
		}
	}
	for _, p := range alert.Priorities {
		if _, ok := c.Preferences[p]; !ok {
			// An alert of a priority with no channel could not be
			// delivered: a missed alert. Every priority needs one.
			v.add(fmt.Sprintf("%s.preferences.%s", k, p), fmt.Sprintf("missing: every priority (%s) needs a channel", priorityList()))
		}
	}
}

// channel checks one channel of a preference list (at key ek).
func (v *validator) channel(k, ek string, c ContactConfig, ch contact.Channel, repeated bool) {
	got, err := contact.ParseChannel(string(ch))
	switch {
	case err != nil:
		v.add(ek, err.Error())
	case repeated:
		v.add(ek, fmt.Sprintf("channel %s is listed twice: each channel is tried once", got))
	case c.destination(got) == "":
		v.add(ek, fmt.Sprintf("channel %s has no destination: set %s.%s", got, k, destinationKey(got)))
	}
}

// apiClients mirrors the authorizer's own checks, so that a bad list fails
// at deploy time rather than at the first request, and checks each
// client's usage plan limits.
func (v *validator) apiClients(c *Config) {
	if len(c.APIClients) == 0 {
		v.add(names.ConfigAPIClients, "no API clients: list at least one {name, sha256}, or no caller can reach the API")
		return
	}
	byName := map[string]int{}
	byHash := map[string]int{}
	for i, cl := range c.APIClients {
		k := fmt.Sprintf("%s[%d]", names.ConfigAPIClients, i)
		if err := token.ValidateClientName(cl.Name); err != nil {
			v.add(k+".name", err.Error())
		} else if j, dup := byName[cl.Name]; dup {
			v.add(k+".name", fmt.Sprintf("duplicate client name %q (also %s[%d])", cl.Name, names.ConfigAPIClients, j))
		} else {
			byName[cl.Name] = i
		}
		v.clientHash(k, cl.SHA256, i, byHash)
		v.clientLimits(k, c, cl)
	}
}

// clientHash checks one client's token hash and records it in byHash.
// Messages never repeat the hash: it is not a secret, but a wrong value
// pasted here might be the token itself.
func (v *validator) clientHash(k, hash string, i int, byHash map[string]int) {
	switch {
	case !token.ValidHash(hash):
		v.add(k+".sha256", fmt.Sprintf("must be the SHA-256 of the token as 64 lowercase hex characters (got %d characters)", len(hash)))
	case placeholder(hash):
		v.add(k+".sha256", "is a placeholder (one digit repeated), not a token's SHA-256: run go run ./scripts/gentoken -client <name>")
	default:
		if j, dup := byHash[hash]; dup {
			v.add(k+".sha256", fmt.Sprintf("same hash as %s[%d]: two clients with one token cannot be told apart", names.ConfigAPIClients, j))
		} else {
			byHash[hash] = i
		}
	}
}

// clientLimits checks the limits a client sets for itself (the defaults
// are checked by api). A client limit above the stage's would never be
// reached: the stage throttles first.
func (v *validator) clientLimits(k string, c *Config, cl APIClient) {
	if cl.RateLimit != 0 && (cl.RateLimit < 0 || cl.RateLimit > c.ThrottleRateLimit) {
		v.add(k+".rateLimit", fmt.Sprintf("%g must be above 0 and at most the stage's %s (%g)", cl.RateLimit, names.ConfigThrottleRateLimit, c.ThrottleRateLimit))
	}
	if cl.BurstLimit != 0 && (cl.BurstLimit < 0 || cl.BurstLimit > c.ThrottleBurstLimit) {
		v.add(k+".burstLimit", fmt.Sprintf("%d must be 1 to the stage's %s (%d)", cl.BurstLimit, names.ConfigThrottleBurstLimit, c.ThrottleBurstLimit))
	}
	if cl.DailyQuota != nil && *cl.DailyQuota < 0 {
		v.add(k+".dailyQuota", fmt.Sprintf("%d must be 0 (no quota) or more requests per day", *cl.DailyQuota))
	}
}

// placeholder reports whether s is made of one character repeated, as the
// example stack files' "000...0" hashes and instance ids are. No SHA-256
// or instance id AWS makes looks like that.
func placeholder(s string) bool {
	t := strings.ReplaceAll(s, "-", "")
	return t != "" && strings.Count(t, t[:1]) == len(t)
}

// connectForm checks the form of the Amazon Connect keys that are set.
func (v *validator) connectForm(c *Config) {
	switch {
	case c.ConnectInstanceID == "":
	case !uuidPattern.MatchString(c.ConnectInstanceID):
		v.add(names.ConfigConnectInstanceID, fmt.Sprintf("%q is not an instance id (a UUID such as 0a1b2c3d-..., not an ARN)", c.ConnectInstanceID))
	case placeholder(c.ConnectInstanceID):
		v.add(names.ConfigConnectInstanceID, "is a placeholder (one digit repeated): set your Connect instance's id")
	}
	if c.SourcePhoneNumber != "" {
		if err := contact.ValidateE164(c.SourcePhoneNumber); err != nil {
			v.add(names.ConfigSourcePhoneNumber, err.Error())
		}
	}
	if c.ClaimPhoneNumberCountry != "" && !countryPattern.MatchString(c.ClaimPhoneNumberCountry) {
		v.add(names.ConfigClaimPhoneNumberCountry, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (e.g. US, GB)", c.ClaimPhoneNumberCountry))
	}
	if c.ConnectInstanceAlias != "" {
		if problem := aliasProblem(c.ConnectInstanceAlias); problem != "" {
			v.add(names.ConfigConnectInstanceAlias, problem)
		}
	}
	if !voicePattern.MatchString(c.Voice) {
		v.add(names.ConfigVoice, fmt.Sprintf("%q is not an Amazon Polly voice id (e.g. Joanna, Amy)", c.Voice))
	}
}

// aliasProblem says what is wrong with a Connect instance alias, or "".
func aliasProblem(alias string) string {
	switch {
	case len(alias) > maxAliasName:
		return fmt.Sprintf("%q has %d characters: Connect allows 1 to %d", alias, len(alias), maxAliasName)
	case !aliasPattern.MatchString(alias):
		return fmt.Sprintf("%q must be lower-case letters and digits joined by single hyphens (e.g. a2p-alerts-prod-4f2a91c0)", alias)
	case strings.HasPrefix(alias, reservedAliasPrefix):
		return fmt.Sprintf("%q starts with %q, which Connect reserves", alias, reservedAliasPrefix)
	}
	return ""
}

// connectChoice checks that the Connect keys make one coherent choice: an
// existing instance with one of its numbers, or a new instance with a
// number claimed for it. Calls need one of the two.
func (v *validator) connectChoice(c *Config) {
	if c.ConnectInstanceID != "" && c.CreateConnectInstance {
		v.add(names.ConfigCreateConnectInstance, fmt.Sprintf("set either %s or %s: true, not both", names.ConfigConnectInstanceID, names.ConfigCreateConnectInstance))
	}
	if c.SourcePhoneNumber != "" && c.ClaimPhoneNumberCountry != "" {
		v.add(names.ConfigClaimPhoneNumberCountry, fmt.Sprintf("set either %s or %s, not both", names.ConfigSourcePhoneNumber, names.ConfigClaimPhoneNumberCountry))
	}
	if c.ConnectInstanceAlias != "" && !c.CreateConnectInstance {
		v.add(names.ConfigConnectInstanceAlias, fmt.Sprintf("names an instance this stack creates: set %s: true, or remove the alias", names.ConfigCreateConnectInstance))
	}
	if c.CreateConnectInstance {
		// A new instance owns no number: calls can only come from one
		// claimed for it.
		if c.SourcePhoneNumber != "" {
			v.add(names.ConfigSourcePhoneNumber, fmt.Sprintf("a new instance owns no numbers: with %s: true, set %s instead", names.ConfigCreateConnectInstance, names.ConfigClaimPhoneNumberCountry))
		}
		if c.ClaimPhoneNumberCountry == "" {
			v.add(names.ConfigClaimPhoneNumberCountry, fmt.Sprintf("%s: true needs a number claimed for the instance: set the country (e.g. GB)", names.ConfigCreateConnectInstance))
		}
	}
	if !c.UsesCalls() {
		return
	}
	if c.ConnectInstanceID == "" && !c.CreateConnectInstance {
		v.add(names.ConfigConnectInstanceID, fmt.Sprintf("contacts use the call channel: set %s, or %s: true", names.ConfigConnectInstanceID, names.ConfigCreateConnectInstance))
	}
	if c.SourcePhoneNumber == "" && c.ClaimPhoneNumberCountry == "" {
		v.add(names.ConfigSourcePhoneNumber, fmt.Sprintf("contacts use the call channel: set %s, or %s to claim one", names.ConfigSourcePhoneNumber, names.ConfigClaimPhoneNumberCountry))
	}
}

// functions checks the keys of the Lambda functions and their logs.
func (v *validator) functions(c *Config) {
	if c.Protection != ProtectionNone && c.Protection != ProtectionFull {
		v.add(names.ConfigProtection, fmt.Sprintf("unknown protection %q (want %q or %q)", c.Protection, ProtectionNone, ProtectionFull))
	}
	if !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		v.add(names.ConfigLogRetentionDays, fmt.Sprintf("%d is not a CloudWatch Logs retention (want one of %s)",
			c.LogRetentionDays, joinInts(logRetentionDays)))
	}
	if c.LambdaArch != ArchARM64 && c.LambdaArch != ArchX86 {
		v.add(names.ConfigLambdaArch, fmt.Sprintf("unknown architecture %q (want %s or %s)", c.LambdaArch, ArchARM64, ArchX86))
	}
	if strings.TrimSpace(c.ArtifactDir) == "" {
		v.add(names.ConfigArtifactDir, "must not be empty")
	}
	if c.IdempotencyTTL < minIdempotencyTTL {
		v.add(names.ConfigIdempotencyTTL, fmt.Sprintf("%s must be at least %s", c.IdempotencyTTL, minIdempotencyTTL))
	}
	v.retention(c)
	v.phiDetectors(c.PHIDetectors)
	if !slices.Contains(logLevels, c.LogLevel) {
		v.add(names.ConfigLogLevel, fmt.Sprintf("unknown log level %q (want %s)", c.LogLevel, strings.Join(logLevels, ", ")))
	}
	if !slices.Contains(render.SMSContents, c.SMSContent) {
		v.add(names.ConfigSMSContent, fmt.Sprintf("unknown SMS content %q (want %s or %s)", c.SMSContent, render.SMSFull, render.SMSMinimal))
	}
	v.reservedConcurrency(names.ConfigAuthorizerReservedConcurrency, c.AuthorizerReservedConcurrency)
	v.reservedConcurrency(names.ConfigProcessorReservedConcurrency, c.ProcessorReservedConcurrency)
}

// retention checks alertRetentionDays: whole days, at most ten years, and
// no shorter than idempotencyTtl, so that a replayed answer's alert can
// still be read.
func (v *validator) retention(c *Config) {
	switch days := c.AlertRetentionDays; {
	case days < 1 || days > maxAlertRetentionDays:
		v.add(names.ConfigAlertRetentionDays, fmt.Sprintf("%d must be 1 to %d days", days, maxAlertRetentionDays))
	case time.Duration(days)*24*time.Hour < c.IdempotencyTTL:
		v.add(names.ConfigAlertRetentionDays, fmt.Sprintf("%d days is shorter than %s (%s): an alert record must outlive the answer that names it",
			days, names.ConfigIdempotencyTTL, FormatDuration(c.IdempotencyTTL)))
	}
}

// reservedConcurrency checks one function's reserved concurrency: unset,
// or at least 1 (0 would stop the function, and every alert with it).
func (v *validator) reservedConcurrency(key string, n int) {
	if n != NoReservedConcurrency && n < 1 {
		v.add(key, fmt.Sprintf("%d would throttle every invocation: leave it unset (no reservation) or reserve at least 1", n))
	}
}

// api checks the stage's throttling, the client defaults and the
// authorizer cache.
func (v *validator) api(c *Config) {
	if c.ThrottleRateLimit <= 0 {
		v.add(names.ConfigThrottleRateLimit, fmt.Sprintf("%g must be above 0 requests per second", c.ThrottleRateLimit))
	}
	if c.ThrottleBurstLimit < 1 {
		v.add(names.ConfigThrottleBurstLimit, fmt.Sprintf("%d must be at least 1", c.ThrottleBurstLimit))
	}
	// A client default above the stage's would never be reached.
	if c.ClientRateLimit < 0 || c.ClientRateLimit > c.ThrottleRateLimit {
		v.add(names.ConfigClientRateLimit, fmt.Sprintf("%g must be above 0 and at most %s (%g); unset, it is half of it", c.ClientRateLimit, names.ConfigThrottleRateLimit, c.ThrottleRateLimit))
	}
	if c.ClientBurstLimit < 0 || c.ClientBurstLimit > c.ThrottleBurstLimit {
		v.add(names.ConfigClientBurstLimit, fmt.Sprintf("%d must be 1 to %s (%d); unset, it is half of it", c.ClientBurstLimit, names.ConfigThrottleBurstLimit, c.ThrottleBurstLimit))
	}
	if c.ClientDailyQuota < 0 {
		v.add(names.ConfigClientDailyQuota, fmt.Sprintf("%d must be 0 (no quota) or more requests per day", c.ClientDailyQuota))
	}
	if c.AuthorizerCacheTTL < 0 || c.AuthorizerCacheTTL > maxAuthorizerCacheTTL {
		v.add(names.ConfigAuthorizerCacheTTL, fmt.Sprintf("%d must be 0 (no caching) to %d seconds", c.AuthorizerCacheTTL, maxAuthorizerCacheTTL))
	}
}

// operations checks the alarm keys.
func (v *validator) operations(c *Config) {
	if c.AlarmEmail != "" && !bareEmail(c.AlarmEmail) {
		v.add(names.ConfigAlarmEmail, "is not a bare email address (e.g. pager@example.net)")
	}
	if c.SMSMonthlySpendLimit <= 0 {
		v.add(names.ConfigSMSMonthlySpendLimit, fmt.Sprintf("%g must be the account's SNS SMS spend limit in USD, above 0", c.SMSMonthlySpendLimit))
	}
	if c.SMSSpendAlarmPercent < 1 || c.SMSSpendAlarmPercent > 100 {
		v.add(names.ConfigSMSSpendAlarmPercent, fmt.Sprintf("%d must be 1 to 100 (percent of %s)", c.SMSSpendAlarmPercent, names.ConfigSMSMonthlySpendLimit))
	}
}

// Limits of the asynchronous path's keys: SQS's for a redrive policy's
// maxReceiveCount and a message's visibility timeout.
const (
	maxAsyncReceiveCount = 1000
	maxAsyncRetryDelay   = 12 * time.Hour
)

// async checks the asynchronous path's keys.
func (v *validator) async(c *Config) {
	if n := c.AsyncMaxReceiveCount; n < 1 || n > maxAsyncReceiveCount {
		v.add(names.ConfigAsyncMaxReceiveCount, fmt.Sprintf("%d must be 1 to %d receives (SQS's limit)", n, maxAsyncReceiveCount))
	}
	if d := c.AsyncRetryDelay; d < 0 || d > maxAsyncRetryDelay || d%time.Second != 0 {
		v.add(names.ConfigAsyncRetryDelay, fmt.Sprintf("%s must be whole seconds from 0s to %s (SQS's limit)", d, FormatDuration(maxAsyncRetryDelay)))
	}
}

// phiDetectors checks the detector names against package phi.
func (v *validator) phiDetectors(list []string) {
	if list == nil {
		return
	}
	if len(list) == 0 {
		v.add(names.ConfigPHIDetectors, fmt.Sprintf("empty list: leave it unset for every detector, or [%s] for none", phi.None))
		return
	}
	for i, name := range list {
		if name == "" || strings.Contains(name, ",") {
			v.add(fmt.Sprintf("%s[%d]", names.ConfigPHIDetectors, i), fmt.Sprintf("%q is not a detector name", name))
			return
		}
	}
	if _, err := phi.Parse(strings.Join(list, ",")); err != nil {
		v.add(names.ConfigPHIDetectors, err.Error())
	}
}

// priorityList renders the priorities for messages: "H, M, L".
func priorityList() string {
	out := make([]string, 0, len(alert.Priorities))
	for _, p := range alert.Priorities {
		out = append(out, string(p))
	}
	return strings.Join(out, ", ")
}

// joinInts renders a list of numbers for messages.
func joinInts(xs []int) string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, fmt.Sprint(x))
	}
	return strings.Join(out, ", ")
}
