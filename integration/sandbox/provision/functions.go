package provision

// Creators of the Roles and Functions components' resources: the execution
// roles and their policies, the log groups, the functions and the
// permissions that let API Gateway invoke them.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedulertypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
)

// Lambda defaults the provider reports when an input is unset.
const (
	defaultLambdaTimeout = 3
	defaultLambdaMemory  = 128
	latestVersion        = "$LATEST"
	// unreserved is Lambda's "no reserved concurrency".
	unreserved = -1
)

func createRole(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 64)
	out, err := p.clients.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(in.str("assumeRolePolicy")),
		Description:              aws.String(in.str("description")),
		Tags:                     pairs(in.strMap("tags"), func(k, v *string) iamtypes.Tag { return iamtypes.Tag{Key: k, Value: v} }),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateRole %s: %w", name, err)
	}
	return name, map[string]any{"arn": aws.ToString(out.Role.Arn), "name": name, "uniqueId": aws.ToString(out.Role.RoleId)}, nil
}

func createRolePolicy(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	role := in.str("role")
	name = autoName(in, name, 128)
	if _, err := p.clients.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(in.str("policy")),
	}); err != nil {
		return "", nil, fmt.Errorf("PutRolePolicy %s on %s: %w", name, role, err)
	}
	return role + ":" + name, map[string]any{"name": name}, nil
}

func createLogGroup(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 512)
	if _, err := p.clients.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: aws.String(name), Tags: in.strMap("tags"),
	}); err != nil {
		return "", nil, fmt.Errorf("CreateLogGroup %s: %w", name, err)
	}
	if days := in.int32("retentionInDays", 0); days > 0 {
		if _, err := p.clients.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(name), RetentionInDays: aws.Int32(days),
		}); err != nil {
			return "", nil, fmt.Errorf("PutRetentionPolicy %s: %w", name, err)
		}
	}
	// The provider's arn drops the ":*" CloudWatch appends.
	return name, map[string]any{"arn": p.arn("logs", "log-group:"+name), "name": name}, nil
}

// createFunction creates the function in kumo, which keeps its zip and
// runs nothing, and records it for package lambdahost to run.
// loggingConfig is echoed only: the sandbox keeps the functions' output
// itself. kumo has no PutFunctionConcurrency, so a reserved concurrency
// fails rather than being dropped.
func createFunction(ctx context.Context, p *Provisioner, logical string, in props) (string, map[string]any, error) {
	if n := in.int32("reservedConcurrentExecutions", unreserved); n != unreserved {
		return "", nil, fmt.Errorf("reservedConcurrentExecutions %d: kumo cannot reserve concurrency (no PutFunctionConcurrency); leave it unset in the sandbox's stack", n)
	}
	fn := Function{
		LogicalName: logical,
		Name:        autoName(in, logical, 64),
		Handler:     in.str("handler"),
		Runtime:     in.str("runtime"),
		Timeout:     int(in.int32("timeout", defaultLambdaTimeout)),
		MemorySize:  int(in.int32("memorySize", defaultLambdaMemory)),
		Environment: in.obj("environment").strMap("variables"),
	}
	var err error
	if fn.Zip, err = p.functionZip(in); err != nil {
		return "", nil, fmt.Errorf("code of %s: %w", fn.Name, err)
	}
	tracing := lambdatypes.TracingModePassThrough
	if mode := in.obj("tracingConfig").str("mode"); mode != "" {
		tracing = lambdatypes.TracingMode(mode)
	}
	fn.ActiveTracing = tracing == lambdatypes.TracingModeActive
	input := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(fn.Name),
		Role:          aws.String(in.str("role")),
		Code:          &lambdatypes.FunctionCode{ZipFile: fn.Zip},
		Runtime:       lambdatypes.Runtime(fn.Runtime),
		Handler:       aws.String(fn.Handler),
		Timeout:       aws.Int32(int32(fn.Timeout)),    //nolint:gosec // read as an int32 above
		MemorySize:    aws.Int32(int32(fn.MemorySize)), //nolint:gosec // read as an int32 above
		TracingConfig: &lambdatypes.TracingConfig{Mode: tracing},
		Environment:   &lambdatypes.Environment{Variables: fn.Environment},
		Tags:          in.strMap("tags"),
	}
	for _, a := range in.strs("architectures") {
		input.Architectures = append(input.Architectures, lambdatypes.Architecture(a))
	}
	out, err := p.clients.Lambda.CreateFunction(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateFunction %s: %w", fn.Name, err)
	}
	p.mu.Lock()
	p.functions = append(p.functions, fn)
	p.mu.Unlock()
	arn := aws.ToString(out.FunctionArn)
	sum := sha256.Sum256(fn.Zip)
	return fn.Name, map[string]any{
		"arn":            arn,
		"name":           fn.Name,
		"invokeArn":      "arn:aws:apigateway:" + p.region + ":lambda:path/2015-03-31/functions/" + arn + "/invocations",
		"qualifiedArn":   arn + ":" + latestVersion,
		"version":        latestVersion,
		"lastModified":   time.Now().UTC().Format("2006-01-02T15:04:05.000-0700"),
		"sourceCodeHash": base64.StdEncoding.EncodeToString(sum[:]),
		"sourceCodeSize": float64(len(fn.Zip)),
	}, nil
}

// functionZip returns the function's deployment package as zip bytes.
func (p *Provisioner) functionZip(in props) ([]byte, error) {
	v, ok := in.value("code")
	if !ok || !v.IsArchive() {
		return nil, errors.New("the sandbox runs only functions whose code is a zip archive (pulumi.FileArchive)")
	}
	var buf bytes.Buffer
	if err := v.ArchiveValue().ArchiveWithWD(archive.ZIPArchive, &buf, p.workDir); err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	return buf.Bytes(), nil
}

func createPermission(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	fn := in.str("function")
	sid := autoName(nil, name, 100)
	input := &lambda.AddPermissionInput{
		FunctionName: aws.String(fn),
		StatementId:  aws.String(sid),
		Action:       aws.String(in.str("action")),
		Principal:    aws.String(in.str("principal")),
		SourceArn:    aws.String(in.str("sourceArn")),
	}
	if acct := in.str("sourceAccount"); acct != "" {
		input.SourceAccount = aws.String(acct)
	}
	if _, err := p.clients.Lambda.AddPermission(ctx, input); err != nil {
		return "", nil, fmt.Errorf("AddPermission %s on %s: %w", sid, fn, err)
	}
	return sid, map[string]any{"statementId": sid}, nil
}

// createScheduleGroup creates the escalation timers' group; the functions
// create the schedules in it at run time (and kumo never fires them:
// standin.ScheduleFirer does).
func createScheduleGroup(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 64)
	out, err := p.clients.Scheduler.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{
		Name: aws.String(name),
		Tags: pairs(in.strMap("tags"), func(k, v *string) schedulertypes.Tag { return schedulertypes.Tag{Key: k, Value: v} }),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateScheduleGroup %s: %w", name, err)
	}
	return name, map[string]any{"arn": aws.ToString(out.ScheduleGroupArn), "name": name, "state": "ACTIVE"}, nil
}
