// Command lambdazip compiles each Lambda function into <out>/<function>.zip,
// each zip holding one `bootstrap` for the provided.al2023 runtime: CGO
// off, the build tags in buildTags, trimmed and stripped, no build id or
// VCS stamp, and zip entries with a fixed time and mode, so two builds of
// the same commit give byte-identical zips. It prints each zip's size and
// SHA-256.
//
// Usage (from anywhere in the repository):
//
//	LAMBDA_ARCH=arm64 go run ./scripts/lambdazip [-out build/lambda]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// functions maps each function's name (its artefact name) to its package.
var functions = []struct{ name, pkg string }{
	{names.FunctionAuthorizer, "./services/authorizer"},
	{names.FunctionProcessor, "./services/processor"},
	{names.FunctionStatus, "./services/processor/cmd/status"},
	{names.FunctionAck, "./services/processor/cmd/ack"},
	{names.FunctionEscalate, "./services/processor/cmd/escalate"},
	{names.FunctionWorker, "./services/processor/cmd/worker"},
	{names.FunctionDeadLetter, "./services/processor/cmd/deadletter"},
}

// zipTime is the modification time of every zip entry: the zip format's
// epoch, so the zip does not depend on when it was built.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", filepath.Join("build", "lambda"), "folder for <function>.zip, relative to the repository root")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	arch, err := goArch(os.Getenv("LAMBDA_ARCH"))
	if err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	for _, fn := range functions {
		bin, err := compile(root, fn.pkg, arch)
		if err != nil {
			return fmt.Errorf("%s: %w", fn.name, err)
		}
		path := filepath.Join(out, fn.name+".zip")
		zipped, err := zipBootstrap(bin)
		if err != nil {
			return fmt.Errorf("%s: %w", fn.name, err)
		}
		if err := writeAtomically(path, zipped); err != nil {
			return err
		}
		sum := sha256.Sum256(zipped)
		rel, _ := filepath.Rel(root, path)
		fmt.Printf("%-28s %7.2f MiB  linux/%s  sha256 %s\n", rel, float64(len(zipped))/(1<<20), arch, hex.EncodeToString(sum[:12]))
	}
	return nil
}

// writeAtomically writes data to path through a temporary file renamed into
// place, so that a reader (a deploy running while another build writes the
// same folder) sees the old zip or the new one, never half of one.
func writeAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lambdazip-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// goArch maps LAMBDA_ARCH (Lambda's or Go's spelling) to GOARCH.
func goArch(v string) (string, error) {
	switch strings.ToLower(v) {
	case "", "arm64":
		return "arm64", nil
	case "amd64", "x86_64":
		return "amd64", nil
	case "host":
		return runtime.GOARCH, nil
	default:
		return "", fmt.Errorf("LAMBDA_ARCH=%q: want arm64, x86_64 (amd64) or host", v)
	}
}

// repoRoot is the nearest ancestor of the working directory holding go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run inside the repository")
		}
		dir = parent
	}
}

// buildTags leave out code the functions never run:
//
//   - lambda.norpc: aws-lambda-go's net/rpc mode, which only the retired
//     go1.x runtime used.
//   - grpcnotrace: gRPC's golang.org/x/net/trace, whose html/template
//     pages no function serves. The X-Ray SDK imports gRPC. Without this
//     tag, text/template's reflect.Value.MethodByName is reachable, and the
//     linker then keeps every exported method of every type used in an
//     interface. One of those is the Connect client, with hundreds of
//     operations. With the tag (and google.golang.org/protobuf v1.36.12
//     or later, whose descfmt no longer calls MethodByName("Methods"),
//     a name Go 1.26's reflect.Type also has), the processor keeps only
//     the methods it calls. That halves it: 36.3 MB to 18.4 MB on arm64
//     (issue 14).
const buildTags = "lambda.norpc,grpcnotrace"

// compile builds pkg for linux/arch and returns the binary.
func compile(root, pkg, arch string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "a2p-build-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-buildvcs=false", "-tags", buildTags,
		"-ldflags", "-s -w -buildid=", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	return b, nil
}

// zipBootstrap returns a zip holding bin as an executable named bootstrap,
// with a fixed time and mode.
func zipBootstrap(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip header: %w", err)
	}
	if _, err := io.Copy(w, bytes.NewReader(bin)); err != nil {
		return nil, fmt.Errorf("zip write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip close: %w", err)
	}
	return buf.Bytes(), nil
}
