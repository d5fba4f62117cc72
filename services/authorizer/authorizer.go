package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// ErrUnauthorized is the only error the authorizer returns for a request it
// refuses. API Gateway answers 401 when the authorizer fails with exactly
// the message "Unauthorized", so the text must not change.
var ErrUnauthorized = errors.New("Unauthorized")

// MaxAuthorizationBytes bounds the Authorization value (or TOKEN event
// token) the authorizer will look at; anything longer is malformed.
const MaxAuthorizationBytes = 4 << 10

// Event types API Gateway sends to a Lambda authorizer.
const (
	eventTypeRequest = "REQUEST"
	eventTypeToken   = "TOKEN"
)

// Policy of an allowed request.
const (
	policyVersion = "2012-10-17"
	policyAction  = "execute-api:Invoke"
	policyAllow   = "Allow"
	bearerScheme  = "Bearer"
)

// Reasons of a denial, logged as "reason".
const (
	reasonMissing   = "missing"
	reasonUnknown   = "unknown"
	reasonMalformed = "malformed"
)

// Log keys and values of the decision line.
const (
	logMessage   = "authorizer decision"
	logRequestID = "request_id"
	logOutcome   = "outcome"
	logClient    = "client"
	logReason    = "reason"
	logDetail    = "detail"
	logEventType = "event_type"
	outcomeAllow = "allow"
	outcomeDeny  = "deny"
)

// event holds the fields of both authorizer event shapes that the
// authorizer reads: TOKEN ({type, authorizationToken, methodArn}) and
// REQUEST ({type, methodArn, headers, multiValueHeaders, ...}).
type event struct {
	Type               string              `json:"type"`
	MethodArn          string              `json:"methodArn"`
	AuthorizationToken string              `json:"authorizationToken"`
	Headers            map[string]string   `json:"headers"`
	MultiValueHeaders  map[string][]string `json:"multiValueHeaders"`
}

// denial says why a request is refused. detail is a fixed text that never
// holds any part of the token.
type denial struct {
	reason string
	detail string
}

// Authorizer is the API Gateway Lambda authorizer: it allows a request whose
// token hashes to one of its clients' hashes and refuses every other with
// ErrUnauthorized. It is safe for concurrent use.
type Authorizer struct {
	clients []Client
	log     *slog.Logger
}

var _ lambda.Handler = (*Authorizer)(nil)

// New returns an Authorizer for clients (as ParseClients returns them) that
// writes one log line per decision to logger.
func New(clients []Client, logger *slog.Logger) (*Authorizer, error) {
	if logger == nil {
		return nil, errors.New("authorizer: logger is nil")
	}
	if err := validateClients(clients); err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	return &Authorizer{clients: append([]Client(nil), clients...), log: logger}, nil
}

// Invoke implements lambda.Handler: it decodes the raw event itself, so that
// a malformed event is refused with ErrUnauthorized like any other bad
// request, and encodes the policy on success.
func (a *Authorizer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, err := a.Authorize(ctx, payload)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode authorizer response: %w", err)
	}
	return out, nil
}

// Authorize decides on one raw authorizer event (REQUEST or TOKEN shape).
// On success it returns an Allow policy for every route behind the
// authorizer on the event's API and stage (allowedResources) with the
// client's name as principalId and in the context under
// names.AuthContextClient, and the client's usage key as
// usageIdentifierKey (the REST API takes API keys from the authorizer, so
// this selects the client's usage plan). Otherwise it returns
// ErrUnauthorized. Either way it logs one line, which never contains the
// token, its hash or the usage key.
func (a *Authorizer) Authorize(ctx context.Context, payload []byte) (events.APIGatewayCustomAuthorizerResponse, error) {
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		// The decoder's message can quote bytes of the payload: do not log it.
		return a.deny(ctx, "", denial{reasonMalformed, "event is not valid JSON"})
	}
	value, d := authorizationValue(&ev)
	if d != nil {
		return a.deny(ctx, ev.Type, *d)
	}
	resources, ok := allowedResources(ev.MethodArn)
	if !ok {
		return a.deny(ctx, ev.Type, denial{reasonMalformed, "methodArn is missing or not an execute-api method ARN"})
	}
	token, d := parseToken(value)
	if d != nil {
		return a.deny(ctx, ev.Type, *d)
	}
	client, ok := a.match(token)
	if !ok {
		return a.deny(ctx, ev.Type, denial{reasonUnknown, "token matches no client"})
	}

	a.log.LogAttrs(ctx, slog.LevelInfo, logMessage,
		slog.String(logRequestID, requestID(ctx)),
		slog.String(logOutcome, outcomeAllow),
		slog.String(logClient, client.Name),
		slog.String(logEventType, ev.Type),
	)
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:        client.Name,
		UsageIdentifierKey: client.UsageKey,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: policyVersion,
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{policyAction},
				Effect:   policyAllow,
				Resource: resources,
			}},
		},
		Context: map[string]any{names.AuthContextClient: client.Name},
	}, nil
}

// allowedResources are the execute-api ARNs the Allow policy names: one per
// names.AuthorizedRoutes, on the API and stage of methodArn
// ("arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>").
// API Gateway caches an authorizer's answer per token, not per route, and
// applies the cached policy to the token's next request on any route: a
// policy naming only the method it was asked about would refuse (403) a
// GET after a POST. ok is false when methodArn is not such an ARN.
func allowedResources(methodArn string) ([]string, bool) {
	parts := strings.SplitN(methodArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "execute-api" {
		return nil, false
	}
	segs := strings.SplitN(parts[5], "/", 4)
	if len(segs) < 3 || segs[0] == "" || segs[1] == "" {
		return nil, false
	}
	base := strings.Join(parts[:5], ":") + ":" + segs[0] + "/" + segs[1] + "/"
	out := make([]string, 0, len(names.AuthorizedRoutes))
	for _, route := range names.AuthorizedRoutes {
		out = append(out, base+route)
	}
	return out, true
}

// match hashes token and compares the hash with every client's hash in
// constant time, without stopping at a match, so that the time taken does
// not depend on which client (if any) matched.
func (a *Authorizer) match(token string) (Client, bool) {
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.clients {
		eq := subtle.ConstantTimeCompare(sum[:], a.clients[i].Hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Client{}, false
	}
	return a.clients[found], true
}

// deny logs a refusal and returns ErrUnauthorized.
func (a *Authorizer) deny(ctx context.Context, eventType string, d denial) (events.APIGatewayCustomAuthorizerResponse, error) {
	a.log.LogAttrs(ctx, slog.LevelWarn, logMessage,
		slog.String(logRequestID, requestID(ctx)),
		slog.String(logOutcome, outcomeDeny),
		slog.String(logReason, d.reason),
		slog.String(logDetail, d.detail),
		slog.String(logEventType, eventType),
	)
	return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
}

// requestID is the Lambda request id of the invocation, or "" outside Lambda.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// authorizationValue returns the credential of the event: the
// authorizationToken of a TOKEN event, or the Authorization header of a
// REQUEST event, looked up case-insensitively in headers and
// multiValueHeaders. Several different Authorization values are refused as
// ambiguous rather than guessing which one API Gateway meant.
func authorizationValue(ev *event) (string, *denial) {
	switch ev.Type {
	case eventTypeToken:
		if ev.AuthorizationToken == "" {
			return "", &denial{reasonMissing, "TOKEN event has no authorizationToken"}
		}
		return ev.AuthorizationToken, nil
	case eventTypeRequest:
		var (
			value    string
			found    bool
			conflict bool
		)
		see := func(v string) {
			switch {
			case !found:
				value, found = v, true
			case v != value:
				conflict = true
			}
		}
		for k, v := range ev.Headers {
			if strings.EqualFold(k, names.HeaderAuthorization) {
				see(v)
			}
		}
		for k, vs := range ev.MultiValueHeaders {
			if strings.EqualFold(k, names.HeaderAuthorization) {
				for _, v := range vs {
					see(v)
				}
			}
		}
		switch {
		case !found:
			return "", &denial{reasonMissing, "no Authorization header"}
		case conflict:
			return "", &denial{reasonMalformed, "several different Authorization headers"}
		}
		return value, nil
	default:
		return "", &denial{reasonMalformed, "event type is neither REQUEST nor TOKEN"}
	}
}

// parseToken takes the token out of an Authorization value, which is either
// the raw token or "Bearer <token>" (scheme case-insensitive, RFC 9110). A
// token is 1 to MaxAuthorizationBytes visible ASCII characters.
func parseToken(value string) (string, *denial) {
	if len(value) > MaxAuthorizationBytes {
		return "", &denial{reasonMalformed, "Authorization value is too long"}
	}
	value = strings.Trim(value, " \t")
	token := value
	if scheme, rest, ok := strings.Cut(value, " "); ok && strings.EqualFold(scheme, bearerScheme) {
		token = strings.TrimLeft(rest, " ")
	} else if strings.EqualFold(value, bearerScheme) {
		token = ""
	}
	if token == "" {
		return "", &denial{reasonMissing, "empty token"}
	}
	for i := range len(token) {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return "", &denial{reasonMalformed, "token has a space, control or non-ASCII character"}
		}
	}
	return token, nil
}
