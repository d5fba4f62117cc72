// Package provider is what the sns and connect adapters share about the
// calls that deliver an alert: how a failure is classified (transient,
// permanent or ambiguous, see package delivery), and how their AWS SDK
// clients must be built so that the SDK retries only what provably did not
// take effect.
//
// The SDK's standard retryer also retries timeouts, dropped connections and
// 5xx answers, all of which may come after the provider has acted: a
// Publish retried that way can send an SMS twice. Clients built with
// ClientOptions instead retry only attempts the provider refused
// (throttling, 503) and attempts whose request never left this process
// (refused connections, DNS and TLS failures), and give each attempt its
// own timeout. Every other failure is final for the request and classified
// by Classify.
package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/a2p-alerts/a2p-alerts/services/processor/sdkhttp"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// Retry limits of the delivering clients: a few quick attempts, all well
// inside the processor's send window (notify.Budget).
const (
	maxAttempts = 3
	maxBackoff  = time.Second
)

// ClientOptions is what the SNS and Connect clients' options must be set
// to: an HTTP client with a per-attempt timeout that records whether each
// attempt's request was written and sends its body from memory (package
// sdkhttp), and a retryer that retries only failures that provably took no
// effect.
func ClientOptions(attemptTimeout time.Duration) (aws.HTTPClient, aws.Retryer) {
	client := &trackingClient{next: sdkhttp.Wrap(awshttp.NewBuildableClient().WithTimeout(attemptTimeout))}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary { return aws.BoolTernary(retryable(err)) }),
		}
	})
	return client, retryer
}

// retryable reports whether an attempt that failed with err may be
// repeated: its request was never sent, or the provider's answer says it
// did nothing.
func retryable(err error) bool {
	var unsent *unsentError
	if errors.As(err, &unsent) {
		return true
	}
	status, code, answered := answer(err)
	return answered && answerClass(status, code) == delivery.Transient
}

// transientCodes are the error codes with which a provider says it did
// nothing and may be asked again: throttling and quotas (the SDK's own
// list, SNS's Throttled and KMSThrottling, Connect's
// LimitExceededException), the service declining the request, and
// credentials or a clock that need a moment.
var transientCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "Throttled": true,
	"RequestThrottledException": true, "TooManyRequestsException": true, "RequestThrottled": true,
	"LimitExceededException": true, "RequestLimitExceeded": true, "SlowDown": true, "KMSThrottling": true,
	"ServiceUnavailable": true, "ServiceUnavailableException": true, "RequestTimeout": true,
	"RequestTimeoutException": true, "PriorRequestNotComplete": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "RequestExpired": true, "RequestTimeTooSkewed": true,
}

// answerClass classifies a provider's error answer: transient when the code
// or the status (429, 503) says it did nothing, permanent for any other
// 4xx (it refused the request and would refuse it again), ambiguous for
// the rest (a 5xx may come after the provider acted).
func answerClass(status int, code string) delivery.Class {
	switch {
	case transientCodes[code] || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return delivery.Transient
	case status >= 400 && status < 500:
		return delivery.Permanent
	default:
		return delivery.Ambiguous
	}
}

// answer returns the HTTP status and error code of an error answer;
// answered is false when err carries no answer. (The SDK wraps transport
// errors in a response error too, with status 0.)
func answer(err error) (status int, code string, answered bool) {
	var withStatus interface{ HTTPStatusCode() int }
	if !errors.As(err, &withStatus) || withStatus.HTTPStatusCode() == 0 {
		return 0, "", false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	return withStatus.HTTPStatusCode(), code, true
}

// Track returns a context for one provider call, and the record of its
// attempts that Classify reads. Pass the context to the SDK call.
func Track(ctx context.Context) (context.Context, *Attempts) {
	a := &Attempts{}
	return context.WithValue(ctx, attemptsKey{}, a), a
}

// Attempts records what happened to the last HTTP attempt of one provider
// call, as the tracking HTTP client saw it.
type Attempts struct {
	mu     sync.Mutex
	n      int
	wrote  bool // the last attempt's request was (at least partly) written
	status int  // the last attempt's HTTP status, 0 when no answer came
}

type attemptsKey struct{}

func (a *Attempts) record(wrote bool, status int) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	a.wrote, a.status = wrote, status
}

func (a *Attempts) last() (n int, wrote bool, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n, a.wrote, a.status
}

// Classify wraps err, the error of a provider call made with Track's
// context on a client built with ClientOptions, in the *delivery.Error
// that classifies it; nil stays nil.
//
//   - An error answer is classified by answerClass.
//   - A request the SDK refused to build (invalid parameters) is
//     permanent: it would be refused again.
//   - Without an answer, the last attempt decides: never written is
//     transient; written with no answer (a timeout, a dropped connection),
//     or answered 2xx with a body that could not be read, is ambiguous.
func Classify(err error, attempts *Attempts) error {
	if err == nil {
		return nil
	}
	if status, code, ok := answer(err); ok {
		if code == "" {
			code = http.StatusText(status)
		}
		return &delivery.Error{Class: answerClass(status, code), Code: code, Err: err}
	}
	var params *smithy.InvalidParamsError
	if errors.As(err, &params) {
		return &delivery.Error{Class: delivery.Permanent, Code: "invalid_params", Err: err}
	}
	if attempts == nil { // not tracked: nothing says it was not sent
		return &delivery.Error{Class: delivery.Ambiguous, Code: "untracked", Err: err}
	}
	n, wrote, status := attempts.last()
	switch {
	case n > 0 && status != 0:
		return &delivery.Error{Class: delivery.Ambiguous, Code: "unreadable_answer", Err: err}
	case n > 0 && wrote:
		code := "no_answer"
		var timeout interface{ Timeout() bool }
		if (errors.As(err, &timeout) && timeout.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
			code = "timeout"
		}
		return &delivery.Error{Class: delivery.Ambiguous, Code: code, Err: err}
	default:
		return &delivery.Error{Class: delivery.Transient, Code: "not_sent", Err: err}
	}
}

// unsentError marks an attempt whose request was never written: the
// provider cannot have acted on it.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return "request not sent: " + e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// trackingClient is an aws.HTTPClient that notes, per attempt, whether any
// of the request was written to the connection (httptrace), marks errors
// of attempts that wrote nothing as unsentError, and records each attempt
// in the call's Attempts.
type trackingClient struct {
	next aws.HTTPClient
}

// Do implements aws.HTTPClient.
func (c *trackingClient) Do(req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
		WroteHeaders:     func() { wrote.Store(true) },
		WroteRequest:     func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}
	attempts, _ := req.Context().Value(attemptsKey{}).(*Attempts)
	resp, err := c.next.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		attempts.record(wrote.Load(), 0)
		if !wrote.Load() {
			return nil, &unsentError{err: err}
		}
		return nil, err //nolint:wrapcheck // the SDK wraps transport errors itself
	}
	attempts.record(true, resp.StatusCode)
	return resp, nil
}
