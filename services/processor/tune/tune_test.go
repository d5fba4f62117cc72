package tune_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/services/processor/tune"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want tune.Settings
	}{
		{"lambda defaults", map[string]string{tune.EnvFunctionMemory: "256"},
			tune.Settings{Procs: 1, GCPercent: 400, MemoryLimit: 192 << 20}},
		{"no function memory: no limit", nil, tune.Settings{Procs: 1, GCPercent: 400}},
		{"bad function memory: no limit", map[string]string{tune.EnvFunctionMemory: "lots"}, tune.Settings{Procs: 1, GCPercent: 400}},
		{"Go's own variables win", map[string]string{tune.EnvFunctionMemory: "256", "GOMAXPROCS": "2", "GOGC": "100", "GOMEMLIMIT": "100MiB"},
			tune.Settings{}},
		{"empty values do not count", map[string]string{"GOMAXPROCS": " ", "GOGC": ""}, tune.Settings{Procs: 1, GCPercent: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tune.For(env(tt.env)); got != tt.want {
				t.Errorf("For = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestApply sets the runtime and reads it back.
func TestApply(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	debug.SetGCPercent(gc)

	tune.Apply(tune.Settings{Procs: 1, GCPercent: 400, MemoryLimit: 192 << 20})
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS = %d, want 1", got)
	}
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("GC percent = %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 192<<20 {
		t.Errorf("memory limit = %d, want %d", got, 192<<20)
	}

	tune.Apply(tune.Settings{}) // leaves everything as it is
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("a zero Settings changed GOMAXPROCS to %d", got)
	}
}
