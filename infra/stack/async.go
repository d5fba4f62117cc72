package stack

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// AsyncType is the type token of the Async component.
const AsyncType = "a2p:async:Queue"

// Settings of the asynchronous path.
const (
	// visibilityPerTimeout is how many function timeouts a queue's
	// visibility timeout lasts: AWS's advice for an SQS event source
	// mapping (six times the function's timeout), so that a message a
	// throttled or retried invocation holds is never handed out again
	// while that invocation may still run.
	visibilityPerTimeout = 6
	// deadLetterRetentionSeconds keeps dead-lettered messages the SQS
	// maximum, 14 days: operators may need them after a long weekend.
	deadLetterRetentionSeconds = 14 * 24 * 60 * 60
	// eventMaxAgeSeconds bounds how long EventBridge retries delivering an
	// accepted alert's event to the alert queue (its default is 24 h);
	// after an hour the event goes to the dead-letter queue, whose handler
	// fails the alert and the alarm fires.
	eventMaxAgeSeconds = 60 * 60
	// eventMaxRetries is EventBridge's own default, stated.
	eventMaxRetries = 185
	// alertQueueTarget is the rule's target id.
	alertQueueTarget = "alert-queue"
	// eventsService is EventBridge's service principal.
	eventsService = "events.amazonaws.com"
)

// AsyncArgs configures the Async component.
type AsyncArgs struct {
	// NamePrefix starts every name: "<NamePrefix>-alerts" (the bus),
	// "<NamePrefix>-alert-queue", "<NamePrefix>-alert-dlq",
	// "<NamePrefix>-alert-accepted" (the rule).
	NamePrefix string
	// Partition and AccountID name the account root, to which the key's
	// policy delegates.
	Partition, AccountID string
	// KeyAlias names the queues' key, e.g. "alias/a2p-alerts-dev-queue".
	KeyAlias string
	// Protection sets the key's deletion window.
	Protection Protection
	// MaxReceiveCount is how often the alert queue hands a message out
	// before it moves to the dead-letter queue.
	MaxReceiveCount int
	// WorkerTimeout and DeadLetterTimeout are the consuming functions'
	// timeouts, from which the queues' visibility timeouts follow.
	WorkerTimeout, DeadLetterTimeout time.Duration
}

// Async holds the asynchronous path between accepting an alert and
// delivering it: the event bus the processor puts accepted alerts on (other
// consumers, such as an audit archive, may add rules to it), the rule and
// target that deliver them to the alert queue, the alert queue with its
// redrive policy, the dead-letter queue, their policies, and the key that
// encrypts both queues. The worker and the dead-letter handler, with their
// event source mappings, are in Functions.
type Async struct {
	pulumi.ResourceState

	// Bus is the custom event bus.
	Bus *cloudwatch.EventBus
	// Rule matches accepted alerts' events (names.EventSource,
	// names.EventDetailTypeAccepted) on Bus.
	Rule *cloudwatch.EventRule
	// Target delivers Rule's events to Queue; the events it cannot
	// deliver go to DeadLetters.
	Target *cloudwatch.EventTarget
	// Queue is the alert queue the worker consumes.
	Queue *sqs.Queue
	// DeadLetters is the dead-letter queue the dead-letter handler
	// consumes.
	DeadLetters *sqs.Queue
	// QueuePolicy and DeadLetterPolicy let only Rule send to the queues.
	QueuePolicy, DeadLetterPolicy *sqs.QueuePolicy
	// Key encrypts both queues (rotation on); Alias names it.
	Key   *kms.Key
	Alias *kms.Alias
}

// AlertQueueName and DeadLetterQueueName are the queues' physical names.
func AlertQueueName(prefix string) string { return prefix + "-alert-queue" }

// DeadLetterQueueName is the dead-letter queue's physical name.
func DeadLetterQueueName(prefix string) string { return prefix + "-alert-dlq" }

// NewAsync creates the bus, the rule, the key, the queues, their policies
// and the rule's target, in dependency order.
func NewAsync(ctx *pulumi.Context, name string, args *AsyncArgs, opts ...pulumi.ResourceOption) (*Async, error) {
	a := &Async{}
	if err := ctx.RegisterComponentResource(AsyncType, name, a, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	var err error
	a.Bus, err = cloudwatch.NewEventBus(ctx, name+"-bus", &cloudwatch.EventBusArgs{
		Name:        pulumi.String(args.NamePrefix + "-alerts"),
		Description: pulumi.Sprintf("%s: accepted alerts on their way to delivery (no alert content)", args.NamePrefix),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create event bus: %w", err)
	}
	pattern, err := json.Marshal(map[string][]string{"source": {names.EventSource}, "detail-type": {names.EventDetailTypeAccepted}})
	if err != nil {
		return nil, fmt.Errorf("event pattern: %w", err)
	}
	a.Rule, err = cloudwatch.NewEventRule(ctx, name+"-rule", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(args.NamePrefix + "-alert-accepted"),
		EventBusName: a.Bus.Name,
		EventPattern: pulumi.String(string(pattern)),
		Description:  pulumi.String("Accepted alerts to the alert queue, whose worker delivers them"),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create event rule: %w", err)
	}
	if err := a.createKey(ctx, name, args); err != nil {
		return nil, err
	}
	if err := a.createQueues(ctx, name, args); err != nil {
		return nil, err
	}
	if err := a.createTarget(ctx, name); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"busName": a.Bus.Name, "queueUrl": a.Queue.Url, "deadLetterQueueUrl": a.DeadLetters.Url,
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return a, nil
}

// createKey creates the queues' key. Its policy delegates to the account
// (IAM policies then decide: the worker and the dead-letter handler may
// decrypt through SQS) and lets EventBridge encrypt what the rule sends
// to the queues, for this rule only: EventBridge cannot deliver to a queue
// encrypted with a key it may not use.
func (a *Async) createKey(ctx *pulumi.Context, name string, args *AsyncArgs) error {
	root := fmt.Sprintf("arn:%s:iam::%s:root", args.Partition, args.AccountID)
	doc := policyOutput(pulumi.StringMap{"rule": a.Rule.Arn}, func(v map[string]string) PolicyDocument {
		return policy(
			Statement{Sid: "AccountRootDelegation", Effect: effectAllow, Principal: map[string]string{"AWS": root}, Action: []string{"kms:*"}, Resource: []string{"*"}},
			Statement{
				Sid: "EventBridgeRuleOfThisStack", Effect: effectAllow, Principal: map[string]string{"Service": eventsService},
				Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{"ArnEquals": {"aws:SourceArn": v["rule"]}},
			},
		)
	})
	window := keyDeletionWindowDev
	if args.Protection.Full() {
		window = keyDeletionWindowProd
	}
	var err error
	a.Key, err = kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("%s: encrypts the alert queue and its dead-letter queue", args.NamePrefix),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               doc,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create queue key: %w", err)
	}
	a.Alias, err = kms.NewAlias(ctx, name+"-key-alias", &kms.AliasArgs{Name: pulumi.String(args.KeyAlias), TargetKeyId: a.Key.KeyId}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create queue key alias: %w", err)
	}
	return nil
}

// createQueues creates the dead-letter queue, the alert queue (its
// redrive policy names the dead-letter queue) and each queue's policy:
// only the rule may send to them (the alert queue's events, and the
// events the target could not deliver).
func (a *Async) createQueues(ctx *pulumi.Context, name string, args *AsyncArgs) error {
	var err error
	a.DeadLetters, err = sqs.NewQueue(ctx, name+"-dlq", &sqs.QueueArgs{
		Name:                     pulumi.String(DeadLetterQueueName(args.NamePrefix)),
		KmsMasterKeyId:           a.Key.Arn,
		MessageRetentionSeconds:  pulumi.Int(deadLetterRetentionSeconds),
		VisibilityTimeoutSeconds: pulumi.Int(visibilityPerTimeout * int(args.DeadLetterTimeout/time.Second)),
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create dead-letter queue: %w", err)
	}
	redrive := applyString(a.DeadLetters.Arn, func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": args.MaxReceiveCount})
		return string(b), err
	})
	a.Queue, err = sqs.NewQueue(ctx, name+"-queue", &sqs.QueueArgs{
		Name:                     pulumi.String(AlertQueueName(args.NamePrefix)),
		KmsMasterKeyId:           a.Key.Arn,
		VisibilityTimeoutSeconds: pulumi.Int(visibilityPerTimeout * int(args.WorkerTimeout/time.Second)),
		RedrivePolicy:            redrive,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create alert queue: %w", err)
	}
	if a.QueuePolicy, err = a.sendOnlyByRule(ctx, name+"-queue-policy", a.Queue); err != nil {
		return err
	}
	a.DeadLetterPolicy, err = a.sendOnlyByRule(ctx, name+"-dlq-policy", a.DeadLetters)
	return err
}

// sendOnlyByRule lets the rule, and no one else outside the account's own
// IAM policies, send to q.
func (a *Async) sendOnlyByRule(ctx *pulumi.Context, name string, q *sqs.Queue) (*sqs.QueuePolicy, error) {
	doc := policyOutput(pulumi.StringMap{"queue": q.Arn, "rule": a.Rule.Arn}, func(v map[string]string) PolicyDocument {
		return policy(Statement{
			Sid: "AlertAcceptedRule", Effect: effectAllow, Principal: map[string]string{"Service": eventsService},
			Action: []string{"sqs:SendMessage"}, Resource: []string{v["queue"]},
			Condition: map[string]map[string]any{"ArnEquals": {"aws:SourceArn": v["rule"]}},
		})
	})
	p, err := sqs.NewQueuePolicy(ctx, name, &sqs.QueuePolicyArgs{QueueUrl: q.Url, Policy: doc}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return p, nil
}

// createTarget points the rule at the alert queue, once the queue's
// policy lets it send; an event it cannot deliver within
// eventMaxAgeSeconds goes to the dead-letter queue.
func (a *Async) createTarget(ctx *pulumi.Context, name string) error {
	var err error
	a.Target, err = cloudwatch.NewEventTarget(ctx, name+"-target", &cloudwatch.EventTargetArgs{
		Rule:             a.Rule.Name,
		EventBusName:     a.Bus.Name,
		TargetId:         pulumi.String(alertQueueTarget),
		Arn:              a.Queue.Arn,
		DeadLetterConfig: cloudwatch.EventTargetDeadLetterConfigArgs{Arn: a.DeadLetters.Arn},
		RetryPolicy: cloudwatch.EventTargetRetryPolicyArgs{
			MaximumEventAgeInSeconds: pulumi.Int(eventMaxAgeSeconds), MaximumRetryAttempts: pulumi.Int(eventMaxRetries),
		},
	}, pulumi.Parent(a), pulumi.DependsOn([]pulumi.Resource{a.QueuePolicy, a.DeadLetterPolicy}))
	if err != nil {
		return fmt.Errorf("create event target: %w", err)
	}
	return nil
}
