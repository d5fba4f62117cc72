package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TimersType is the type token of the Timers component.
const TimersType = "a2p:escalation:Timers"

// schedulerService is EventBridge Scheduler's service principal.
const schedulerService = "scheduler.amazonaws.com"

// TimersArgs configures the Timers component.
type TimersArgs struct {
	// NamePrefix names the group "<NamePrefix>-escalation" and the role
	// "<NamePrefix>-scheduler".
	NamePrefix string
	// Partition, Region, AccountID locate the group and the escalate
	// function.
	Partition, Region, AccountID string
}

// Timers holds what the escalation timers need that is made once per
// stack: the schedule group the functions create one one-time schedule
// in per pending stage (at run time, with the AWS SDK: pulumi-aws v6's
// Schedule has no ActionAfterCompletion), and the role Scheduler invokes
// the escalate function with.
type Timers struct {
	pulumi.ResourceState

	// Group is the schedule group.
	Group *scheduler.ScheduleGroup
	// Role is assumed by Scheduler, for this account's schedules in Group
	// only.
	Role *iam.Role
	// RolePolicy lets Role invoke the escalate function, and nothing else.
	RolePolicy *iam.RolePolicy
	// GroupName is the group's name.
	GroupName string
	// EscalateARN is the escalate function's ARN, from its name: the
	// function is created later, and the processor's environment and
	// this role's policy need it first.
	EscalateARN string
}

// NewTimers creates the schedule group and the scheduler's role.
func NewTimers(ctx *pulumi.Context, name string, args *TimersArgs, opts ...pulumi.ResourceOption) (*Timers, error) {
	t := &Timers{
		GroupName: args.NamePrefix + "-escalation",
		EscalateARN: fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", args.Partition, args.Region, args.AccountID,
			FunctionName(args.NamePrefix, names.FunctionEscalate)),
	}
	if err := ctx.RegisterComponentResource(TimersType, name, t, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	var err error
	t.Group, err = scheduler.NewScheduleGroup(ctx, name+"-group", &scheduler.ScheduleGroupArgs{
		Name: pulumi.String(t.GroupName),
	}, pulumi.Parent(t))
	if err != nil {
		return nil, fmt.Errorf("create schedule group: %w", err)
	}
	trust := assumeRolePolicy(schedulerService)
	trust.Statement[0].Condition = map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": args.AccountID},
		"ArnLike":      {"aws:SourceArn": fmt.Sprintf("arn:%s:scheduler:%s:%s:schedule-group/%s", args.Partition, args.Region, args.AccountID, t.GroupName)},
	}
	trustDoc, err := trust.JSON()
	if err != nil {
		return nil, err
	}
	t.Role, err = iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Name:             pulumi.String(args.NamePrefix + "-scheduler"),
		AssumeRolePolicy: pulumi.String(trustDoc),
		Description:      pulumi.Sprintf("%s: EventBridge Scheduler invokes the escalate function with it", args.NamePrefix),
	}, pulumi.Parent(t))
	if err != nil {
		return nil, fmt.Errorf("create scheduler role: %w", err)
	}
	doc, err := policy(Statement{
		Sid: "InvokeEscalate", Effect: effectAllow, Action: []string{"lambda:InvokeFunction"}, Resource: []string{t.EscalateARN},
	}).JSON()
	if err != nil {
		return nil, err
	}
	t.RolePolicy, err = iam.NewRolePolicy(ctx, name+"-role-policy", &iam.RolePolicyArgs{
		Name: pulumi.String(args.NamePrefix + "-scheduler"), Role: t.Role.Name, Policy: pulumi.String(doc),
	}, pulumi.Parent(t))
	if err != nil {
		return nil, fmt.Errorf("create scheduler role policy: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{"group": t.Group.Name, "roleArn": t.Role.Arn}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return t, nil
}

// scheduleARNs is the ARN pattern of every schedule in the group.
func (t *Timers) scheduleARNs(partition, region, account string) string {
	return fmt.Sprintf("arn:%s:scheduler:%s:%s:schedule/%s/*", partition, region, account, t.GroupName)
}

// setTimerStatements let a function create schedules in the group and
// pass the scheduler's role to Scheduler (and to nothing else).
func setTimerStatements(scheduleARNs, roleARN string) []Statement {
	return []Statement{
		{Sid: "SetTimers", Effect: effectAllow, Action: []string{"scheduler:CreateSchedule"}, Resource: []string{scheduleARNs}},
		{
			Sid: "PassSchedulerRole", Effect: effectAllow, Action: []string{"iam:PassRole"}, Resource: []string{roleARN},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": schedulerService}},
		},
	}
}

// cancelTimerStatement lets a function delete schedules in the group.
func cancelTimerStatement(scheduleARNs string) Statement {
	return Statement{Sid: "CancelTimers", Effect: effectAllow, Action: []string{"scheduler:DeleteSchedule"}, Resource: []string{scheduleARNs}}
}
