package lambdahost

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

const (
	authEvent  = `{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:000000000000:abc/v1/POST/notification","headers":{"authorization":"Bearer tok-1"}}`
	proxyEvent = `{"httpMethod":"POST","headers":{"Authorization":"Bearer tok-1"},"requestContext":{"requestId":"r-1","stage":"v1","n":12.50},"body":"{}"}`
	allow      = `{"principalId":"lab:1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn"]}]},"context":{"client":"lab:1"}}`
	deny       = `{"principalId":"lab:1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["arn"]}]}}`
)

// authorizerOf returns the requestContext.authorizer of a proxy event
// payload, nil when it has none.
func authorizerOf(t *testing.T, payload []byte) map[string]any {
	t.Helper()

	var ev struct {
		RequestContext map[string]any `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}

	a, _ := ev.RequestContext["authorizer"].(map[string]any)

	return a
}

func TestAuthorizerContexts(t *testing.T) {
	t.Parallel()

	want := map[string]any{names.AuthContextPrincipalID: "lab:1", names.AuthContextClient: "lab:1"}

	tests := []struct {
		name   string
		answer func(a *authorizerContexts)
		proxy  string
		want   map[string]any
	}{
		{"allowed: added", func(a *authorizerContexts) { a.answered("auth-1", true, []byte(allow)) }, proxyEvent, want},
		{"denied: none", func(a *authorizerContexts) { a.answered("auth-1", true, []byte(deny)) }, proxyEvent, nil},
		{"authorizer failed: none", func(a *authorizerContexts) { a.answered("auth-1", false, []byte(`{"errorMessage":"Unauthorized"}`)) }, proxyEvent, nil},
		{"another token: none", func(a *authorizerContexts) { a.answered("auth-1", true, []byte(allow)) },
			strings.Replace(proxyEvent, "tok-1", "tok-2", 1), nil},
		{"answer to another invocation: none", func(a *authorizerContexts) { a.answered("other", true, []byte(allow)) }, proxyEvent, nil},
		{"event already has one: kept", func(a *authorizerContexts) { a.answered("auth-1", true, []byte(allow)) },
			strings.Replace(proxyEvent, `"stage":"v1"`, `"stage":"v1","authorizer":{"principalId":"aws"}`, 1), map[string]any{"principalId": "aws"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			a := newAuthorizerContexts()
			if got := a.invoked("auth-1", []byte(authEvent)); string(got) != authEvent {
				t.Fatalf("the authorizer's event changed: %s", got)
			}

			tt.answer(a)

			got := a.invoked("proc-1", []byte(tt.proxy))
			if auth := authorizerOf(t, got); !reflect.DeepEqual(auth, tt.want) {
				t.Errorf("requestContext.authorizer = %v, want %v", auth, tt.want)
			}

			if tt.want == nil && string(got) != tt.proxy {
				t.Errorf("an event without a recorded answer changed: %s", got)
			}

			if strings.Contains(string(got), "12.5") && !strings.Contains(string(got), "12.50") {
				t.Errorf("a number was rewritten: %s", got)
			}
		})
	}
}

// TestRuntimeProxyPassesAnswersAndAddsTheContext drives the proxy as
// kumo's functions do: the authorizer's answer reaches the emulator
// unchanged, and the processor's next event carries the context.
func TestRuntimeProxyPassesAnswersAndAddsTheContext(t *testing.T) {
	t.Parallel()

	fake := &fakeRuntimeAPI{queue: []string{authEvent, proxyEvent}, answered: map[string]string{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	rp, err := StartRuntimeProxy(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = rp.Close() })

	poll := func(fn string) (string, []byte) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+rp.Address(fn)+"/2018-06-01/runtime/invocation/next", http.NoBody)

		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}

		defer func() { _ = resp.Body.Close() }()

		b, _ := io.ReadAll(resp.Body)

		return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), b
	}

	id, _ := poll("authorizer")
	path := "/2018-06-01/runtime/invocation/" + id + "/response"

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+rp.Address("authorizer")+path, strings.NewReader(allow))

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	_ = resp.Body.Close()

	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("posting the answer: %s", resp.Status)
	}

	fake.mu.Lock()
	posted := fake.answered["/_runtime/authorizer"+path]
	fake.mu.Unlock()

	if posted != allow {
		t.Errorf("the emulator received %q, want the answer unchanged", posted)
	}

	_, event := poll("processor")
	if got := authorizerOf(t, event); got[names.AuthContextClient] != "lab:1" || got[names.AuthContextPrincipalID] != "lab:1" {
		t.Errorf("proxy event's authorizer = %v, want the authorizer's answer", got)
	}
}
