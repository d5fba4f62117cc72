package sandbox

// Creators for Lambda and API Gateway.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
)

// Lambda defaults the provider reports when an input is unset.
const (
	defaultLambdaTimeout = 3
	defaultLambdaMemory  = 128
	latestVersion        = "$LATEST"
)

func createFunction(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	name := autoName(in, "name", rec.Name, maxFunctionName)

	role := in.str("role")
	if role == "" {
		return "", nil, errMissing("role")
	}

	code, err := p.functionZip(in)
	if err != nil {
		return "", nil, fmt.Errorf("code of %s: %w", name, err)
	}

	timeout := in.int32("timeout", defaultLambdaTimeout)
	memory := in.int32("memorySize", defaultLambdaMemory)

	archs := in.strs("architectures")
	if len(archs) == 0 {
		archs = []string{"x86_64"}
	}

	tracing := "PassThrough"
	if tc := in.obj("tracingConfig"); tc != nil && tc.str("mode") != "" {
		tracing = tc.str("mode")
	}

	input := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String(role),
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
		Timeout:       aws.Int32(timeout),
		MemorySize:    aws.Int32(memory),
		PackageType:   lambdatypes.PackageTypeZip,
		TracingConfig: &lambdatypes.TracingConfig{Mode: lambdatypes.TracingMode(tracing)},
		Tags:          in.strMap("tags"),
	}

	if rt := in.str("runtime"); rt != "" {
		input.Runtime = lambdatypes.Runtime(rt)
	}

	if h := in.str("handler"); h != "" {
		input.Handler = aws.String(h)
	}

	if d := in.str("description"); d != "" {
		input.Description = aws.String(d)
	}

	for _, a := range archs {
		input.Architectures = append(input.Architectures, lambdatypes.Architecture(a))
	}

	if env := in.obj("environment"); env != nil {
		input.Environment = &lambdatypes.Environment{Variables: env.strMap("variables")}
	}

	out, err := p.clients.Lambda.CreateFunction(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateFunction %s: %w", name, err)
	}

	rec.code = code
	arn := aws.ToString(out.FunctionArn)
	sum := sha256.Sum256(code)
	hash := base64.StdEncoding.EncodeToString(sum[:])

	return name, map[string]any{
		"arn":                arn,
		"name":               name,
		"invokeArn":          p.lambdaInvokeArn(arn),
		"qualifiedArn":       arn + ":" + latestVersion,
		"qualifiedInvokeArn": p.lambdaInvokeArn(arn + ":" + latestVersion),
		"version":            latestVersion,
		"lastModified":       time.Now().UTC().Format("2006-01-02T15:04:05.000-0700"),
		"sourceCodeHash":     hash,
		"codeSha256":         hash,
		"sourceCodeSize":     float64(len(code)),
		"timeout":            float64(timeout),
		"memorySize":         float64(memory),
		"architectures":      toAnySlice(archs),
		"packageType":        "Zip",
		"tracingConfig":      map[string]any{"mode": tracing},
		"tagsAll":            tagsAll(in),
	}, nil
}

// lambdaInvokeArn is the API Gateway integration URI of a function, as the
// provider's invokeArn output.
func (p *Provisioner) lambdaInvokeArn(functionArn string) string {
	return "arn:aws:apigateway:" + p.region + ":lambda:path/2015-03-31/functions/" + functionArn + "/invocations"
}

// functionZip returns the function's deployment package as zip bytes.
func (p *Provisioner) functionZip(in props) ([]byte, error) {
	v, ok := in.value("code")
	if !ok || !v.IsArchive() {
		return nil, errNotZip
	}

	wd := p.workDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
	}

	var buf bytes.Buffer
	if err := v.ArchiveValue().ArchiveWithWD(archive.ZIPArchive, &buf, wd); err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}

	return buf.Bytes(), nil
}

func createPermission(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	fn := in.str("function")
	if fn == "" {
		return "", nil, errMissing("function")
	}

	sid := in.str("statementId")
	if sid == "" {
		sid = autoName(in, "statementId", rec.Name, maxStatementID)
	}

	input := &lambda.AddPermissionInput{
		FunctionName: aws.String(fn),
		StatementId:  aws.String(sid),
		Action:       aws.String(in.str("action")),
		Principal:    aws.String(in.str("principal")),
	}

	optional := map[string]**string{
		"sourceArn":        &input.SourceArn,
		"sourceAccount":    &input.SourceAccount,
		"qualifier":        &input.Qualifier,
		"eventSourceToken": &input.EventSourceToken,
		"principalOrgId":   &input.PrincipalOrgID,
	}
	for key, dst := range optional {
		if v := in.str(key); v != "" {
			*dst = aws.String(v)
		}
	}

	if _, err := p.clients.Lambda.AddPermission(ctx, input); err != nil {
		return "", nil, fmt.Errorf("AddPermission %s on %s: %w", sid, fn, err)
	}

	return sid, map[string]any{"statementId": sid}, nil
}

func createRestAPI(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	if in.has("body") {
		return "", nil, fmt.Errorf("an OpenAPI body is not supported: kumo cannot import one; declare resources and methods")
	}

	name := autoName(in, "name", rec.Name, maxGenericName)
	input := &apigateway.CreateRestApiInput{
		Name:                      aws.String(name),
		BinaryMediaTypes:          in.strs("binaryMediaTypes"),
		DisableExecuteApiEndpoint: in.flag("disableExecuteApiEndpoint"),
		Tags:                      in.strMap("tags"),
	}

	if d := in.str("description"); d != "" {
		input.Description = aws.String(d)
	}

	if s := in.str("apiKeySource"); s != "" {
		input.ApiKeySource = apigwtypes.ApiKeySourceType(s)
	}

	endpointType := "EDGE"
	if ec := in.obj("endpointConfiguration"); ec != nil && ec.str("types") != "" {
		endpointType = ec.str("types")
	}

	input.EndpointConfiguration = &apigwtypes.EndpointConfiguration{
		Types: []apigwtypes.EndpointType{apigwtypes.EndpointType(endpointType)},
	}

	out, err := p.clients.APIGateway.CreateRestApi(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateRestApi %s: %w", name, err)
	}

	id := aws.ToString(out.Id)

	return id, map[string]any{
		"name":           name,
		"rootResourceId": aws.ToString(out.RootResourceId),
		"executionArn":   p.executionArn(id),
		"arn":            "arn:aws:apigateway:" + p.region + "::/restapis/" + id,
		"createdDate":    time.Now().UTC().Format(time.RFC3339),
		"apiKeySource":   orDefault(in.str("apiKeySource"), "HEADER"),
		"tagsAll":        tagsAll(in),
	}, nil
}

// executionArn is the execute-api ARN of a REST API, the prefix of the
// source ARNs in Lambda permissions.
func (p *Provisioner) executionArn(apiID string) string {
	return p.arn("execute-api", apiID)
}

// invokeURL is where a stage is invoked on the emulator. The real provider
// answers https://<api>.execute-api.<region>.amazonaws.com/<stage>; the
// sandbox answers the emulator's virtual host for the API instead, so
// stack outputs built from it work as they are: kumo routes by the
// <api>.execute-api.localhost Host header, curl resolves *.localhost to
// 127.0.0.1, and Sandbox.HTTPClient does the same for Go.
func (p *Provisioner) invokeURL(apiID, stage string) string {
	return "http://" + apiID + ".execute-api.localhost:" + p.port + "/" + stage
}

func createAPIResource(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	api, parent := in.str("restApi"), in.str("parentId")
	if api == "" || parent == "" {
		return "", nil, errMissing("restApi and parentId")
	}

	out, err := p.clients.APIGateway.CreateResource(ctx, &apigateway.CreateResourceInput{
		RestApiId: aws.String(api),
		ParentId:  aws.String(parent),
		PathPart:  aws.String(in.str("pathPart")),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateResource %s: %w", in.str("pathPart"), err)
	}

	return aws.ToString(out.Id), map[string]any{"path": aws.ToString(out.Path)}, nil
}

func createMethod(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	api, res, method := in.str("restApi"), in.str("resourceId"), in.str("httpMethod")

	input := &apigateway.PutMethodInput{
		RestApiId:           aws.String(api),
		ResourceId:          aws.String(res),
		HttpMethod:          aws.String(method),
		AuthorizationType:   aws.String(in.str("authorization")),
		ApiKeyRequired:      in.flag("apiKeyRequired"),
		RequestModels:       in.strMap("requestModels"),
		AuthorizationScopes: in.strs("authorizationScopes"),
	}

	if a := in.str("authorizerId"); a != "" {
		input.AuthorizerId = aws.String(a)
	}

	if v := in.str("requestValidatorId"); v != "" {
		input.RequestValidatorId = aws.String(v)
	}

	if o := in.str("operationName"); o != "" {
		input.OperationName = aws.String(o)
	}

	if rp := in.obj("requestParameters"); rp != nil {
		input.RequestParameters = map[string]bool{}
		for k := range rp {
			input.RequestParameters[string(k)] = rp.flag(string(k))
		}
	}

	if _, err := p.clients.APIGateway.PutMethod(ctx, input); err != nil {
		return "", nil, fmt.Errorf("PutMethod %s on %s: %w", method, res, err)
	}

	return "agm-" + api + "-" + res + "-" + method, map[string]any{}, nil
}

func createIntegration(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	api, res, method := in.str("restApi"), in.str("resourceId"), in.str("httpMethod")
	timeout := in.int32("timeoutMilliseconds", 29000)

	input := &apigateway.PutIntegrationInput{
		RestApiId:          aws.String(api),
		ResourceId:         aws.String(res),
		HttpMethod:         aws.String(method),
		Type:               apigwtypes.IntegrationType(in.str("type")),
		RequestParameters:  in.strMap("requestParameters"),
		RequestTemplates:   in.strMap("requestTemplates"),
		CacheKeyParameters: in.strs("cacheKeyParameters"),
		TimeoutInMillis:    aws.Int32(timeout),
	}

	optional := map[string]**string{
		"integrationHttpMethod": &input.IntegrationHttpMethod,
		"uri":                   &input.Uri,
		"credentials":           &input.Credentials,
		"passthroughBehavior":   &input.PassthroughBehavior,
		"cacheNamespace":        &input.CacheNamespace,
		"connectionId":          &input.ConnectionId,
	}
	for key, dst := range optional {
		if v := in.str(key); v != "" {
			*dst = aws.String(v)
		}
	}

	if ch := in.str("contentHandling"); ch != "" {
		input.ContentHandling = apigwtypes.ContentHandlingStrategy(ch)
	}

	if ct := in.str("connectionType"); ct != "" {
		input.ConnectionType = apigwtypes.ConnectionType(ct)
	}

	if _, err := p.clients.APIGateway.PutIntegration(ctx, input); err != nil {
		return "", nil, fmt.Errorf("PutIntegration %s on %s: %w", method, res, err)
	}

	return "agi-" + api + "-" + res + "-" + method, map[string]any{
		"timeoutMilliseconds": float64(timeout),
		"cacheNamespace":      orDefault(in.str("cacheNamespace"), res),
		"connectionType":      orDefault(in.str("connectionType"), "INTERNET"),
	}, nil
}

func createAuthorizer(ctx context.Context, p *Provisioner, rec *Resource, in props) (string, map[string]any, error) {
	api := in.str("restApi")
	name := autoName(in, "name", rec.Name, maxGenericName)
	typ := orDefault(in.str("type"), "TOKEN")

	identity := in.str("identitySource")
	if identity == "" && typ == "TOKEN" {
		identity = "method.request.header.Authorization"
	}

	input := &apigateway.CreateAuthorizerInput{
		RestApiId:      aws.String(api),
		Name:           aws.String(name),
		Type:           apigwtypes.AuthorizerType(typ),
		IdentitySource: aws.String(identity),
		ProviderARNs:   in.strs("providerArns"),
	}

	// Absent means the provider's default of 300 s, which kumo applies too;
	// an explicit 0 disables caching.
	ttl := int32(300)
	if in.has("authorizerResultTtlInSeconds") {
		ttl = in.int32("authorizerResultTtlInSeconds", 300)
		input.AuthorizerResultTtlInSeconds = aws.Int32(ttl)
	}

	optional := map[string]**string{
		"authorizerUri":                &input.AuthorizerUri,
		"authorizerCredentials":        &input.AuthorizerCredentials,
		"identityValidationExpression": &input.IdentityValidationExpression,
	}
	for key, dst := range optional {
		if v := in.str(key); v != "" {
			*dst = aws.String(v)
		}
	}

	out, err := p.clients.APIGateway.CreateAuthorizer(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateAuthorizer %s: %w", name, err)
	}

	id := aws.ToString(out.Id)

	return id, map[string]any{
		"name":                         name,
		"type":                         typ,
		"identitySource":               identity,
		"authorizerResultTtlInSeconds": float64(ttl),
		"arn":                          "arn:aws:apigateway:" + p.region + "::/restapis/" + api + "/authorizers/" + id,
	}, nil
}

func createDeployment(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	api := in.str("restApi")
	stage := in.str("stageName")

	input := &apigateway.CreateDeploymentInput{
		RestApiId: aws.String(api),
		Variables: in.strMap("variables"),
	}

	optional := map[string]**string{
		"description":      &input.Description,
		"stageName":        &input.StageName,
		"stageDescription": &input.StageDescription,
	}
	for key, dst := range optional {
		if v := in.str(key); v != "" {
			*dst = aws.String(v)
		}
	}

	out, err := p.clients.APIGateway.CreateDeployment(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateDeployment of %s: %w", api, err)
	}

	return aws.ToString(out.Id), map[string]any{
		"createdDate":  time.Now().UTC().Format(time.RFC3339),
		"executionArn": p.executionArn(api) + "/" + stage,
		"invokeUrl":    p.invokeURL(api, stage),
	}, nil
}

func createStage(ctx context.Context, p *Provisioner, _ *Resource, in props) (string, map[string]any, error) {
	api, stage, deployment := in.str("restApi"), in.str("stageName"), in.str("deployment")
	if api == "" || stage == "" || deployment == "" {
		return "", nil, errMissing("restApi, stageName and deployment")
	}

	input := &apigateway.CreateStageInput{
		RestApiId:           aws.String(api),
		StageName:           aws.String(stage),
		DeploymentId:        aws.String(deployment),
		Variables:           in.strMap("variables"),
		Tags:                in.strMap("tags"),
		CacheClusterEnabled: in.flag("cacheClusterEnabled"),
		TracingEnabled:      in.flag("xrayTracingEnabled"),
	}

	if d := in.str("description"); d != "" {
		input.Description = aws.String(d)
	}

	if s := in.str("cacheClusterSize"); s != "" {
		input.CacheClusterSize = apigwtypes.CacheClusterSize(s)
	}

	if _, err := p.clients.APIGateway.CreateStage(ctx, input); err != nil {
		return "", nil, fmt.Errorf("CreateStage %s of %s: %w", stage, api, err)
	}

	return "ags-" + api + "-" + stage, map[string]any{
		"arn":          "arn:aws:apigateway:" + p.region + "::/restapis/" + api + "/stages/" + stage,
		"executionArn": p.executionArn(api) + "/" + stage,
		"invokeUrl":    p.invokeURL(api, stage),
		"webAclArn":    "",
		"tagsAll":      tagsAll(in),
	}, nil
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}

	return out
}
