package main

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// zipInfo is one deployment package's size.
type zipInfo struct {
	// Zip is the file's size; Bootstrap the bootstrap's uncompressed size.
	Zip, Bootstrap int64
}

// readZip measures the zip at path.
func readZip(path string) (zipInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return zipInfo{}, fmt.Errorf("zip: %w", err)
	}

	zr, err := zip.OpenReader(path)
	if err != nil {
		return zipInfo{}, fmt.Errorf("zip %s: %w", path, err)
	}
	defer func() { _ = zr.Close() }()

	info := zipInfo{Zip: st.Size()}

	for _, f := range zr.File {
		if f.Name == "bootstrap" {
			info.Bootstrap = int64(f.UncompressedSize64) //nolint:gosec // a bootstrap is megabytes, far below 2^63
		}
	}

	if info.Bootstrap == 0 {
		return info, fmt.Errorf("zip %s has no bootstrap", path)
	}

	return info, nil
}

// buildZips runs the repository's build (scripts/lambdazip) for arch into
// out, as `make build` does.
func buildZips(ctx context.Context, root, arch, out string) error {
	cmd := exec.CommandContext(ctx, "go", "run", "./scripts/lambdazip", "-out", out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LAMBDA_ARCH="+arch)

	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the %s zips: %w\n%s", arch, err, b)
	}

	return nil
}

// zipSizes measures <dir>/<fn>.zip for each function.
func zipSizes(dir string, fns []string) (map[string]zipInfo, error) {
	out := map[string]zipInfo{}

	for _, fn := range fns {
		info, err := readZip(filepath.Join(dir, fn+".zip"))
		if err != nil {
			return nil, err
		}

		out[fn] = info
	}

	return out, nil
}
