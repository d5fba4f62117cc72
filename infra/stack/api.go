package stack

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// APIType is the type token of the API component. (The Go name is API,
// the token's RestApi: the token is kept as first deployed, since renaming
// it would replace live resources.)
const APIType = "a2p:api:RestApi"

// Fixed settings of the API.
const (
	// StageName is the API's only stage.
	StageName = "v1"
	// AlertModelName names the request model (alphanumeric only).
	AlertModelName = "Alert"
	// IdentitySource is where the REQUEST authorizer finds the token;
	// API Gateway answers 401 without calling it when the header is absent.
	IdentitySource = "method.request.header." + names.HeaderAuthorization

	contentTypeJSON        = "application/json"
	httpPost               = "POST"
	httpGet                = "GET"
	authorizationCustom    = "CUSTOM"
	authorizerRequest      = "REQUEST"
	integrationProxy       = "AWS_PROXY"
	endpointRegional       = "REGIONAL"
	apiKeySourceAuthorizer = "AUTHORIZER"
	usagePlanKeyType       = "API_KEY"
	quotaPeriodDay         = "DAY"
	// integrationTimeoutMS is API Gateway's default and maximum for a
	// regional REST API; the processor's own timeout is well below it.
	integrationTimeoutMS = 29000
)

// APIArgs configures the API component.
type APIArgs struct {
	// Name names the REST API and prefixes the names of its usage plans.
	Name string
	// Authorizer and Processor are the functions behind the API; Status
	// is the read-only function behind GET /notification/{message_id}; Ack
	// is behind POST /notification/{message_id}/ack and /ack/{token}.
	Authorizer, Processor, Status, Ack *lambda.Function
	// AuthorizerCacheTTL is the authorizer result TTL in seconds.
	AuthorizerCacheTTL int
	// ThrottleRateLimit and ThrottleBurstLimit throttle every method.
	ThrottleRateLimit  float64
	ThrottleBurstLimit int
	// Clients get one usage plan each.
	Clients []ClientPlan
	// LogRetentionDays is the access log group's retention.
	LogRetentionDays int
	// EnableWAF attaches a regional web ACL to the stage.
	EnableWAF bool
	// ManageAccount makes this stack own the region's API Gateway account
	// settings: the CloudWatch Logs role that access logging needs.
	ManageAccount bool
	// Partition, Region, AccountID scope the account role's policies.
	Partition, Region, AccountID string
}

// ClientPlan is one API client's usage plan.
type ClientPlan struct {
	// Client is the API client's name.
	Client string
	// Limits are the plan's rate, burst and daily quota.
	Limits ClientLimits
	// KeyID is the client's API key (APIKeys).
	KeyID pulumi.IDOutput
}

// API holds the REST API and everything that serves POST /notification.
type API struct {
	pulumi.ResourceState

	// Name is the REST API's name.
	Name string
	// RestAPI is the regional REST API; it takes API keys from the
	// authorizer.
	RestAPI *apigateway.RestApi
	// Resource is /notification.
	Resource *apigateway.Resource
	// Authorizer is the REQUEST authorizer.
	Authorizer *apigateway.Authorizer
	// Model is the alert's JSON Schema (alert.Schema), for documentation
	// and clients; API Gateway does not validate with it.
	Model *apigateway.Model
	// Method is POST /notification.
	Method *apigateway.Method
	// Integration proxies Method to the processor.
	Integration *apigateway.Integration
	// GatewayResponses by response type (GatewayResponses).
	GatewayResponses map[string]*apigateway.Response
	// ProcessorPermission lets this API's POST /notification invoke the
	// processor.
	ProcessorPermission *lambda.Permission
	// AuthorizerPermission lets this API's authorizer invoke the
	// authorizer function.
	AuthorizerPermission *lambda.Permission
	// StatusResource is /notification/{message_id}; StatusMethod its GET,
	// behind the same authorizer; StatusIntegration proxies it to the
	// status function, which StatusPermission lets this API invoke for
	// that route only.
	StatusResource    *apigateway.Resource
	StatusMethod      *apigateway.Method
	StatusIntegration *apigateway.Integration
	StatusPermission  *lambda.Permission
	// Ack are the acknowledgment routes (ack.go): POST
	// /notification/{message_id}/ack behind the authorizer, GET and POST
	// /ack/{token} without it.
	Ack AckRoutes
	// Deployment is replaced whenever what the stage serves changes.
	Deployment *apigateway.Deployment
	// AccessLogs receives the stage's JSON access logs.
	AccessLogs *cloudwatch.LogGroup
	// Stage is StageName, with X-Ray tracing and access logs.
	Stage *apigateway.Stage
	// MethodSettings throttles every method of the stage.
	MethodSettings *apigateway.MethodSettings
	// UsagePlans and UsagePlanKeys by client name.
	UsagePlans    map[string]*apigateway.UsagePlan
	UsagePlanKeys map[string]*apigateway.UsagePlanKey
	// AccountRole, AccountRolePolicy and Account are set only with
	// ManageAccount.
	AccountRole       *iam.Role
	AccountRolePolicy *iam.RolePolicy
	Account           *apigateway.Account
	// WebACL and WebACLAssociation are set only with EnableWAF.
	WebACL            *wafv2.WebAcl
	WebACLAssociation *wafv2.WebAclAssociation
	// WAFMetricName and WAFBodyRuleMetricName are the web ACL's and its
	// counting body-rule's CloudWatch metric names (with EnableWAF).
	WAFMetricName, WAFBodyRuleMetricName string
	// NotificationURL is the invoke URL of POST /notification.
	NotificationURL pulumi.StringOutput
}

// NewAPI registers the API component and creates the REST API itself,
// whose id the functions need first (the acknowledgment links' base URL);
// Build creates what it serves.
func NewAPI(ctx *pulumi.Context, name string, args *APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	a := &API{
		Name:             args.Name,
		GatewayResponses: map[string]*apigateway.Response{},
		UsagePlans:       map[string]*apigateway.UsagePlan{},
		UsagePlanKeys:    map[string]*apigateway.UsagePlanKey{},
	}
	if err := ctx.RegisterComponentResource(APIType, name, a, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	var err error
	a.RestAPI, err = apigateway.NewRestApi(ctx, name, &apigateway.RestApiArgs{
		Name:                  pulumi.String(args.Name),
		Description:           pulumi.String("a2p-alerts: POST /notification pages clinicians"),
		EndpointConfiguration: apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String(endpointRegional)},
		ApiKeySource:          pulumi.String(apiKeySourceAuthorizer),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create rest api: %w", err)
	}
	return a, nil
}

// Build creates the routes (POST /notification,
// GET /notification/{message_id} and the acknowledgment routes) and their
// authorizer, the gateway responses, the stage, one usage plan per client
// and, optionally, the WAF.
func (a *API) Build(ctx *pulumi.Context, name string, args *APIArgs) error {
	settings, err := newRestSettings(args)
	if err != nil {
		return err
	}
	steps := []func(*pulumi.Context, string, *APIArgs, restSettings) error{
		a.createRoute, a.createStatusRoute, a.createAckRoutes, a.createPermissions, a.createGatewayResponses, a.createStage,
		a.throttleLinks, a.createUsagePlans,
	}
	for _, step := range steps {
		if err := step(ctx, name, args, settings); err != nil {
			return err
		}
	}
	if args.EnableWAF {
		if err := a.attachWAF(ctx, name, args); err != nil {
			return err
		}
	}

	a.NotificationURL = pulumi.Sprintf("%s/%s", a.Stage.InvokeUrl, names.NotificationPath)
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"restApiId":       a.RestAPI.ID(),
		"stageName":       a.Stage.StageName,
		"notificationUrl": a.NotificationURL,
	}); err != nil {
		return fmt.Errorf("register %s outputs: %w", name, err)
	}
	return nil
}

// StageURL is the stage's invoke URL, known before the stage exists (the
// acknowledgment links' default base): https://<api id>.execute-api.
// <region>.<dns suffix>/<stage>.
func (a *API) StageURL(region, dnsSuffix string) pulumi.StringOutput {
	return pulumi.Sprintf("https://%s.execute-api.%s.%s/%s", a.RestAPI.ID(), region, dnsSuffix, StageName)
}

// createRoute creates /notification, the authorizer, the model, POST
// /notification and its integration with the processor.
func (a *API) createRoute(ctx *pulumi.Context, name string, args *APIArgs, s restSettings) error {
	parent := pulumi.Parent(a)
	var err error
	a.Resource, err = apigateway.NewResource(ctx, name+"-notification", &apigateway.ResourceArgs{
		RestApi:  a.RestAPI.ID(),
		ParentId: a.RestAPI.RootResourceId,
		PathPart: pulumi.String(s.Path),
	}, parent)
	if err != nil {
		return fmt.Errorf("create /%s: %w", s.Path, err)
	}
	a.Authorizer, err = apigateway.NewAuthorizer(ctx, name+"-authorizer", &apigateway.AuthorizerArgs{
		Name:                         pulumi.String(args.Name + "-authorizer"),
		RestApi:                      a.RestAPI.ID(),
		Type:                         pulumi.String(s.AuthorizerType),
		AuthorizerUri:                args.Authorizer.InvokeArn,
		IdentitySource:               pulumi.String(s.IdentitySource),
		AuthorizerResultTtlInSeconds: pulumi.Int(s.AuthorizerTTL),
	}, parent)
	if err != nil {
		return fmt.Errorf("create authorizer: %w", err)
	}
	a.Model, err = apigateway.NewModel(ctx, name+"-alert-model", &apigateway.ModelArgs{
		RestApi:     a.RestAPI.ID(),
		Name:        pulumi.String(s.ModelName),
		ContentType: pulumi.String(s.ModelContentType),
		Description: pulumi.String("An alert for POST /notification (documentation; the processor validates bodies)"),
		Schema:      pulumi.String(s.ModelSchema),
	}, parent)
	if err != nil {
		return fmt.Errorf("create model: %w", err)
	}
	// No request validator: API Gateway would answer a bad body with its
	// own {"message":"Invalid request body"}; the processor answers it in
	// the API's error envelope, with every failing field.
	a.Method, err = apigateway.NewMethod(ctx, name+"-post-notification", &apigateway.MethodArgs{
		RestApi:        a.RestAPI.ID(),
		ResourceId:     a.Resource.ID(),
		HttpMethod:     pulumi.String(s.HTTPMethod),
		Authorization:  pulumi.String(s.Authorization),
		AuthorizerId:   a.Authorizer.ID(),
		ApiKeyRequired: pulumi.Bool(s.APIKeyRequired),
		RequestModels:  pulumi.StringMap{s.ModelContentType: a.Model.Name},
	}, parent)
	if err != nil {
		return fmt.Errorf("create method: %w", err)
	}
	a.Integration, err = apigateway.NewIntegration(ctx, name+"-post-notification-integration", &apigateway.IntegrationArgs{
		RestApi:               a.RestAPI.ID(),
		ResourceId:            a.Resource.ID(),
		HttpMethod:            a.Method.HttpMethod,
		Type:                  pulumi.String(s.IntegrationType),
		IntegrationHttpMethod: pulumi.String(s.IntegrationHTTPMethod),
		Uri:                   args.Processor.InvokeArn,
		TimeoutMilliseconds:   pulumi.Int(s.IntegrationTimeoutMS),
	}, parent)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// createStatusRoute creates GET /notification/{message_id} behind the
// same authorizer (and usage plans), proxied to the status function, and
// the permission that lets this API invoke it for that route only.
func (a *API) createStatusRoute(ctx *pulumi.Context, name string, args *APIArgs, s restSettings) error {
	parent := pulumi.Parent(a)
	var err error
	a.StatusResource, err = apigateway.NewResource(ctx, name+"-notification-message-id", &apigateway.ResourceArgs{
		RestApi:  a.RestAPI.ID(),
		ParentId: a.Resource.ID(),
		PathPart: pulumi.String(s.StatusPath),
	}, parent)
	if err != nil {
		return fmt.Errorf("create /%s/%s: %w", s.Path, s.StatusPath, err)
	}
	a.StatusMethod, err = apigateway.NewMethod(ctx, name+"-get-notification", &apigateway.MethodArgs{
		RestApi:        a.RestAPI.ID(),
		ResourceId:     a.StatusResource.ID(),
		HttpMethod:     pulumi.String(s.StatusHTTPMethod),
		Authorization:  pulumi.String(s.Authorization),
		AuthorizerId:   a.Authorizer.ID(),
		ApiKeyRequired: pulumi.Bool(s.APIKeyRequired),
	}, parent)
	if err != nil {
		return fmt.Errorf("create status method: %w", err)
	}
	a.StatusIntegration, err = apigateway.NewIntegration(ctx, name+"-get-notification-integration", &apigateway.IntegrationArgs{
		RestApi:               a.RestAPI.ID(),
		ResourceId:            a.StatusResource.ID(),
		HttpMethod:            a.StatusMethod.HttpMethod,
		Type:                  pulumi.String(s.IntegrationType),
		IntegrationHttpMethod: pulumi.String(s.IntegrationHTTPMethod),
		Uri:                   args.Status.InvokeArn,
		TimeoutMilliseconds:   pulumi.Int(s.IntegrationTimeoutMS),
	}, parent)
	if err != nil {
		return fmt.Errorf("create status integration: %w", err)
	}
	a.StatusPermission, err = lambda.NewPermission(ctx, name+"-invoke-status", &lambda.PermissionArgs{
		Function:  args.Status.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/*/%s/%s/*", a.RestAPI.ExecutionArn, s.StatusHTTPMethod, s.Path),
	}, parent)
	if err != nil {
		return fmt.Errorf("create status permission: %w", err)
	}
	return nil
}

// createPermissions lets each function be invoked by this API only, and
// only for its purpose: the processor for POST /notification on any
// stage, the authorizer by this authorizer.
func (a *API) createPermissions(ctx *pulumi.Context, name string, args *APIArgs, s restSettings) error {
	var err error
	a.ProcessorPermission, err = lambda.NewPermission(ctx, name+"-invoke-processor", &lambda.PermissionArgs{
		Function:  args.Processor.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/*/%s/%s", a.RestAPI.ExecutionArn, s.HTTPMethod, s.Path),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create processor permission: %w", err)
	}
	a.AuthorizerPermission, err = lambda.NewPermission(ctx, name+"-invoke-authorizer", &lambda.PermissionArgs{
		Function:  args.Authorizer.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/authorizers/%s", a.RestAPI.ExecutionArn, a.Authorizer.ID()),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create authorizer permission: %w", err)
	}
	return nil
}

// createGatewayResponses creates the gateway responses (GatewayResponses).
func (a *API) createGatewayResponses(ctx *pulumi.Context, name string, _ *APIArgs, s restSettings) error {
	for _, g := range s.GatewayResponses {
		var status pulumi.StringPtrInput
		if g.StatusCode != "" {
			status = pulumi.String(g.StatusCode)
		}
		r, err := apigateway.NewResponse(ctx, name+"-response-"+g.Type, &apigateway.ResponseArgs{
			RestApiId:         a.RestAPI.ID(),
			ResponseType:      pulumi.String(g.Type),
			StatusCode:        status,
			ResponseTemplates: pulumi.ToStringMap(g.Templates),
		}, pulumi.Parent(a))
		if err != nil {
			return fmt.Errorf("create gateway response %s: %w", g.Type, err)
		}
		a.GatewayResponses[g.Type] = r
	}
	return nil
}

// createStage deploys the API (redeploying on any change of s or of the
// ids it serves) to StageName, with access logs and throttling.
func (a *API) createStage(ctx *pulumi.Context, name string, args *APIArgs, s restSettings) error {
	ids := pulumi.StringMap{
		"restApi":           a.RestAPI.ID().ToStringOutput(),
		"resource":          a.Resource.ID().ToStringOutput(),
		"method":            a.Method.ID().ToStringOutput(),
		"integration":       a.Integration.ID().ToStringOutput(),
		"integrationUri":    args.Processor.InvokeArn,
		"authorizer":        a.Authorizer.ID().ToStringOutput(),
		"authorizerUri":     args.Authorizer.InvokeArn,
		"model":             a.Model.ID().ToStringOutput(),
		"statusResource":    a.StatusResource.ID().ToStringOutput(),
		"statusMethod":      a.StatusMethod.ID().ToStringOutput(),
		"statusIntegration": a.StatusIntegration.ID().ToStringOutput(),
		"statusUri":         args.Status.InvokeArn,
	}
	a.Ack.addIDs(ids, args)
	deps := append([]pulumi.Resource{a.Method, a.Integration, a.StatusMethod, a.StatusIntegration}, a.Ack.served()...)
	for typ, r := range a.GatewayResponses {
		ids["response:"+typ] = r.ID().ToStringOutput()
		deps = append(deps, r)
	}
	trigger, err := deploymentTrigger(s, ids)
	if err != nil {
		return err
	}
	a.Deployment, err = apigateway.NewDeployment(ctx, name+"-deployment", &apigateway.DeploymentArgs{
		RestApi:     a.RestAPI.ID(),
		Description: pulumi.String("a2p-alerts"),
		Triggers:    pulumi.StringMap{"redeployment": trigger},
	}, pulumi.Parent(a), pulumi.DependsOn(deps))
	if err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	return a.createStageSettings(ctx, name, args)
}

// createStageSettings creates the access log group, the stage and its
// method settings, after the account's CloudWatch role when this stack
// manages it.
func (a *API) createStageSettings(ctx *pulumi.Context, name string, args *APIArgs) error {
	stageDeps := []pulumi.Resource{}
	if args.ManageAccount {
		if err := a.manageAccount(ctx, name, args); err != nil {
			return err
		}
		stageDeps = append(stageDeps, a.Account)
	}
	var err error
	a.AccessLogs, err = cloudwatch.NewLogGroup(ctx, name+"-access-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/apigateway/%s/access", args.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create access log group: %w", err)
	}
	accessFormat, err := AccessLogFormat()
	if err != nil {
		return err
	}
	a.Stage, err = apigateway.NewStage(ctx, name+"-stage", &apigateway.StageArgs{
		RestApi:            a.RestAPI.ID(),
		Deployment:         a.Deployment.ID(),
		StageName:          pulumi.String(StageName),
		XrayTracingEnabled: pulumi.Bool(true),
		AccessLogSettings: apigateway.StageAccessLogSettingsArgs{
			DestinationArn: a.AccessLogs.Arn,
			Format:         pulumi.String(accessFormat),
		},
	}, pulumi.Parent(a), pulumi.DependsOn(stageDeps))
	if err != nil {
		return fmt.Errorf("create stage: %w", err)
	}
	a.MethodSettings, err = apigateway.NewMethodSettings(ctx, name+"-method-settings", &apigateway.MethodSettingsArgs{
		RestApi:    a.RestAPI.ID(),
		StageName:  a.Stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: apigateway.MethodSettingsSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(args.ThrottleRateLimit),
			ThrottlingBurstLimit: pulumi.Int(args.ThrottleBurstLimit),
			MetricsEnabled:       pulumi.Bool(true),
			// Execution logs are off: they would go to a log group API
			// Gateway creates without retention, and data tracing would
			// log request bodies (alert text) in full.
			LoggingLevel:     pulumi.String("OFF"),
			DataTraceEnabled: pulumi.Bool(false),
		},
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create method settings: %w", err)
	}
	return nil
}

// createUsagePlans gives each client a usage plan on the stage, with its
// rate, burst and daily quota, and links the client's key to it, so that
// one client cannot use up the stage's capacity.
func (a *API) createUsagePlans(ctx *pulumi.Context, name string, args *APIArgs, _ restSettings) error {
	for _, c := range args.Clients {
		base := name + "-plan-" + logicalName(c.Client)
		planArgs := &apigateway.UsagePlanArgs{
			Name:        pulumi.String(args.Name + "-" + c.Client),
			Description: pulumi.Sprintf("%s: limits of API client %s", args.Name, c.Client),
			ApiStages: apigateway.UsagePlanApiStageArray{apigateway.UsagePlanApiStageArgs{
				ApiId: a.RestAPI.ID(),
				Stage: a.Stage.StageName,
			}},
			ThrottleSettings: apigateway.UsagePlanThrottleSettingsArgs{
				RateLimit:  pulumi.Float64(c.Limits.RateLimit),
				BurstLimit: pulumi.Int(c.Limits.BurstLimit),
			},
		}
		if c.Limits.DailyQuota > 0 {
			planArgs.QuotaSettings = apigateway.UsagePlanQuotaSettingsArgs{
				Limit:  pulumi.Int(c.Limits.DailyQuota),
				Period: pulumi.String(quotaPeriodDay),
			}
		}
		plan, err := apigateway.NewUsagePlan(ctx, base, planArgs, pulumi.Parent(a))
		if err != nil {
			return fmt.Errorf("create usage plan of %s: %w", c.Client, err)
		}
		key, err := apigateway.NewUsagePlanKey(ctx, base+"-key", &apigateway.UsagePlanKeyArgs{
			KeyId:       c.KeyID,
			KeyType:     pulumi.String(usagePlanKeyType),
			UsagePlanId: plan.ID(),
		}, pulumi.Parent(a))
		if err != nil {
			return fmt.Errorf("link the key of %s to its usage plan: %w", c.Client, err)
		}
		a.UsagePlans[c.Client], a.UsagePlanKeys[c.Client] = plan, key
	}
	return nil
}

// AccessLogFormat is the stage's JSON access log line. It records who
// called and what happened, never the request body (alert text).
func AccessLogFormat() (string, error) {
	b, err := json.Marshal(map[string]string{
		"requestId":          "$context.requestId",
		"requestTime":        "$context.requestTime",
		"sourceIp":           "$context.identity.sourceIp",
		"httpMethod":         "$context.httpMethod",
		"resourcePath":       "$context.resourcePath",
		"status":             "$context.status",
		"protocol":           "$context.protocol",
		"responseLength":     "$context.responseLength",
		"client":             "$context.authorizer." + names.AuthContextClient,
		"authorizerError":    "$context.authorizer.error",
		"integrationError":   "$context.integration.error",
		"integrationLatency": "$context.integrationLatency",
		"errorType":          "$context.error.responseType",
		"xrayTraceId":        "$context.xrayTraceId",
	})
	if err != nil {
		return "", fmt.Errorf("marshal access log format: %w", err)
	}
	return string(b), nil
}

// manageAccount sets the region's API Gateway CloudWatch Logs role. The
// setting is one per account and region, shared by every API there: the
// role and the setting are retained when this stack is destroyed, so that
// other APIs keep logging.
func (a *API) manageAccount(ctx *pulumi.Context, name string, args *APIArgs) error {
	retain := []pulumi.ResourceOption{pulumi.Parent(a), pulumi.RetainOnDelete(true)}
	// Only API Gateway acting for this account may assume the role.
	trustDoc := assumeRolePolicy(apigatewayService)
	trustDoc.Statement[0].Condition = map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.AccountID}}
	trust, err := trustDoc.JSON()
	if err != nil {
		return err
	}
	a.AccountRole, err = iam.NewRole(ctx, name+"-cloudwatch-role", &iam.RoleArgs{
		Name:             pulumi.String(args.Name + "-apigw-logs"),
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String("API Gateway account: writes access logs to CloudWatch Logs (a2p-alerts)"),
	}, retain...)
	if err != nil {
		return fmt.Errorf("create api gateway account role: %w", err)
	}
	// The permissions of AWS's AmazonAPIGatewayPushToCloudWatchLogs, scoped
	// to this account and region. API Gateway uses the role for every API
	// in the region, whose log groups this stack cannot name.
	doc, err := policy(Statement{
		Sid:    "PushToCloudWatchLogs",
		Effect: effectAllow,
		Action: []string{
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
			"logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents",
		},
		Resource: []string{fmt.Sprintf("arn:%s:logs:%s:%s:*", args.Partition, args.Region, args.AccountID)},
	}).JSON()
	if err != nil {
		return err
	}
	a.AccountRolePolicy, err = iam.NewRolePolicy(ctx, name+"-cloudwatch-role-policy", &iam.RolePolicyArgs{
		Name:   pulumi.String(args.Name + "-apigw-logs"),
		Role:   a.AccountRole.Name,
		Policy: pulumi.String(doc),
	}, retain...)
	if err != nil {
		return fmt.Errorf("create api gateway account role policy: %w", err)
	}
	a.Account, err = apigateway.NewAccount(ctx, name+"-account", &apigateway.AccountArgs{
		CloudwatchRoleArn: a.AccountRole.Arn,
	}, append(retain, pulumi.DependsOn([]pulumi.Resource{a.AccountRolePolicy}))...)
	if err != nil {
		return fmt.Errorf("create api gateway account: %w", err)
	}
	return nil
}
