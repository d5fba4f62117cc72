package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestBuildFunctionsForThisMachine runs the repository's build and checks
// that each zip holds a bootstrap this machine can run.
func TestBuildFunctionsForThisMachine(t *testing.T) {
	t.Parallel()

	out := t.TempDir()
	if err := BuildFunctions(t.Context(), repoRoot, out, nil); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{names.FunctionAuthorizer, names.FunctionProcessor} {
		data, err := os.ReadFile(filepath.Join(out, name+".zip"))
		if err != nil {
			t.Fatal(err)
		}

		bootstrap, err := extractZip(data, t.TempDir())
		if err != nil {
			t.Fatalf("%s.zip: %v", name, err)
		}

		if err := checkArch(bootstrap); err != nil {
			t.Fatalf("%s.zip: %v", name, err)
		}
	}
}
