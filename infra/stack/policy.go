package stack

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// policyVersion is the only current IAM policy language version.
const policyVersion = "2012-10-17"

// PolicyDocument is an IAM (or resource) policy. Every policy of the stack
// is built from these structs and marshalled, never written as a string.
type PolicyDocument struct {
	// Version is policyVersion.
	Version string `json:"Version"`
	// Statement lists the statements.
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a PolicyDocument.
type Statement struct {
	// Sid names the statement.
	Sid string `json:"Sid,omitempty"`
	// Effect is "Allow" or "Deny".
	Effect string `json:"Effect"`
	// Principal is set in resource and trust policies only: "*" or a
	// map such as {"Service": "lambda.amazonaws.com"}.
	Principal any `json:"Principal,omitempty"`
	// Action lists the actions.
	Action []string `json:"Action"`
	// Resource lists the resources; empty in trust policies.
	Resource []string `json:"Resource,omitempty"`
	// Condition maps an operator to keys and values.
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Effects of a Statement.
const (
	effectAllow = "Allow"
	effectDeny  = "Deny"
)

// Service principals of the stack's trust and resource policies.
const (
	lambdaService     = "lambda.amazonaws.com"
	apigatewayService = "apigateway.amazonaws.com"
	cloudwatchService = "cloudwatch.amazonaws.com"
)

// policy returns a document with the given statements.
func policy(statements ...Statement) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: statements}
}

// JSON marshals the document.
func (d PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("marshal policy: %w", err)
	}
	return string(b), nil
}

// assumeRolePolicy lets service assume the role.
func assumeRolePolicy(service string) PolicyDocument {
	return policy(Statement{
		Effect:    effectAllow,
		Principal: map[string]string{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	})
}

// policyOutput resolves the named string inputs, builds a policy from
// their values and returns it as JSON.
func policyOutput(inputs pulumi.StringMap, build func(v map[string]string) PolicyDocument) pulumi.StringOutput {
	return applyString(inputs.ToStringMapOutput(), func(v map[string]string) (string, error) {
		return build(v).JSON()
	})
}

// applyString is o.ApplyT(fn) for an fn that returns (string, error),
// narrowed to the StringOutput that ApplyT makes for a string result.
func applyString(o pulumi.Output, fn any) pulumi.StringOutput {
	out := o.ApplyT(fn)
	s, ok := out.(pulumi.StringOutput)
	if !ok {
		// Only a wrong fn gets here (a programming error every test run
		// would hit), never a deployment's data.
		panic(fmt.Sprintf("ApplyT gave %T, want pulumi.StringOutput", out))
	}
	return s
}

// xrayStatement lets a function send traces. X-Ray's PutTraceSegments and
// PutTelemetryRecords support no resource-level permissions: AWS requires
// Resource "*" for them.
func xrayStatement() Statement {
	return Statement{
		Sid:      "XRayTraces",
		Effect:   effectAllow,
		Action:   []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
		Resource: []string{"*"},
	}
}

// logsStatement lets a function write to its own log group only. The
// log-group ARN from Pulumi has no ":*" suffix; ":*" covers its streams.
func logsStatement(logGroupARN string) Statement {
	return Statement{
		Sid:      "OwnLogGroup",
		Effect:   effectAllow,
		Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: []string{logGroupARN + ":*"},
	}
}
