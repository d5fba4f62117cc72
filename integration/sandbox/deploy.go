package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource type tokens the sandbox looks for after a deploy.
const (
	TypeFunction = "aws:lambda/function:Function"
	TypeTopic    = "aws:sns/topic:Topic"
)

// DefaultStack is the stack name Deploy uses when none is given.
const DefaultStack = "local"

// Deployment is the result of running a Pulumi program against the
// emulator.
type Deployment struct {
	// Project and Stack are the names the program ran under.
	Project, Stack string
	// Region is the stack's AWS region.
	Region string
	// Resources are every resource the program registered, in completion
	// order.
	Resources []*Resource
	// Outputs are the stack outputs (ctx.Export), resolved: the same shape
	// as `pulumi stack output --json`.
	Outputs map[string]any
	// Duration is how long the deploy took.
	Duration time.Duration
}

// ByType returns the resources of type typ, sorted by logical name.
func (d *Deployment) ByType(typ string) []*Resource {
	var out []*Resource

	for _, r := range d.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}

	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })

	return out
}

// Find returns the resource of type typ with logical name name.
func (d *Deployment) Find(typ, name string) (*Resource, bool) {
	for _, r := range d.Resources {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}

	return nil, false
}

// OutputString returns a string stack output, "" when absent or not a
// string.
func (d *Deployment) OutputString(key string) string {
	s, _ := d.Outputs[key].(string)

	return s
}

// jsonValue turns a resolved output (pulumi.ID, map[string]string, ...)
// into the plain JSON value `pulumi stack output --json` would print:
// string, float64, bool, nil, []any or map[string]any.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err //nolint:wrapcheck // the caller names the output
	}

	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err //nolint:wrapcheck // the caller names the output
	}

	return out, nil
}

// DeployOption adjusts Deploy.
type DeployOption func(*deployOptions)

type deployOptions struct {
	project string
	stack   string
	workDir string
}

// WithProject sets the project name. By default it is the single config
// namespace that is not "aws" or "pulumi".
func WithProject(name string) DeployOption { return func(o *deployOptions) { o.project = name } }

// WithStack sets the stack name (default DefaultStack).
func WithStack(name string) DeployOption { return func(o *deployOptions) { o.stack = name } }

// WithWorkDir sets the directory relative archive paths are read from, the
// program's working directory under `pulumi up` (default: the current
// directory).
func WithWorkDir(dir string) DeployOption { return func(o *deployOptions) { o.workDir = dir } }

// Deploy runs program as `pulumi up` would, with cfg as its configuration
// ("namespace:key" to value, see LoadStackConfig), under a Provisioner
// that creates each resource in the emulator at endpoint. The region is
// cfg's aws:region (default us-east-1). It returns every resource and the
// resolved stack outputs. Any error, including an unsupported resource
// type, fails the whole deploy.
func Deploy(
	ctx context.Context, endpoint string, cfg map[string]string, program func(*pulumi.Context) error, opts ...DeployOption,
) (*Deployment, error) {
	o := deployOptions{stack: DefaultStack}
	for _, opt := range opts {
		opt(&o)
	}

	if o.project == "" {
		p, err := inferProject(cfg)
		if err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}

		o.project = p
	}

	region := cfg["aws:region"]
	if region == "" {
		region = defaultRegion
	}

	start := time.Now()

	prov, err := NewProvisioner(ctx, ProvisionerOptions{Endpoint: endpoint, Region: region, WorkDir: o.workDir})
	if err != nil {
		return nil, fmt.Errorf("deploy %s/%s: %w", o.project, o.stack, err)
	}

	var (
		mu      sync.Mutex
		outputs = map[string]any{}
	)

	wrapped := func(pctx *pulumi.Context) error {
		if err := program(pctx); err != nil {
			return err
		}

		// Capture the exports as they resolve; RunErr waits for these
		// applies before it returns.
		for name, value := range pctx.GetCurrentExportMap() {
			pulumi.ToOutput(value).ApplyT(func(v any) (any, error) {
				plainValue, err := jsonValue(v)
				if err != nil {
					return nil, fmt.Errorf("stack output %s: %w", name, err)
				}

				mu.Lock()
				outputs[name] = plainValue
				mu.Unlock()

				return v, nil
			})
		}

		return nil
	}

	withConfig := func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = nil
		info.DryRun = false
	}

	if err := pulumi.RunErr(wrapped, pulumi.WithMocks(o.project, o.stack, prov), withConfig); err != nil {
		return nil, fmt.Errorf("deploy %s/%s: %w", o.project, o.stack, err)
	}

	return &Deployment{
		Project:   o.project,
		Stack:     o.stack,
		Region:    region,
		Resources: prov.Resources(),
		Outputs:   outputs,
		Duration:  time.Since(start),
	}, nil
}
