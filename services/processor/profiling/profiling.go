// Package profiling is the processor's CPU profile switch, off unless
// names.EnvCPUProfile names a file. It is for measuring the processor in
// the sandbox (make bench writes the profile's top items into
// docs/benchmarks.md); the infra program never sets the variable.
//
// The profile covers the whole process, from start-up to the signal that
// ends it. runtime/pprof is linked into the processor anyway (by gRPC, which
// the X-Ray SDK imports), so the switch costs about 65 KB of binary; a
// pprof HTTP server would have cost about 650 KB.
package profiling

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// WriteOnSignal starts a CPU profile of the process into the file at
// path, created or truncated now. When the process gets SIGTERM or SIGINT
// the profile is written out and the process exits with status 0. Errors
// are about the file or a profile already running.
func WriteOnSignal(path string, logger *slog.Logger) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	stop, err := start(path)
	if err != nil {
		signal.Stop(sig)
		return err
	}
	go func() {
		s := <-sig
		err := stop()
		logger.Info("cpu profile written", slog.String("file", path), slog.String("signal", s.String()),
			slog.Any("error", err))
		os.Exit(0)
	}()
	logger.Info("cpu profile started", slog.String("file", path))
	return nil
}

// start begins the CPU profile into a new file at path and returns the
// function that ends it and closes the file.
func start(path string) (stop func() error, err error) {
	f, err := os.Create(path) //nolint:gosec // the path comes from the operator's environment, on purpose
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}
