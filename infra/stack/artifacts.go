package stack

import (
	"archive/zip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// functionNames are the functions the stack deploys, in the order their
// packages are checked and created.
var functionNames = names.Functions

// elfMachines is the ELF e_machine a bootstrap built for each Lambda
// architecture has.
var elfMachines = map[string]elf.Machine{
	ArchARM64: elf.EM_AARCH64,
	ArchX86:   elf.EM_X86_64,
}

// elfHeaderSize is as much of an ELF header as CheckArtifacts reads:
// e_ident (16 bytes), e_type (2) and e_machine (2).
const elfHeaderSize = 20

// CheckArtifacts checks, before anything is registered, that dir holds a
// deployable package for each function: <function>.zip exists and holds an
// executable "bootstrap" built for arch (its ELF machine). A wrong or
// missing package would otherwise deploy and fail at the first alert.
// Every problem names the artifactDir key and the command that builds the
// right package.
func CheckArtifacts(project, dir, arch string) []Problem {
	build := fmt.Sprintf("run `make build LAMBDA_ARCH=%s ARTIFACT_DIR=%s`", arch, dir)
	var problems []Problem
	for _, fn := range functionNames {
		path := filepath.Join(dir, fn+artifactSuffix)
		if err := checkPackage(path, elfMachines[arch]); err != nil {
			problems = append(problems, Problem{
				Key:     project + ":" + names.ConfigArtifactDir,
				Message: fmt.Sprintf("%s: %v; %s (the stack's %s is %s)", path, err, build, names.ConfigLambdaArch, arch),
			})
		}
	}
	return problems
}

// checkPackage checks one function's zip.
func checkPackage(path string, want elf.Machine) error {
	zr, err := zip.OpenReader(path)
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such file")
	}
	if err != nil {
		return fmt.Errorf("not a zip archive (%w)", err)
	}
	defer func() { _ = zr.Close() }()
	for _, f := range zr.File {
		if f.Name != lambdaHandler {
			continue
		}
		if f.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable (mode %v)", lambdaHandler, f.Mode())
		}
		got, err := elfMachine(f)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s is built for %s, not %s", lambdaHandler, got, want)
		}
		return nil
	}
	return fmt.Errorf("no %s at the top of the zip", lambdaHandler)
}

// elfMachine reads the ELF machine of a zip entry.
func elfMachine(f *zip.File) (elf.Machine, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	var h [elfHeaderSize]byte
	if _, err := io.ReadFull(rc, h[:]); err != nil || string(h[:4]) != elf.ELFMAG {
		return 0, fmt.Errorf("%s is not a Linux (ELF) executable", f.Name)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(h[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	return elf.Machine(order.Uint16(h[18:20])), nil
}
