package lambdahost

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"sync"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// authorizerContexts is TEST CODE standing in for what API Gateway adds to
// a Lambda proxy event and kumo leaves out (provision.NotEmulated):
// requestContext.authorizer, the principalId and context of the
// authorizer's Allow answer, from which the processor reads the API client.
// The RuntimeProxy sees the authorizer's REQUEST event, its answer, then
// the proxy event with the same Authorization header; the sandbox's stack
// caches no answer (TTL 0), so the answer recorded for a header is the one
// API Gateway would pass.
type authorizerContexts struct {
	mu sync.Mutex
	// pending maps an authorizer invocation's request id to the
	// Authorization value of its event, until its answer comes back.
	pending map[string]string
	// allowed maps an Authorization value to the requestContext.authorizer
	// of its last Allow answer.
	allowed map[string]map[string]any
}

func newAuthorizerContexts() *authorizerContexts {
	return &authorizerContexts{pending: map[string]string{}, allowed: map[string]map[string]any{}}
}

// event is the part of an invocation's payload the stand-in reads: an
// authorizer REQUEST event, or an API Gateway proxy event.
type event struct {
	Type           string            `json:"type"`
	MethodArn      string            `json:"methodArn"`
	HTTPMethod     string            `json:"httpMethod"`
	Headers        map[string]string `json:"headers"`
	RequestContext *struct {
		Authorizer map[string]any `json:"authorizer"`
	} `json:"requestContext"`
}

// authorization is the event's Authorization header value, looked up
// case-insensitively.
func (e *event) authorization() string {
	for k, v := range e.Headers {
		if strings.EqualFold(k, names.HeaderAuthorization) {
			return v
		}
	}
	return ""
}

// invoked looks at the payload of invocation requestID on its way to a
// function: it notes an authorizer event's Authorization header, and adds
// requestContext.authorizer to a proxy event that lacks it and whose
// header an Allow answer was recorded for. Any other payload passes as it
// is.
func (a *authorizerContexts) invoked(requestID string, payload []byte) []byte {
	var ev event
	if json.Unmarshal(payload, &ev) != nil {
		return payload
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case ev.Type == "REQUEST" && ev.MethodArn != "":
		a.pending[requestID] = ev.authorization()
	case ev.HTTPMethod != "" && ev.RequestContext != nil && ev.RequestContext.Authorizer == nil:
		if ctx, ok := a.allowed[ev.authorization()]; ok {
			return withAuthorizer(payload, ctx)
		}
	}
	return payload
}

// answered looks at the answer a function posted for invocation requestID:
// an authorizer's Allow answer to a noted event is recorded for that
// event's Authorization value. An error answer only forgets the event.
func (a *authorizerContexts) answered(requestID string, allowedAnswer bool, payload []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	header, ok := a.pending[requestID]
	if !ok {
		return
	}
	delete(a.pending, requestID)
	var answer struct {
		PrincipalID    string `json:"principalId"`
		PolicyDocument struct {
			Statement []struct {
				Effect string `json:"Effect"`
			} `json:"Statement"`
		} `json:"policyDocument"`
		Context map[string]any `json:"context"`
	}
	if !allowedAnswer || json.Unmarshal(payload, &answer) != nil {
		return
	}
	for _, s := range answer.PolicyDocument.Statement {
		if s.Effect != "Allow" {
			return
		}
	}
	a.allowed[header] = map[string]any{names.AuthContextPrincipalID: answer.PrincipalID}
	maps.Copy(a.allowed[header], answer.Context)
}

// withAuthorizer returns the proxy event payload with
// requestContext.authorizer set to ctx, every other field as it was.
func withAuthorizer(payload []byte, ctx map[string]any) []byte {
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // numbers pass unchanged
	if dec.Decode(&ev) != nil {
		return payload
	}
	rc, ok := ev["requestContext"].(map[string]any)
	if !ok {
		return payload
	}
	rc["authorizer"] = ctx
	out, err := json.Marshal(ev)
	if err != nil {
		return payload
	}
	return out
}
