package stack

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

func TestBadConfigFailsBeforeAnyResource(t *testing.T) {
	withContact := func(i int, field string, v any) func(tb testing.TB, cfg map[string]string) {
		return func(tb testing.TB, cfg map[string]string) {
			tb.Helper()
			cs := []map[string]any{contactC1(), contactC2()}
			cs[i][field] = v
			cfg[key(names.ConfigContacts)] = mustJSON(tb, cs)
		}
	}
	withPref := func(i int, p string, ch any) func(tb testing.TB, cfg map[string]string) {
		return func(tb testing.TB, cfg map[string]string) {
			tb.Helper()
			cs := []map[string]any{contactC1(), contactC2()}
			prefs, _ := cs[i]["preferences"].(map[string]any)
			if ch == nil {
				delete(prefs, p)
			} else {
				prefs[p] = ch
			}
			cfg[key(names.ConfigContacts)] = mustJSON(tb, cs)
		}
	}
	set := func(k, v string) func(tb testing.TB, cfg map[string]string) {
		return func(_ testing.TB, cfg map[string]string) { cfg[key(k)] = v }
	}
	unset := func(k string) func(tb testing.TB, cfg map[string]string) {
		return func(_ testing.TB, cfg map[string]string) { delete(cfg, key(k)) }
	}
	// createWith makes the configuration create its Connect instance and
	// claim a number (valid), then sets k.
	createWith := func(k, v string) func(tb testing.TB, cfg map[string]string) {
		return func(_ testing.TB, cfg map[string]string) {
			withCreatedInstance(cfg, "US")
			cfg[key(k)] = v
		}
	}

	tests := []struct {
		name   string
		mutate func(tb testing.TB, cfg map[string]string)
		want   string
	}{
		{"unknown channel", withPref(1, "H", "fax"), `a2p-alerts:contacts[1].preferences.H: unknown channel "fax"`},
		{"phone not E.164", withContact(0, "callPhone", "555-0100"), "a2p-alerts:contacts[0].callPhone: is not an E.164 phone number"},
		{"sms phone not E.164", withContact(1, "smsPhone", "+0123"), "a2p-alerts:contacts[1].smsPhone: is not an E.164 phone number"},
		{"channel without destination", withPref(1, "L", "email"), "a2p-alerts:contacts[1].preferences.L: channel email has no destination: set contacts[1].email"},
		{"call without callPhone", withPref(1, "H", "call"), "a2p-alerts:contacts[1].preferences.H: channel call has no destination"},
		{"duplicate contact ids", withContact(1, "id", "C-1"), `a2p-alerts:contacts[1].id: duplicate contact id "C-1" (also contacts[0])`},
		{"priority without channel", withPref(0, "M", nil), "a2p-alerts:contacts[0].preferences.M: missing"},
		{"unknown priority", withPref(0, "X", "sms"), `a2p-alerts:contacts[0].preferences.X: unknown priority "X"`},
		{"bad contact id", withContact(0, "id", "C 1"), `a2p-alerts:contacts[0].id: "C 1" must be`},
		{"bad email", withContact(0, "email", "Dr One <c-1@example.org>"), "a2p-alerts:contacts[0].email:"},
		{"unquoted phone", withContact(0, "smsPhone", 15555550101), "a2p-alerts:contacts[0].smsPhone: must be a string, got a number (quote phone numbers"},
		{"unknown contact field", withContact(0, "phone", "+15555550100"), "a2p-alerts:contacts[0].phone: unknown field"},
		{"contacts not a list", set(names.ConfigContacts, `{"id":"C-1"}`), "a2p-alerts:contacts: must be a list"},
		{"no API clients", unset(names.ConfigAPIClients), "a2p-alerts:apiClients: no API clients"},
		{"empty API clients", set(names.ConfigAPIClients, "[]"), "a2p-alerts:apiClients: no API clients"},
		{"bad hash", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"ABC"}]`), "a2p-alerts:apiClients[0].sha256: must be the SHA-256"},
		{"duplicate client", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+testHash("a")+`"},{"name":"ehr","sha256":"`+testHash("b")+`"}]`), `a2p-alerts:apiClients[1].name: duplicate client name "ehr"`},
		{"duplicate hash", set(names.ConfigAPIClients, `[{"name":"a","sha256":"`+testHash("a")+`"},{"name":"b","sha256":"`+testHash("a")+`"}]`), "a2p-alerts:apiClients[1].sha256: same hash as apiClients[0]"},
		{"bad arch", set(names.ConfigLambdaArch, "sparc"), `a2p-alerts:lambdaArch: unknown architecture "sparc"`},
		{"bad protection", set(names.ConfigProtection, "some"), `a2p-alerts:protection: unknown protection "some"`},
		{"calls without instance", unset(names.ConfigConnectInstanceID), "a2p-alerts:connectInstanceId: contacts use the call channel"},
		{"calls without source number", unset(names.ConfigSourcePhoneNumber), "a2p-alerts:sourcePhoneNumber: contacts use the call channel"},
		{"instance and create", set(names.ConfigCreateConnectInstance, "true"), "a2p-alerts:createConnectInstance: set either"},
		{"bad instance id", set(names.ConfigConnectInstanceID, "arn:aws:connect:us-east-1:1:instance/x"), "a2p-alerts:connectInstanceId:"},
		{"bad country", set(names.ConfigClaimPhoneNumberCountry, "usa"), "a2p-alerts:claimPhoneNumberCountry:"},
		{"not a boolean", set(names.ConfigEnableWAF, "yes"), `a2p-alerts:enableWaf: "yes" is not a boolean`},
		{"bad retention", set(names.ConfigLogRetentionDays, "42"), "a2p-alerts:logRetentionDays: 42 is not a CloudWatch Logs retention"},
		{"retention not a number", set(names.ConfigLogRetentionDays, "month"), `a2p-alerts:logRetentionDays: "month" is not an integer`},
		{"bad voice", set(names.ConfigVoice, "joanna!"), "a2p-alerts:voice:"},
		{"zero rate", set(names.ConfigThrottleRateLimit, "0"), "a2p-alerts:throttleRateLimit:"},
		{"zero burst", set(names.ConfigThrottleBurstLimit, "0"), "a2p-alerts:throttleBurstLimit:"},
		{"cache TTL too long", set(names.ConfigAuthorizerCacheTTL, "7200"), "a2p-alerts:authorizerCacheTtl:"},
		{"bad idempotency TTL", set(names.ConfigIdempotencyTTL, "a day"), `a2p-alerts:idempotencyTtl: "a day" is not a duration`},
		{"short idempotency TTL", set(names.ConfigIdempotencyTTL, "5s"), "a2p-alerts:idempotencyTtl: 5s must be at least 1m0s"},
		{"unknown PHI detector", set(names.ConfigPHIDetectors, `["ssn"]`), `a2p-alerts:phiDetectors: unknown PHI detector "ssn"`},
		{"empty PHI detectors", set(names.ConfigPHIDetectors, `[]`), "a2p-alerts:phiDetectors: empty list"},
		{"bad log level", set(names.ConfigLogLevel, "verbose"), `a2p-alerts:logLevel: unknown log level "VERBOSE"`},

		// Point 1: the Connect instance alias.
		{"alias too long", createWith(names.ConfigConnectInstanceAlias, strings.Repeat("a", 46)), "a2p-alerts:connectInstanceAlias: \"" + strings.Repeat("a", 46) + "\" has 46 characters"},
		{"alias upper case", createWith(names.ConfigConnectInstanceAlias, "A2p-prod"), "a2p-alerts:connectInstanceAlias: \"A2p-prod\" must be lower-case letters and digits joined by single hyphens"},
		{"alias double hyphen", createWith(names.ConfigConnectInstanceAlias, "a2p--prod"), "a2p-alerts:connectInstanceAlias: \"a2p--prod\" must be"},
		{"alias trailing hyphen", createWith(names.ConfigConnectInstanceAlias, "a2p-prod-"), "a2p-alerts:connectInstanceAlias: \"a2p-prod-\" must be"},
		{"alias underscore", createWith(names.ConfigConnectInstanceAlias, "a2p_prod"), "a2p-alerts:connectInstanceAlias: \"a2p_prod\" must be"},
		{"alias starts d-", createWith(names.ConfigConnectInstanceAlias, "d-a2p"), "a2p-alerts:connectInstanceAlias: \"d-a2p\" starts with \"d-\""},
		{"alias without creating", set(names.ConfigConnectInstanceAlias, "a2p-prod"), "a2p-alerts:connectInstanceAlias: names an instance this stack creates"},

		// Point 4: a new instance owns no numbers; placeholders.
		{"create with source number", createWith(names.ConfigSourcePhoneNumber, "+15555550199"), "a2p-alerts:sourcePhoneNumber: a new instance owns no numbers"},
		{"create without claim country", func(tb testing.TB, cfg map[string]string) {
			tb.Helper()
			createWith(names.ConfigVoice, DefaultVoice)(tb, cfg)
			delete(cfg, key(names.ConfigClaimPhoneNumberCountry))
		}, "a2p-alerts:claimPhoneNumberCountry: createConnectInstance: true needs a number claimed"},
		{"placeholder hash", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+strings.Repeat("0", 64)+`"}]`), "a2p-alerts:apiClients[0].sha256: is a placeholder"},
		{"placeholder hash of ones", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+strings.Repeat("1", 64)+`"}]`), "a2p-alerts:apiClients[0].sha256: is a placeholder"},
		{"placeholder instance id", set(names.ConfigConnectInstanceID, "00000000-0000-0000-0000-000000000000"), "a2p-alerts:connectInstanceId: is a placeholder"},

		// Point 11: client limits and reserved concurrency.
		{"client rate above the stage", set(names.ConfigClientRateLimit, "60"), "a2p-alerts:clientRateLimit: 60 must be above 0 and at most throttleRateLimit (50)"},
		{"client burst above the stage", set(names.ConfigClientBurstLimit, "101"), "a2p-alerts:clientBurstLimit: 101 must be 1 to throttleBurstLimit (100)"},
		{"negative quota", set(names.ConfigClientDailyQuota, "-1"), "a2p-alerts:clientDailyQuota: -1 must be 0"},
		{"one client's rate above the stage", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+testHash("a")+`","rateLimit":51}]`), "a2p-alerts:apiClients[0].rateLimit: 51 must be above 0 and at most"},
		{"one client's burst above the stage", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+testHash("a")+`","burstLimit":"200"}]`), "a2p-alerts:apiClients[0].burstLimit: 200 must be 1 to"},
		{"one client's quota not whole", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+testHash("a")+`","dailyQuota":1.5}]`), "a2p-alerts:apiClients[0].dailyQuota: 1.5 is not a whole number"},
		{"one client's quota negative", set(names.ConfigAPIClients, `[{"name":"ehr","sha256":"`+testHash("a")+`","dailyQuota":-5}]`), "a2p-alerts:apiClients[0].dailyQuota: -5 must be 0"},
		{"zero reserved concurrency", set(names.ConfigProcessorReservedConcurrency, "0"), "a2p-alerts:processorReservedConcurrency: 0 would throttle every invocation"},
		{"negative reserved concurrency", set(names.ConfigAuthorizerReservedConcurrency, "-5"), "a2p-alerts:authorizerReservedConcurrency: -5 would throttle"},

		// Point 10: alarm keys. Contact details are never repeated.
		{"bad alarm email", set(names.ConfigAlarmEmail, "Ops <ops@example.org>"), "a2p-alerts:alarmEmail: is not a bare email address"},
		{"zero SMS limit", set(names.ConfigSMSMonthlySpendLimit, "0"), "a2p-alerts:smsMonthlySpendLimit: 0 must be"},
		{"SMS percent above 100", set(names.ConfigSMSSpendAlarmPercent, "120"), "a2p-alerts:smsSpendAlarmPercent: 120 must be 1 to 100"},
		{"bad SMS content", set(names.ConfigSMSContent, "secure"), `a2p-alerts:smsContent: unknown SMS content "secure" (want full or minimal)`},

		// Issue 11: channel lists, retention, fallback on unknown.
		{"empty channel list", withPref(0, "H", []any{}), "a2p-alerts:contacts[0].preferences.H: empty list"},
		{"channel listed twice", withPref(0, "H", []any{"call", "sms", "call"}), "a2p-alerts:contacts[0].preferences.H[2]: channel call is listed twice"},
		{"unknown channel in a list", withPref(0, "H", []any{"call", "pager"}), `a2p-alerts:contacts[0].preferences.H[1]: unknown channel "pager"`},
		{"list channel without destination", withPref(1, "H", []any{"sms", "email"}), "a2p-alerts:contacts[1].preferences.H[1]: channel email has no destination"},
		{"list element not a string", withPref(0, "H", []any{"call", 7}), "a2p-alerts:contacts[0].preferences.H[1]: must be a channel name"},
		{"preference an object", withPref(0, "H", map[string]any{"first": "call"}), "a2p-alerts:contacts[0].preferences.H: must be a channel name (call, sms or email) or a list"},
		{"zero alert retention", set(names.ConfigAlertRetentionDays, "0"), "a2p-alerts:alertRetentionDays: 0 must be 1 to 3653 days"},
		{"alert retention too long", set(names.ConfigAlertRetentionDays, "4000"), "a2p-alerts:alertRetentionDays: 4000 must be 1 to 3653 days"},
		{"alert retention shorter than replays", func(tb testing.TB, cfg map[string]string) {
			set(names.ConfigAlertRetentionDays, "1")(tb, cfg)
			set(names.ConfigIdempotencyTTL, "48h")(tb, cfg)
		}, "a2p-alerts:alertRetentionDays: 1 days is shorter than idempotencyTtl (48h)"},
		{"fallback not a boolean", set(names.ConfigFallbackOnUnknown, "sometimes"), `a2p-alerts:fallbackOnUnknown: "sometimes" is not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t)
			tt.mutate(t, cfg)
			_, m, err := runProgram(t, "dev", cfg)
			if err == nil {
				t.Fatal("Program succeeded, want a configuration error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
			// Contact details are secrets: no message repeats them.
			for _, secret := range []string{"555-0100", "+0123", "Dr One <c-1@example.org>", "ops@example.org"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error repeats the contact detail %q: %v", secret, err)
				}
			}
			if n := m.count(); n != 0 {
				t.Errorf("the mock saw %d resources, want 0", n)
			}
			if n := len(m.invokes); n != 0 {
				t.Errorf("the mock saw %d invokes, want 0", n)
			}
		})
	}
}

func TestAllProblemsInOneError(t *testing.T) {
	cfg := baseConfig(t)
	cs := []map[string]any{contactC1(), contactC2()}
	cs[1]["id"] = "C-1"
	cs[0]["callPhone"] = "0800 123"
	cfg[key(names.ConfigContacts)] = mustJSON(t, cs)
	cfg[key(names.ConfigLambdaArch)] = "sparc"
	cfg[key(names.ConfigFailSafeContact)] = "C-1"
	delete(cfg, key(names.ConfigAPIClients))

	_, m, err := runProgram(t, "dev", cfg)
	var cerr *ConfigError
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v is not a *ConfigError", err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Key)
	}
	want := []string{
		"a2p-alerts:contacts[0].callPhone",
		"a2p-alerts:contacts[1].id",
		"a2p-alerts:apiClients",
		"a2p-alerts:lambdaArch",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problem keys = %v, want %v", got, want)
	}
	if m.count() != 0 {
		t.Errorf("the mock saw %d resources, want 0", m.count())
	}
}

func TestParseErrorsAreNotReportedTwice(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigAPIClients)] = `"not a list"`
	_, _, err := runProgram(t, "dev", cfg)
	var cerr *ConfigError
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v is not a *ConfigError", err)
	}
	if got, want := len(cerr.Problems), 1; got != want {
		t.Errorf("got %d problems %v, want %d (the parse error only)", got, cerr.Problems, want)
	}
}

func TestLoadConfigDefaultsAndValues(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg := baseConfig(t)
		delete(cfg, key(names.ConfigPHIDetectors))
		s, _ := mustRun(t, "dev", cfg)
		got := s.Config
		want := DefaultConfig()
		checks := []struct {
			field     string
			got, want any
		}{
			{"Voice", got.Voice, want.Voice},
			{"Protection", got.Protection, ProtectionNone},
			{"LogRetentionDays", got.LogRetentionDays, 30},
			{"LambdaArch", got.LambdaArch, ArchARM64},
			{"ThrottleRateLimit", got.ThrottleRateLimit, 50.0},
			{"ThrottleBurstLimit", got.ThrottleBurstLimit, 100},
			{"AuthorizerCacheTTL", got.AuthorizerCacheTTL, 300},
			{"IdempotencyTTL", got.IdempotencyTTL, 24 * time.Hour},
			{"LogLevel", got.LogLevel, "INFO"},
			{"EnableWAF", got.EnableWAF, false},
			{"ManageAPIGatewayAccount", got.ManageAPIGatewayAccount, false},
			{"PHIDetectors is nil", got.PHIDetectors == nil, true},
			{"SMSContent", got.SMSContent, render.SMSFull},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
			}
		}
	})
	t.Run("values", func(t *testing.T) {
		cfg := baseConfig(t)
		cfg[key(names.ConfigProtection)] = "full"
		cfg[key(names.ConfigLogRetentionDays)] = "365"
		cfg[key(names.ConfigLambdaArch)] = "x86_64"
		cfg[key(names.ConfigThrottleRateLimit)] = "12.5"
		cfg[key(names.ConfigThrottleBurstLimit)] = "25"
		cfg[key(names.ConfigAuthorizerCacheTTL)] = "0"
		cfg[key(names.ConfigIdempotencyTTL)] = "48h"
		cfg[key(names.ConfigLogLevel)] = "warn"
		cfg[key(names.ConfigPHIDetectors)] = "none" // as `pulumi config set` stores it
		cfg[key(names.ConfigVoice)] = "Amy"
		cfg[key(names.ConfigSMSContent)] = "minimal"
		s, m := mustRun(t, "prod", cfg)
		got := s.Config
		checks := []struct {
			field     string
			got, want any
		}{
			{"Protection", got.Protection, ProtectionFull},
			{"LogRetentionDays", got.LogRetentionDays, 365},
			{"LambdaArch", got.LambdaArch, ArchX86},
			{"ThrottleRateLimit", got.ThrottleRateLimit, 12.5},
			{"ThrottleBurstLimit", got.ThrottleBurstLimit, 25},
			{"AuthorizerCacheTTL", got.AuthorizerCacheTTL, 0},
			{"IdempotencyTTL", got.IdempotencyTTL, 48 * time.Hour},
			{"LogLevel", got.LogLevel, "WARN"},
			{"PHIDetectors", strings.Join(got.PHIDetectors, ","), "none"},
			{"Voice", got.Voice, "Amy"},
			{"contact preference", fmt.Sprint(got.Contacts[0].Preferences[alert.PriorityHigh]), fmt.Sprint([]contact.Channel{contact.ChannelCall})},
			{"env TTL", functionEnv(t, m, names.FunctionProcessor)[names.EnvIdempotencyTTL], "48h"},
			{"env PHI", functionEnv(t, m, names.FunctionProcessor)[names.EnvPHIDetectors], "none"},
			{"SMSContent", got.SMSContent, render.SMSMinimal},
			{"env SMS content", functionEnv(t, m, names.FunctionProcessor)[names.EnvSMSContent], "minimal"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
			}
		}
	})
}

func TestArtifactDirIsResolvedAgainstProjectRoot(t *testing.T) {
	// The tests run in infra/stack; Pulumi.yaml is two levels up. With
	// the default artifactDir the packages are looked for (and, unbuilt,
	// reported) at <root>/build/lambda, whether or not they exist here.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, DefaultArtifactDir)
	cfg := baseConfig(t)
	delete(cfg, key(names.ConfigArtifactDir))
	s, _, err := runWith(t, &mocks{}, "dev", cfg)
	switch {
	case err == nil:
		if got := s.Config.ArtifactDir; got != want {
			t.Errorf("ArtifactDir = %q, want %q", got, want)
		}
	case !strings.Contains(err.Error(), filepath.Join(want, names.FunctionAuthorizer+".zip")):
		t.Errorf("error = %v, want one about %s", err, want)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{24 * time.Hour, "24h"},
		{10 * time.Second, "10s"},
		{90 * time.Minute, "1h30m"},
		{2 * time.Minute, "2m"},
		{90 * time.Second, "1m30s"},
		{time.Hour + time.Second, "1h0m1s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := time.ParseDuration(FormatDuration(tt.in)); err != nil || back != tt.in {
			t.Errorf("FormatDuration(%v) does not round-trip: %v, %v", tt.in, back, err)
		}
	}
}

func TestConnectAlias(t *testing.T) {
	tests := []struct {
		in     string
		maxLen int
		want   string
	}{
		{"a2p-alerts-dev", 36, "a2p-alerts-dev"},
		{"a2p-alerts-My_Stack.2", 36, "a2p-alerts-my-stack-2"},
		{"a2p-alerts-" + strings.Repeat("x", 60), 36, "a2p-alerts-" + strings.Repeat("x", 25)},
		{"d-project-dev", 36, "dproject-dev"},
		{"a2p-alerts----", 11, "a2p-alerts"},
	}
	for _, tt := range tests {
		if got := connectAlias(tt.in, tt.maxLen); got != tt.want {
			t.Errorf("connectAlias(%q, %d) = %q, want %q", tt.in, tt.maxLen, got, tt.want)
		}
	}
}

func TestLongStackNameFailsBeforeAnyResource(t *testing.T) {
	_, m, err := runProgram(t, strings.Repeat("s", 50), baseConfig(t))
	if err == nil || !strings.Contains(err.Error(), "shorten the stack name") {
		t.Errorf("error = %v, want one about the function name", err)
	}
	if m.count() != 0 {
		t.Errorf("the mock saw %d resources, want 0", m.count())
	}
}

// TestDefaultConnectAlias checks point 1's default: a valid alias, unique
// per account and region (Connect aliases are global), short enough for
// any stack name, and the one a created instance gets.
func TestDefaultConnectAlias(t *testing.T) {
	alias := func(prefix, account, region string) string {
		return (&Stack{Config: &Config{}, NamePrefix: prefix, AccountID: account, Region: region}).connectInstanceAlias()
	}
	base := alias("a2p-alerts-prod", "111111111111", "eu-west-2")
	others := []string{
		alias("a2p-alerts-prod", "222222222222", "eu-west-2"),
		alias("a2p-alerts-prod", "111111111111", "us-east-1"),
	}
	for _, a := range append([]string{base, alias("a2p-alerts-"+strings.Repeat("Long_Stack.", 8), "1", "eu-west-2")}, others...) {
		if p := aliasProblem(a); p != "" {
			t.Errorf("default alias %q: %s", a, p)
		}
	}
	if !strings.HasPrefix(base, "a2p-alerts-prod-") {
		t.Errorf("default alias %q does not start with the name prefix", base)
	}
	for _, o := range others {
		if o == base {
			t.Errorf("two accounts or regions share the default alias %q", base)
		}
	}
	if got := (&Stack{Config: &Config{ConnectInstanceAlias: "stthomas-a2p"}}).connectInstanceAlias(); got != "stthomas-a2p" {
		t.Errorf("configured alias became %q", got)
	}

	cfg := baseConfig(t)
	withCreatedInstance(cfg, "GB")
	_, m := mustRun(t, "prod", cfg)
	want := alias("a2p-alerts-prod", mockAccount, mockRegion)
	if got := m.byName(t, tInstance, "voice-instance").str("instanceAlias"); got != want {
		t.Errorf("instance alias = %q, want the default %q", got, want)
	}
}
