// Command apidoc writes the README's API reference for the alert body,
// generated from the same field definitions (shared/alert.Fields) that the
// processor validates with and the JSON Schema is built from, and the JSON
// Schema of GET /notification/{message_id}'s answer
// (shared/api.AlertRecordSchema). It replaces the text between the markers
// <!-- api-fields --> and <!-- /api-fields -->, and <!-- api-record -->
// and <!-- /api-record -->, in README.md; a test fails when the README is
// out of date.
//
// Usage: go run ./scripts/apidoc
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

const (
	startMarker       = "<!-- api-fields -->"
	endMarker         = "<!-- /api-fields -->"
	recordStartMarker = "<!-- api-record -->"
	recordEndMarker   = "<!-- /api-record -->"
)

func main() {
	path := filepath.Join(findRoot(), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
	out, err := Update(string(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
}

// Table renders the alert's fields as a Markdown table.
func Table() string {
	var b strings.Builder
	b.WriteString("| Field | Type | Length | Allowed | Description |\n|---|---|---|---|---|\n")
	for _, f := range alert.Fields {
		allowed := "any text"
		switch {
		case len(f.Enum) > 0:
			allowed = "`" + strings.Join(f.Enum, "`, `") + "`"
		case f.Pattern != "":
			allowed = f.PatternHint + " (`" + f.Pattern + "`)"
		case f.Text:
			allowed = alert.TextRules
		}
		if f.PHI {
			allowed += "; no NHS number"
		}
		fmt.Fprintf(&b, "| `%s` | string | %d–%d | %s | %s |\n", f.Name, f.MinLen, f.MaxLen, strings.ReplaceAll(allowed, "|", `\|`), f.Doc)
	}
	fmt.Fprintf(&b, "\nAll six fields are required, no other field is accepted, and a body may be at most %d bytes.\n", alert.MaxBodyBytes)
	return b.String()
}

// Update returns doc with both generated parts replaced.
func Update(doc string) (string, error) {
	doc, err := splice(doc, Table())
	if err != nil {
		return "", err
	}
	return spliceBetween(doc, recordStartMarker, recordEndMarker, RecordSchema())
}

// RecordSchema renders the answer's JSON Schema as a fenced block.
func RecordSchema() string {
	return "```json\n" + string(api.AlertRecordSchema()) + "\n```\n"
}

// splice replaces the text between the field markers in doc with table.
func splice(doc, table string) (string, error) {
	return spliceBetween(doc, startMarker, endMarker, table)
}

// spliceBetween replaces the text between start and end in doc with text.
func spliceBetween(doc, start, end, text string) (string, error) {
	i := strings.Index(doc, start)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", errors.New("README.md lacks the " + start + " ... " + end + " markers")
	}
	return doc[:i+len(start)] + "\n" + text + doc[j:], nil
}

func findRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
