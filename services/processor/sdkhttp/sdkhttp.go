// Package sdkhttp is the HTTP client under the processor's AWS SDK clients:
// it sends each request's body from memory.
//
// The SDK hands net/http a body reader of its own. net/http then writes the
// headers and the body in two writes (two system calls, two TLS records on
// AWS), and, measured here with the SDK's DynamoDB client and a local
// server, between 1% and 15% of the SDK's requests left their connection
// unfit for reuse, so the next call dialled a new one: on AWS, a new TLS
// handshake. Sent from memory, the request goes out in one write and every
// connection is reused (TestConnectionsAreReused).
package sdkhttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxBuffered is the largest body sent from memory. The processor's bodies
// are a few KiB at most (an alert's text is 1,000 characters); a larger
// body goes out as the SDK gives it.
const maxBuffered = 1 << 20

// Client sends each request through next with its body read into memory
// first.
type Client struct {
	next aws.HTTPClient
}

var _ aws.HTTPClient = (*Client)(nil)

// Wrap returns a Client sending through next.
func Wrap(next aws.HTTPClient) *Client {
	return &Client{next: next}
}

// Do implements aws.HTTPClient. A body that cannot be read fails the
// request before anything is sent.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > maxBuffered {
		return c.next.Do(req) //nolint:wrapcheck // the SDK wraps transport errors itself
	}
	body := make([]byte, req.ContentLength)
	_, err := io.ReadFull(req.Body, body)
	if closeErr := req.Body.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	out := *req // shallow, as http.Request.WithContext makes
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c.next.Do(&out) //nolint:wrapcheck // the SDK wraps transport errors itself
}
