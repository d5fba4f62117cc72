package api_test

import (
	"net/http"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

func TestCodeStatus(t *testing.T) {
	t.Parallel()
	tests := map[api.Code]int{
		api.CodeInvalid:             http.StatusBadRequest,
		api.CodeNotFound:            http.StatusNotFound,
		api.CodeInProgress:          http.StatusConflict,
		api.CodeIdempotencyMismatch: http.StatusUnprocessableEntity,
		api.CodeNoDestination:       http.StatusUnprocessableEntity,
		api.CodeUnavailable:         http.StatusBadGateway,
		api.CodeInternal:            http.StatusInternalServerError,
		api.CodeUnauthorized:        http.StatusUnauthorized,
		api.CodeForbidden:           http.StatusForbidden,
		api.CodeThrottled:           http.StatusTooManyRequests,
		api.CodeTimeout:             http.StatusGatewayTimeout,
		api.CodeRejected:            http.StatusBadRequest,
		api.Code("no_such_code"):    http.StatusInternalServerError,
	}
	for code, want := range tests {
		if got := code.Status(); got != want {
			t.Errorf("%s.Status() = %d, want %d", code, got, want)
		}
	}
}
