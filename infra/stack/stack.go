package stack

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Stack is everything Program built, for tests and the sandbox.
type Stack struct {
	// Config is the validated configuration the stack was built from.
	Config *Config
	// Partition, Region and AccountID are where the stack is deployed
	// (from the aws:index/getCallerIdentity and aws:index/getRegion
	// invokes).
	Partition, Region, AccountID string
	// NamePrefix is "<project>-<stack>": it prefixes the function names,
	// the REST API's name and the KMS alias.
	NamePrefix string

	// Roles holds the two execution roles.
	Roles *Roles
	// Messaging holds the KMS key, topics, subscriptions and policies.
	Messaging *Messaging
	// Voice holds the Connect resources; nil when no contact is called.
	Voice *Voice
	// Data holds the tables and contact items.
	Data *Data
	// Functions holds the Lambda functions, log groups and policies.
	Functions *Functions
	// API holds the REST API, stage and optional WAF.
	API *API
}

// Component names, from which every child resource's name is derived.
const (
	rolesName     = "roles"
	messagingName = "messaging"
	voiceName     = "voice"
	dataName      = "data"
	functionsName = "functions"
	apiName       = "api"
)

// Limits of derived physical names.
const (
	maxFunctionName = 64 // Lambda
	maxAliasName    = 45 // Connect instance alias
)

// functionNamePattern is what Lambda accepts in a function name.
var functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Program is the body of the Pulumi program: it loads and validates the
// configuration (nothing is registered when that fails), builds the stack
// and exports the names.Output* stack outputs.
func Program(ctx *pulumi.Context) (*Stack, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	return Build(ctx, cfg)
}

// Build validates cfg, then creates every component and exports the
// outputs. It is Program without LoadConfig, for callers (such as the
// sandbox) that adjust a loaded configuration first; a relative
// cfg.ArtifactDir is then taken as is (relative to the working directory).
func Build(ctx *pulumi.Context, cfg *Config) (*Stack, error) {
	if err := cfg.Validate(ctx.Project()); err != nil {
		return nil, err
	}
	prefix := ctx.Project() + "-" + ctx.Stack()
	if err := checkNamePrefix(prefix); err != nil {
		return nil, err
	}
	s := &Stack{Config: cfg, NamePrefix: prefix}

	// The only invokes: the account (and partition, from the caller's
	// ARN) and the region, for ARNs no resource reports: the key and
	// topic policies' root principal and an existing Connect instance.
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", err)
	}
	region, err := aws.GetRegion(ctx, &aws.GetRegionArgs{})
	if err != nil {
		return nil, fmt.Errorf("get region: %w", err)
	}
	s.AccountID, s.Region, s.Partition = caller.AccountId, region.Name, partitionOf(caller.Arn)

	if err := s.build(ctx); err != nil {
		return nil, err
	}
	s.export(ctx)
	return s, nil
}

// build creates the components in dependency order.
func (s *Stack) build(ctx *pulumi.Context) error {
	cfg := s.Config
	var err error
	s.Roles, err = NewRoles(ctx, rolesName, &RolesArgs{Label: s.NamePrefix})
	if err != nil {
		return err
	}
	s.Messaging, err = NewMessaging(ctx, messagingName, &MessagingArgs{
		Contacts:         cfg.Contacts,
		Partition:        s.Partition,
		AccountID:        s.AccountID,
		PublisherRoleARN: s.Roles.Processor.Arn,
		KeyAlias:         "alias/" + s.NamePrefix + "-sns",
		Protection:       cfg.Protection,
	})
	if err != nil {
		return err
	}
	if cfg.UsesCalls() {
		s.Voice, err = NewVoice(ctx, voiceName, &VoiceArgs{
			InstanceID:        cfg.ConnectInstanceID,
			InstanceAlias:     connectAlias(s.NamePrefix),
			SourcePhoneNumber: cfg.SourcePhoneNumber,
			ClaimCountry:      cfg.ClaimPhoneNumberCountry,
			Voice:             cfg.Voice,
			FlowName:          s.NamePrefix + "-alert",
			Partition:         s.Partition,
			Region:            s.Region,
			AccountID:         s.AccountID,
		})
		if err != nil {
			return err
		}
	}
	s.Data, err = NewData(ctx, dataName, &DataArgs{
		Contacts:   cfg.Contacts,
		TopicARNs:  s.Messaging.TopicARNs(),
		Protection: cfg.Protection,
	})
	if err != nil {
		return err
	}
	s.Functions, err = NewFunctions(ctx, functionsName, &FunctionsArgs{
		NamePrefix:       s.NamePrefix,
		Roles:            s.Roles,
		ArtifactDir:      cfg.ArtifactDir,
		Arch:             cfg.LambdaArch,
		LogRetentionDays: cfg.LogRetentionDays,
		LogLevel:         cfg.LogLevel,
		APIClients:       cfg.APIClients,
		ContactsTable:    s.Data.Contacts,
		IdempotencyTable: s.Data.Idempotency,
		IdempotencyTTL:   cfg.IdempotencyTTL,
		TopicARNs:        s.Messaging.TopicARNList(),
		KeyARN:           s.Messaging.Key.Arn,
		Voice:            s.Voice,
		PHIDetectors:     cfg.PHIDetectors,
		SMSContent:       cfg.SMSContent,
	})
	if err != nil {
		return err
	}
	s.API, err = NewAPI(ctx, apiName, &APIArgs{
		Name:               s.NamePrefix,
		Authorizer:         s.Functions.Authorizer,
		Processor:          s.Functions.Processor,
		AuthorizerCacheTTL: cfg.AuthorizerCacheTTL,
		ThrottleRateLimit:  cfg.ThrottleRateLimit,
		ThrottleBurstLimit: cfg.ThrottleBurstLimit,
		LogRetentionDays:   cfg.LogRetentionDays,
		EnableWAF:          cfg.EnableWAF,
		ManageAccount:      cfg.ManageAPIGatewayAccount,
		Partition:          s.Partition,
		Region:             s.Region,
		AccountID:          s.AccountID,
	})
	return err
}

// export sets the names.Output* stack outputs.
func (s *Stack) export(ctx *pulumi.Context) {
	flowID := pulumi.String("").ToStringOutput()
	if s.Voice != nil {
		flowID = s.Voice.ContactFlowID
	}
	ctx.Export(names.OutputNotificationURL, s.API.NotificationURL)
	ctx.Export(names.OutputRestAPIID, s.API.RestAPI.ID())
	ctx.Export(names.OutputStageName, s.API.Stage.StageName)
	ctx.Export(names.OutputContactsTable, s.Data.Contacts.Name)
	ctx.Export(names.OutputIdempotencyTable, s.Data.Idempotency.Name)
	ctx.Export(names.OutputTopicARNs, s.Messaging.TopicARNs())
	ctx.Export(names.OutputAuthorizerFunction, s.Functions.Authorizer.Name)
	ctx.Export(names.OutputProcessorFunction, s.Functions.Processor.Name)
	ctx.Export(names.OutputContactFlowID, flowID)
}

// checkNamePrefix makes sure "<project>-<stack>-<function>" is a valid
// Lambda function name, before anything is registered.
func checkNamePrefix(prefix string) error {
	var problems []string
	for _, fn := range []string{names.FunctionAuthorizer, names.FunctionProcessor} {
		n := FunctionName(prefix, fn)
		if len(n) > maxFunctionName || !functionNamePattern.MatchString(n) {
			problems = append(problems, fmt.Sprintf("function name %q: want at most %d letters, digits, '-' or '_' (shorten the stack name)", n, maxFunctionName))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// connectAlias derives a Connect instance alias from the name prefix:
// letters, digits and single hyphens, at most 45 characters.
func connectAlias(prefix string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(prefix) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), "-") && b.Len() > 0:
			b.WriteRune('-')
		}
	}
	alias := strings.Trim(b.String(), "-")
	if len(alias) > maxAliasName {
		alias = strings.TrimRight(alias[:maxAliasName], "-")
	}
	return alias
}

// partitionOf returns the partition of an ARN ("aws", "aws-us-gov",
// "aws-cn"), or "aws" when arn is not one.
func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}
