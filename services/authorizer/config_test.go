package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	validClients := clientsJSON(t, [2]string{"ward-7", token.Hash(wardToken)})
	tests := []struct {
		name      string
		env       map[string]string
		wantLevel slog.Level
		wantErr   string // a substring; the variable's name is always required too
		wantVar   string
	}{
		{name: "clients only", env: map[string]string{names.EnvAPIClients: validClients}, wantLevel: slog.LevelInfo},
		{name: "empty log level", env: map[string]string{names.EnvAPIClients: validClients, names.EnvLogLevel: ""}, wantLevel: slog.LevelInfo},
		{name: "debug", env: map[string]string{names.EnvAPIClients: validClients, names.EnvLogLevel: "DEBUG"}, wantLevel: slog.LevelDebug},
		{name: "warn lower-case", env: map[string]string{names.EnvAPIClients: validClients, names.EnvLogLevel: "warn"}, wantLevel: slog.LevelWarn},
		{name: "error", env: map[string]string{names.EnvAPIClients: validClients, names.EnvLogLevel: "ERROR"}, wantLevel: slog.LevelError},
		{name: "clients unset", env: map[string]string{}, wantErr: "is not set", wantVar: names.EnvAPIClients},
		{name: "clients empty", env: map[string]string{names.EnvAPIClients: ""}, wantErr: "not a JSON list", wantVar: names.EnvAPIClients},
		{name: "clients invalid", env: map[string]string{names.EnvAPIClients: "[]"}, wantErr: "empty", wantVar: names.EnvAPIClients},
		{
			name:    "bad log level",
			env:     map[string]string{names.EnvAPIClients: validClients, names.EnvLogLevel: "LOUD"},
			wantErr: "is not DEBUG, INFO, WARN or ERROR", wantVar: names.EnvLogLevel,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lookup := func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			}
			got, err := loadConfig(lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.wantVar) {
					t.Fatalf("err = %v, want one naming %s and containing %q", err, tt.wantVar, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if got.logLevel != tt.wantLevel {
				t.Errorf("log level = %v, want %v", got.logLevel, tt.wantLevel)
			}
			if len(got.clients) != 1 || got.clients[0].Name != "ward-7" {
				t.Errorf("clients = %+v, want ward-7", got.clients)
			}
		})
	}
}
