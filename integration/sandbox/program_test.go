package sandbox

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/connect"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// testConfig is the configuration of testProgram, as a stack file gives
// it.
func testConfig() map[string]string {
	return map[string]string{
		"aws:region":         "eu-west-2",
		"sandboxtest:greet":  "hello from the stack config",
		"sandboxtest:people": `[{"id":"alice"}]`,
	}
}

// lambdaArch is this machine's Lambda architecture name.
func lambdaArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}

	return "x86_64"
}

// testProgram is the a2p-alerts stack in miniature, written with the real
// pulumi-aws SDK: config read through pulumi/config, a KMS key, a table
// and an item, a topic with an SMS subscription, a role, two functions
// from zipPath, and a REST API with a REQUEST authorizer, a validated
// CUSTOM method and a proxy integration, plus resources kumo cannot host.
// The API lives in a component resource, as infra's do.
func testProgram(zipPath string) func(*pulumi.Context) error {
	return func(ctx *pulumi.Context) error {
		conf := config.New(ctx, "")
		greeting := conf.Require("greet")

		var people []struct {
			ID string `json:"id"`
		}

		conf.RequireObject("people", &people)

		caller, err := aws.GetCallerIdentity(ctx, nil)
		if err != nil {
			return err
		}

		region, err := aws.GetRegion(ctx, nil)
		if err != nil {
			return err
		}

		key, err := kms.NewKey(ctx, "data", &kms.KeyArgs{Description: pulumi.String("sandbox test"), EnableKeyRotation: pulumi.Bool(true)})
		if err != nil {
			return err
		}

		if _, err := kms.NewAlias(ctx, "data", &kms.AliasArgs{TargetKeyId: key.KeyId}); err != nil {
			return err
		}

		table, err := dynamodb.NewTable(ctx, "contacts", &dynamodb.TableArgs{
			Attributes:           dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String("contact_id"), Type: pulumi.String("S")}},
			HashKey:              pulumi.String("contact_id"),
			BillingMode:          pulumi.String("PAY_PER_REQUEST"),
			ServerSideEncryption: dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: key.Arn},
			PointInTimeRecovery:  dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		})
		if err != nil {
			return err
		}

		topicArns := pulumi.StringMap{}

		for _, p := range people {
			topic, err := sns.NewTopic(ctx, p.ID+"-sms", &sns.TopicArgs{KmsMasterKeyId: key.KeyId})
			if err != nil {
				return err
			}

			if _, err := sns.NewTopicSubscription(ctx, p.ID+"-sms-phone", &sns.TopicSubscriptionArgs{
				Topic: topic.Arn, Protocol: pulumi.String("sms"), Endpoint: pulumi.String("+15555550100"),
			}); err != nil {
				return err
			}

			item, ok := topic.Arn.ApplyT(func(arn string) (string, error) {
				b, err := json.Marshal(map[string]any{
					"contact_id":    map[string]string{"S": p.ID},
					"sms_topic_arn": map[string]string{"S": arn},
				})

				return string(b), err
			}).(pulumi.StringOutput)
			if !ok {
				return fmt.Errorf("item of %s is not a string output", p.ID)
			}

			if _, err := dynamodb.NewTableItem(ctx, p.ID, &dynamodb.TableItemArgs{
				TableName: table.Name, HashKey: table.HashKey, Item: item,
			}); err != nil {
				return err
			}

			topicArns[p.ID+"/sms"] = topic.Arn
		}

		role, err := iam.NewRole(ctx, "fn", &iam.RoleArgs{AssumeRolePolicy: pulumi.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		if err != nil {
			return err
		}

		policy, err := iam.GetPolicyDocument(ctx, &iam.GetPolicyDocumentArgs{Statements: []iam.GetPolicyDocumentStatement{{
			Actions: []string{"dynamodb:GetItem"}, Resources: []string{"*"},
		}}})
		if err != nil {
			return err
		}

		// The role passed as a resource: the provisioner receives a
		// resource reference and must read its id.
		if _, err := iam.NewRolePolicy(ctx, "fn", &iam.RolePolicyArgs{Role: role, Policy: pulumi.String(policy.Json)}); err != nil {
			return err
		}

		newFunction := func(name string, env pulumi.StringMap, tracing string) (*lambda.Function, error) {
			logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{RetentionInDays: pulumi.Int(7)})
			if err != nil {
				return nil, err
			}

			return lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
				Role:          role.Arn,
				Runtime:       pulumi.String("provided.al2023"),
				Handler:       pulumi.String("bootstrap"),
				Code:          pulumi.NewFileArchive(zipPath),
				Architectures: pulumi.StringArray{pulumi.String(lambdaArch())},
				Timeout:       pulumi.Int(5),
				Environment:   lambda.FunctionEnvironmentArgs{Variables: env},
				TracingConfig: lambda.FunctionTracingConfigArgs{Mode: pulumi.String(tracing)},
			}, pulumi.DependsOn([]pulumi.Resource{logs}))
		}

		authFn, err := newFunction("authorizer", pulumi.StringMap{"TESTFN_ROLE": pulumi.String("authorizer")}, "PassThrough")
		if err != nil {
			return err
		}

		echoFn, err := newFunction("echo", pulumi.StringMap{
			"TESTFN_ROLE":     pulumi.String("echo"),
			"TESTFN_GREETING": pulumi.String(greeting),
			"CONTACTS_TABLE":  table.Name,
		}, "Active")
		if err != nil {
			return err
		}

		api, err := newTestAPI(ctx, authFn, echoFn)
		if err != nil {
			return err
		}

		if _, err := connect.NewContactFlow(ctx, "alert", &connect.ContactFlowArgs{
			InstanceId: pulumi.String("11111111-2222-3333-4444-555555555555"),
			Name:       pulumi.String("alert"),
			Type:       pulumi.String("CONTACT_FLOW"),
			Content:    pulumi.String(`{"Version":"2019-10-30","StartAction":"x","Actions":[]}`),
		}); err != nil {
			return err
		}

		ctx.Export("notificationUrl", pulumi.Sprintf("%s/notification", api.stage.InvokeUrl))
		ctx.Export("restApiId", api.api.ID())
		ctx.Export("echoFunction", echoFn.Name)
		ctx.Export("contactsTable", table.Name)
		ctx.Export("topicArns", topicArns)
		ctx.Export("accountId", pulumi.String(caller.AccountId))
		ctx.Export("region", pulumi.String(region.Name))

		return nil
	}
}

// testAPI is a component holding the REST API.
type testAPI struct {
	pulumi.ResourceState

	api   *apigateway.RestApi
	stage *apigateway.Stage
}

func newTestAPI(ctx *pulumi.Context, authFn, echoFn *lambda.Function) (*testAPI, error) {
	c := &testAPI{}
	if err := ctx.RegisterComponentResource("sandboxtest:api:Api", "api", c); err != nil {
		return nil, err
	}

	parent := pulumi.Parent(c)

	api, err := apigateway.NewRestApi(ctx, "api", &apigateway.RestApiArgs{
		EndpointConfiguration: apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
	}, parent)
	if err != nil {
		return nil, err
	}

	res, err := apigateway.NewResource(ctx, "notification", &apigateway.ResourceArgs{
		RestApi: api.ID(), ParentId: api.RootResourceId, PathPart: pulumi.String("notification"),
	}, parent)
	if err != nil {
		return nil, err
	}

	auth, err := apigateway.NewAuthorizer(ctx, "auth", &apigateway.AuthorizerArgs{
		RestApi:                      api, // a resource reference
		Type:                         pulumi.String("REQUEST"),
		AuthorizerUri:                authFn.InvokeArn,
		IdentitySource:               pulumi.String("method.request.header.Authorization"),
		AuthorizerResultTtlInSeconds: pulumi.Int(0),
	}, parent)
	if err != nil {
		return nil, err
	}

	model, err := apigateway.NewModel(ctx, "alert", &apigateway.ModelArgs{
		RestApi: api.ID(), Name: pulumi.String("Alert"), ContentType: pulumi.String("application/json"), Schema: pulumi.String(`{"type":"object"}`),
	}, parent)
	if err != nil {
		return nil, err
	}

	validator, err := apigateway.NewRequestValidator(ctx, "body", &apigateway.RequestValidatorArgs{
		RestApi: api.ID(), Name: pulumi.String("body"), ValidateRequestBody: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}

	method, err := apigateway.NewMethod(ctx, "post", &apigateway.MethodArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: pulumi.String("POST"),
		Authorization: pulumi.String("CUSTOM"), AuthorizerId: auth.ID(),
		RequestValidatorId: validator.ID(), RequestModels: pulumi.StringMap{"application/json": model.Name},
	}, parent)
	if err != nil {
		return nil, err
	}

	integration, err := apigateway.NewIntegration(ctx, "post", &apigateway.IntegrationArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: method.HttpMethod,
		Type: pulumi.String("AWS_PROXY"), IntegrationHttpMethod: pulumi.String("POST"), Uri: echoFn.InvokeArn,
	}, parent)
	if err != nil {
		return nil, err
	}

	for name, fn := range map[string]*lambda.Function{"api-echo": echoFn, "api-auth": authFn} {
		if _, err := lambda.NewPermission(ctx, name, &lambda.PermissionArgs{
			Action: pulumi.String("lambda:InvokeFunction"), Function: fn.Name,
			Principal: pulumi.String("apigateway.amazonaws.com"), SourceArn: pulumi.Sprintf("%s/*", api.ExecutionArn),
		}, parent); err != nil {
			return nil, err
		}
	}

	deployment, err := apigateway.NewDeployment(ctx, "api", &apigateway.DeploymentArgs{RestApi: api.ID()},
		parent, pulumi.DependsOn([]pulumi.Resource{method, integration}))
	if err != nil {
		return nil, err
	}

	stage, err := apigateway.NewStage(ctx, "local", &apigateway.StageArgs{
		RestApi: api.ID(), Deployment: deployment.ID(), StageName: pulumi.String("local"), XrayTracingEnabled: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}

	if _, err := apigateway.NewMethodSettings(ctx, "throttle", &apigateway.MethodSettingsArgs{
		RestApi: api.ID(), StageName: stage.StageName, MethodPath: pulumi.String("*/*"),
		Settings: apigateway.MethodSettingsSettingsArgs{ThrottlingRateLimit: pulumi.Float64(10), ThrottlingBurstLimit: pulumi.Int(20)},
	}, parent); err != nil {
		return nil, err
	}

	c.api, c.stage = api, stage

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"invokeUrl": stage.InvokeUrl}); err != nil {
		return nil, fmt.Errorf("register api outputs: %w", err)
	}

	return c, nil
}

// unsupportedProgram creates a resource type the sandbox does not know.
func unsupportedProgram(ctx *pulumi.Context) error {
	_, err := sqs.NewQueue(ctx, "jobs", nil)

	return err
}
