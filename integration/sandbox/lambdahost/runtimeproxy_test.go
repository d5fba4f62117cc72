package lambdahost

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
)

// fakeRuntimeAPI serves /next from a queue of payloads and records the
// responses posted back, as kumo's Runtime API does.
type fakeRuntimeAPI struct {
	mu       sync.Mutex
	queue    []string
	answered map[string]string // request id -> response body
}

func (f *fakeRuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()

	switch {
	case r.Method == http.MethodGet && len(f.queue) > 0:
		id := "req-" + string(rune('a'+len(f.answered)+len(f.queue)))
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
		_, _ = io.WriteString(w, f.queue[0])
		f.queue = f.queue[1:]
	case r.Method == http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		f.answered[r.URL.Path] = string(b)
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestRuntimeProxyAnswersTheProbeAndAddsTraceHeaders checks next's two
// changes to what a process receives: it never sees the probe (the proxy
// answers it), and each invocation carries a trace header sampled as the
// function's tracing mode says.
func TestRuntimeProxyAnswersTheProbeAndAddsTraceHeaders(t *testing.T) {
	t.Parallel()

	fake := &fakeRuntimeAPI{queue: []string{readinessProbe, `{"event":1}`, `{"event":2}`}, answered: map[string]string{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	rp, err := StartRuntimeProxy(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = rp.Close() })

	rp.SetTracing("active", true)

	header := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=([01])$`)

	for _, tt := range []struct{ function, body, sampled string }{
		{"active", `{"event":1}`, "1"},
		{"passthrough", `{"event":2}`, "0"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+rp.Address(tt.function)+"/2018-06-01/runtime/invocation/next", http.NoBody)
		if err != nil {
			t.Fatal(err)
		}

		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}

		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()

		if string(body) != tt.body {
			t.Fatalf("%s received %s, want %s (the probe must not reach it)", tt.function, body, tt.body)
		}

		m := header.FindStringSubmatch(resp.Header.Get(headerTraceID))
		if m == nil || m[1] != tt.sampled {
			t.Errorf("%s: %s %q, want Sampled=%s", tt.function, headerTraceID, resp.Header.Get(headerTraceID), tt.sampled)
		}
	}

	fake.mu.Lock()
	defer fake.mu.Unlock()

	if len(fake.answered) != 1 {
		t.Fatalf("answers posted %v, want the probe's alone", fake.answered)
	}

	for path, answer := range fake.answered {
		if answer != probeAnswer || !regexp.MustCompile(`^/_runtime/active/2018-06-01/runtime/invocation/req-.+/response$`).MatchString(path) {
			t.Errorf("probe answered %s at %s", answer, path)
		}
	}
}
