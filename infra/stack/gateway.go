package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// requestIDVariable is the only variable a gateway response template
// holds: the id API Gateway gives the request, never anything the caller
// sent.
const requestIDVariable = "$context.requestId"

// GatewayResponse is one answer API Gateway gives itself, before the
// processor runs, in the processor's error envelope (api.ErrorBody).
type GatewayResponse struct {
	// Type is the API Gateway response type, e.g. "UNAUTHORIZED".
	Type string
	// Code is the envelope's error.code.
	Code api.Code
	// Message is the envelope's error.message: fixed text, no variables.
	Message string
	// KeepStatus leaves the HTTP status as API Gateway chose it (the
	// DEFAULT_4XX and DEFAULT_5XX catch-alls cover several statuses);
	// otherwise the status is Code.Status().
	KeepStatus bool
}

// GatewayResponses are the gateway responses of the API. The body is never
// API Gateway's own {"message": ...}, and never echoes the request: a
// template holds fixed text and the request id only (not
// $context.error.validationErrorString, which quotes the body). The
// processor is the only body validator, so API Gateway never answers 400
// for a bad body itself.
func GatewayResponses() []GatewayResponse {
	return []GatewayResponse{
		{Type: "UNAUTHORIZED", Code: api.CodeUnauthorized, Message: "The Authorization header is missing, or its token matches no API client."},
		{Type: "ACCESS_DENIED", Code: api.CodeForbidden, Message: "This API client may not call this method."},
		{Type: "WAF_FILTERED", Code: api.CodeForbidden, Message: "The web application firewall refused the request."},
		{Type: "THROTTLED", Code: api.CodeThrottled, Message: "Too many requests: retry shortly with the same body."},
		{Type: "QUOTA_EXCEEDED", Code: api.CodeThrottled, Message: "This API client's daily quota is used up: ask the operators to raise it."},
		{Type: "INTEGRATION_TIMEOUT", Code: api.CodeTimeout, Message: "The service did not answer in time; the alert may have been delivered: retry with the same body."},
		{Type: "DEFAULT_4XX", Code: api.CodeRejected, Message: "API Gateway refused the request before it reached the service.", KeepStatus: true},
		{Type: "DEFAULT_5XX", Code: api.CodeInternal, Message: "Internal error: retry with the same body.", KeepStatus: true},
	}
}

// StatusCode is the response's HTTP status, or "" to keep API Gateway's.
func (g GatewayResponse) StatusCode() string {
	if g.KeepStatus {
		return ""
	}
	return strconv.Itoa(g.Code.Status())
}

// Template is the response's application/json body template.
func (g GatewayResponse) Template() (string, error) {
	b, err := json.Marshal(api.ErrorBody{Error: api.ErrorDetail{Code: g.Code, Message: g.Message, RequestID: requestIDVariable}})
	if err != nil {
		return "", fmt.Errorf("gateway response %s: %w", g.Type, err)
	}
	return string(b), nil
}

// restSettings is every setting of the API's route, method, integration,
// authorizer, model and gateway responses that is not another resource's
// id. NewAPI builds those resources from it, and the deployment's trigger
// hashes all of it (with the ids), so that no change to what the stage
// serves can miss a redeploy: a REST API's stage serves a snapshot, and a
// change that is not redeployed is silently not live.
type restSettings struct {
	APIKeySource          string            `json:"apiKeySource"`
	Path                  string            `json:"path"`
	HTTPMethod            string            `json:"httpMethod"`
	Authorization         string            `json:"authorization"`
	APIKeyRequired        bool              `json:"apiKeyRequired"`
	IntegrationType       string            `json:"integrationType"`
	IntegrationHTTPMethod string            `json:"integrationHttpMethod"`
	IntegrationTimeoutMS  int               `json:"integrationTimeoutMs"`
	AuthorizerType        string            `json:"authorizerType"`
	IdentitySource        string            `json:"identitySource"`
	AuthorizerTTL         int               `json:"authorizerTtl"`
	ModelName             string            `json:"modelName"`
	ModelContentType      string            `json:"modelContentType"`
	ModelSchema           string            `json:"modelSchema"`
	GatewayResponses      []responseSetting `json:"gatewayResponses"`
	// StatusPath is the path part of GET /notification/{message_id},
	// under Path; StatusHTTPMethod its method. The route shares
	// Authorization, APIKeyRequired and the integration settings above.
	StatusPath       string `json:"statusPath"`
	StatusHTTPMethod string `json:"statusHttpMethod"`
	// AckPath is the path part of POST /notification/{message_id}/ack,
	// under StatusPath; AckHTTPMethod its method. It shares the
	// authorizer, Authorization and APIKeyRequired.
	AckPath       string `json:"ackPath"`
	AckHTTPMethod string `json:"ackHttpMethod"`
	// LinkPath and LinkTokenPath are /ack/{token}; LinkHTTPMethods its
	// methods (GET shows the page, POST acknowledges), which take no
	// authorizer (LinkAuthorization) and no API key (the clinician's
	// browser has none): the token in the path is the credential.
	LinkPath           string   `json:"linkPath"`
	LinkTokenPath      string   `json:"linkTokenPath"`
	LinkHTTPMethods    []string `json:"linkHttpMethods"`
	LinkAuthorization  string   `json:"linkAuthorization"`
	LinkAPIKeyRequired bool     `json:"linkApiKeyRequired"`
}

// authorizedRoutes are the routes behind the authorizer, in the form of
// names.AuthorizedRoutes ("<METHOD>/<path>", "*" for a path parameter),
// which the authorizer's Allow policy names.
func (s restSettings) authorizedRoutes() []string {
	return []string{
		s.HTTPMethod + "/" + s.Path,
		s.StatusHTTPMethod + "/" + s.Path + "/*",
		s.AckHTTPMethod + "/" + s.Path + "/*/" + s.AckPath,
	}
}

// responseSetting is a gateway response as the API creates it.
type responseSetting struct {
	Type       string            `json:"type"`
	StatusCode string            `json:"statusCode"`
	Templates  map[string]string `json:"templates"`
}

// newRestSettings returns the settings of the API for args.
func newRestSettings(args *APIArgs) (restSettings, error) {
	s := restSettings{
		APIKeySource:          apiKeySourceAuthorizer,
		Path:                  names.NotificationPath,
		HTTPMethod:            httpPost,
		Authorization:         authorizationCustom,
		APIKeyRequired:        true,
		IntegrationType:       integrationProxy,
		IntegrationHTTPMethod: httpPost,
		IntegrationTimeoutMS:  integrationTimeoutMS,
		AuthorizerType:        authorizerRequest,
		IdentitySource:        IdentitySource,
		AuthorizerTTL:         args.AuthorizerCacheTTL,
		ModelName:             AlertModelName,
		ModelContentType:      contentTypeJSON,
		ModelSchema:           string(alert.Schema()),
		StatusPath:            "{" + names.PathParamMessageID + "}",
		StatusHTTPMethod:      httpGet,
		AckPath:               names.AckPath,
		AckHTTPMethod:         httpPost,
		LinkPath:              names.AckPath,
		LinkTokenPath:         "{" + names.PathParamToken + "}",
		LinkHTTPMethods:       []string{httpGet, httpPost},
		LinkAuthorization:     authorizationNone,
		LinkAPIKeyRequired:    false,
	}
	for _, g := range GatewayResponses() {
		tmpl, err := g.Template()
		if err != nil {
			return restSettings{}, err
		}
		s.GatewayResponses = append(s.GatewayResponses, responseSetting{
			Type: g.Type, StatusCode: g.StatusCode(), Templates: map[string]string{contentTypeJSON: tmpl},
		})
	}
	return s, nil
}

// deploymentTrigger hashes settings with ids, the resolved ids and URIs
// of the resources the stage serves.
func deploymentTrigger(settings restSettings, ids pulumi.StringMap) (pulumi.StringOutput, error) {
	b, err := json.Marshal(settings)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("deployment trigger: %w", err)
	}
	return applyString(ids.ToStringMapOutput(), func(v map[string]string) (string, error) {
		return triggerHash(string(b), v)
	}), nil
}

// triggerHash is the SHA-256 of the settings' JSON and the ids.
func triggerHash(settings string, ids map[string]string) (string, error) {
	b, err := json.Marshal(map[string]any{"settings": settings, "ids": ids}) // map keys are sorted: a stable hash
	if err != nil {
		return "", fmt.Errorf("deployment trigger: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
