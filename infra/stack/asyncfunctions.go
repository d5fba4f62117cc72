package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// The asynchronous path's functions (issue 13), part of Functions: the
// worker, which delivers queued alerts with the processor's core, and the
// dead-letter handler, which gives up the alerts whose message was
// dead-lettered; each with its log group, its least-privilege policy and
// the event source mapping that feeds it from its queue.

// newWorker creates the worker and the alert queue's mapping to it.
func (f *Functions) newWorker(ctx *pulumi.Context, name string, args *FunctionsArgs, voice *Voice) error {
	var err error
	if f.WorkerLogs, err = f.logGroup(ctx, name, names.FunctionWorker, args); err != nil {
		return err
	}
	f.WorkerPolicy, err = f.rolePolicy(ctx, name, names.FunctionWorker, args, args.Roles.Worker,
		deliveryPolicyOutput(args, voice, f.WorkerLogs.Arn, names.FunctionWorker))
	if err != nil {
		return err
	}
	env := deliveryEnv(args, voice)
	env[names.EnvDeliveryTimeout] = pulumi.String(FormatDuration(WorkerTimeout))
	env[names.EnvAlertQueueURL] = args.Async.Queue.Url
	env[names.EnvRetryDelay] = pulumi.String(FormatDuration(args.RetryDelay))
	f.Worker, err = f.function(ctx, name, names.FunctionWorker, args, functionSpec{
		role: args.Roles.Worker, logs: f.WorkerLogs, policy: f.WorkerPolicy,
		memoryMB: WorkerMemoryMB, timeout: WorkerTimeout, reservation: NoReservedConcurrency, env: env,
	})
	if err != nil {
		return err
	}
	f.WorkerMapping, err = f.mapping(ctx, name, names.FunctionWorker, args.Async.Queue, f.Worker, f.WorkerPolicy)
	return err
}

// newDeadLetter creates the dead-letter handler, which may only read and
// write alert records and consume the dead-letter queue, and the
// dead-letter queue's mapping to it.
func (f *Functions) newDeadLetter(ctx *pulumi.Context, name string, args *FunctionsArgs) error {
	var err error
	if f.DeadLetterLogs, err = f.logGroup(ctx, name, names.FunctionDeadLetter, args); err != nil {
		return err
	}
	doc := policyOutput(pulumi.StringMap{
		"logs": f.DeadLetterLogs.Arn, "alerts": args.AlertsTable.Arn, "alertsKey": args.AlertsKeyARN,
		"dlq": args.Async.DeadLetters.Arn, "queueKey": args.Async.Key.Arn,
	}, func(v map[string]string) PolicyDocument {
		doc := policy(
			Statement{Sid: "AlertRecords", Effect: effectAllow, Action: []string{"dynamodb:PutItem", "dynamodb:Query"}, Resource: []string{v["alerts"]}},
			alertsKeyStatement(v["alertsKey"], args.Region, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"),
		)
		doc.Statement = append(doc.Statement, consumeStatements(v["dlq"], v["queueKey"], args.Region)...)
		doc.Statement = append(doc.Statement, logsStatement(v["logs"]), xrayStatement())
		return doc
	})
	if f.DeadLetterPolicy, err = f.rolePolicy(ctx, name, names.FunctionDeadLetter, args, args.Roles.DeadLetter, doc); err != nil {
		return err
	}
	f.DeadLetter, err = f.function(ctx, name, names.FunctionDeadLetter, args, functionSpec{
		role: args.Roles.DeadLetter, logs: f.DeadLetterLogs, policy: f.DeadLetterPolicy,
		memoryMB: DeadLetterMemoryMB, timeout: DeadLetterTimeout, reservation: NoReservedConcurrency,
		env: pulumi.StringMap{
			names.EnvAlertsTable:      args.AlertsTable.Name,
			names.EnvMetricsNamespace: pulumi.String(args.MetricsNamespace),
			names.EnvDeliveryTimeout:  pulumi.String(FormatDuration(WorkerTimeout)),
			names.EnvLogLevel:         pulumi.String(args.LogLevel),
		},
	})
	if err != nil {
		return err
	}
	f.DeadLetterMapping, err = f.mapping(ctx, name, names.FunctionDeadLetter, args.Async.DeadLetters, f.DeadLetter, f.DeadLetterPolicy)
	return err
}

// mapping feeds fn from q: batches of mappingBatchSize without a batching
// window (an alert never waits for a batch to fill), each message of a
// batch deleted unless the function names it a failure. It waits for the
// function's policy: Lambda checks the role may read the queue when the
// mapping is created.
func (f *Functions) mapping(ctx *pulumi.Context, name, fn string, q *sqs.Queue, fun *lambda.Function, pol pulumi.Resource) (*lambda.EventSourceMapping, error) {
	m, err := lambda.NewEventSourceMapping(ctx, name+"-"+fn+"-mapping", &lambda.EventSourceMappingArgs{
		EventSourceArn:                 q.Arn,
		FunctionName:                   fun.Arn,
		BatchSize:                      pulumi.Int(mappingBatchSize),
		MaximumBatchingWindowInSeconds: pulumi.Int(0),
		FunctionResponseTypes:          pulumi.StringArray{pulumi.String(reportBatchItemFailures)},
		Enabled:                        pulumi.Bool(true),
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{pol}))
	if err != nil {
		return nil, fmt.Errorf("create %s event source mapping: %w", fn, err)
	}
	return m, nil
}

// consumeStatements let a function's event source mapping read and delete
// messages of queue (and, with extra, do more with them), decrypting them
// with key through SQS in region only.
func consumeStatements(queue, key, region string, extra ...string) []Statement {
	return []Statement{
		{
			Sid: "ConsumeQueue", Effect: effectAllow,
			Action:   append([]string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, extra...),
			Resource: []string{queue},
		},
		{
			Sid: "DecryptQueue", Effect: effectAllow, Action: []string{"kms:Decrypt"}, Resource: []string{key},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "sqs." + region + ".amazonaws.com"}},
		},
	}
}
