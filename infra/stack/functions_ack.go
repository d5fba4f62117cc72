package stack

// The functions of acknowledgment and escalation (issue 12): ack and
// escalate, and the escalation settings the delivering functions read.

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Sizing of the functions of issue 12.
const (
	// AckMemoryMB: one or two reads and a write per acknowledgment.
	AckMemoryMB = 128
	// AckTimeout: a keypad acknowledgment may wait up to 4 s for its
	// call's outcome to be recorded, and Connect waits at most 8 s for the
	// function; a link or an API call takes milliseconds.
	AckTimeout = 10 * time.Second
	// EscalateMemoryMB matches the processor: it delivers the same way.
	EscalateMemoryMB = 256
	// EscalateTimeout lets a stage reach its targets, each on up to three
	// channels within delivery.DefaultBudget, with room for the writes.
	EscalateTimeout = 2 * time.Minute
	// snsService is SNS's service principal (it invokes the ack function
	// with SMS replies).
	snsService = "sns.amazonaws.com"
)

// EscalationEnv is what the delivering and acknowledging functions read
// about escalation.
type EscalationEnv struct {
	// Set is every priority's policy and the fail-safe contact.
	Set escalation.Set
	// Timers is the schedule group and the scheduler's role; nil when
	// nothing asks for an acknowledgment.
	Timers *Timers
	// AckBaseURL is the public base of acknowledgment links.
	AckBaseURL pulumi.StringInput
	// AckGrace is how long links and codes outlive an alert's window.
	AckGrace time.Duration
	// ReplyCodes puts a reply code in each SMS: SMS replies reach the ack
	// function (twoWaySms).
	ReplyCodes bool
}

// enabled reports whether some policy asks for an acknowledgment.
func (e EscalationEnv) enabled() bool { return e.Timers != nil && e.Set.Enabled() }

// env is the functions' escalation environment (empty when nothing asks
// for an acknowledgment); withPolicies adds the policies, the links' base
// and the grace (the delivering functions').
func (e EscalationEnv) env(withPolicies bool) pulumi.StringMap {
	env := pulumi.StringMap{}
	if !e.enabled() {
		return env
	}
	env[names.EnvScheduleGroup] = pulumi.String(e.Timers.GroupName)
	env[names.EnvEscalateFunctionARN] = pulumi.String(e.Timers.EscalateARN)
	env[names.EnvSchedulerRoleARN] = e.Timers.Role.Arn
	if withPolicies {
		set, err := json.Marshal(e.Set)
		if err != nil {
			panic(fmt.Sprintf("stack: marshal the escalation set: %v", err)) // durations and strings cannot fail
		}
		env[names.EnvEscalation] = pulumi.String(string(set))
		env[names.EnvAckBaseURL] = e.AckBaseURL
		env[names.EnvAckGrace] = pulumi.String(FormatDuration(e.AckGrace))
		if e.ReplyCodes {
			env[names.EnvAckReplyCodes] = pulumi.String("true")
		}
	}
	return env
}

// newAck creates the ack function: it may read and write alert records
// (its lookups included) with the alerts key and delete a pending timer;
// with two-way SMS, the replies' topic invokes it.
func (f *Functions) newAck(ctx *pulumi.Context, name string, args *FunctionsArgs) error {
	var err error
	if f.AckLogs, err = f.logGroup(ctx, name, names.FunctionAck, args); err != nil {
		return err
	}
	inputs := pulumi.StringMap{"logs": f.AckLogs.Arn, "alerts": args.AlertsTable.Arn, "key": args.AlertsKeyARN}
	doc := policyOutput(inputs, func(v map[string]string) PolicyDocument {
		doc := policy(
			Statement{Sid: "AcknowledgeAlerts", Effect: effectAllow, Action: []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"},
				Resource: []string{v["alerts"]}},
			alertsKeyStatement(v["key"], args.Region, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"),
		)
		if e := args.Escalation; e.enabled() {
			doc.Statement = append(doc.Statement, cancelTimerStatement(e.Timers.scheduleARNs(args.Partition, args.Region, args.AccountID)))
		}
		doc.Statement = append(doc.Statement, logsStatement(v["logs"]), xrayStatement())
		return doc
	})
	if f.AckPolicy, err = f.rolePolicy(ctx, name, names.FunctionAck, args, args.Roles.Ack, doc); err != nil {
		return err
	}
	env := args.Escalation.env(false)
	env[names.EnvAlertsTable] = args.AlertsTable.Name
	env[names.EnvLogLevel] = pulumi.String(args.LogLevel)
	env[names.EnvMetricsNamespace] = pulumi.String(args.MetricsNamespace)
	f.Ack, err = f.function(ctx, name, names.FunctionAck, args, functionSpec{
		role: args.Roles.Ack, logs: f.AckLogs, policy: f.AckPolicy, memoryMB: AckMemoryMB, timeout: AckTimeout,
		reservation: NoReservedConcurrency, env: env,
	})
	if err != nil || args.InboundSMSTopic == nil {
		return err
	}
	return f.subscribeReplies(ctx, name, args.InboundSMSTopic)
}

// subscribeReplies lets the SMS replies' topic invoke the ack function
// (that topic only) and subscribes the function to it.
func (f *Functions) subscribeReplies(ctx *pulumi.Context, name string, topic *sns.Topic) error {
	var err error
	f.InboundPermission, err = lambda.NewPermission(ctx, name+"-ack-invoke-sms-replies", &lambda.PermissionArgs{
		Function:  f.Ack.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(snsService),
		SourceArn: topic.Arn,
	}, pulumi.Parent(f))
	if err != nil {
		return fmt.Errorf("create sms replies permission: %w", err)
	}
	f.InboundSubscription, err = sns.NewTopicSubscription(ctx, name+"-ack-sms-replies", &sns.TopicSubscriptionArgs{
		Topic:    topic.Arn,
		Protocol: pulumi.String("lambda"),
		Endpoint: f.Ack.Arn,
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{f.InboundPermission}))
	if err != nil {
		return fmt.Errorf("subscribe the ack function to the sms replies: %w", err)
	}
	return nil
}

// newEscalate creates the escalate function: it delivers like the
// processor (without idempotency records) and sets the next timer.
func (f *Functions) newEscalate(ctx *pulumi.Context, name string, args *FunctionsArgs, voice *Voice) error {
	var err error
	if f.EscalateLogs, err = f.logGroup(ctx, name, names.FunctionEscalate, args); err != nil {
		return err
	}
	f.EscalatePolicy, err = f.rolePolicy(ctx, name, names.FunctionEscalate, args, args.Roles.Escalate,
		deliveryPolicyOutput(args, voice, f.EscalateLogs.Arn, names.FunctionEscalate))
	if err != nil {
		return err
	}
	f.Escalate, err = f.function(ctx, name, names.FunctionEscalate, args, functionSpec{
		role: args.Roles.Escalate, logs: f.EscalateLogs, policy: f.EscalatePolicy, memoryMB: EscalateMemoryMB, timeout: EscalateTimeout,
		reservation: NoReservedConcurrency, env: deliveryEnv(args, voice),
	})
	return err
}
