package provision

// Creators of the Async component's resources and of the event source
// mappings (issue 13): kumo hosts the bus, rule, target, queues and
// policies, and stores a mapping that it never polls (NotEmulated names
// the stand-in, standin.QueuePoller, which Mappings feeds).

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Type tokens the sandbox reads back.
const (
	TypeQueue   = "aws:sqs/queue:Queue"
	TypeMapping = "aws:lambda/eventSourceMapping:EventSourceMapping"
)

func createEventBus(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 256)
	out, err := p.clients.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name), Description: aws.String(in.str("description"))})
	if err != nil {
		return "", nil, fmt.Errorf("CreateEventBus %s: %w", name, err)
	}
	return name, map[string]any{"arn": aws.ToString(out.EventBusArn), "name": name}, nil
}

func createEventRule(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name, bus := autoName(in, name, 64), in.str("eventBusName")
	out, err := p.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventBusName: aws.String(bus), EventPattern: aws.String(in.str("eventPattern")), Description: aws.String(in.str("description")),
	})
	if err != nil {
		return "", nil, fmt.Errorf("PutRule %s: %w", name, err)
	}
	return bus + "/" + name, map[string]any{"arn": aws.ToString(out.RuleArn), "name": name}, nil
}

// createEventTarget puts the target; kumo keeps its dead-letter config and
// retry policy but delivers at once and never fails (NotEmulated).
func createEventTarget(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	rule, bus, id := in.str("rule"), in.str("eventBusName"), in.str("targetId")
	target := ebtypes.Target{Id: aws.String(id), Arn: aws.String(in.str("arn"))}
	if dl := in.obj("deadLetterConfig"); dl != nil {
		target.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: aws.String(dl.str("arn"))}
	}
	if rp := in.obj("retryPolicy"); rp != nil {
		target.RetryPolicy = &ebtypes.RetryPolicy{
			MaximumEventAgeInSeconds: aws.Int32(rp.int32("maximumEventAgeInSeconds", 0)), MaximumRetryAttempts: aws.Int32(rp.int32("maximumRetryAttempts", 0)),
		}
	}
	if _, err := p.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Targets: []ebtypes.Target{target}}); err != nil {
		return "", nil, fmt.Errorf("PutTargets %s on %s: %w", id, rule, err)
	}
	return bus + "/" + rule + "/" + id, nil, nil
}

// createQueue creates the queue with its attributes; kumo stores
// KmsMasterKeyId and encrypts nothing (NotEmulated), and applies the
// visibility timeout and the redrive policy.
func createQueue(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 80)
	attrs := map[string]string{"KmsMasterKeyId": in.str("kmsMasterKeyId"), "RedrivePolicy": in.str("redrivePolicy")}
	for attr, key := range map[string]string{"VisibilityTimeout": "visibilityTimeoutSeconds", "MessageRetentionPeriod": "messageRetentionSeconds"} {
		if n := in.int32(key, -1); n >= 0 {
			attrs[attr] = strconv.Itoa(int(n))
		}
	}
	out, err := p.clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs, Tags: in.strMap("tags")})
	if err != nil {
		return "", nil, fmt.Errorf("CreateQueue %s: %w", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	got, err := p.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", nil, fmt.Errorf("GetQueueAttributes %s: %w", name, err)
	}
	return url, map[string]any{"arn": got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], "url": url, "name": name}, nil
}

func createQueuePolicy(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	url := in.str("queueUrl")
	if _, err := p.clients.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": in.str("policy")},
	}); err != nil {
		return "", nil, fmt.Errorf("SetQueueAttributes Policy on %s: %w", url, err)
	}
	return url, nil, nil
}

// createEventSourceMapping stores the mapping in kumo, which keeps its
// function, queue and batch size and never polls; the function response
// types are read back from the deployment (Mappings).
func createEventSourceMapping(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	out, err := p.clients.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(in.str("functionName")), EventSourceArn: aws.String(in.str("eventSourceArn")),
		BatchSize: aws.Int32(in.int32("batchSize", 10)), MaximumBatchingWindowInSeconds: aws.Int32(in.int32("maximumBatchingWindowInSeconds", 0)),
		Enabled: aws.Bool(in.flag("enabled")),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateEventSourceMapping: %w", err)
	}
	uuid := aws.ToString(out.UUID)
	return uuid, map[string]any{"uuid": uuid, "state": aws.ToString(out.State), "functionArn": aws.ToString(out.FunctionArn)}, nil
}

// Mapping is an SQS event source mapping as deployed: what a
// standin.QueuePoller needs to feed its function as Lambda would.
type Mapping struct {
	// Function is the function's name; QueueURL and QueueARN its queue's.
	Function, QueueURL, QueueARN string
	// BatchSize is the most messages per invocation.
	BatchSize int32
	// ReportFailures is true with ReportBatchItemFailures: the function
	// names the messages to keep.
	ReportFailures bool
}

// Mappings returns the deployment's event source mappings, each with its
// queue's URL.
func (d *Deployment) Mappings() []Mapping {
	urls := map[string]string{}
	for _, q := range d.ByType(TypeQueue) {
		urls[q.Output("arn")] = q.ID
	}
	var out []Mapping
	for _, r := range d.ByType(TypeMapping) {
		in := props(r.Inputs)
		fn := in.str("functionName")
		out = append(out, Mapping{
			Function: fn[strings.LastIndex(fn, ":")+1:], QueueARN: in.str("eventSourceArn"), QueueURL: urls[in.str("eventSourceArn")],
			BatchSize: in.int32("batchSize", 10), ReportFailures: strings.Contains(strings.Join(in.strs("functionResponseTypes"), ","), "ReportBatchItemFailures"),
		})
	}
	return out
}
