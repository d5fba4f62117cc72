// Package provision deploys a Pulumi program into the emulator, standing
// in for the Pulumi AWS provider, which cannot be had here. Deploy runs the
// program exactly as `pulumi up` would (the same function, configuration
// from the stack file) under Pulumi's mock resource monitor; the
// Provisioner, as that monitor, creates each resource in kumo with
// aws-sdk-go-v2 and answers the state the AWS provider would (ids, ARNs,
// `<name>-<7 hex>` auto-names, invoke ARNs).
//
// It supports exactly the resource types and properties infra/stack
// registers: a creator per type in messaging.go, data.go, functions.go and
// api.go, and the types kumo cannot host on the one not-emulated list,
// NotEmulated (notemulated.go), recorded instead of created. Any other type
// fails the deploy, naming it, and so does a property a creator would drop.
//
// kumo v0.33.1, as the creators rely on it:
//   - API Gateway: RestApi, Resource, Method, Integration, Authorizer,
//     Deployment and Stage exist; Model, RequestValidator, UpdateStage
//     (method settings), account settings, gateway responses, API keys and
//     usage plans do not, and bodies are never validated. A method's
//     apiKeyRequired is stored and checks nothing. Only REQUEST authorizers run; the result TTL defaults to
//     300 s and an explicit 0 disables caching. Invoke with any Host
//     "<api id>.execute-api.<anything>" and path /<stage>/<resource path>.
//   - IAM: roles and inline policies are stored, never enforced.
//   - KMS: CreateKey, CreateAlias, key policies; no EnableKeyRotation.
//   - DynamoDB: condition and update expressions and TTL work; CreateTable
//     ignores SSESpecification; there is no UpdateContinuousBackups.
//   - CloudWatch Logs: groups and retention exist, metric filters do not;
//     nothing writes to the groups.
//   - CloudWatch: PutMetricAlarm stores an alarm, and SetAlarmState
//     publishes to its AlarmActions or OKActions topics; no metric is ever
//     evaluated, so no alarm fires by itself.
//   - Lambda: CreateFunction requires Role and keeps the zip; it runs
//     nothing (package lambdahost does).
package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// TypeTopic is the type token of an SNS topic, which the sandbox taps.
const TypeTopic = "aws:sns/topic:Topic"

// Options configures Deploy.
type Options struct {
	// Endpoint is the emulator's base URL.
	Endpoint string
	// Project and Stack name the run; Config is the stack's configuration
	// ("namespace:key" to value, as infra/stack.LoadFile gives it).
	Project, Stack string
	Config         map[string]string
	// WorkDir resolves relative archive paths (a function's code), as the
	// program's working directory does under `pulumi up`.
	WorkDir string
}

// Deployment is the result of running a Pulumi program against the
// emulator.
type Deployment struct {
	// Region is the stack's AWS region.
	Region string
	// Resources are every resource the program registered, in completion
	// order.
	Resources []*Resource
	// Functions are the deployed Lambda functions, sorted by name.
	Functions []Function
	// Outputs are the stack outputs (ctx.Export), resolved: the shape of
	// `pulumi stack output --json`.
	Outputs map[string]any
	// Duration is how long the deploy took.
	Duration time.Duration
}

// Resource is one resource the program registered, as the provisioner saw
// it: what was asked for and the state it answered.
type Resource struct {
	// Type is the Pulumi type token; Name the logical name.
	Type, Name string
	// ID is the physical id returned to Pulumi.
	ID string
	// Inputs are the program's inputs; State the inputs echoed plus the
	// outputs.
	Inputs, State resource.PropertyMap
	// Emulated is true when the resource exists in the emulator, false
	// when it was only recorded (components, providers, NotEmulated).
	Emulated bool
}

// Output returns a string output (or echoed input), "" when absent.
func (r *Resource) Output(key string) string { return props(r.State).str(key) }

// Function is a deployed Lambda function as CreateFunction received it:
// what package lambdahost needs to run it.
type Function struct {
	// LogicalName is the Pulumi logical name; Name the deployed name, which
	// the Runtime API path and Invoke use.
	LogicalName, Name string
	// Zip is the deployment package holding the bootstrap.
	Zip []byte
	// Environment is the function's environment.variables.
	Environment map[string]string
	// Handler and Runtime as deployed; Timeout in seconds; MemorySize in MB.
	Handler, Runtime    string
	Timeout, MemorySize int
	// ActiveTracing is true for tracingConfig mode Active.
	ActiveTracing bool
}

// ByType returns the resources of type typ, sorted by logical name.
func (d *Deployment) ByType(typ string) []*Resource {
	var out []*Resource
	for _, r := range d.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Resource) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// OutputString returns a string stack output, "" when absent.
func (d *Deployment) OutputString(key string) string {
	s, _ := d.Outputs[key].(string)
	return s
}

// Deploy runs program as `pulumi up` would, under a Provisioner creating
// each resource in the emulator. The region is the config's aws:region
// (default emulator.DefaultRegion). Any error, including an unsupported
// resource type, fails the whole deploy.
func Deploy(ctx context.Context, opts Options, program func(*pulumi.Context) error) (*Deployment, error) {
	start := time.Now()
	region := opts.Config["aws:region"]
	if region == "" {
		region = emulator.DefaultRegion
	}
	prov, err := NewProvisioner(ctx, opts.Endpoint, region, opts.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("deploy %s/%s: %w", opts.Project, opts.Stack, err)
	}
	exports := &exported{values: map[string]any{}}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = opts.Config
		info.DryRun = false
	}
	if err := pulumi.RunErr(exports.capture(program), pulumi.WithMocks(opts.Project, opts.Stack, prov), withConfig); err != nil {
		return nil, fmt.Errorf("deploy %s/%s: %w", opts.Project, opts.Stack, err)
	}
	prov.mu.Lock()
	defer prov.mu.Unlock()
	slices.SortFunc(prov.functions, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return &Deployment{
		Region:    region,
		Resources: prov.resources,
		Functions: prov.functions,
		Outputs:   exports.values,
		Duration:  time.Since(start),
	}, nil
}

// exported collects a program's stack outputs as they resolve.
type exported struct {
	mu     sync.Mutex
	values map[string]any
}

// capture wraps program so that each export is kept as the plain JSON
// value `pulumi stack output --json` would print. RunErr waits for these
// applies before it returns.
func (e *exported) capture(program func(*pulumi.Context) error) func(*pulumi.Context) error {
	return func(pctx *pulumi.Context) error {
		if err := program(pctx); err != nil {
			return err
		}
		for name, value := range pctx.GetCurrentExportMap() {
			pulumi.ToOutput(value).ApplyT(func(v any) (any, error) {
				b, err := json.Marshal(v)
				if err != nil {
					return nil, fmt.Errorf("stack output %s: %w", name, err)
				}
				var plain any
				if err := json.Unmarshal(b, &plain); err != nil {
					return nil, fmt.Errorf("stack output %s: %w", name, err)
				}
				e.mu.Lock()
				e.values[name] = plain
				e.mu.Unlock()
				return v, nil
			})
		}
		return nil
	}
}
