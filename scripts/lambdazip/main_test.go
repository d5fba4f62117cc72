package main

import (
	"archive/zip"
	"bytes"
	"io"
	"runtime"
	"slices"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func TestZipBootstrapIsDeterministic(t *testing.T) {
	t.Parallel()
	bin := bytes.Repeat([]byte("\x7fELF binary bytes "), 1000)
	a, err := zipBootstrap(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := zipBootstrap(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two zips of the same binary differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip holds %d files, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || !f.Modified.Equal(zipTime) {
		t.Errorf("entry = %s %v %v, want bootstrap 0755 %v", f.Name, f.Mode(), f.Modified, zipTime)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bin) {
		t.Error("unzipped bootstrap differs from the binary")
	}
}

func TestGoArch(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "arm64", "arm64": "arm64", "ARM64": "arm64", "x86_64": "amd64", "amd64": "amd64"} {
		if got, err := goArch(in); err != nil || got != want {
			t.Errorf("goArch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := goArch("riscv64"); err == nil {
		t.Error("goArch accepted riscv64")
	}
}

// TestEveryFunctionIsBuilt: the build makes a package for every function
// the stack deploys (names.Functions), and for nothing else.
func TestEveryFunctionIsBuilt(t *testing.T) {
	t.Parallel()
	var built []string
	for _, fn := range functions {
		built = append(built, fn.name)
	}
	if !slices.Equal(built, names.Functions) {
		t.Errorf("lambdazip builds %v, the stack deploys %v", built, names.Functions)
	}
}

// TestLinkerDropsUnusedMethods builds the processor as a deploy does and
// looks for Connect client methods by name (a stripped Go binary keeps
// function names for stack traces). It calls one, StartOutboundVoiceContact.
// If another is in, something the processor links calls reflect's Method
// or MethodByName with a non-constant name, and the linker then keeps
// every exported method of every type used in an interface: the zip grows
// by about 4 MiB. To find the caller, build with -ldflags=-dumpdep and
// follow the edges to a symbol marked <ReflectMethod>.
func TestLinkerDropsUnusedMethods(t *testing.T) {
	t.Parallel()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := compile(root, "./services/processor", runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	const client = "github.com/aws/aws-sdk-go-v2/service/connect.(*Client)."
	if !bytes.Contains(bin, []byte(client+"StartOutboundVoiceContact")) {
		t.Fatal("the processor does not hold the Connect call it makes: the check below would prove nothing")
	}
	for _, unused := range []string{"CreateInstance", "DescribeUser", "ListQueues", "StopContact"} {
		if bytes.Contains(bin, []byte(client+unused)) {
			t.Errorf("the processor links connect.(*Client).%s, which it never calls: the linker is keeping unused methods", unused)
		}
	}
}
