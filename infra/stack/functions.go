package stack

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// FunctionsType is the type token of the Functions component. (The Go
// name is Functions, the token's Lambdas: the token is kept as first
// deployed, since renaming it would replace live resources.)
const FunctionsType = "a2p:functions:Lambdas"

// Sizing of the functions.
const (
	// AuthorizerMemoryMB: the authorizer hashes one header and compares it
	// with a short list; the smallest size is plenty.
	AuthorizerMemoryMB = 128
	// AuthorizerTimeout: a run takes milliseconds; 5 s covers a cold
	// start with room to spare and fails fast (401/500) if it hangs.
	AuthorizerTimeout = 5 * time.Second
	// ProcessorMemoryMB: Lambda gives CPU in proportion to memory; 256 MB
	// keeps the cold start's TLS handshakes (DynamoDB, SNS, Connect) and
	// the JSON work quick at little cost.
	ProcessorMemoryMB = 256
	// ProcessorTimeout lets every channel of a contact run to its bound
	// (delivery.DefaultBudget.Timeout of three channels: 3 x 7 s, the 2 s
	// reserve and a second for the writes between attempts) and stays
	// under API Gateway's 29 s integration limit, so the function, not API
	// Gateway, decides the caller's answer. It also sets
	// names.EnvLockTimeout: the idempotency lock must not lapse before the
	// invocation that holds it has timed out, or a retry could deliver the
	// alert twice.
	ProcessorTimeout = 25 * time.Second
	// StatusMemoryMB: one query and a small JSON answer.
	StatusMemoryMB = 128
	// StatusTimeout: two queries take milliseconds; 5 s covers a cold
	// start.
	StatusTimeout = 5 * time.Second
	// WorkerMemoryMB: the processor's size, for the same work on up to a
	// batch of alerts at once.
	WorkerMemoryMB = 256
	// WorkerTimeout is the processor's, for the same reason: every
	// channel of every alert of a batch (delivered side by side) runs to
	// its bound. It sets names.EnvDeliveryTimeout of the worker and the
	// dead-letter handler (an attempt still sending after it belongs to an
	// invocation that is over), and the alert queue's visibility timeout
	// is six times it.
	WorkerTimeout = ProcessorTimeout
	// DeadLetterMemoryMB: a read and a write per message.
	DeadLetterMemoryMB = 128
	// DeadLetterTimeout: a batch takes milliseconds; 10 s covers a cold
	// start and DynamoDB retries.
	DeadLetterTimeout = 10 * time.Second
	// mappingBatchSize is both event source mappings' batch: SQS's
	// largest without a batching window, which would delay alerts.
	mappingBatchSize = 10
	// reportBatchItemFailures lets a function name the messages of a
	// batch to receive again, so the others are deleted.
	reportBatchItemFailures = "ReportBatchItemFailures"
)

// Lambda settings shared by both functions.
const (
	lambdaHandler    = "bootstrap" // the binary's name in the zip
	lambdaLogFormat  = "Text"      // the functions write their own JSON lines
	tracingActive    = "Active"
	artifactSuffix   = ".zip"
	lambdaLogGroupNS = "/aws/lambda/"
)

// FunctionsArgs configures the Functions component.
type FunctionsArgs struct {
	// NamePrefix prefixes the function names:
	// "<NamePrefix>-<names.FunctionX>".
	NamePrefix string
	// Roles are the execution roles; this component attaches their
	// inline policies.
	Roles *Roles
	// ArtifactDir holds <names.FunctionX>.zip.
	ArtifactDir string
	// Arch is ArchARM64 or ArchX86.
	Arch string
	// LogRetentionDays is the log groups' retention.
	LogRetentionDays int
	// LogLevel is the functions' slog level.
	LogLevel string
	// APIClients is the authorizer's names.EnvAPIClients: the JSON list of
	// token.Client (APIKeys.AuthorizerClients).
	APIClients pulumi.StringInput
	// ContactsTable and IdempotencyTable are the processor's tables.
	ContactsTable, IdempotencyTable *dynamodb.Table
	// AlertsTable is the alerts table the processor writes and the status
	// function reads, encrypted with AlertsKeyARN.
	AlertsTable *dynamodb.Table
	// AlertsKeyARN is the alerts table's key.
	AlertsKeyARN pulumi.StringInput
	// AlertRetentionDays is passed to names.EnvAlertRetentionDays.
	AlertRetentionDays int
	// FallbackOnUnknown sets names.EnvFallbackOnUnknown when true.
	FallbackOnUnknown bool
	// MetricsNamespace is the processor's names.EnvMetricsNamespace.
	MetricsNamespace string
	// IdempotencyTTL is how long completed alerts answer replays.
	IdempotencyTTL time.Duration
	// TopicARNs are the topics the processor may publish to.
	TopicARNs pulumi.StringArray
	// KeyARN is the topics' KMS key.
	KeyARN pulumi.StringInput
	// Region is where SNS uses the key for the processor (the
	// kms:ViaService condition).
	Region string
	// PHIDetectors is passed through to names.EnvPHIDetectors; nil
	// leaves it unset (every detector).
	PHIDetectors []string
	// AuthorizerReservedConcurrency and ProcessorReservedConcurrency
	// reserve concurrency per function; NoReservedConcurrency reserves
	// none.
	AuthorizerReservedConcurrency, ProcessorReservedConcurrency int
	// SMSContent is passed through to names.EnvSMSContent unless it is
	// render.SMSFull, the processor's default.
	SMSContent render.SMSContent
	// Async is the asynchronous path's bus and queues: the processor puts
	// accepted alerts on the bus, the worker and the dead-letter handler
	// consume the queues.
	Async *Async
	// RetryDelay is the worker's names.EnvRetryDelay.
	RetryDelay time.Duration
	// Escalation is what the delivering and acknowledging functions read
	// about escalation.
	Escalation EscalationEnv
	// InboundSMSTopic is the topic SMS replies arrive on; nil without
	// two-way SMS.
	InboundSMSTopic *sns.Topic
	// Partition and AccountID locate the schedules the functions set.
	Partition, AccountID string
}

// Functions holds the two Lambda functions with their log groups and
// inline role policies.
type Functions struct {
	pulumi.ResourceState

	// Authorizer is the REQUEST authorizer function.
	Authorizer *lambda.Function
	// Processor is the function behind POST /notification.
	Processor *lambda.Function
	// Status is the read-only function behind
	// GET /notification/{message_id}.
	Status *lambda.Function
	// AuthorizerLogs is /aws/lambda/<authorizer name>.
	AuthorizerLogs *cloudwatch.LogGroup
	// ProcessorLogs is /aws/lambda/<processor name>.
	ProcessorLogs *cloudwatch.LogGroup
	// AuthorizerPolicy is the authorizer role's inline policy.
	AuthorizerPolicy *iam.RolePolicy
	// ProcessorPolicy is the processor role's inline policy.
	ProcessorPolicy *iam.RolePolicy
	// StatusLogs and StatusPolicy are the status function's.
	StatusLogs   *cloudwatch.LogGroup
	StatusPolicy *iam.RolePolicy
	// Worker delivers queued alerts; WorkerLogs, WorkerPolicy and
	// WorkerMapping (the alert queue's event source mapping) are its.
	Worker        *lambda.Function
	WorkerLogs    *cloudwatch.LogGroup
	WorkerPolicy  *iam.RolePolicy
	WorkerMapping *lambda.EventSourceMapping
	// DeadLetter gives up dead-lettered alerts; DeadLetterLogs,
	// DeadLetterPolicy and DeadLetterMapping (the dead-letter queue's) are
	// its.
	DeadLetter        *lambda.Function
	DeadLetterLogs    *cloudwatch.LogGroup
	DeadLetterPolicy  *iam.RolePolicy
	DeadLetterMapping *lambda.EventSourceMapping
	// Ack is the function every acknowledgment goes through; AckLogs and
	// AckPolicy are its log group and inline policy.
	Ack       *lambda.Function
	AckLogs   *cloudwatch.LogGroup
	AckPolicy *iam.RolePolicy
	// Escalate runs the escalation timers; EscalateLogs and
	// EscalatePolicy are its log group and inline policy.
	Escalate       *lambda.Function
	EscalateLogs   *cloudwatch.LogGroup
	EscalatePolicy *iam.RolePolicy
	// InboundSubscription subscribes Ack to the SMS replies' topic and
	// InboundPermission lets that topic invoke it; nil without two-way
	// SMS.
	InboundSubscription *sns.TopicSubscription
	InboundPermission   *lambda.Permission

	// watched lists each function's name and timeout, for the alarms.
	watched []WatchedFunction
}

// WatchedFunction is a function the alarms watch.
type WatchedFunction struct {
	// Name is the function's physical name.
	Name string
	// Timeout is the function's timeout.
	Timeout time.Duration
}

// FunctionName is the physical name of function fn in a stack.
func FunctionName(prefix, fn string) string { return prefix + "-" + fn }

// Watched lists the functions, in creation order, for the alarms.
func (f *Functions) Watched() []WatchedFunction { return append([]WatchedFunction(nil), f.watched...) }

// NewFunctions creates, for each function that calls nobody, its log
// group, its inline policy and the function, in that order, so that a
// function never runs without its log group or its permissions: the
// authorizer, the status function and the ack function (which the
// contact flow then names). AddDeliverers creates the two that call
// (they need the contact flow's id).
func NewFunctions(ctx *pulumi.Context, name string, args *FunctionsArgs, opts ...pulumi.ResourceOption) (*Functions, error) {
	f := &Functions{}
	if err := ctx.RegisterComponentResource(FunctionsType, name, f, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	for _, step := range []func(*pulumi.Context, string, *FunctionsArgs) error{f.newAuthorizer, f.newStatus, f.newAck} {
		if err := step(ctx, name, args); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// AddDeliverers creates the functions that deliver (calls through voice,
// nil when no contact is called): the processor, the escalate function
// and the asynchronous path's worker, with the dead-letter handler; and
// registers the component's outputs.
func (f *Functions) AddDeliverers(ctx *pulumi.Context, name string, args *FunctionsArgs, voice *Voice) error {
	if err := f.newProcessor(ctx, name, args, voice); err != nil {
		return err
	}
	if err := f.newEscalate(ctx, name, args, voice); err != nil {
		return err
	}
	if err := f.newWorker(ctx, name, args, voice); err != nil {
		return err
	}
	if err := f.newDeadLetter(ctx, name, args); err != nil {
		return err
	}
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"authorizerName": f.Authorizer.Name,
		"processorName":  f.Processor.Name,
		"statusName":     f.Status.Name,
		"workerName":     f.Worker.Name,
		"deadLetterName": f.DeadLetter.Name,
		"ackName":        f.Ack.Name,
		"escalateName":   f.Escalate.Name,
	}); err != nil {
		return fmt.Errorf("register %s outputs: %w", name, err)
	}
	return nil
}

// newAuthorizer creates the authorizer, which may only log and trace.
func (f *Functions) newAuthorizer(ctx *pulumi.Context, name string, args *FunctionsArgs) error {
	var err error
	f.AuthorizerLogs, err = f.logGroup(ctx, name, names.FunctionAuthorizer, args)
	if err != nil {
		return err
	}
	doc := policyOutput(pulumi.StringMap{"logs": f.AuthorizerLogs.Arn}, func(v map[string]string) PolicyDocument {
		return policy(logsStatement(v["logs"]), xrayStatement())
	})
	f.AuthorizerPolicy, err = f.rolePolicy(ctx, name, names.FunctionAuthorizer, args, args.Roles.Authorizer, doc)
	if err != nil {
		return err
	}
	f.Authorizer, err = f.function(ctx, name, names.FunctionAuthorizer, args, functionSpec{
		role:        args.Roles.Authorizer,
		logs:        f.AuthorizerLogs,
		policy:      f.AuthorizerPolicy,
		memoryMB:    AuthorizerMemoryMB,
		timeout:     AuthorizerTimeout,
		reservation: args.AuthorizerReservedConcurrency,
		env: pulumi.StringMap{
			names.EnvAPIClients: args.APIClients,
			names.EnvLogLevel:   pulumi.String(args.LogLevel),
		},
	})
	return err
}

// newProcessor creates the processor.
func (f *Functions) newProcessor(ctx *pulumi.Context, name string, args *FunctionsArgs, voice *Voice) error {
	var err error
	f.ProcessorLogs, err = f.logGroup(ctx, name, names.FunctionProcessor, args)
	if err != nil {
		return err
	}
	f.ProcessorPolicy, err = f.rolePolicy(ctx, name, names.FunctionProcessor, args, args.Roles.Processor,
		deliveryPolicyOutput(args, voice, f.ProcessorLogs.Arn, names.FunctionProcessor))
	if err != nil {
		return err
	}
	env := deliveryEnv(args, voice)
	env[names.EnvIdempotencyTable] = args.IdempotencyTable.Name
	env[names.EnvIdempotencyTTL] = pulumi.String(FormatDuration(args.IdempotencyTTL))
	env[names.EnvLockTimeout] = pulumi.String(FormatDuration(ProcessorTimeout))
	env[names.EnvEventBus] = args.Async.Bus.Name
	// Read by the Go runtime before any package initialises; see
	// names.EnvGoGC.
	env[names.EnvGoGC] = pulumi.String(strconv.Itoa(names.ProcessorGCPercent))
	if args.PHIDetectors != nil {
		env[names.EnvPHIDetectors] = pulumi.String(strings.Join(args.PHIDetectors, ","))
	}
	f.Processor, err = f.function(ctx, name, names.FunctionProcessor, args, functionSpec{
		role:        args.Roles.Processor,
		logs:        f.ProcessorLogs,
		policy:      f.ProcessorPolicy,
		memoryMB:    ProcessorMemoryMB,
		timeout:     ProcessorTimeout,
		reservation: args.ProcessorReservedConcurrency,
		env:         env,
	})
	return err
}

// deliveryEnv is the environment of a function that delivers (the
// processor, the worker, the escalate function), read by
// services/processor/setup.LoadCore: the tables, the record's retention,
// the metrics, the Connect settings, the SMS content and the escalation
// settings.
func deliveryEnv(args *FunctionsArgs, voice *Voice) pulumi.StringMap {
	env := pulumi.StringMap{
		names.EnvContactsTable:      args.ContactsTable.Name,
		names.EnvAlertsTable:        args.AlertsTable.Name,
		names.EnvAlertRetentionDays: pulumi.String(strconv.Itoa(args.AlertRetentionDays)),
		names.EnvMetricsNamespace:   pulumi.String(args.MetricsNamespace),
		names.EnvLogLevel:           pulumi.String(args.LogLevel),
	}
	if args.FallbackOnUnknown {
		env[names.EnvFallbackOnUnknown] = pulumi.String("true")
	}
	if voice != nil {
		env[names.EnvConnectInstanceID] = voice.InstanceID
		env[names.EnvConnectContactFlowID] = voice.ContactFlowID
		env[names.EnvConnectSourcePhone] = voice.SourcePhoneNumber
	}
	if args.SMSContent != "" && args.SMSContent != render.SMSFull {
		env[names.EnvSMSContent] = pulumi.String(string(args.SMSContent))
	}
	for k, v := range args.Escalation.env(true) {
		env[k] = v
	}
	return env
}

// newStatus creates the status function, which may only read the alerts
// table (and log): it answers GET /notification/{message_id}.
func (f *Functions) newStatus(ctx *pulumi.Context, name string, args *FunctionsArgs) error {
	var err error
	f.StatusLogs, err = f.logGroup(ctx, name, names.FunctionStatus, args)
	if err != nil {
		return err
	}
	doc := policyOutput(pulumi.StringMap{"logs": f.StatusLogs.Arn, "alerts": args.AlertsTable.Arn, "key": args.AlertsKeyARN},
		func(v map[string]string) PolicyDocument {
			return policy(
				Statement{Sid: "ReadAlerts", Effect: effectAllow, Action: []string{"dynamodb:Query"}, Resource: []string{v["alerts"]}},
				alertsKeyStatement(v["key"], args.Region, "kms:Decrypt", "kms:DescribeKey"),
				logsStatement(v["logs"]), xrayStatement(),
			)
		})
	f.StatusPolicy, err = f.rolePolicy(ctx, name, names.FunctionStatus, args, args.Roles.Status, doc)
	if err != nil {
		return err
	}
	f.Status, err = f.function(ctx, name, names.FunctionStatus, args, functionSpec{
		role:        args.Roles.Status,
		logs:        f.StatusLogs,
		policy:      f.StatusPolicy,
		memoryMB:    StatusMemoryMB,
		timeout:     StatusTimeout,
		reservation: NoReservedConcurrency,
		env: pulumi.StringMap{
			names.EnvAlertsTable: args.AlertsTable.Name,
			names.EnvLogLevel:    pulumi.String(args.LogLevel),
		},
	})
	return err
}

// alertsKeyStatement lets a function use the alerts table's key with
// actions, through DynamoDB in region only (DynamoDB encrypts and decrypts
// the table's items with it on the caller's behalf).
func alertsKeyStatement(keyARN, region string, actions ...string) Statement {
	return Statement{
		Sid:       "AlertsTableKey",
		Effect:    effectAllow,
		Action:    actions,
		Resource:  []string{keyARN},
		Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "dynamodb." + region + ".amazonaws.com"}},
	}
}

// logGroup creates /aws/lambda/<function name> with the retention, before
// the function exists, so Lambda does not create it without one.
func (f *Functions) logGroup(ctx *pulumi.Context, name, fn string, args *FunctionsArgs) (*cloudwatch.LogGroup, error) {
	lg, err := cloudwatch.NewLogGroup(ctx, name+"-"+fn+"-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(lambdaLogGroupNS + FunctionName(args.NamePrefix, fn)),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, pulumi.Parent(f))
	if err != nil {
		return nil, fmt.Errorf("create %s log group: %w", fn, err)
	}
	return lg, nil
}

// rolePolicy attaches function fn's inline policy to its role.
func (f *Functions) rolePolicy(ctx *pulumi.Context, name, fn string, args *FunctionsArgs, role *iam.Role, doc pulumi.StringInput) (*iam.RolePolicy, error) {
	p, err := iam.NewRolePolicy(ctx, name+"-"+fn+"-policy", &iam.RolePolicyArgs{
		Name:   pulumi.String(FunctionName(args.NamePrefix, fn)),
		Role:   role.Name,
		Policy: doc,
	}, pulumi.Parent(f))
	if err != nil {
		return nil, fmt.Errorf("create %s policy: %w", fn, err)
	}
	return p, nil
}

// functionSpec is what differs between the two functions.
type functionSpec struct {
	role     *iam.Role
	logs     *cloudwatch.LogGroup
	policy   *iam.RolePolicy
	memoryMB int
	timeout  time.Duration
	// reservation is the reserved concurrency, or NoReservedConcurrency.
	reservation int
	env         pulumi.StringMap
}

// function creates one Lambda function from <ArtifactDir>/<fn>.zip.
func (f *Functions) function(ctx *pulumi.Context, name, fn string, args *FunctionsArgs, s functionSpec) (*lambda.Function, error) {
	fun, err := lambda.NewFunction(ctx, name+"-"+fn, &lambda.FunctionArgs{
		Name:                         pulumi.String(FunctionName(args.NamePrefix, fn)),
		Role:                         s.role.Arn,
		Runtime:                      lambda.RuntimeCustomAL2023,
		Handler:                      pulumi.String(lambdaHandler),
		Code:                         pulumi.NewFileArchive(filepath.Join(args.ArtifactDir, fn+artifactSuffix)),
		Architectures:                pulumi.StringArray{pulumi.String(args.Arch)},
		MemorySize:                   pulumi.Int(s.memoryMB),
		Timeout:                      pulumi.Int(int(s.timeout / time.Second)),
		ReservedConcurrentExecutions: pulumi.Int(s.reservation),
		TracingConfig:                lambda.FunctionTracingConfigArgs{Mode: pulumi.String(tracingActive)},
		Environment:                  lambda.FunctionEnvironmentArgs{Variables: s.env},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String(lambdaLogFormat),
			LogGroup:  s.logs.Name,
		},
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{s.logs, s.policy}))
	if err != nil {
		return nil, fmt.Errorf("create %s function: %w", fn, err)
	}
	f.watched = append(f.watched, WatchedFunction{Name: FunctionName(args.NamePrefix, fn), Timeout: s.timeout})
	return fun, nil
}

// processorResources are the ARNs the policy of a function that delivers
// names: the processor's, the worker's and the escalate function's.
type processorResources struct {
	contactsTable string
	// idempotencyTable is the processor's only.
	idempotencyTable string
	alertsTable      string
	alertsKey        string
	topics           []string
	key              string
	// connectInstance is the instance ARN, or "" when no contact is called.
	connectInstance string
	// bus is the event bus the processor queues alerts on ("" for the
	// worker).
	bus string
	// queue and queueKey are the alert queue the worker consumes and its
	// key ("" for the processor).
	queue, queueKey string
	logGroup        string
	// region is where SNS uses the key.
	region string
	// schedules and schedulerRole are the timers' schedule ARNs and the
	// role passed with them; "" when nothing escalates.
	schedules, schedulerRole string
}

// processorPolicy is the least-privilege policy of a function that
// delivers: read the contacts table; record idempotency (the processor
// only); write alert records (PutItem: every write is a conditional Put in
// a TransactWriteItems, which IAM authorises per item action) and reread
// one (Query: after a conflicting write; the worker resumes queued
// alerts), with the alerts key; put accepted alerts on the bus (the
// processor only); consume the alert queue (the worker only); publish to
// its topics with their key; start calls on its Connect instance; set
// escalation timers; write its logs and traces.
func processorPolicy(r processorResources) PolicyDocument {
	doc := policy(Statement{Sid: "ReadContacts", Effect: effectAllow, Action: []string{"dynamodb:GetItem"}, Resource: []string{r.contactsTable}})
	if r.idempotencyTable != "" {
		doc.Statement = append(doc.Statement, Statement{
			Sid:      "IdempotencyRecords",
			Effect:   effectAllow,
			Action:   []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
			Resource: []string{r.idempotencyTable},
		})
	}
	doc.Statement = append(doc.Statement,
		Statement{Sid: "AlertRecords", Effect: effectAllow, Action: []string{"dynamodb:PutItem", "dynamodb:Query"}, Resource: []string{r.alertsTable}},
		alertsKeyStatement(r.alertsKey, r.region, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"))
	if r.bus != "" {
		doc.Statement = append(doc.Statement, Statement{Sid: "QueueAcceptedAlerts", Effect: effectAllow, Action: []string{"events:PutEvents"}, Resource: []string{r.bus}})
	}
	if r.queue != "" {
		doc.Statement = append(doc.Statement, consumeStatements(r.queue, r.queueKey, r.region, "sqs:ChangeMessageVisibility")...)
	}
	if len(r.topics) > 0 {
		doc.Statement = append(doc.Statement,
			Statement{
				Sid:      "PublishToContactTopics",
				Effect:   effectAllow,
				Action:   []string{"sns:Publish"},
				Resource: r.topics,
			},
			// Publishing to an encrypted topic needs the publisher to use
			// the topic's key, which SNS does on its behalf: through SNS
			// in this region only.
			Statement{
				Sid:      "EncryptForTopics",
				Effect:   effectAllow,
				Action:   []string{"kms:GenerateDataKey*", "kms:Decrypt"},
				Resource: []string{r.key},
				Condition: map[string]map[string]any{
					"StringEquals": {"kms:ViaService": "sns." + r.region + ".amazonaws.com"},
				},
			},
		)
	}
	if r.connectInstance != "" {
		doc.Statement = append(doc.Statement, Statement{
			Sid:      "StartAlertCalls",
			Effect:   effectAllow,
			Action:   []string{"connect:StartOutboundVoiceContact"},
			Resource: []string{r.connectInstance + "/contact/*"},
		})
	}
	if r.schedules != "" {
		doc.Statement = append(doc.Statement, setTimerStatements(r.schedules, r.schedulerRole)...)
	}
	doc.Statement = append(doc.Statement, logsStatement(r.logGroup), xrayStatement())
	return doc
}

// deliveryPolicyOutput resolves the resources of a function that
// delivers, fn (names.FunctionProcessor, FunctionWorker or
// FunctionEscalate), and renders its policy.
func deliveryPolicyOutput(args *FunctionsArgs, voice *Voice, logGroupARN pulumi.StringInput, fn string) pulumi.StringOutput {
	single := pulumi.StringMap{
		"contacts":  args.ContactsTable.Arn,
		"alerts":    args.AlertsTable.Arn,
		"alertsKey": args.AlertsKeyARN,
		"key":       args.KeyARN,
		"logs":      logGroupARN,
	}
	switch fn {
	case names.FunctionProcessor:
		single["idempotency"], single["bus"] = args.IdempotencyTable.Arn, args.Async.Bus.Arn
	case names.FunctionWorker:
		single["queue"], single["queueKey"] = args.Async.Queue.Arn, args.Async.Key.Arn
	}
	if voice != nil {
		single["connect"] = voice.InstanceARN
	}
	if e := args.Escalation; e.enabled() {
		single["schedulerRole"] = e.Timers.Role.Arn
	}
	topics := args.TopicARNs
	if topics == nil {
		topics = pulumi.StringArray{}
	}
	return applyString(pulumi.All(single, topics), func(in []any) (string, error) {
		v, ok := in[0].(map[string]string)
		if !ok {
			return "", fmt.Errorf("delivery policy: resources are %T", in[0])
		}
		t, ok := in[1].([]string)
		if !ok {
			return "", fmt.Errorf("delivery policy: topics are %T", in[1])
		}
		r := processorResources{
			contactsTable:    v["contacts"],
			idempotencyTable: v["idempotency"],
			alertsTable:      v["alerts"],
			alertsKey:        v["alertsKey"],
			topics:           t,
			key:              v["key"],
			connectInstance:  v["connect"],
			bus:              v["bus"],
			queue:            v["queue"],
			queueKey:         v["queueKey"],
			logGroup:         v["logs"],
			region:           args.Region,
			schedulerRole:    v["schedulerRole"],
		}
		if r.schedulerRole != "" {
			r.schedules = args.Escalation.Timers.scheduleARNs(args.Partition, args.Region, args.AccountID)
		}
		return processorPolicy(r).JSON()
	})
}

// FormatDuration renders d as a Go duration without zero units: "24h",
// "10s", "1h30m" (time.Duration.String gives "24h0m0s").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
