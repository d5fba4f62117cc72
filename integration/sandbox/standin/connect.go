package standin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// maxContactAttributesBytes is Amazon Connect's limit on the total size of
// a contact's attributes (keys and values, UTF-8).
const maxContactAttributesBytes = 32 * 1024

// UnreachableNumber is a fictional number (NANP 555-01xx) whose calls the
// stub always refuses with ErrDestinationNotAllowed, as Connect refuses a
// destination outside the instance's allowed countries: the sandbox's
// stack gives it to a contact so that the fallback to the next channel
// can be seen (make demo, make dev).
const UnreachableNumber = "+15555550111"

// ErrDestinationNotAllowed is Connect's permanent refusal of a destination
// (HTTP 403 DestinationNotAllowedException).
var ErrDestinationNotAllowed = &ConnectError{
	Status: http.StatusForbidden, Type: "DestinationNotAllowedException",
	Message: "the stub refuses calls to this destination",
}

// OutboundCall is one StartOutboundVoiceContact request the stub received
// (its body's fields) and how the stub answered it.
type OutboundCall struct {
	InstanceID             string `json:"InstanceId"`
	ContactFlowID          string `json:"ContactFlowId"`
	DestinationPhoneNumber string
	SourcePhoneNumber      string
	QueueID                string `json:"QueueId"`
	Attributes             map[string]string
	ClientToken            string
	// ContactID is what the stub answered ("" when it answered an error).
	ContactID string `json:"-"`
	// Replayed is true when ClientToken repeated an earlier request's, so
	// the earlier ContactID was answered again.
	Replayed bool `json:"-"`
	// Fault is the error answered, if any.
	Fault *ConnectError `json:"-"`
	// AnswerDropped is true when the call was placed but the stub closed
	// the connection instead of answering (ConnectError.DropAnswer).
	AnswerDropped bool `json:"-"`
}

// ConnectError is an error the stub answers, in Connect's REST-JSON error
// shape (status, X-Amzn-ErrorType, {"Message": ...}); a test's decide
// function returns one to inject a fault: throttling (429
// LimitExceededException), a server error (500 InternalServiceException)
// or a permanent refusal (403 DestinationNotAllowedException).
type ConnectError struct {
	Status  int
	Type    string
	Message string
	// DropAnswer is the ambiguous fault instead of an error answer: the
	// stub places the call as usual (a contact id, the token remembered)
	// and then closes the connection without answering, as when Connect's
	// answer is lost on the way back.
	DropAnswer bool
}

// Error implements error.
func (f *ConnectError) Error() string { return f.Type + ": " + f.Message }

// ConnectStub is TEST CODE standing in for Amazon Connect, which neither
// kumo nor LocalStack emulates. It serves StartOutboundVoiceContact on
// Connect's REST-JSON wire API (PUT /contact/outbound-voice), reached
// through AWS_ENDPOINT_URL_CONNECT. It places no call: it records each
// request and answers a ContactId, the first one again for a repeated
// ClientToken, as Connect de-duplicates. A request Connect would refuse
// (no instance or flow, a non-E.164 number, attributes over 32 KiB) is
// answered InvalidParameterException; FailDestination and SetDecide inject
// faults.
type ConnectStub struct {
	// URL is the stub's base URL, for AWS_ENDPOINT_URL_CONNECT.
	URL string

	srv *http.Server

	mu     sync.Mutex
	tokens map[string]string // ClientToken -> ContactID
	decide func(OutboundCall) *ConnectError
	// refused maps a destination to the fault every call to it gets.
	refused map[string]*ConnectError
	calls   observe.List[OutboundCall]
	// script and flow play placed calls (callscript.go).
	script  func(OutboundCall) CallOutcome
	flow    flowFunction
	results observe.List[CallResult]
}

// StartConnectStub serves a ConnectStub on a free port of 127.0.0.1.
func StartConnectStub(ctx context.Context) (*ConnectStub, error) {
	c := &ConnectStub{tokens: map[string]string{}, refused: map[string]*ConnectError{UnreachableNumber: ErrDestinationNotAllowed}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /contact/outbound-voice", c.startOutboundVoiceContact)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeConnectError(w, &ConnectError{
			Status:  http.StatusNotFound,
			Type:    "UnknownOperationException",
			Message: "the Connect stub serves only StartOutboundVoiceContact, not " + r.Method + " " + r.URL.Path,
		})
	})
	var err error
	if c.srv, c.URL, err = serve(ctx, "connect stub", mux); err != nil {
		return nil, err
	}
	return c, nil
}

// SetDecide installs a function that may answer a fault for a request
// (nil answers success). Pass nil to remove it.
func (c *ConnectStub) SetDecide(decide func(OutboundCall) *ConnectError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.decide = decide
}

// FailDestination makes every call to number answer fault (nil: place
// calls to it again). UnreachableNumber always fails until changed here.
func (c *ConnectStub) FailDestination(number string, fault *ConnectError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fault == nil {
		delete(c.refused, number)
		return
	}
	c.refused[number] = fault
}

func (c *ConnectStub) startOutboundVoiceContact(w http.ResponseWriter, r *http.Request) {
	var call OutboundCall
	if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
		writeConnectError(w, &ConnectError{Status: http.StatusBadRequest, Type: "InvalidRequestException", Message: "malformed body: " + err.Error()})
		return
	}
	c.mu.Lock()
	decide, refused := c.decide, c.refused[call.DestinationPhoneNumber]
	c.mu.Unlock()
	if call.Fault = validateCall(call); call.Fault == nil {
		call.Fault = refused
	}
	if call.Fault == nil && decide != nil {
		call.Fault = decide(call)
	}
	if call.Fault != nil && call.Fault.DropAnswer {
		call.Fault, call.AnswerDropped = nil, true
	}
	c.mu.Lock()
	if call.Fault == nil {
		if id, ok := c.tokens[call.ClientToken]; ok && call.ClientToken != "" {
			call.ContactID, call.Replayed = id, true
		} else {
			call.ContactID = newContactID()
			if call.ClientToken != "" {
				c.tokens[call.ClientToken] = call.ContactID
			}
		}
	}
	c.calls.Add(call) // under c.mu, so calls are kept in the order tokens were decided
	c.mu.Unlock()
	switch {
	case call.Fault != nil:
		writeConnectError(w, call.Fault)
		return
	case call.AnswerDropped:
		dropConnection(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"ContactId": call.ContactID})
	if !call.Replayed {
		go c.play(context.WithoutCancel(r.Context()), call) // the call rings after StartOutboundVoiceContact answers
	}
}

// validateCall checks what Connect requires of the request.
func validateCall(call OutboundCall) *ConnectError {
	invalid := func(msg string) *ConnectError {
		return &ConnectError{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: msg}
	}
	switch {
	case call.InstanceID == "":
		return invalid("InstanceId is required")
	case call.ContactFlowID == "":
		return invalid("ContactFlowId is required")
	case contact.ValidateE164(call.DestinationPhoneNumber) != nil:
		return invalid("DestinationPhoneNumber must be E.164, got " + call.DestinationPhoneNumber)
	case call.SourcePhoneNumber != "" && contact.ValidateE164(call.SourcePhoneNumber) != nil:
		return invalid("SourcePhoneNumber must be E.164, got " + call.SourcePhoneNumber)
	}
	size := 0
	for k, v := range call.Attributes {
		size += len(k) + len(v)
	}
	if size > maxContactAttributesBytes {
		return invalid(fmt.Sprintf("Attributes total %d bytes, over the 32768-byte limit", size))
	}
	return nil
}

func writeConnectError(w http.ResponseWriter, f *ConnectError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", f.Type)
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": f.Message})
}

// Calls returns every request received so far, in order.
func (c *ConnectStub) Calls() []OutboundCall { return c.calls.All() }

// WaitForCalls waits until n received requests satisfy match (nil matches
// all) and returns them, or fails when ctx ends first.
func (c *ConnectStub) WaitForCalls(ctx context.Context, n int, match func(OutboundCall) bool) ([]OutboundCall, error) {
	return c.calls.WaitFor(ctx, n, match, "connect stub: calls")
}

// Close stops the stub.
func (c *ConnectStub) Close() error { return closeServer(c.srv, "connect stub") }

// newContactID returns a random version-4 UUID, the shape of Connect's
// contact ids.
func newContactID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
