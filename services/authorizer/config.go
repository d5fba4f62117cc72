package main

import (
	"fmt"
	"log/slog"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// config is what the function reads from its environment at start-up.
type config struct {
	clients  []Client
	logLevel slog.Level
}

// loadConfig reads the environment through lookup (os.LookupEnv in main).
// names.EnvAPIClients is required; names.EnvLogLevel is optional (INFO).
// Every error names the variable at fault.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	var cfg config
	raw, ok := lookup(names.EnvAPIClients)
	if !ok {
		return cfg, fmt.Errorf("%s is not set", names.EnvAPIClients)
	}
	clients, err := ParseClients(raw)
	if err != nil {
		return cfg, err
	}
	cfg.clients = clients

	cfg.logLevel = slog.LevelInfo
	if level, ok := lookup(names.EnvLogLevel); ok && level != "" {
		if err := cfg.logLevel.UnmarshalText([]byte(level)); err != nil {
			return cfg, fmt.Errorf("%s: %q is not DEBUG, INFO, WARN or ERROR", names.EnvLogLevel, level)
		}
	}
	return cfg, nil
}
