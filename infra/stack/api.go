package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// APIType is the type token of the API component.
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

	contentTypeJSON    = "application/json"
	apigatewayService  = "apigateway.amazonaws.com"
	httpPost           = "POST"
	authorizationCustm = "CUSTOM"
	authorizerRequest  = "REQUEST"
	integrationProxy   = "AWS_PROXY"
	endpointRegional   = "REGIONAL"
	wafScopeRegional   = "REGIONAL"
	// wafWindowSeconds is the rate-based rule's evaluation window.
	wafWindowSeconds = 300
	// wafMinRateLimit is WAF's smallest rate-based limit.
	wafMinRateLimit = 100
)

// APIArgs configures the API component.
type APIArgs struct {
	// Name names the REST API.
	Name string
	// Authorizer and Processor are the functions behind the API.
	Authorizer, Processor *lambda.Function
	// AuthorizerCacheTTL is the authorizer result TTL in seconds.
	AuthorizerCacheTTL int
	// ThrottleRateLimit and ThrottleBurstLimit throttle every method.
	ThrottleRateLimit  float64
	ThrottleBurstLimit int
	// LogRetentionDays is the access log group's retention.
	LogRetentionDays int
	// EnableWAF attaches a regional web ACL to the stage.
	EnableWAF bool
	// ManageAccount makes this stack own the region's API Gateway account
	// settings: the CloudWatch Logs role that access logging needs.
	ManageAccount bool
	// Partition, Region, AccountID scope the account role's policy.
	Partition, Region, AccountID string
}

// API holds the REST API and everything that serves POST /notification.
type API struct {
	pulumi.ResourceState

	// RestAPI is the regional REST API.
	RestAPI *apigateway.RestApi
	// Resource is /notification.
	Resource *apigateway.Resource
	// Authorizer is the REQUEST authorizer.
	Authorizer *apigateway.Authorizer
	// Model is the alert's JSON Schema (alert.Schema).
	Model *apigateway.Model
	// Validator validates request bodies against Model.
	Validator *apigateway.RequestValidator
	// Method is POST /notification.
	Method *apigateway.Method
	// Integration proxies Method to the processor.
	Integration *apigateway.Integration
	// ProcessorPermission lets this API's POST /notification invoke the
	// processor.
	ProcessorPermission *lambda.Permission
	// AuthorizerPermission lets this API's authorizer invoke the
	// authorizer function.
	AuthorizerPermission *lambda.Permission
	// Deployment is replaced whenever the API changes.
	Deployment *apigateway.Deployment
	// AccessLogs receives the stage's JSON access logs.
	AccessLogs *cloudwatch.LogGroup
	// Stage is StageName, with X-Ray tracing and access logs.
	Stage *apigateway.Stage
	// MethodSettings throttles every method of the stage.
	MethodSettings *apigateway.MethodSettings
	// AccountRole, AccountRolePolicy and Account are set only with
	// ManageAccount.
	AccountRole       *iam.Role
	AccountRolePolicy *iam.RolePolicy
	Account           *apigateway.Account
	// WebACL and WebACLAssociation are set only with EnableWAF.
	WebACL            *wafv2.WebAcl
	WebACLAssociation *wafv2.WebAclAssociation
	// NotificationURL is the invoke URL of POST /notification.
	NotificationURL pulumi.StringOutput
}

// NewAPI creates the REST API.
func NewAPI(ctx *pulumi.Context, name string, args *APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	a := &API{}
	if err := ctx.RegisterComponentResource(APIType, name, a, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	parent := pulumi.Parent(a)
	var err error

	a.RestAPI, err = apigateway.NewRestApi(ctx, name, &apigateway.RestApiArgs{
		Name:                  pulumi.String(args.Name),
		Description:           pulumi.String("a2p-alerts: POST /notification pages clinicians"),
		EndpointConfiguration: apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String(endpointRegional)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create rest api: %w", err)
	}
	a.Resource, err = apigateway.NewResource(ctx, name+"-notification", &apigateway.ResourceArgs{
		RestApi:  a.RestAPI.ID(),
		ParentId: a.RestAPI.RootResourceId,
		PathPart: pulumi.String(names.NotificationPath),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create /%s: %w", names.NotificationPath, err)
	}
	a.Authorizer, err = apigateway.NewAuthorizer(ctx, name+"-authorizer", &apigateway.AuthorizerArgs{
		RestApi:                      a.RestAPI.ID(),
		Type:                         pulumi.String(authorizerRequest),
		AuthorizerUri:                args.Authorizer.InvokeArn,
		IdentitySource:               pulumi.String(IdentitySource),
		AuthorizerResultTtlInSeconds: pulumi.Int(args.AuthorizerCacheTTL),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create authorizer: %w", err)
	}
	schema := string(alert.Schema())
	a.Model, err = apigateway.NewModel(ctx, name+"-alert-model", &apigateway.ModelArgs{
		RestApi:     a.RestAPI.ID(),
		Name:        pulumi.String(AlertModelName),
		ContentType: pulumi.String(contentTypeJSON),
		Description: pulumi.String("An alert for POST /notification"),
		Schema:      pulumi.String(schema),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create model: %w", err)
	}
	a.Validator, err = apigateway.NewRequestValidator(ctx, name+"-body-validator", &apigateway.RequestValidatorArgs{
		RestApi:                   a.RestAPI.ID(),
		Name:                      pulumi.String("body"),
		ValidateRequestBody:       pulumi.Bool(true),
		ValidateRequestParameters: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create request validator: %w", err)
	}
	a.Method, err = apigateway.NewMethod(ctx, name+"-post-notification", &apigateway.MethodArgs{
		RestApi:            a.RestAPI.ID(),
		ResourceId:         a.Resource.ID(),
		HttpMethod:         pulumi.String(httpPost),
		Authorization:      pulumi.String(authorizationCustm),
		AuthorizerId:       a.Authorizer.ID(),
		RequestValidatorId: a.Validator.ID(),
		RequestModels:      pulumi.StringMap{contentTypeJSON: a.Model.Name},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create method: %w", err)
	}
	a.Integration, err = apigateway.NewIntegration(ctx, name+"-post-notification-integration", &apigateway.IntegrationArgs{
		RestApi:               a.RestAPI.ID(),
		ResourceId:            a.Resource.ID(),
		HttpMethod:            a.Method.HttpMethod,
		Type:                  pulumi.String(integrationProxy),
		IntegrationHttpMethod: pulumi.String(httpPost),
		Uri:                   args.Processor.InvokeArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create integration: %w", err)
	}

	// Each function may be invoked by this API only, and only for its
	// purpose: the processor for POST /notification on any stage, the
	// authorizer by this authorizer.
	a.ProcessorPermission, err = lambda.NewPermission(ctx, name+"-invoke-processor", &lambda.PermissionArgs{
		Function:  args.Processor.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/*/%s/%s", a.RestAPI.ExecutionArn, httpPost, names.NotificationPath),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create processor permission: %w", err)
	}
	a.AuthorizerPermission, err = lambda.NewPermission(ctx, name+"-invoke-authorizer", &lambda.PermissionArgs{
		Function:  args.Authorizer.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/authorizers/%s", a.RestAPI.ExecutionArn, a.Authorizer.ID()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create authorizer permission: %w", err)
	}

	a.Deployment, err = apigateway.NewDeployment(ctx, name+"-deployment", &apigateway.DeploymentArgs{
		RestApi:     a.RestAPI.ID(),
		Description: pulumi.String("a2p-alerts"),
		Triggers:    pulumi.StringMap{"redeployment": a.deploymentHash(args, schema)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{a.Method, a.Integration}))
	if err != nil {
		return nil, fmt.Errorf("create deployment: %w", err)
	}

	stageDeps := []pulumi.Resource{}
	if args.ManageAccount {
		if err := a.manageAccount(ctx, name, args); err != nil {
			return nil, err
		}
		stageDeps = append(stageDeps, a.Account)
	}
	a.AccessLogs, err = cloudwatch.NewLogGroup(ctx, name+"-access-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/apigateway/%s/access", args.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create access log group: %w", err)
	}
	accessFormat, err := AccessLogFormat()
	if err != nil {
		return nil, err
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
	}, parent, pulumi.DependsOn(stageDeps))
	if err != nil {
		return nil, fmt.Errorf("create stage: %w", err)
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
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create method settings: %w", err)
	}

	if args.EnableWAF {
		if err := a.attachWAF(ctx, name, args); err != nil {
			return nil, err
		}
	}

	a.NotificationURL = pulumi.Sprintf("%s/%s", a.Stage.InvokeUrl, names.NotificationPath)
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"restApiId":       a.RestAPI.ID(),
		"stageName":       a.Stage.StageName,
		"notificationUrl": a.NotificationURL,
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return a, nil
}

// deploymentHash changes whenever the method, its integration, the
// authorizer, the model or the validator is replaced or reconfigured, so
// that the deployment (a snapshot of the API) is redeployed.
func (a *API) deploymentHash(args *APIArgs, schema string) pulumi.StringOutput {
	return applyString(pulumi.StringMap{
		"resource":       a.Resource.ID().ToStringOutput(),
		"method":         a.Method.ID().ToStringOutput(),
		"integration":    a.Integration.ID().ToStringOutput(),
		"integrationUri": args.Processor.InvokeArn,
		"authorizer":     a.Authorizer.ID().ToStringOutput(),
		"authorizerUri":  args.Authorizer.InvokeArn,
		"authorizerTtl":  pulumi.Sprintf("%d", args.AuthorizerCacheTTL),
		"identitySource": pulumi.String(IdentitySource),
		"model":          a.Model.ID().ToStringOutput(),
		"schema":         pulumi.String(schema),
		"validator":      a.Validator.ID().ToStringOutput(),
	}.ToStringMapOutput(), func(v map[string]string) (string, error) {
		b, err := json.Marshal(v) // map keys are sorted: a stable hash
		if err != nil {
			return "", fmt.Errorf("deployment trigger: %w", err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:]), nil
	})
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
	trust, err := assumeRolePolicy(apigatewayService).JSON()
	if err != nil {
		return err
	}
	a.AccountRole, err = iam.NewRole(ctx, name+"-cloudwatch-role", &iam.RoleArgs{
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

// WAFRateLimit is the rate-based rule's limit per client IP per 5-minute
// window: the stage's own steady rate over the window. Hospital systems
// often share one NAT address, so the rule only bites on a single source
// trying to take the whole stage's capacity for five minutes.
func WAFRateLimit(ratePerSecond float64) int {
	limit := math.Ceil(ratePerSecond * wafWindowSeconds)
	if limit < wafMinRateLimit {
		return wafMinRateLimit
	}
	if limit > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(limit)
}

// managedRuleGroups are the AWS managed rule groups of the web ACL.
var managedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
}

// attachWAF creates a regional web ACL and associates it with the stage.
func (a *API) attachWAF(ctx *pulumi.Context, name string, args *APIArgs) error {
	visibility := func(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
		return wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(metric),
			SampledRequestsEnabled:   pulumi.Bool(true),
		}
	}
	rules := wafv2.WebAclRuleArray{}
	for i, group := range managedRuleGroups {
		stmt := &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
			Name:       pulumi.String(group),
			VendorName: pulumi.String("AWS"),
		}
		if group == "AWSManagedRulesCommonRuleSet" {
			// The common rule set blocks bodies over 8 KB; alerts may be
			// up to alert.MaxBodyBytes, which the processor enforces.
			stmt.RuleActionOverrides = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray{
				wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
					Name: pulumi.String("SizeRestrictions_BODY"),
					ActionToUse: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
						Count: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
					},
				},
			}
		}
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:             pulumi.String(group),
			Priority:         pulumi.Int(i),
			OverrideAction:   wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement:        wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: visibility(group),
		})
	}
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("RateLimitPerIP"),
		Priority: pulumi.Int(len(managedRuleGroups)),
		Action:   wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{}},
		Statement: wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:               pulumi.Int(WAFRateLimit(args.ThrottleRateLimit)),
				AggregateKeyType:    pulumi.String("IP"),
				EvaluationWindowSec: pulumi.Int(wafWindowSeconds),
			},
		},
		VisibilityConfig: visibility("RateLimitPerIP"),
	})

	var err error
	a.WebACL, err = wafv2.NewWebAcl(ctx, name+"-waf", &wafv2.WebAclArgs{
		Scope:         pulumi.String(wafScopeRegional),
		Description:   pulumi.String("a2p-alerts: protects POST /notification"),
		DefaultAction: wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(args.Name),
			SampledRequestsEnabled:   pulumi.Bool(true),
		},
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create web acl: %w", err)
	}
	a.WebACLAssociation, err = wafv2.NewWebAclAssociation(ctx, name+"-waf-association", &wafv2.WebAclAssociationArgs{
		ResourceArn: a.Stage.Arn,
		WebAclArn:   a.WebACL.Arn,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("associate web acl: %w", err)
	}
	return nil
}
