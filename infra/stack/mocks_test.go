package stack

import (
	"archive/zip"
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
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
	if !ok {
		return nil
	}
	v = plainValue(v)
	if !v.IsObject() {
		return nil
	}
	return v.ObjectValue()
}

// resourceKey is a property key.
func resourceKey(k string) resource.PropertyKey { return resource.PropertyKey(k) }

// propString reads a string property, secret or not.
func propString(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	v = plainValue(v)
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// plainValue unwraps a secret.
func plainValue(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// isSecret reports whether input key of r is a secret.
func (r record) isSecret(key string) bool {
	v, ok := r.inputs[resource.PropertyKey(key)]
	return ok && v.IsSecret()
}

// mocks is a MockResourceMonitor that records every resource and answers
// the two invokes Program makes.
type mocks struct {
	// callerARN is the deploying principal getCallerIdentity answers;
	// mockCallerARN when empty.
	callerARN string

	mu      sync.Mutex
	records []record
	invokes []string
}

// mockCallerARN is the default deploying principal.
const mockCallerARN = "arn:aws:iam::" + mockAccount + ":user/test"

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
	case "aws:apigateway/apiKey:ApiKey":
		// AWS generates the value; the provider marks it secret.
		set("value", "key-value-of-"+args.Name)
	case "aws:sns/topicSubscription:TopicSubscription":
		set("arn", arn("sns", name+":"+id))
	case "aws:sqs/queue:Queue":
		set("arn", arn("sqs", name))
		set("url", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", mockRegion, mockAccount, name))
	case "aws:cloudwatch/eventBus:EventBus":
		set("arn", arn("events", "event-bus/"+name))
	case "aws:cloudwatch/eventRule:EventRule":
		set("arn", arn("events", "rule/"+propString(args.Inputs, "eventBusName")+"/"+name))
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
		// As the engine does: outputs the provider declares secret (an
		// API key's value) come back as secrets.
		for _, k := range rpc.GetAdditionalSecretOutputs() {
			if v, ok := outs[resource.PropertyKey(k)]; ok && !v.IsSecret() {
				outs[resource.PropertyKey(k)] = resource.MakeSecret(v)
			}
		}
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
			"arn":       cmp.Or(m.callerARN, mockCallerARN),
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

// runProgram runs Program under the mocks for stack stackName. When cfg
// sets no artifactDir, the program gets packages such as `make build`
// writes for the configuration's lambdaArch (fakeArtifacts), as on a
// machine that has built them.
func runProgram(tb testing.TB, stackName string, cfg map[string]string) (*Stack, *mocks, error) {
	tb.Helper()
	if _, ok := cfg[key(names.ConfigArtifactDir)]; !ok {
		cfg = maps.Clone(cfg)
		cfg[key(names.ConfigArtifactDir)] = fakeArtifacts(tb, cmp.Or(cfg[key(names.ConfigLambdaArch)], ArchARM64))
	}
	return runWith(tb, &mocks{}, stackName, cfg)
}

// runWith runs Program under m for stack stackName with cfg as is.
func runWith(tb testing.TB, m *mocks, stackName string, cfg map[string]string) (*Stack, *mocks, error) {
	tb.Helper()
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

// elfHeader returns the first bytes of a little-endian 64-bit Linux ELF
// executable for machine.
func elfHeader(machine elf.Machine) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS], h[elf.EI_DATA], h[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.LittleEndian.PutUint16(h[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(h[18:], uint16(machine))
	return h
}

// writeZip writes a zip holding one entry, name, with mode and content.
func writeZip(tb testing.TB, path, name string, mode os.FileMode, content []byte) {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(content)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o600)
	}
	if err != nil {
		tb.Fatalf("write %s: %v", path, err)
	}
}

// fakeArtifacts writes, in a temporary folder, <function>.zip for each
// function, each holding an executable bootstrap whose ELF header says
// arch, and returns the folder.
func fakeArtifacts(tb testing.TB, arch string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, fn := range functionNames {
		writeZip(tb, filepath.Join(dir, fn+".zip"), "bootstrap", 0o755, elfHeader(elfMachines[arch]))
	}
	return dir
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

// testHash returns the SHA-256 of a made-up token named name.
func testHash(name string) string { return token.Hash("test-token-" + name) }
