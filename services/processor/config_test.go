package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// env is a fake environment for loadConfig.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// required holds the variables every start needs.
func required(extra map[string]string) map[string]string {
	vars := map[string]string{
		names.EnvContactsTable:    "a2p-contacts",
		names.EnvIdempotencyTable: "a2p-idempotency",
		names.EnvAlertsTable:      "a2p-alerts",
	}
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

var allConnect = map[string]string{
	names.EnvConnectInstanceID:    "inst-1",
	names.EnvConnectContactFlowID: "flow-1",
	names.EnvConnectSourcePhone:   "+442079460000",
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(env(required(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.contactsTable != "a2p-contacts" || cfg.idempotencyTable != "a2p-idempotency" {
		t.Errorf("tables = %q, %q", cfg.contactsTable, cfg.idempotencyTable)
	}
	if cfg.idempotencyTTL != 24*time.Hour || cfg.lockTimeout != 25*time.Second {
		t.Errorf("ttl %s lock timeout %s, want 24h and 25s", cfg.idempotencyTTL, cfg.lockTimeout)
	}
	if cfg.alertsTable != "a2p-alerts" || cfg.retention != 90*24*time.Hour || cfg.fallbackOnUnknown || cfg.metricsNamespace != "" {
		t.Errorf("alerts %q retention %s fallback %v metrics %q, want 90 days, no fallback, no metrics",
			cfg.alertsTable, cfg.retention, cfg.fallbackOnUnknown, cfg.metricsNamespace)
	}
	if cfg.connect != nil {
		t.Errorf("connect = %+v, want none", cfg.connect)
	}
	if len(cfg.guard) == 0 {
		t.Error("no PHI detector by default, want all")
	}
	if cfg.logLevel != slog.LevelInfo {
		t.Errorf("log level = %v, want INFO", cfg.logLevel)
	}
	if cfg.smsContent != render.SMSFull {
		t.Errorf("SMS content = %q, want full", cfg.smsContent)
	}
	if cfg.cpuProfile != "" {
		t.Errorf("cpu profile = %q, want none: profiling is off by default", cfg.cpuProfile)
	}
}

func TestLoadConfigOptionalValues(t *testing.T) {
	t.Parallel()
	vars := required(allConnect)
	vars[names.EnvIdempotencyTTL] = "36h"
	vars[names.EnvLockTimeout] = "29s"
	vars[names.EnvPHIDetectors] = "none"
	vars[names.EnvLogLevel] = "debug"
	vars[names.EnvSMSContent] = "minimal"
	vars[names.EnvAlertRetentionDays] = "365"
	vars[names.EnvFallbackOnUnknown] = "true"
	vars[names.EnvMetricsNamespace] = "a2p-alerts-prod"
	vars[names.EnvCPUProfile] = " /tmp/processor.pprof "
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.retention != 365*24*time.Hour || !cfg.fallbackOnUnknown || cfg.metricsNamespace != "a2p-alerts-prod" {
		t.Errorf("retention %s fallback %v metrics %q", cfg.retention, cfg.fallbackOnUnknown, cfg.metricsNamespace)
	}
	want := connect.Settings{InstanceID: "inst-1", ContactFlowID: "flow-1", SourcePhone: "+442079460000"}
	if cfg.connect == nil || *cfg.connect != want {
		t.Errorf("connect = %+v, want %+v", cfg.connect, want)
	}
	if cfg.idempotencyTTL != 36*time.Hour || cfg.lockTimeout != 29*time.Second {
		t.Errorf("ttl %s lock timeout %s", cfg.idempotencyTTL, cfg.lockTimeout)
	}
	if len(cfg.guard) != 0 || cfg.logLevel != slog.LevelDebug {
		t.Errorf("guard %v level %v, want none and DEBUG", cfg.guard, cfg.logLevel)
	}
	if cfg.smsContent != render.SMSMinimal {
		t.Errorf("SMS content = %q, want minimal", cfg.smsContent)
	}
	if cfg.cpuProfile != "/tmp/processor.pprof" {
		t.Errorf("cpu profile = %q, want /tmp/processor.pprof", cfg.cpuProfile)
	}
}

func TestLoadConfigLogLevels(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "DEBUG": slog.LevelDebug, "info": slog.LevelInfo, "Warn": slog.LevelWarn,
		"ERROR": slog.LevelError, "INFO+2": slog.LevelInfo + 2,
	} {
		cfg, err := loadConfig(env(required(map[string]string{names.EnvLogLevel: in})))
		if err != nil || cfg.logLevel != want {
			t.Errorf("%s=%q: level %v, %v; want %v", names.EnvLogLevel, in, cfg.logLevel, err, want)
		}
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want []string // every one must appear in the error
	}{
		{"no contacts table", map[string]string{names.EnvIdempotencyTable: "t"}, []string{names.EnvContactsTable}},
		{"no idempotency table", map[string]string{names.EnvContactsTable: "t"}, []string{names.EnvIdempotencyTable}},
		{"blank contacts table", required(map[string]string{names.EnvContactsTable: "  "}), []string{names.EnvContactsTable}},
		{"no alerts table", required(map[string]string{names.EnvAlertsTable: ""}), []string{names.EnvAlertsTable}},
		{"zero retention", required(map[string]string{names.EnvAlertRetentionDays: "0"}), []string{names.EnvAlertRetentionDays, "at least 1"}},
		{"retention in hours", required(map[string]string{names.EnvAlertRetentionDays: "24h"}), []string{names.EnvAlertRetentionDays, "24h"}},
		{"bad fallback flag", required(map[string]string{names.EnvFallbackOnUnknown: "sometimes"}), []string{names.EnvFallbackOnUnknown, "sometimes"}},
		{"bad ttl", required(map[string]string{names.EnvIdempotencyTTL: "1 day"}), []string{names.EnvIdempotencyTTL, "1 day"}},
		{"zero ttl", required(map[string]string{names.EnvIdempotencyTTL: "0s"}), []string{names.EnvIdempotencyTTL, "positive"}},
		{"bad lock timeout", required(map[string]string{names.EnvLockTimeout: "ten"}), []string{names.EnvLockTimeout}},
		{"negative lock timeout", required(map[string]string{names.EnvLockTimeout: "-5s"}), []string{names.EnvLockTimeout}},
		{"unknown PHI detector", required(map[string]string{names.EnvPHIDetectors: "nhs_number,ssn"}), []string{names.EnvPHIDetectors, "ssn"}},
		{"bad log level", required(map[string]string{names.EnvLogLevel: "LOUD"}), []string{names.EnvLogLevel, "LOUD"}},
		{"bad SMS content", required(map[string]string{names.EnvSMSContent: "secret"}), []string{names.EnvSMSContent, "full or minimal"}},
		{
			"connect instance only",
			required(map[string]string{names.EnvConnectInstanceID: "inst-1"}),
			[]string{names.EnvConnectContactFlowID, names.EnvConnectSourcePhone},
		},
		{
			"connect without source phone",
			required(map[string]string{names.EnvConnectInstanceID: "inst-1", names.EnvConnectContactFlowID: "flow-1"}),
			[]string{names.EnvConnectSourcePhone},
		},
		{
			"connect source phone not E.164",
			required(map[string]string{
				names.EnvConnectInstanceID: "inst-1", names.EnvConnectContactFlowID: "flow-1", names.EnvConnectSourcePhone: "020 7946 0000",
			}),
			[]string{names.EnvConnectSourcePhone, "E.164"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(env(tt.vars))
			if err == nil {
				t.Fatal("loadConfig accepted the environment")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigEmptyConnectMeansNoCalls(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(env(required(map[string]string{
		names.EnvConnectInstanceID: "", names.EnvConnectContactFlowID: "", names.EnvConnectSourcePhone: "",
	})))
	if err != nil || cfg.connect != nil {
		t.Errorf("loadConfig = %+v, %v; want no Connect settings and no error", cfg.connect, err)
	}
}
