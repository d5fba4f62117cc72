package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one resource the program registered, as the provisioner saw
// it: what was asked for and the state it answered.
type Resource struct {
	// Type is the Pulumi type token, such as "aws:lambda/function:Function".
	Type string
	// Name is the Pulumi logical name.
	Name string
	// Custom is false for component resources.
	Custom bool
	// ID is the physical id returned to Pulumi.
	ID string
	// Inputs are the resource's inputs as the program gave them.
	Inputs resource.PropertyMap
	// State is what was returned: the inputs echoed plus the outputs.
	State resource.PropertyMap
	// Emulated is true when the resource exists in the emulator, false when
	// it was only recorded (components, and the types on notEmulated).
	Emulated bool
	// Note says why a custom resource was recorded instead of created.
	Note string

	// code is a function's deployment package (zip bytes).
	code []byte
}

// Output returns a string output (or echoed input) of the resource, "" when
// absent.
func (r *Resource) Output(key string) string { return props(r.State).str(key) }

// unhosted is a resource type the emulator cannot host.
type unhosted struct {
	reason string
	// applies narrows the entry to some inputs; nil means every resource of
	// the type.
	applies func(in props) bool
	// record returns the id and outputs the real provider would.
	record recordFunc
}

type recordFunc func(p *Provisioner, name string, in props) (string, map[string]any)

// notEmulated is the one list of resource types the sandbox records instead
// of creating, because kumo cannot host them. Their outputs have the shape
// the real provider returns, so the program's wiring (ids passed into
// environment variables, ARNs into policies) runs unchanged. Everything
// here is therefore untested by the sandbox and covered by the external
// target and the infra unit tests instead.
var notEmulated = map[string]unhosted{
	// kumo has no Amazon Connect (nor has LocalStack). The processor's calls
	// go to ConnectStub instead.
	"aws:connect/instance:Instance":       {reason: "kumo has no Amazon Connect", record: recordConnectInstance},
	"aws:connect/contactFlow:ContactFlow": {reason: "kumo has no Amazon Connect", record: recordContactFlow},
	"aws:connect/phoneNumber:PhoneNumber": {reason: "kumo has no Amazon Connect", record: recordPhoneNumber},
	// kumo's query-protocol parser turns any form value that parses as a
	// number into a JSON number, so an E.164 endpoint ("+15555550100")
	// fails Subscribe with "Failed to parse request body". SMS subscriptions
	// would deliver nothing observable anyway; the SQS tap sees each
	// publish to the topic instead.
	"aws:sns/topicSubscription:TopicSubscription": {
		reason:  "kumo cannot parse an E.164 SMS endpoint",
		applies: func(in props) bool { return in.str("protocol") == "sms" },
		record:  recordSMSSubscription,
	},
	// kumo does not implement CreateModel or CreateRequestValidator, and
	// does not validate bodies: the processor must validate everything.
	"aws:apigateway/model:Model":                       {reason: "kumo has no API Gateway models", record: recordModel},
	"aws:apigateway/requestValidator:RequestValidator": {reason: "kumo has no API Gateway request validators", record: recordRequestValidator},
	// kumo has no UpdateStage nor account settings: stage throttling and
	// logging settings are not emulated.
	"aws:apigateway/methodSettings:MethodSettings": {reason: "kumo has no UpdateStage (method settings, throttling)", record: recordMethodSettings},
	"aws:apigateway/account:Account":               {reason: "kumo has no API Gateway account settings", record: recordAPIGatewayAccount},
	// kumo has no WAF.
	"aws:wafv2/webAcl:WebAcl":                       {reason: "kumo has no WAF", record: recordWebACL},
	"aws:wafv2/webAclAssociation:WebAclAssociation": {reason: "kumo has no WAF", record: recordWebACLAssociation},
}

// createFunc creates a resource in the emulator and returns its id and
// outputs.
// Creators read the logical name from rec and may keep extra data on it
// (a function's zip).
type createFunc func(ctx context.Context, p *Provisioner, rec *Resource, in props) (id string, outputs map[string]any, err error)

// creators maps each resource type the emulator hosts to its creator.
// A type on neither this map nor notEmulated fails the deploy.
var creators = map[string]createFunc{
	"aws:kms/key:Key":                             createKMSKey,
	"aws:kms/alias:Alias":                         createKMSAlias,
	"aws:sns/topic:Topic":                         createTopic,
	"aws:sns/topicPolicy:TopicPolicy":             createTopicPolicy,
	"aws:sns/topicSubscription:TopicSubscription": createTopicSubscription,
	"aws:dynamodb/table:Table":                    createTable,
	"aws:dynamodb/tableItem:TableItem":            createTableItem,
	"aws:iam/role:Role":                           createRole,
	"aws:iam/rolePolicy:RolePolicy":               createRolePolicy,
	"aws:cloudwatch/logGroup:LogGroup":            createLogGroup,
	"aws:lambda/function:Function":                createFunction,
	"aws:lambda/permission:Permission":            createPermission,
	"aws:apigateway/restApi:RestApi":              createRestAPI,
	"aws:apigateway/resource:Resource":            createAPIResource,
	"aws:apigateway/method:Method":                createMethod,
	"aws:apigateway/integration:Integration":      createIntegration,
	"aws:apigateway/authorizer:Authorizer":        createAuthorizer,
	"aws:apigateway/deployment:Deployment":        createDeployment,
	"aws:apigateway/stage:Stage":                  createStage,
}

// ProvisionerOptions configures NewProvisioner.
type ProvisionerOptions struct {
	// Endpoint is the emulator's base URL.
	Endpoint string
	// Region is the stack's AWS region (config aws:region).
	Region string
	// WorkDir resolves relative archive paths (a function's code), as the
	// program's working directory does under `pulumi up`. Default: the
	// current directory.
	WorkDir string
}

// Provisioner is a Pulumi mock resource monitor that creates each resource
// in the emulator with aws-sdk-go-v2 and returns the state the real AWS
// provider would (ids, ARNs, auto-names, invoke ARNs and URLs). It keeps a
// record of every resource. It is safe for concurrent use, as the Pulumi
// SDK registers resources from several goroutines.
type Provisioner struct {
	// ctx bounds the emulator calls made from NewResource and Call, whose
	// signatures (fixed by Pulumi) carry no context.
	ctx     context.Context //nolint:containedctx // see above
	clients *Clients
	region  string
	account string
	port    string
	workDir string

	mu        sync.Mutex
	resources []*Resource
}

var _ pulumi.MockResourceMonitor = (*Provisioner)(nil)

// NewProvisioner returns a provisioner creating resources in the emulator
// at opts.Endpoint. It asks the emulator for its account id (STS
// GetCallerIdentity), which getCallerIdentity then answers and ARNs use.
func NewProvisioner(ctx context.Context, opts ProvisionerOptions) (*Provisioner, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("provisioner: bad endpoint %q", opts.Endpoint)
	}

	if opts.Region == "" {
		opts.Region = defaultRegion
	}

	clients := NewClients(opts.Endpoint, opts.Region)

	who, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("provisioner: ask the emulator for its account: %w", err)
	}

	account := emulatorAccount
	if who.Account != nil && *who.Account != "" {
		account = *who.Account
	}

	return &Provisioner{
		ctx:     ctx,
		clients: clients,
		region:  opts.Region,
		account: account,
		port:    u.Port(),
		workDir: opts.WorkDir,
	}, nil
}

// Resources returns the resources recorded so far, in completion order.
func (p *Provisioner) Resources() []*Resource {
	p.mu.Lock()
	defer p.mu.Unlock()

	return append([]*Resource(nil), p.resources...)
}

// NewResource creates the resource in the emulator (or records it, for the
// types on notEmulated and for components) and returns its id and state.
// A type the sandbox does not know fails loudly, naming it.
func (p *Provisioner) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := &Resource{
		Type:   args.TypeToken,
		Name:   args.Name,
		Custom: args.Custom,
		Inputs: args.Inputs,
	}

	in := props(args.Inputs)

	switch {
	case args.ReadRPC != nil:
		return "", nil, fmt.Errorf("sandbox: reading an existing %s (%s, id %q) is not supported: the sandbox only creates resources",
			args.TypeToken, args.Name, args.ID)
	case !args.Custom:
		// Components hold no state of their own.
		rec.State = resource.PropertyMap{}
		rec.Note = "component"
	case strings.HasPrefix(args.TypeToken, "pulumi:providers:"):
		rec.ID = newUUID()
		rec.State = args.Inputs.Copy()
		rec.Note = "provider"
	default:
		if err := p.provision(rec, in); err != nil {
			return "", nil, err
		}
	}

	p.mu.Lock()
	p.resources = append(p.resources, rec)
	p.mu.Unlock()

	return rec.ID, rec.State, nil
}

// provision creates or records one custom resource, filling rec.
func (p *Provisioner) provision(rec *Resource, in props) error {
	if u, ok := notEmulated[rec.Type]; ok && (u.applies == nil || u.applies(in)) {
		id, outputs := u.record(p, rec.Name, in)
		rec.ID, rec.State, rec.Note = id, state(rec.Inputs, outputs), u.reason

		return nil
	}

	create, ok := creators[rec.Type]
	if !ok {
		return fmt.Errorf("sandbox: resource type %s (%s) is not supported: add it to creators or notEmulated in integration/sandbox/provisioner.go",
			rec.Type, rec.Name)
	}

	id, outputs, err := create(p.ctx, p, rec, in)
	if err != nil {
		return fmt.Errorf("sandbox: create %s %s in the emulator: %w", rec.Type, rec.Name, err)
	}

	rec.ID, rec.State, rec.Emulated = id, state(rec.Inputs, outputs), true

	return nil
}

// Call answers the provider functions (invokes) the program uses, from the
// emulator's account and the stack's region. Any other function fails,
// naming it.
func (p *Provisioner) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	in := props(args.Args)

	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": p.account,
			"arn":       "arn:aws:iam::" + p.account + ":root",
			"userId":    p.account,
			"id":        p.account,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name":        p.region,
			"id":          p.region,
			"endpoint":    "ec2." + p.region + ".amazonaws.com",
			"description": p.region,
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition":        "aws",
			"id":               "aws",
			"dnsSuffix":        "amazonaws.com",
			"reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:iam/getPolicyDocument:getPolicyDocument":
		doc, err := renderPolicyDocument(in)
		if err != nil {
			return nil, err
		}

		return resource.NewPropertyMapFromMap(map[string]any{
			"json":         doc,
			"minifiedJson": doc,
			"id":           fmt.Sprint(len(doc)),
		}), nil
	default:
		return nil, fmt.Errorf("sandbox: provider function %s is not supported: add it to Provisioner.Call in integration/sandbox/provisioner.go",
			args.Token)
	}
}

// arn builds an ARN in the stack's region and the emulator's account.
func (p *Provisioner) arn(service, res string) string {
	return "arn:aws:" + service + ":" + p.region + ":" + p.account + ":" + res
}

// errMissing reports a required input that is absent.
func errMissing(key string) error {
	return fmt.Errorf("required input %q is missing", key)
}

// errNotZip says a function's code is not something the sandbox can run.
var errNotZip = errors.New("the sandbox runs only functions whose code is a zip archive (pulumi.FileArchive or AssetArchive)")
