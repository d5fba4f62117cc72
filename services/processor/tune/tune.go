// Package tune sets the Go runtime for a Lambda execution environment:
// main calls Apply(For(os.LookupEnv)) first thing.
//
// It cannot act before the other packages initialise: Go schedules a
// package's initialisation once its imports are done, picking the first
// ready package by import path, and runtime/debug sorts after every
// github.com/... package, so the SDKs' packages (about 4 MB of allocation,
// one collection at Go's default GOGC) always run first. So the infra
// program also sets GOGC (names.EnvGoGC) in the function's environment,
// which the runtime reads before any package initialises; when it is set,
// For leaves the collector as the environment says.
package tune

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Go runtime settings for a Lambda execution environment.
const (
	// Procs: an execution environment handles one invocation at a time,
	// and a 256 MB function has about a seventh of a vCPU. Go would run two
	// Ps (its floor under a CPU quota); the second only adds thread
	// wake-ups and hand-offs between the HTTP client's goroutines.
	Procs = 1
	// GCPercent: the heap the processor keeps alive is a few MiB and each
	// request allocates about 300 KiB (most of it in the AWS SDK), so Go's
	// default (100) collects every few dozen requests.
	GCPercent = names.ProcessorGCPercent
	// MemoryLimitShare is the share of the function's memory the Go heap
	// may grow to before the collector works harder, whatever GCPercent
	// says.
	MemoryLimitShare = 0.75
)

// EnvFunctionMemory is the function's memory in MB, set by Lambda.
const EnvFunctionMemory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

// Settings is how the Go runtime is to be set; a zero field leaves Go's
// own value.
type Settings struct {
	// Procs is GOMAXPROCS.
	Procs int
	// GCPercent is the collector's target heap growth, as GOGC.
	GCPercent int
	// MemoryLimit is the soft limit of the Go heap in bytes, as
	// GOMEMLIMIT.
	MemoryLimit int64
}

// For returns the settings for an environment read through lookup: Procs,
// GCPercent and a soft memory limit of MemoryLimitShare of the function's
// memory (EnvFunctionMemory), each unless the environment sets Go's own
// variable (GOMAXPROCS, GOGC, GOMEMLIMIT), which then wins.
func For(lookup func(string) (string, bool)) Settings {
	set := func(name string) bool {
		v, ok := lookup(name)
		return ok && strings.TrimSpace(v) != ""
	}
	var s Settings
	if !set("GOMAXPROCS") {
		s.Procs = Procs
	}
	if !set(names.EnvGoGC) {
		s.GCPercent = GCPercent
	}
	if mb, ok := lookup(EnvFunctionMemory); ok && !set("GOMEMLIMIT") {
		if n, err := strconv.ParseInt(strings.TrimSpace(mb), 10, 64); err == nil && n > 0 {
			s.MemoryLimit = int64(float64(n<<20) * MemoryLimitShare)
		}
	}
	return s
}

// Apply sets the Go runtime as s says.
func Apply(s Settings) {
	if s.Procs > 0 {
		runtime.GOMAXPROCS(s.Procs)
	}
	if s.GCPercent > 0 {
		debug.SetGCPercent(s.GCPercent)
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
}
