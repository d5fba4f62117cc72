package standin

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
)

// Publish is one SNS Publish request that passed through the SNSProxy.
type Publish struct {
	TopicARN string
	Message  string
	Subject  string
	// Attributes are the message attributes' string values by name
	// (AWS.SNS.SMS.SMSType: Transactional).
	Attributes map[string]string
	// Fault is the fault injected, nil when the request was forwarded and
	// its answer passed back.
	Fault *SNSFault
}

// SNSFault is a fault the SNSProxy injects into a Publish: an error answer
// in SNS's query-protocol XML, without forwarding (throttling: 429
// Throttled; a server error: 500 InternalError; a permanent refusal: 400
// InvalidParameter or 403 AuthorizationError), or, with DropAnswer, the
// request forwarded (kumo publishes it) and the connection closed without
// an answer.
type SNSFault struct {
	Status     int
	Code       string
	Message    string
	DropAnswer bool
}

// SNSProxy is TEST CODE standing in for the failures of Amazon SNS, which
// kumo never produces. It is a reverse proxy in front of kumo's endpoint,
// reached by the processor through AWS_ENDPOINT_URL_SNS: every request is
// forwarded unchanged, except that a test's decide function may inject a
// fault into a Publish. It records every Publish, faulted or not.
type SNSProxy struct {
	// URL is the proxy's base URL, for AWS_ENDPOINT_URL_SNS.
	URL string

	target string
	client *http.Client
	srv    *http.Server

	mu        sync.Mutex
	decide    func(Publish) *SNSFault
	publishes observe.List[Publish]
}

// StartSNSProxy serves an SNSProxy on a free port of 127.0.0.1, forwarding
// to the emulator at endpoint.
func StartSNSProxy(ctx context.Context, endpoint string) (*SNSProxy, error) {
	p := &SNSProxy{target: strings.TrimSuffix(endpoint, "/"), client: &http.Client{Timeout: 30 * time.Second}}
	var err error
	if p.srv, p.URL, err = serve(ctx, "sns proxy", http.HandlerFunc(p.serve)); err != nil {
		return nil, err
	}
	return p, nil
}

// SetDecide installs a function that may return a fault for a Publish (nil
// forwards it). Pass nil to remove it.
func (p *SNSProxy) SetDecide(decide func(Publish) *SNSFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.decide = decide
}

func (p *SNSProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(body))
	if form.Get("Action") != "Publish" {
		p.forward(w, r, body)
		return
	}
	pub := publishOf(form)
	p.mu.Lock()
	if p.decide != nil {
		pub.Fault = p.decide(pub)
	}
	p.mu.Unlock()
	p.publishes.Add(pub)
	switch {
	case pub.Fault == nil:
		p.forward(w, r, body)
	case pub.Fault.DropAnswer:
		resp, err := p.send(r, body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_ = resp.Body.Close() // kumo has published: drop its answer
		dropConnection(w)
	default:
		writeSNSError(w, pub.Fault)
	}
}

// publishOf reads a Publish request's form.
func publishOf(form url.Values) Publish {
	pub := Publish{TopicARN: form.Get("TopicArn"), Message: form.Get("Message"), Subject: form.Get("Subject"), Attributes: map[string]string{}}
	for i := 1; form.Has(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)); i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		pub.Attributes[form.Get(prefix+"Name")] = form.Get(prefix + "Value.StringValue")
	}
	return pub
}

// forward sends the request to the emulator and passes its answer back.
func (p *SNSProxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, err := p.send(r, body)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// send sends the request, as received, to the emulator. The caller closes
// the answer's body; send closes it when the answer is dropped.
func (p *SNSProxy) send(r *http.Request, body []byte) (*http.Response, error) {
	// The host is always the emulator's; only the path comes from the
	// request, as with any reverse proxy.
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body)) //nolint:gosec // G704: see above
	if err != nil {
		return nil, fmt.Errorf("sns proxy: %w", err)
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req) //nolint:gosec // G704: the emulator's own endpoint
	if err != nil {
		return nil, fmt.Errorf("sns proxy: %w", err)
	}
	return resp, nil
}

// writeSNSError answers f in SNS's query-protocol error shape.
func writeSNSError(w http.ResponseWriter, f *SNSFault) {
	type errorResponse struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	var e errorResponse
	e.Xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"
	e.Error.Type, e.Error.Code, e.Error.Message = "Sender", f.Code, f.Message
	e.RequestID = newContactID()
	if f.Status >= http.StatusInternalServerError {
		e.Error.Type = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.Status)
	_ = xml.NewEncoder(w).Encode(e)
}

// Publishes returns every Publish so far, in order.
func (p *SNSProxy) Publishes() []Publish { return p.publishes.All() }

// Close stops the proxy.
func (p *SNSProxy) Close() error { return closeServer(p.srv, "sns proxy") }

// serve serves h on a free port of 127.0.0.1 and returns the server and
// its base URL.
func serve(ctx context.Context, what string, h http.Handler) (*http.Server, string, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("%s listen: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

func closeServer(srv *http.Server, what string) error {
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("close %s: %w", what, err)
	}
	return nil
}

// dropConnection closes the request's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}
