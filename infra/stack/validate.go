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
)

// logRetentionDays are the retentions CloudWatch Logs accepts. "Never
// expire" (0) is deliberately not offered: every log group gets a bound.
var logRetentionDays = []int{
	1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
	1096, 1827, 2192, 2557, 2922, 3288, 3653,
}

// logLevels are the slog levels the functions understand.
var logLevels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

// Limits of numeric keys.
const (
	// maxAuthorizerCacheTTL is API Gateway's limit for authorizer results.
	maxAuthorizerCacheTTL = 3600
	// minIdempotencyTTL keeps replays answerable at least a little while
	// after the lock (processorTimeout) has lapsed.
	minIdempotencyTTL = time.Minute
)

// Validate checks the configuration as a whole and returns a *ConfigError
// listing every problem, or nil. Keys in messages are in project's
// namespace ("a2p-alerts:contacts[1].preferences.H").
func (c *Config) Validate(project string) error {
	v := &validator{project: project}
	v.contacts(c.Contacts)
	v.apiClients(c.APIClients)
	v.connect(c)

	if !voicePattern.MatchString(c.Voice) {
		v.add(names.ConfigVoice, fmt.Sprintf("%q is not an Amazon Polly voice id (e.g. Joanna, Amy)", c.Voice))
	}
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
	if c.ThrottleRateLimit <= 0 {
		v.add(names.ConfigThrottleRateLimit, fmt.Sprintf("%g must be above 0 requests per second", c.ThrottleRateLimit))
	}
	if c.ThrottleBurstLimit < 1 {
		v.add(names.ConfigThrottleBurstLimit, fmt.Sprintf("%d must be at least 1", c.ThrottleBurstLimit))
	}
	if c.AuthorizerCacheTTL < 0 || c.AuthorizerCacheTTL > maxAuthorizerCacheTTL {
		v.add(names.ConfigAuthorizerCacheTTL, fmt.Sprintf("%d must be 0 (no caching) to %d seconds", c.AuthorizerCacheTTL, maxAuthorizerCacheTTL))
	}
	if c.IdempotencyTTL < minIdempotencyTTL {
		v.add(names.ConfigIdempotencyTTL, fmt.Sprintf("%s must be at least %s", c.IdempotencyTTL, minIdempotencyTTL))
	}
	v.phiDetectors(c.PHIDetectors)
	if !slices.Contains(logLevels, c.LogLevel) {
		v.add(names.ConfigLogLevel, fmt.Sprintf("unknown log level %q (want %s)", c.LogLevel, strings.Join(logLevels, ", ")))
	}
	if !slices.Contains(render.SMSContents, c.SMSContent) {
		v.add(names.ConfigSMSContent, fmt.Sprintf("unknown SMS content %q (want %s or %s)", c.SMSContent, render.SMSFull, render.SMSMinimal))
	}

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
		// A contact id is what alerts name in contact_id: the same rule.
		idProblem := alert.CheckField(alert.FieldContactID, c.ID)
		switch {
		case c.ID == "":
			v.add(k+".id", "missing")
		case idProblem != "":
			v.add(k+".id", fmt.Sprintf("%q must be a valid alert contact_id: it %s", c.ID, idProblem))
		default:
			if j, dup := seen[c.ID]; dup {
				v.add(k+".id", fmt.Sprintf("duplicate contact id %q (also %s[%d])", c.ID, names.ConfigContacts, j))
			} else {
				seen[c.ID] = i
			}
		}
		if strings.TrimSpace(c.Name) == "" {
			v.add(k+".name", "missing")
		}
		for _, f := range []struct{ field, phone string }{{"callPhone", c.CallPhone}, {"smsPhone", c.SMSPhone}} {
			if f.phone == "" {
				continue
			}
			if err := contact.ValidateE164(f.phone); err != nil {
				v.add(k+"."+f.field, err.Error())
			}
		}
		if c.Email != "" {
			if addr, err := mail.ParseAddress(c.Email); err != nil || addr.Address != c.Email {
				v.add(k+".email", fmt.Sprintf("%q is not a bare email address (e.g. oncall@example.org)", c.Email))
			}
		}
		v.preferences(k, c)
	}
}

// preferences checks that every priority has a known channel with a
// destination, and that no unknown priority is named.
func (v *validator) preferences(k string, c ContactConfig) {
	for _, p := range slices.Sorted(maps.Keys(c.Preferences)) {
		pk := fmt.Sprintf("%s.preferences.%s", k, p)
		if !p.Valid() {
			v.add(pk, fmt.Sprintf("unknown priority %q (want %s)", string(p), priorityList()))
			continue
		}
		ch, err := contact.ParseChannel(string(c.Preferences[p]))
		if err != nil {
			v.add(pk, err.Error())
			continue
		}
		if c.destination(ch) == "" {
			v.add(pk, fmt.Sprintf("channel %s has no destination: set %s.%s", ch, k, destinationKey(ch)))
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

// apiClients mirrors the authorizer's own checks, so that a bad list fails
// at deploy time rather than at the first request.
func (v *validator) apiClients(clients []APIClient) {
	if len(clients) == 0 {
		v.add(names.ConfigAPIClients, "no API clients: list at least one {name, sha256}, or no caller can reach the API")
		return
	}
	byName := map[string]int{}
	byHash := map[string]int{}
	for i, c := range clients {
		k := fmt.Sprintf("%s[%d]", names.ConfigAPIClients, i)
		if err := token.ValidateClientName(c.Name); err != nil {
			v.add(k+".name", err.Error())
		} else if j, dup := byName[c.Name]; dup {
			v.add(k+".name", fmt.Sprintf("duplicate client name %q (also %s[%d])", c.Name, names.ConfigAPIClients, j))
		} else {
			byName[c.Name] = i
		}
		// Messages never repeat the hash: it is not a secret, but a wrong
		// value pasted here might be the token itself.
		if !token.ValidHash(c.SHA256) {
			v.add(k+".sha256", fmt.Sprintf("must be the SHA-256 of the token as 64 lowercase hex characters (got %d characters)", len(c.SHA256)))
			continue
		}
		if j, dup := byHash[c.SHA256]; dup {
			v.add(k+".sha256", fmt.Sprintf("same hash as %s[%d]: two clients with one token cannot be told apart", names.ConfigAPIClients, j))
		} else {
			byHash[c.SHA256] = i
		}
	}
}

// connect checks the Amazon Connect keys: their form whenever they are
// set, and that calls have an instance and a source number.
func (v *validator) connect(c *Config) {
	if c.ConnectInstanceID != "" && !uuidPattern.MatchString(c.ConnectInstanceID) {
		v.add(names.ConfigConnectInstanceID, fmt.Sprintf("%q is not an instance id (a UUID such as 0a1b2c3d-..., not an ARN)", c.ConnectInstanceID))
	}
	if c.SourcePhoneNumber != "" {
		if err := contact.ValidateE164(c.SourcePhoneNumber); err != nil {
			v.add(names.ConfigSourcePhoneNumber, err.Error())
		}
	}
	if c.ClaimPhoneNumberCountry != "" && !countryPattern.MatchString(c.ClaimPhoneNumberCountry) {
		v.add(names.ConfigClaimPhoneNumberCountry, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (e.g. US, GB)", c.ClaimPhoneNumberCountry))
	}
	if c.ConnectInstanceID != "" && c.CreateConnectInstance {
		v.add(names.ConfigCreateConnectInstance, fmt.Sprintf("set either %s or %s: true, not both", names.ConfigConnectInstanceID, names.ConfigCreateConnectInstance))
	}
	if c.SourcePhoneNumber != "" && c.ClaimPhoneNumberCountry != "" {
		v.add(names.ConfigClaimPhoneNumberCountry, fmt.Sprintf("set either %s or %s, not both", names.ConfigSourcePhoneNumber, names.ConfigClaimPhoneNumberCountry))
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

// contains reports whether list holds s.
func contains(list []string, s string) bool { return slices.Contains(list, s) }

// sortedKeys returns the keys of m in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
