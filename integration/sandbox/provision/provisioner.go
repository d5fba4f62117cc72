package provision

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// createFunc creates a resource in the emulator and returns its id and
// outputs.
type createFunc func(ctx context.Context, p *Provisioner, name string, in props) (id string, outputs map[string]any, err error)

// creator is how the provisioner creates one resource type: the function,
// and every input property it reads or echoes, required ones marked "*". An
// input outside that list fails the deploy rather than being silently
// dropped, and so does a required one that is missing.
type creator struct {
	create createFunc
	inputs []string
}

// creators maps each resource type the emulator hosts to its creator. A
// type on neither this map nor NotEmulated fails the deploy.
var creators = map[string]creator{
	"aws:kms/key:Key":                             {createKey, []string{"description", "enableKeyRotation", "deletionWindowInDays", "policy", "tags"}},
	"aws:kms/alias:Alias":                         {createAlias, []string{"*name", "*targetKeyId"}},
	"aws:sns/topic:Topic":                         {createTopic, []string{"name", "displayName", "kmsMasterKeyId", "tags"}},
	"aws:sns/topicPolicy:TopicPolicy":             {createTopicPolicy, []string{"*arn", "policy"}},
	"aws:sns/topicSubscription:TopicSubscription": {createSubscription, []string{"*topic", "protocol", "endpoint"}},
	"aws:dynamodb/table:Table": {createTable, []string{
		"name", "attributes", "hashKey", "rangeKey", "billingMode", "serverSideEncryption", "pointInTimeRecovery", "deletionProtectionEnabled", "ttl", "tags",
	}},
	"aws:dynamodb/tableItem:TableItem": {createTableItem, []string{"tableName", "hashKey", "item"}},
	"aws:iam/role:Role":                {createRole, []string{"name", "assumeRolePolicy", "description", "tags"}},
	"aws:iam/rolePolicy:RolePolicy":    {createRolePolicy, []string{"name", "*role", "policy"}},
	"aws:cloudwatch/logGroup:LogGroup": {createLogGroup, []string{"name", "retentionInDays", "tags"}},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {createMetricAlarm, []string{
		"name", "alarmDescription", "namespace", "metricName", "statistic", "dimensions", "period", "evaluationPeriods",
		"threshold", "comparisonOperator", "treatMissingData", "actionsEnabled", "alarmActions", "okActions", "tags",
	}},
	"aws:lambda/function:Function": {createFunction, []string{
		"name", "role", "runtime", "handler", "code", "architectures", "memorySize", "timeout", "reservedConcurrentExecutions",
		"tracingConfig", "environment", "loggingConfig", "tags",
	}},
	"aws:lambda/permission:Permission":          {createPermission, []string{"*function", "action", "principal", "sourceArn", "sourceAccount"}},
	"aws:scheduler/scheduleGroup:ScheduleGroup": {createScheduleGroup, []string{"name", "tags"}},
	"aws:apigateway/restApi:RestApi":            {createRestAPI, []string{"name", "description", "endpointConfiguration", "apiKeySource", "tags"}},
	"aws:apigateway/resource:Resource":          {createAPIResource, []string{"*restApi", "*parentId", "pathPart"}},
	"aws:apigateway/authorizer:Authorizer":      {createAuthorizer, []string{"name", "restApi", "type", "authorizerUri", "identitySource", "authorizerResultTtlInSeconds"}},
	"aws:apigateway/method:Method": {createMethod, []string{
		"restApi", "resourceId", "httpMethod", "authorization", "authorizerId", "apiKeyRequired", "requestModels",
	}},
	"aws:apigateway/integration:Integration": {createIntegration, []string{
		"restApi", "resourceId", "httpMethod", "type", "integrationHttpMethod", "uri", "timeoutMilliseconds",
	}},
	"aws:apigateway/deployment:Deployment": {createDeployment, []string{"restApi", "description", "triggers"}},
	"aws:apigateway/stage:Stage":           {createStage, []string{"*restApi", "*deployment", "*stageName", "xrayTracingEnabled", "accessLogSettings", "tags"}},
	// The asynchronous path (async.go).
	"aws:cloudwatch/eventBus:EventBus":       {createEventBus, []string{"name", "description", "tags"}},
	"aws:cloudwatch/eventRule:EventRule":     {createEventRule, []string{"name", "eventBusName", "eventPattern", "description", "tags"}},
	"aws:cloudwatch/eventTarget:EventTarget": {createEventTarget, []string{"rule", "eventBusName", "targetId", "arn", "deadLetterConfig", "retryPolicy"}},
	TypeQueue:                                {createQueue, []string{"name", "kmsMasterKeyId", "visibilityTimeoutSeconds", "messageRetentionSeconds", "redrivePolicy", "tags"}},
	"aws:sqs/queuePolicy:QueuePolicy":        {createQueuePolicy, []string{"queueUrl", "policy"}},
	TypeMapping: {createEventSourceMapping, []string{
		"eventSourceArn", "functionName", "batchSize", "maximumBatchingWindowInSeconds", "functionResponseTypes", "enabled", "tags",
	}},
}

// Provisioner is a Pulumi mock resource monitor that creates each resource
// in the emulator and returns the state the real AWS provider would. It
// keeps a record of every resource. It is safe for concurrent use, as the
// Pulumi SDK registers resources from several goroutines.
type Provisioner struct {
	// ctx bounds the emulator calls made from NewResource and Call, whose
	// signatures (fixed by Pulumi) carry no context.
	ctx     context.Context //nolint:containedctx // see above
	clients *emulator.Clients
	region  string
	account string
	port    string
	workDir string

	mu        sync.Mutex
	resources []*Resource
	functions []Function
}

var _ pulumi.MockResourceMonitor = (*Provisioner)(nil)

// NewProvisioner returns a provisioner creating resources in the emulator
// at endpoint, in region. It asks the emulator for its account id (STS
// GetCallerIdentity), which ARNs then use. workDir resolves relative
// archive paths.
func NewProvisioner(ctx context.Context, endpoint, region, workDir string) (*Provisioner, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Port() == "" {
		return nil, fmt.Errorf("provisioner: bad endpoint %q", endpoint)
	}
	clients := emulator.NewClients(endpoint, region)
	who, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("provisioner: ask the emulator for its account: %w", err)
	}
	return &Provisioner{
		ctx: ctx, clients: clients, region: region, account: aws.ToString(who.Account), port: u.Port(), workDir: workDir,
	}, nil
}

// NewResource creates the resource in the emulator (or records it, for
// components, providers and the types on NotEmulated) and returns its id
// and state. A type or input the sandbox does not know fails, naming it.
func (p *Provisioner) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := &Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, State: resource.PropertyMap{}}
	switch {
	case args.ReadRPC != nil:
		return "", nil, fmt.Errorf("sandbox: reading an existing %s (%s) is not supported: the sandbox only creates resources",
			args.TypeToken, args.Name)
	case !args.Custom: // a component holds no state of its own
	case strings.HasPrefix(args.TypeToken, "pulumi:providers:"):
		rec.ID, rec.State = newUUID(), args.Inputs.Copy()
	default:
		if err := p.provision(rec, props(args.Inputs)); err != nil {
			return "", nil, err
		}
	}
	p.mu.Lock()
	p.resources = append(p.resources, rec)
	p.mu.Unlock()
	return rec.ID, rec.State, nil
}

// provision creates or records one custom resource, filling rec.
func (p *Provisioner) provision(rec *Resource, in props) error {
	if u, ok := NotEmulated[rec.Type]; ok && (u.Applies == nil || u.Applies(in)) {
		id, outputs := u.record(p, rec.Name, in)
		rec.ID, rec.State = id, state(rec.Inputs, outputs)
		return nil
	}
	c, ok := creators[rec.Type]
	if !ok {
		return fmt.Errorf("sandbox: resource type %s (%s) is not supported: add a creator (integration/sandbox/provision/provisioner.go) or a NotEmulated entry (notemulated.go)",
			rec.Type, rec.Name)
	}
	for key := range rec.Inputs {
		if !slices.Contains(c.inputs, string(key)) && !slices.Contains(c.inputs, "*"+string(key)) {
			return fmt.Errorf("sandbox: input %q of %s (%s) is not supported: teach its creator in integration/sandbox/provision",
				key, rec.Type, rec.Name)
		}
	}
	for _, key := range c.inputs {
		if key, required := strings.CutPrefix(key, "*"); required && in.str(key) == "" {
			return fmt.Errorf("sandbox: create %s %s: required input %q is missing", rec.Type, rec.Name, key)
		}
	}
	id, outputs, err := c.create(p.ctx, p, rec.Name, in)
	if err != nil {
		return fmt.Errorf("sandbox: create %s %s in the emulator: %w", rec.Type, rec.Name, err)
	}
	rec.ID, rec.State, rec.Emulated = id, state(rec.Inputs, outputs), true
	return nil
}

// Call answers the provider functions (invokes) the program uses, from the
// emulator's account and the stack's region. Any other fails, naming it.
func (p *Provisioner) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": p.account, "arn": "arn:aws:iam::" + p.account + ":root", "userId": p.account, "id": p.account,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": p.region, "id": p.region}), nil
	default:
		return nil, fmt.Errorf("sandbox: provider function %s is not supported: add it to Provisioner.Call in integration/sandbox/provision/provisioner.go",
			args.Token)
	}
}

// arn builds an ARN in the stack's region and the emulator's account.
func (p *Provisioner) arn(service, res string) string {
	return "arn:aws:" + service + ":" + p.region + ":" + p.account + ":" + res
}
