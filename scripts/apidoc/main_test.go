package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// TestReadmeIsCurrent fails when README.md's API reference differs from
// what the field definitions generate. Fix with `go run ./scripts/apidoc`.
func TestReadmeIsCurrent(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want, err := Update(got)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Error("README.md's API reference is out of date: run `go run ./scripts/apidoc`")
	}
}

func TestTableListsEveryField(t *testing.T) {
	t.Parallel()
	table := Table()
	for _, f := range alert.Fields {
		if !strings.Contains(table, "| `"+f.Name+"` |") {
			t.Errorf("table lacks %s", f.Name)
		}
	}
	if !strings.Contains(table, "`L`, `M`, `H`") || !strings.Contains(table, "no NHS number") {
		t.Errorf("table lacks the priority enum or the PHI note:\n%s", table)
	}
}

func TestSpliceNeedsMarkers(t *testing.T) {
	t.Parallel()
	if _, err := splice("no markers", "x"); err == nil {
		t.Error("splice accepted a document without markers")
	}
	got, err := splice("a "+startMarker+"old"+endMarker+" b", "new\n")
	if err != nil || got != "a "+startMarker+"\nnew\n"+endMarker+" b" {
		t.Errorf("splice = %q, %v", got, err)
	}
}
