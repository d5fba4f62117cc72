package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// answerErr is an error answer as the SDK returns it.
func answerErr(status int, code string) error {
	var api error = &smithy.GenericAPIError{Code: code, Message: "injected"}
	return fmt.Errorf("operation error SNS: Publish: %w", &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      api,
		},
		RequestID: "req-1",
	})
}

func TestClassifyAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		code   string
		want   delivery.Class
	}{
		{429, "Throttled", delivery.Transient},                            // SNS
		{400, "KMSThrottling", delivery.Transient},                        // SNS
		{429, "LimitExceededException", delivery.Transient},               // Connect
		{400, "ThrottlingException", delivery.Transient},                  // any service
		{429, "", delivery.Transient},                                     // unmodelled 429
		{503, "ServiceUnavailable", delivery.Transient},                   // declined before acting
		{503, "", delivery.Transient},                                     //
		{400, "RequestTimeout", delivery.Transient},                       // the service never read it all
		{403, "ExpiredToken", delivery.Transient},                         // credentials about to refresh
		{400, "InvalidParameter", delivery.Permanent},                     // SNS: bad destination
		{400, "EndpointDisabled", delivery.Permanent},                     // SNS
		{403, "AuthorizationError", delivery.Permanent},                   // SNS: missing permission
		{400, "KMSAccessDenied", delivery.Permanent},                      // SNS
		{404, "NotFound", delivery.Permanent},                             // SNS: topic gone
		{403, "DestinationNotAllowedException", delivery.Permanent},       // Connect
		{403, "OutboundContactNotPermittedException", delivery.Permanent}, // Connect
		{404, "ResourceNotFoundException", delivery.Permanent},            // Connect: unknown contact flow
		{400, "InvalidParameterException", delivery.Permanent},            // Connect
		{400, "SomethingNew", delivery.Permanent},                         // any other refusal
		{500, "InternalError", delivery.Ambiguous},                        // SNS: may have published
		{500, "InternalServiceException", delivery.Ambiguous},             // Connect
		{502, "", delivery.Ambiguous},                                     // a gateway between
		{504, "", delivery.Ambiguous},                                     //
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			t.Parallel()
			err := Classify(answerErr(tt.status, tt.code), &Attempts{})
			var f *delivery.Error
			if !errors.As(err, &f) {
				t.Fatalf("Classify = %v, want a *delivery.Error", err)
			}
			if f.Class != tt.want {
				t.Errorf("class = %s, want %s", f.Class, tt.want)
			}
			if want := tt.code; want != "" && f.Code != want {
				t.Errorf("code = %q, want %q", f.Code, want)
			}
			if got := retryable(answerErr(tt.status, tt.code)); got != (tt.want == delivery.Transient) {
				t.Errorf("retryable = %v: the SDK may retry exactly the transient answers", got)
			}
		})
	}
}

func TestClassifyWithoutAnswer(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection reset by peer")
	tests := []struct {
		name     string
		err      error
		attempts *Attempts
		want     delivery.Class
		code     string
	}{
		{"never written", &unsentError{err: cause}, &Attempts{n: 1}, delivery.Transient, "not_sent"},
		{"no attempt at all (cancelled before sending)", context.Canceled, &Attempts{}, delivery.Transient, "not_sent"},
		{"written, no answer", cause, &Attempts{n: 1, wrote: true}, delivery.Ambiguous, "no_answer"},
		{"written, timed out", fmt.Errorf("send: %w", context.DeadlineExceeded), &Attempts{n: 1, wrote: true}, delivery.Ambiguous, "timeout"},
		{"answered 200, body unreadable", errors.New("deserialization failed"), &Attempts{n: 1, wrote: true, status: 200}, delivery.Ambiguous, "unreadable_answer"},
		{"invalid parameters", &smithy.InvalidParamsError{Context: "PublishInput"}, &Attempts{}, delivery.Permanent, "invalid_params"},
		{"not tracked", cause, nil, delivery.Ambiguous, "untracked"},
		{"transport error in a status-0 response error", fmt.Errorf("op: %w", &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{}}, Err: cause},
		}), &Attempts{n: 1, wrote: true}, delivery.Ambiguous, "no_answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f *delivery.Error
			if err := Classify(tt.err, tt.attempts); !errors.As(err, &f) || f.Class != tt.want || f.Code != tt.code {
				t.Errorf("Classify = %v, want %s %s", err, tt.want, tt.code)
			}
		})
	}
	if Classify(nil, &Attempts{}) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

// do sends one POST through the tracking client with a tracked context.
func do(t *testing.T, url string, timeout time.Duration) (*Attempts, error) {
	t.Helper()
	client, _ := ClientOptions(timeout)
	ctx, attempts := Track(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("Action=Publish&Message=hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	return attempts, err
}

func TestTrackingClient(t *testing.T) {
	t.Parallel()
	t.Run("connection refused: not sent, retryable", func(t *testing.T) {
		t.Parallel()
		ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		attempts, err := do(t, "http://"+addr, time.Second)
		var unsent *unsentError
		if !errors.As(err, &unsent) || !retryable(err) {
			t.Errorf("err = %v, want an unsent, retryable error", err)
		}
		if n, wrote, _ := attempts.last(); n != 1 || wrote {
			t.Errorf("attempts n=%d wrote=%v, want one attempt that wrote nothing", n, wrote)
		}
	})
	t.Run("connection dropped after the request: ambiguous, not retryable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = r.Body.Read(make([]byte, 64))
			hijack(w)
		}))
		defer srv.Close()
		attempts, err := do(t, srv.URL, time.Second)
		if err == nil || retryable(err) {
			t.Fatalf("err = %v, want a failure the SDK must not retry", err)
		}
		if f := Classify(err, attempts); delivery.ClassOf(f) != delivery.Ambiguous {
			t.Errorf("Classify = %v, want ambiguous", f)
		}
	})
	t.Run("no answer within the attempt timeout: ambiguous timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		attempts, err := do(t, srv.URL, 100*time.Millisecond)
		if err == nil || retryable(err) {
			t.Fatalf("err = %v, want a timeout the SDK must not retry", err)
		}
		var f *delivery.Error
		if !errors.As(Classify(err, attempts), &f) || f.Class != delivery.Ambiguous || f.Code != "timeout" {
			t.Errorf("Classify = %v, want ambiguous timeout", f)
		}
	})
	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
		defer srv.Close()
		attempts, err := do(t, srv.URL, time.Second)
		if n, wrote, status := attempts.last(); err != nil || n != 1 || !wrote || status != http.StatusTeapot {
			t.Errorf("err %v, attempts n=%d wrote=%v status=%d; want one answered attempt", err, n, wrote, status)
		}
	})
}

// hijack closes the connection without an answer, after the request was read.
func hijack(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}
