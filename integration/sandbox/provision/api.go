package provision

// Creators of the API component's resources: the REST API, its resource,
// authorizer, method and integration, the deployment and the stage.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// defaultIntegrationTimeoutMS is API Gateway's integration timeout when
// none is given.
const defaultIntegrationTimeoutMS = 29000

func createRestAPI(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 128)
	endpointType := apigwtypes.EndpointTypeEdge
	if t := in.obj("endpointConfiguration").str("types"); t != "" {
		endpointType = apigwtypes.EndpointType(t)
	}
	out, err := p.clients.APIGateway.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name:                  aws.String(name),
		Description:           aws.String(in.str("description")),
		EndpointConfiguration: &apigwtypes.EndpointConfiguration{Types: []apigwtypes.EndpointType{endpointType}},
		ApiKeySource:          apigwtypes.ApiKeySourceType(in.str("apiKeySource")),
		Tags:                  in.strMap("tags"),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateRestApi %s: %w", name, err)
	}
	id := aws.ToString(out.Id)
	return id, map[string]any{
		"name":           name,
		"rootResourceId": aws.ToString(out.RootResourceId),
		"executionArn":   p.arn("execute-api", id),
		"arn":            "arn:aws:apigateway:" + p.region + "::/restapis/" + id,
		"apiKeySource":   string(out.ApiKeySource),
	}, nil
}

// invokeURL is where a stage is invoked on the emulator. The real provider
// answers https://<api>.execute-api.<region>.amazonaws.com/<stage>; the
// sandbox answers the emulator's virtual host for the API instead, so
// stack outputs built from it work as they are: kumo routes by the
// <api>.execute-api.localhost Host header, curl resolves *.localhost to
// 127.0.0.1, and sandbox.LocalhostClient does the same for Go.
func (p *Provisioner) invokeURL(apiID, stage string) string {
	return "http://" + apiID + ".execute-api.localhost:" + p.port + "/" + stage
}

func createAPIResource(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	api, parent := in.str("restApi"), in.str("parentId")
	out, err := p.clients.APIGateway.CreateResource(ctx, &apigateway.CreateResourceInput{
		RestApiId: aws.String(api), ParentId: aws.String(parent), PathPart: aws.String(in.str("pathPart")),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateResource %s: %w", in.str("pathPart"), err)
	}
	return aws.ToString(out.Id), map[string]any{"path": aws.ToString(out.Path)}, nil
}

// createAuthorizer creates a REQUEST authorizer, the only type kumo runs.
func createAuthorizer(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	api, typ := in.str("restApi"), in.str("type")
	if typ != string(apigwtypes.AuthorizerTypeRequest) {
		return "", nil, fmt.Errorf("authorizer type %q: kumo runs only REQUEST authorizers", typ)
	}
	name = autoName(in, name, 128)
	out, err := p.clients.APIGateway.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId:      aws.String(api),
		Name:           aws.String(name),
		Type:           apigwtypes.AuthorizerTypeRequest,
		AuthorizerUri:  aws.String(in.str("authorizerUri")),
		IdentitySource: aws.String(in.str("identitySource")),
		// Absent means 300 s on AWS and in kumo; 0 disables caching.
		AuthorizerResultTtlInSeconds: aws.Int32(in.int32("authorizerResultTtlInSeconds", 300)),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateAuthorizer %s: %w", name, err)
	}
	id := aws.ToString(out.Id)
	return id, map[string]any{"name": name, "arn": "arn:aws:apigateway:" + p.region + "::/restapis/" + api + "/authorizers/" + id}, nil
}

// createMethod creates the method; requestModels names a resource on
// NotEmulated and is echoed only. kumo stores apiKeyRequired but checks no
// key (usage plans and keys are on NotEmulated).
func createMethod(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	api, res, method := in.str("restApi"), in.str("resourceId"), in.str("httpMethod")
	input := &apigateway.PutMethodInput{
		RestApiId: aws.String(api), ResourceId: aws.String(res), HttpMethod: aws.String(method),
		AuthorizationType: aws.String(in.str("authorization")),
		ApiKeyRequired:    in.flag("apiKeyRequired"),
	}
	if a := in.str("authorizerId"); a != "" {
		input.AuthorizerId = aws.String(a)
	}
	if _, err := p.clients.APIGateway.PutMethod(ctx, input); err != nil {
		return "", nil, fmt.Errorf("PutMethod %s on %s: %w", method, res, err)
	}
	return "agm-" + api + "-" + res + "-" + method, nil, nil
}

func createIntegration(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	api, res, method := in.str("restApi"), in.str("resourceId"), in.str("httpMethod")
	if _, err := p.clients.APIGateway.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId:             aws.String(api),
		ResourceId:            aws.String(res),
		HttpMethod:            aws.String(method),
		Type:                  apigwtypes.IntegrationType(in.str("type")),
		IntegrationHttpMethod: aws.String(in.str("integrationHttpMethod")),
		Uri:                   aws.String(in.str("uri")),
		TimeoutInMillis:       aws.Int32(in.int32("timeoutMilliseconds", defaultIntegrationTimeoutMS)),
	}); err != nil {
		return "", nil, fmt.Errorf("PutIntegration %s on %s: %w", method, res, err)
	}
	return "agi-" + api + "-" + res + "-" + method, nil, nil
}

// createDeployment deploys the API; triggers is echoed only (it forces a
// new deployment on `pulumi up`, and the sandbox always deploys afresh).
func createDeployment(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	api := in.str("restApi")
	out, err := p.clients.APIGateway.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
		RestApiId: aws.String(api), Description: aws.String(in.str("description")),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateDeployment of %s: %w", api, err)
	}
	return aws.ToString(out.Id), nil, nil
}

// createStage creates the stage; accessLogSettings is echoed only: nothing
// writes access logs in the sandbox.
func createStage(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	api, stage, deployment := in.str("restApi"), in.str("stageName"), in.str("deployment")
	if _, err := p.clients.APIGateway.CreateStage(ctx, &apigateway.CreateStageInput{
		RestApiId: aws.String(api), StageName: aws.String(stage), DeploymentId: aws.String(deployment),
		TracingEnabled: in.flag("xrayTracingEnabled"), Tags: in.strMap("tags"),
	}); err != nil {
		return "", nil, fmt.Errorf("CreateStage %s of %s: %w", stage, api, err)
	}
	return "ags-" + api + "-" + stage, map[string]any{
		"arn":          "arn:aws:apigateway:" + p.region + "::/restapis/" + api + "/stages/" + stage,
		"executionArn": p.arn("execute-api", api) + "/" + stage,
		"invokeUrl":    p.invokeURL(api, stage),
	}, nil
}
