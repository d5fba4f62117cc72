package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// headerTraceID is the Runtime API header carrying an invocation's X-Ray
// trace header; aws-lambda-go puts it in the context and _X_AMZN_TRACE_ID.
const headerTraceID = "Lambda-Runtime-Trace-Id"

// runtimeProxy sits between the function processes and kumo's Lambda
// Runtime API. It forwards every request and adds two things:
//
//   - What Lambda sends and kumo does not: a Lambda-Runtime-Trace-Id on
//     each invocation (Sampled=1 for functions with Active tracing,
//     Sampled=0 otherwise, as Lambda does without an upstream trace).
//     Without it the X-Ray SDK in a function sees an empty trace header,
//     never samples, and emits nothing.
//   - The readiness probe's answer: when kumo hands a process's poll the
//     probe invocation (see readinessProbe), the proxy answers it itself
//     and polls again for the process, which never sees it. The probe thus
//     proves that the process polls, without running any of its code
//     (a handler taking raw bytes, as the authorizer does, would run on
//     any payload).
type runtimeProxy struct {
	ln     net.Listener
	srv    *http.Server
	target *url.URL
	client *http.Client

	mu     sync.Mutex
	active map[string]bool // function name -> Active tracing
}

// startRuntimeProxy serves on a free port of 127.0.0.1, forwarding to the
// emulator at endpoint.
func startRuntimeProxy(ctx context.Context, endpoint string) (*runtimeProxy, error) {
	target, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("runtime proxy target: %w", err)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime proxy listen: %w", err)
	}

	rp := &runtimeProxy{
		ln:     ln,
		target: target,
		// No timeout: /next is a long poll that lasts until an invocation
		// comes; the process's own request bounds it.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		active: map[string]bool{},
	}

	forward := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		// A function process killed mid-request cancels it; that is how
		// the sandbox stops, not an error worth a log line.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_runtime/{function}/2018-06-01/runtime/invocation/next", rp.next)
	mux.Handle("/", forward)

	rp.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	go func() { _ = rp.srv.Serve(ln) }()

	return rp, nil
}

// setTracing records a function's tracing mode.
func (rp *runtimeProxy) setTracing(function string, active bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()

	rp.active[function] = active
}

// address returns the AWS_LAMBDA_RUNTIME_API value for a function.
func (rp *runtimeProxy) address(function string) string {
	return rp.ln.Addr().String() + "/_runtime/" + function
}

// next forwards a process's poll for its next invocation, answering the
// readiness probe itself and adding the trace header to what it passes on.
func (rp *runtimeProxy) next(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("function")

	for {
		status, header, body, err := rp.poll(r.Context(), r.URL.Path)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)

			return
		}

		if status == http.StatusOK && bytes.Equal(body, []byte(readinessProbe)) {
			if err := rp.answerProbe(r.Context(), fn, header.Get("Lambda-Runtime-Aws-Request-Id")); err != nil {
				w.WriteHeader(http.StatusBadGateway)

				return
			}

			continue
		}

		for k, vs := range header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}

		if status == http.StatusOK && w.Header().Get(headerTraceID) == "" {
			rp.mu.Lock()
			active := rp.active[fn]
			rp.mu.Unlock()

			w.Header().Set(headerTraceID, newTraceHeader(active))
		}

		w.WriteHeader(status)
		_, _ = w.Write(body)

		return
	}
}

// poll does one GET of path on the emulator.
func (rp *runtimeProxy) poll(ctx context.Context, path string) (int, http.Header, []byte, error) {
	// The host is always the emulator's; only the Runtime API path is the
	// function's, as with the reverse proxy.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.target.JoinPath(path).String(), http.NoBody) //nolint:gosec // see above
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}

	resp, err := rp.client.Do(req) //nolint:gosec // the emulator, see above
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}

	return resp.StatusCode, resp.Header, body, nil
}

// answerProbe posts the readiness probe's response, as the function would.
func (rp *runtimeProxy) answerProbe(ctx context.Context, fn, requestID string) error {
	path := "/_runtime/" + fn + "/2018-06-01/runtime/invocation/" + requestID + "/response"

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.target.JoinPath(path).String(), strings.NewReader(probeAnswer)) //nolint:gosec // the emulator's Runtime API
	if err != nil {
		return fmt.Errorf("runtime proxy: %w", err)
	}

	resp, err := rp.client.Do(req) //nolint:gosec // the emulator's Runtime API
	if err != nil {
		return fmt.Errorf("runtime proxy: answer probe: %w", err)
	}

	_ = resp.Body.Close()

	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime proxy: probe answer got %s", resp.Status)
	}

	return nil
}

// newTraceHeader returns a fresh X-Ray trace header: a root trace id
// (1-<epoch seconds hex>-<96 random bits>), a parent segment id, and the
// sampling decision.
func newTraceHeader(sampled bool) string {
	decision := "0"
	if sampled {
		decision = "1"
	}

	return "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(24) +
		";Parent=" + randomHex(16) + ";Sampled=" + decision
}

// close stops the proxy at once, cutting any open long-polls.
func (rp *runtimeProxy) close() error {
	if err := rp.srv.Close(); err != nil {
		return fmt.Errorf("close runtime proxy: %w", err)
	}

	return nil
}
