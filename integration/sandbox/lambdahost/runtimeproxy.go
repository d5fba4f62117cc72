package lambdahost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// headerTraceID is the Runtime API header carrying an invocation's X-Ray
// trace header; aws-lambda-go puts it in the context and _X_AMZN_TRACE_ID.
const headerTraceID = "Lambda-Runtime-Trace-Id"

// RuntimeProxy sits between the function processes and kumo's Lambda
// Runtime API. It forwards every request and changes what a function's
// poll (GET .../invocation/next) receives, where kumo differs from Lambda:
//
//   - It adds a Lambda-Runtime-Trace-Id to each invocation (Sampled=1 for
//     functions with Active tracing, Sampled=0 otherwise, as Lambda does
//     without an upstream trace). kumo sends none, and without it the X-Ray
//     SDK in a function never samples and emits nothing.
//   - It answers the readiness probe (see WaitReady) itself and polls again
//     for the process, which never sees it. The probe thus proves that the
//     process polls, without running any of its code (the authorizer takes
//     raw bytes and would run on any payload).
//   - It adds requestContext.authorizer to proxy events, as API Gateway
//     does and kumo does not, from the authorizer's own answer, which it
//     sees posted back through it (authorizerContexts).
type RuntimeProxy struct {
	ln     net.Listener
	srv    *http.Server
	target *url.URL
	client *http.Client
	auth   *authorizerContexts

	mu     sync.Mutex
	active map[string]bool // function name -> Active tracing
}

// StartRuntimeProxy serves on a free port of 127.0.0.1, forwarding to the
// emulator at endpoint.
func StartRuntimeProxy(ctx context.Context, endpoint string) (*RuntimeProxy, error) {
	target, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("runtime proxy target: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime proxy listen: %w", err)
	}
	rp := &RuntimeProxy{
		ln:     ln,
		target: target,
		// No timeout: /next is a long poll that lasts until an invocation
		// comes; the process's own request bounds it.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		auth:   newAuthorizerContexts(),
		active: map[string]bool{},
	}
	forward := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		// A function process killed mid-request cancels it; that is how the
		// sandbox stops, not an error worth a log line.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_runtime/{function}/2018-06-01/runtime/invocation/next", rp.next)
	mux.HandleFunc("POST /_runtime/{function}/2018-06-01/runtime/invocation/{id}/{result}", rp.result)
	mux.Handle("/", forward)
	rp.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rp.srv.Serve(ln) }()
	return rp, nil
}

// SetTracing records whether a function has Active tracing.
func (rp *RuntimeProxy) SetTracing(function string, active bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.active[function] = active
}

// Address returns the AWS_LAMBDA_RUNTIME_API value for a function.
func (rp *RuntimeProxy) Address(function string) string {
	return rp.ln.Addr().String() + "/_runtime/" + function
}

// next forwards a process's poll for its next invocation, answering the
// readiness probe itself and adding the trace header (and, to a proxy
// event, the authorizer's context) to what it passes on.
func (rp *RuntimeProxy) next(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("function")
	for {
		status, header, body, err := rp.do(r.Context(), http.MethodGet, r.URL.Path, nil)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if status == http.StatusOK && bytes.Equal(body, []byte(readinessProbe)) {
			answer := "/_runtime/" + fn + "/2018-06-01/runtime/invocation/" + header.Get("Lambda-Runtime-Aws-Request-Id") + "/response"
			if status, _, _, err := rp.do(r.Context(), http.MethodPost, answer, []byte(probeAnswer)); err != nil || status != http.StatusAccepted {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			continue
		}
		maps.Copy(w.Header(), header)
		w.Header().Del("Content-Length") // the body may have grown
		if status == http.StatusOK {
			body = rp.auth.invoked(header.Get("Lambda-Runtime-Aws-Request-Id"), body)
			if w.Header().Get(headerTraceID) == "" {
				rp.mu.Lock()
				w.Header().Set(headerTraceID, newTraceHeader(rp.active[fn]))
				rp.mu.Unlock()
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
}

// result forwards a function's answer (".../response") or failure
// (".../error") for an invocation, letting the authorizer contexts see it
// first.
func (rp *RuntimeProxy) result(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rp.auth.answered(r.PathValue("id"), r.PathValue("result") == "response", body)
	status, header, answer, err := rp.do(r.Context(), http.MethodPost, r.URL.Path, body, r.Header)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	maps.Copy(w.Header(), header)
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// do sends one request for path to the emulator's Runtime API.
func (rp *RuntimeProxy) do(ctx context.Context, method, path string, body []byte, header ...http.Header) (int, http.Header, []byte, error) {
	// The host is always the emulator's; only the Runtime API path is the
	// function's, as with the reverse proxy.
	req, err := http.NewRequestWithContext(ctx, method, rp.target.JoinPath(path).String(), bytes.NewReader(body)) //nolint:gosec // see above
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}
	for _, h := range header {
		maps.Copy(req.Header, h)
	}
	resp, err := rp.client.Do(req) //nolint:gosec // the emulator, see above
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("runtime proxy: %w", err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// newTraceHeader returns a fresh X-Ray trace header: a root trace id
// (1-<epoch seconds hex>-<96 random bits>), a parent segment id and the
// sampling decision.
func newTraceHeader(sampled bool) string {
	decision := "0"
	if sampled {
		decision = "1"
	}
	return "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(12) + ";Parent=" + randomHex(8) + ";Sampled=" + decision
}

// randomHex returns 2n random lowercase hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// Close stops the proxy at once, cutting any open long-polls.
func (rp *RuntimeProxy) Close() error {
	if err := rp.srv.Close(); err != nil {
		return fmt.Errorf("close runtime proxy: %w", err)
	}
	return nil
}
