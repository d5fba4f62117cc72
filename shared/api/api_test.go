package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

func TestCodeStatus(t *testing.T) {
	t.Parallel()
	tests := map[api.Code]int{
		api.CodeInvalid:                  http.StatusBadRequest,
		api.CodeNotFound:                 http.StatusNotFound,
		api.CodeInProgress:               http.StatusConflict,
		api.CodeIdempotencyMismatch:      http.StatusUnprocessableEntity,
		api.CodeNoDestination:            http.StatusUnprocessableEntity,
		api.CodeUndeliverableAllChannels: http.StatusBadGateway,
		api.CodeUnavailable:              http.StatusServiceUnavailable,
		api.CodeDeliveryUnknown:          http.StatusBadGateway,
		api.CodeInternal:                 http.StatusInternalServerError,
		api.CodeUnauthorized:             http.StatusUnauthorized,
		api.CodeForbidden:                http.StatusForbidden,
		api.CodeThrottled:                http.StatusTooManyRequests,
		api.CodeTimeout:                  http.StatusGatewayTimeout,
		api.CodeRejected:                 http.StatusBadRequest,
		api.CodeNotAcknowledgeable:       http.StatusConflict,
		api.CodeGone:                     http.StatusGone,
		api.Code("no_such_code"):         http.StatusInternalServerError,
	}
	for code, want := range tests {
		if got := code.Status(); got != want {
			t.Errorf("%s.Status() = %d, want %d", code, got, want)
		}
	}
	if len(api.Codes) != len(tests)-1 {
		t.Errorf("api.Codes has %d codes, the table %d", len(api.Codes), len(tests)-1)
	}
}

// TestREADMEListsEveryCode checks the README's status table: one row per
// code, with the code's status, and a retry advice in its last column.
func TestREADMEListsEveryCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (\\d{3})[^|]*\\| `([a-z_]+)` \\|[^|]+\\|([^|]+)\\|$")
	found := map[api.Code]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		found[api.Code(m[2])] = m[1]
		if strings.TrimSpace(m[3]) == "" {
			t.Errorf("README row for %s says nothing about retrying", m[2])
		}
	}
	for _, c := range api.Codes {
		status, ok := found[c]
		switch {
		case !ok:
			t.Errorf("README's status table lacks a row for %s", c)
		case status != strconv.Itoa(c.Status()):
			t.Errorf("README gives %s status %s, want %d", c, status, c.Status())
		}
	}
}

// repoRoot is the nearest ancestor holding go.work.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.work above %s", dir)
		}
	}
}
