package main

import (
	"fmt"
	"time"

	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// defaultLockTimeout bounds the idempotency lock when an invocation has no
// deadline; it matches the function's timeout.
const defaultLockTimeout = 25 * time.Second

// config is what the function reads from its environment at start-up.
type config struct {
	// core are the alerting core's settings (setup.LoadCore).
	core             setup.Core
	idempotencyTable string
	idempotencyTTL   time.Duration
	lockTimeout      time.Duration
	guard            phi.Guard
	// eventBus is the bus queued alerts go on; "" ignores Prefer:
	// respond-async.
	eventBus string
	// cpuProfile is the file of the CPU profile, "" when none is asked
	// for (names.EnvCPUProfile).
	cpuProfile string
}

// loadConfig reads the environment through lookup (os.LookupEnv in main):
// the core's settings (setup.LoadCore), and the request's own.
// Required: names.EnvIdempotencyTable. Optional: names.EnvIdempotencyTTL
// (names.DefaultIdempotencyTTL), names.EnvLockTimeout (25s),
// names.EnvPHIDetectors (all detectors), names.EnvEventBus (no
// asynchronous answers), names.EnvCPUProfile (none). An empty value counts
// as unset. Every error names
// the variable at fault.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	get := setup.Env(lookup)
	var cfg config
	var err error
	if cfg.core, err = setup.LoadCore(get); err != nil {
		return cfg, err
	}
	if cfg.idempotencyTable = get(names.EnvIdempotencyTable); cfg.idempotencyTable == "" {
		return cfg, fmt.Errorf("%s is not set: it names the idempotency table", names.EnvIdempotencyTable)
	}
	if cfg.idempotencyTTL, err = setup.PositiveDuration(names.EnvIdempotencyTTL, get(names.EnvIdempotencyTTL), names.DefaultIdempotencyTTL); err != nil {
		return cfg, err
	}
	if cfg.lockTimeout, err = setup.PositiveDuration(names.EnvLockTimeout, get(names.EnvLockTimeout), defaultLockTimeout.String()); err != nil {
		return cfg, err
	}
	if cfg.guard, err = phi.Parse(get(names.EnvPHIDetectors)); err != nil {
		return cfg, fmt.Errorf("%s: %w", names.EnvPHIDetectors, err)
	}
	cfg.eventBus = get(names.EnvEventBus)
	cfg.cpuProfile = get(names.EnvCPUProfile)
	return cfg, nil
}
