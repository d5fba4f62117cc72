// Package httpapi holds what every API handler of the service does the
// same way with an API Gateway proxy event: who the caller is (the
// authorizer's client), the request id, and the response with the
// headers every answer carries. The handlers (notify for POST, status for
// GET) keep their own logic.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Header values of every answer.
const (
	HeaderContentType = "Content-Type"
	ContentTypeJSON   = "application/json"
)

// ClientName is the API client the authorizer admitted: its context value
// names.AuthContextClient, else its principalId, as API Gateway passes
// them in the proxy event; "" when there is neither.
func ClientName(ev events.APIGatewayProxyRequest) string {
	for _, key := range []string{names.AuthContextClient, names.AuthContextPrincipalID} {
		if v, ok := ev.RequestContext.Authorizer[key].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// RequestID is the Lambda request id, else API Gateway's, else fresh().
func RequestID(ctx context.Context, ev events.APIGatewayProxyRequest, fresh func() string) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	if ev.RequestContext.RequestID != "" {
		return ev.RequestContext.RequestID
	}
	return fresh()
}

// Response builds a proxy response with the headers every answer carries
// (JSON, the request id) and extra.
func Response(status int, body, requestID string, extra map[string]string) events.APIGatewayProxyResponse {
	headers := map[string]string{
		HeaderContentType:     ContentTypeJSON,
		names.HeaderRequestID: requestID,
	}
	for k, v := range extra {
		headers[k] = v
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: body}
}

// MustJSON marshals the API's plain structs of strings, ints and slices of
// them, which cannot fail; it panics if one ever does.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("httpapi: marshal %T: %v", v, err))
	}
	return string(b)
}
