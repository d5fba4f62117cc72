package stack

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestWrongOrMissingPackageFailsBeforeAnyResource checks point 6: Program
// refuses a missing, wrong-architecture or broken package before it
// registers anything, and names the build command to run.
func TestWrongOrMissingPackageFailsBeforeAnyResource(t *testing.T) {
	tests := []struct {
		name  string
		arch  string // the stack's lambdaArch
		setup func(tb testing.TB, dir string)
		want  string
	}{
		{"missing zip", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			if err := os.Remove(filepath.Join(dir, "processor.zip")); err != nil {
				tb.Fatal(err)
			}
		}, "processor.zip: no such file; run `make build LAMBDA_ARCH=arm64 ARTIFACT_DIR="},
		{"x86_64 zips for an arm64 stack", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			writeBootstrap(tb, dir, 0o755, elfHeader(elf.EM_X86_64))
		}, "authorizer.zip: bootstrap is built for EM_X86_64, not EM_AARCH64; run `make build LAMBDA_ARCH=arm64"},
		{"arm64 zips for an x86_64 stack", ArchX86, func(tb testing.TB, dir string) {
			tb.Helper()
			writeBootstrap(tb, dir, 0o755, elfHeader(elf.EM_AARCH64))
		}, "bootstrap is built for EM_AARCH64, not EM_X86_64; run `make build LAMBDA_ARCH=x86_64"},
		{"bootstrap not executable", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			writeBootstrap(tb, dir, 0o644, elfHeader(elf.EM_AARCH64))
		}, "bootstrap is not executable"},
		{"not an ELF binary", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			writeBootstrap(tb, dir, 0o755, []byte("#!/bin/sh\necho hello\n"))
		}, "bootstrap is not a Linux (ELF) executable"},
		{"no bootstrap in the zip", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			writeZip(tb, filepath.Join(dir, "authorizer.zip"), "main", 0o755, elfHeader(elf.EM_AARCH64))
		}, "authorizer.zip: no bootstrap at the top of the zip"},
		{"not a zip", ArchARM64, func(tb testing.TB, dir string) {
			tb.Helper()
			if err := os.WriteFile(filepath.Join(dir, "authorizer.zip"), []byte("not a zip"), 0o600); err != nil {
				tb.Fatal(err)
			}
		}, "authorizer.zip: not a zip archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeArtifacts(t, ArchARM64)
			tt.setup(t, dir)
			cfg := baseConfig(t)
			cfg[key(names.ConfigArtifactDir)] = dir
			cfg[key(names.ConfigLambdaArch)] = tt.arch
			_, m, err := runProgram(t, "dev", cfg)
			if err == nil {
				t.Fatal("Program succeeded, want a package error")
			}
			if !strings.Contains(err.Error(), "a2p-alerts:artifactDir: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to name artifactDir and contain %q", err, tt.want)
			}
			if m.count() != 0 || len(m.invokes) != 0 {
				t.Errorf("the mock saw %d resources and %d invokes, want none", m.count(), len(m.invokes))
			}
		})
	}
}

// TestRightPackagesPass: packages built for the stack's architecture
// pass, for both architectures.
func TestRightPackagesPass(t *testing.T) {
	for _, arch := range []string{ArchARM64, ArchX86} {
		if problems := CheckArtifacts(mockProject, fakeArtifacts(t, arch), arch); len(problems) != 0 {
			t.Errorf("%s: %v", arch, problems)
		}
	}
}

// writeBootstrap replaces both zips with ones holding content as bootstrap.
func writeBootstrap(tb testing.TB, dir string, mode os.FileMode, content []byte) {
	tb.Helper()
	for _, fn := range functionNames {
		writeZip(tb, filepath.Join(dir, fn+".zip"), "bootstrap", mode, content)
	}
}
