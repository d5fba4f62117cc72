package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// RolesType is the type token of the Roles component.
const RolesType = "a2p:iam:Roles"

// RolesArgs configures the Roles component.
type RolesArgs struct {
	// NamePrefix is "<project>-<stack>": each role is named
	// "<NamePrefix>-<names.FunctionX>", like its function.
	NamePrefix string
}

// Roles holds one execution role per function, with a trust policy only.
// The roles exist before the topics so that the topic policies can name
// the processor's role; the Functions component attaches their
// permissions as inline policies once the resources they grant exist.
type Roles struct {
	pulumi.ResourceState

	// Authorizer is the authorizer function's role.
	Authorizer *iam.Role
	// Processor is the processor function's role, the only publisher the
	// topic policies allow.
	Processor *iam.Role
	// Status is the status function's role: it may only read alerts.
	Status *iam.Role
	// Worker is the worker's role, which the topic policies let publish
	// too; DeadLetter is the dead-letter handler's.
	Worker, DeadLetter *iam.Role
	// Ack is the ack function's role: it may read and write alert
	// records and delete a pending timer.
	Ack *iam.Role
	// Escalate is the escalate function's role: it delivers like the
	// processor and sets the next timer.
	Escalate *iam.Role
}

// NewRoles creates the execution roles.
func NewRoles(ctx *pulumi.Context, name string, args *RolesArgs, opts ...pulumi.ResourceOption) (*Roles, error) {
	r := &Roles{}
	if err := ctx.RegisterComponentResource(RolesType, name, r, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	trust, err := assumeRolePolicy(lambdaService).JSON()
	if err != nil {
		return nil, err
	}
	newRole := func(fn string) (*iam.Role, error) {
		role, err := iam.NewRole(ctx, name+"-"+fn, &iam.RoleArgs{
			Name:             pulumi.String(FunctionName(args.NamePrefix, fn)),
			AssumeRolePolicy: pulumi.String(trust),
			Description:      pulumi.Sprintf("%s: execution role of the %s function", args.NamePrefix, fn),
		}, pulumi.Parent(r))
		if err != nil {
			return nil, fmt.Errorf("create %s role: %w", fn, err)
		}
		return role, nil
	}
	if r.Authorizer, err = newRole(names.FunctionAuthorizer); err != nil {
		return nil, err
	}
	if r.Processor, err = newRole(names.FunctionProcessor); err != nil {
		return nil, err
	}
	if r.Status, err = newRole(names.FunctionStatus); err != nil {
		return nil, err
	}
	if r.Worker, err = newRole(names.FunctionWorker); err != nil {
		return nil, err
	}
	if r.DeadLetter, err = newRole(names.FunctionDeadLetter); err != nil {
		return nil, err
	}
	if r.Ack, err = newRole(names.FunctionAck); err != nil {
		return nil, err
	}
	if r.Escalate, err = newRole(names.FunctionEscalate); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"authorizerRoleArn": r.Authorizer.Arn,
		"processorRoleArn":  r.Processor.Arn,
		"statusRoleArn":     r.Status.Arn,
		"workerRoleArn":     r.Worker.Arn,
		"deadLetterRoleArn": r.DeadLetter.Arn,
		"ackRoleArn":        r.Ack.Arn,
		"escalateRoleArn":   r.Escalate.Arn,
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return r, nil
}
