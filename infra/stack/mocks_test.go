package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Values the mocks answer with.
const (
	mockAccount = "123456789012"
	mockRegion  = "us-east-1"
	mockProject = "a2p-alerts"
)

// record is one resource the mock monitor saw.
type record struct {
	typ     string
	name    string
	id      string
	custom  bool
	parent  string
	retain  bool
	inputs  resource.PropertyMap
	outputs resource.PropertyMap
}

// str returns a string input ("" when absent or not a string).
func (r record) str(key string) string {
	return propString(r.inputs, key)
}

// out returns a string output ("" when absent or not a string).
func (r record) out(key string) string {
	return propString(r.outputs, key)
}

// obj returns an object input.
func (r record) obj(key string) resource.PropertyMap {
	v, ok := r.inputs[resource.PropertyKey(key)]
	if !ok || !v.IsObject() {
		return nil
	}
	return v.ObjectValue()
}

// propString reads a string property.
func propString(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// mocks is a MockResourceMonitor that records every resource and answers
// the two invokes Program makes.
type mocks struct {
	mu      sync.Mutex
	records []record
	invokes []string
}

var _ pulumi.MockResourceMonitor = (*mocks)(nil)

// NewResource records the resource and computes the outputs Program reads.
func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outs := maps.Clone(args.Inputs)
	if outs == nil {
		outs = resource.PropertyMap{}
	}
	id := args.Name + "-id"
	name := args.Name
	if n := propString(args.Inputs, "name"); n != "" {
		name = n
	}
	set := func(k, v string) { outs[resource.PropertyKey(k)] = resource.NewProperty(v) }
	setDefault := func(k, v string) {
		if _, ok := outs[resource.PropertyKey(k)]; !ok {
			set(k, v)
		}
	}
	arnPrefix := fmt.Sprintf("arn:aws:%%s:%s:%s:", mockRegion, mockAccount)
	arn := func(svc, rest string) string { return fmt.Sprintf(arnPrefix, svc) + rest }
	if args.Custom {
		setDefault("name", name)
	}
	switch args.TypeToken {
	case "aws:dynamodb/table:Table":
		set("arn", arn("dynamodb", "table/"+name))
	case "aws:sns/topic:Topic":
		set("arn", arn("sns", name))
	case "aws:kms/key:Key":
		set("arn", arn("kms", "key/"+id))
		set("keyId", id)
	case "aws:iam/role:Role":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", mockAccount, name))
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", arn("logs", "log-group:"+name))
	case "aws:lambda/function:Function":
		fnArn := arn("lambda", "function:"+name)
		set("arn", fnArn)
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", mockRegion, fnArn))
	case "aws:apigateway/restApi:RestApi":
		set("executionArn", arn("execute-api", id))
		set("rootResourceId", "root-resource-id")
	case "aws:apigateway/stage:Stage":
		stage := propString(args.Inputs, "stageName")
		api := propString(args.Inputs, "restApi")
		set("arn", fmt.Sprintf("arn:aws:apigateway:%s::/restapis/%s/stages/%s", mockRegion, api, stage))
		set("invokeUrl", fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", api, mockRegion, stage))
	case "aws:connect/instance:Instance":
		set("arn", arn("connect", "instance/"+id))
	case "aws:connect/contactFlow:ContactFlow":
		set("contactFlowId", "flow-"+id)
	case "aws:connect/phoneNumber:PhoneNumber":
		set("phoneNumber", "+15555550198")
	default:
		if args.Custom {
			setDefault("arn", arn("mock", args.TypeToken+"/"+name))
		}
	}
	r := record{
		typ: args.TypeToken, name: args.Name, id: id, custom: args.Custom,
		inputs: args.Inputs, outputs: outs,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.parent = rpc.GetParent()
		r.retain = rpc.GetRetainOnDelete()
	}
	m.mu.Lock()
	m.records = append(m.records, r)
	m.mu.Unlock()
	return id, outs, nil
}

// Call answers getCallerIdentity and getRegion; any other invoke fails, so
// a new one cannot slip in unnoticed (the sandbox's mock must answer it).
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokes = append(m.invokes, args.Token)
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": mockAccount,
			"arn":       fmt.Sprintf("arn:aws:iam::%s:user/test", mockAccount),
			"id":        mockAccount,
			"userId":    "AIDATEST",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": mockRegion, "id": mockRegion, "description": "US East (N. Virginia)", "endpoint": "ec2.us-east-1.amazonaws.com",
		}), nil
	default:
		return nil, fmt.Errorf("unexpected invoke %s", args.Token)
	}
}

// all returns the records of type typ.
func (m *mocks) all(typ string) []record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []record
	for _, r := range m.records {
		if r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

// count returns how many resources (custom or component) were registered.
func (m *mocks) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records)
}

// byName returns the record of type typ and logical name, failing the test
// when there is none.
func (m *mocks) byName(tb testing.TB, typ, name string) record {
	tb.Helper()
	for _, r := range m.all(typ) {
		if r.name == name {
			return r
		}
	}
	tb.Fatalf("no %s named %q; have %v", typ, name, m.names(typ))
	return record{}
}

// names lists the logical names of the records of type typ.
func (m *mocks) names(typ string) []string {
	var out []string
	for _, r := range m.all(typ) {
		out = append(out, r.name)
	}
	return out
}

// withConfig feeds configuration to the program as the engine would
// through PULUMI_CONFIG: full keys ("a2p-alerts:voice") to strings, with
// structured values as JSON.
func withConfig(cfg map[string]string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) { info.Config = cfg }
}

// runProgram runs Program under the mocks for stack stackName.
func runProgram(tb testing.TB, stackName string, cfg map[string]string) (*Stack, *mocks, error) {
	tb.Helper()
	m := &mocks{}
	var built *Stack
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		s, err := Program(ctx)
		built = s
		return err
	}, pulumi.WithMocks(mockProject, stackName, m), withConfig(cfg))
	return built, m, err
}

// mustRun runs Program and fails the test on error.
func mustRun(tb testing.TB, stackName string, cfg map[string]string) (*Stack, *mocks) {
	tb.Helper()
	s, m, err := runProgram(tb, stackName, cfg)
	if err != nil {
		tb.Fatalf("Program: %v", err)
	}
	return s, m
}

// key returns the full configuration key of k.
func key(k string) string { return mockProject + ":" + k }

// mustJSON marshals v for a configuration value.
func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// hash64 returns a valid-looking SHA-256 made of one repeated hex digit.
func hash64(digit string) string { return strings.Repeat(digit, 64) }
