package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
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
	// DeployerARN is the ARN of the principal running the deployment (the
	// caller identity); only it may subscribe to the stack's topics.
	DeployerARN string
	// NamePrefix is "<project>-<stack>": every physical name of the stack
	// starts with it, so that a console shows which stack owns what.
	NamePrefix string

	// Roles holds the two execution roles.
	Roles *Roles
	// Messaging holds the KMS key, topics, subscriptions and policies.
	Messaging *Messaging
	// Voice holds the Connect resources; nil when no contact is called.
	Voice *Voice
	// Data holds the tables and contact items.
	Data *Data
	// Keys holds one API Gateway API key per API client.
	Keys *APIKeys
	// Functions holds the Lambda functions, log groups and policies.
	Functions *Functions
	// API holds the REST API, stage, usage plans and optional WAF.
	API *API
	// Alarms holds the operations topic and the CloudWatch alarms.
	Alarms *Alarms
	// Async holds the asynchronous path's bus, rule, queues and key.
	Async *Async
	// Timers holds the escalation timers' schedule group and the
	// scheduler's role; nil when no policy asks for an acknowledgment.
	Timers *Timers
}

// Component names, from which every child resource's name is derived.
const (
	rolesName     = "roles"
	messagingName = "messaging"
	voiceName     = "voice"
	dataName      = "data"
	keysName      = "keys"
	functionsName = "functions"
	apiName       = "api"
	alarmsName    = "alarms"
	asyncName     = "async"
	timersName    = "timers"
)

// Limits of derived physical names.
const (
	maxFunctionName = 64 // Lambda; also bounds the role names
	// aliasHashLen is how many hex digits of the account and region hash
	// end a derived Connect instance alias.
	aliasHashLen = 8
)

// functionNamePattern is what Lambda accepts in a function name.
var functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Program is the body of the Pulumi program: it loads and validates the
// configuration and checks the function packages (nothing is registered
// when that fails), tags every resource, builds the stack and exports the
// names.Output* stack outputs.
func Program(ctx *pulumi.Context) (*Stack, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	prefix := ctx.Project() + "-" + ctx.Stack()
	if err := checkNamePrefix(prefix); err != nil {
		return nil, err
	}
	s := &Stack{Config: cfg, NamePrefix: prefix}

	// The only invokes: the account, the deploying principal (and the
	// partition, from its ARN) and the region, for ARNs no resource
	// reports: policies' principals and conditions and an existing
	// Connect instance.
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", err)
	}
	region, err := aws.GetRegion(ctx, &aws.GetRegionArgs{})
	if err != nil {
		return nil, fmt.Errorf("get region: %w", err)
	}
	s.AccountID, s.Region, s.Partition = caller.AccountId, region.Name, partitionOf(caller.Arn)
	s.DeployerARN = caller.Arn

	if err := tagEveryResource(ctx, map[string]string{TagProject: ctx.Project(), TagStack: ctx.Stack()}); err != nil {
		return nil, fmt.Errorf("register the default tags: %w", err)
	}
	if err := s.buildDelivery(ctx); err != nil {
		return nil, err
	}
	if err := s.buildEntry(ctx); err != nil {
		return nil, err
	}
	s.export(ctx)
	return s, nil
}

// buildDelivery creates what delivers an alert, in dependency order: the
// roles, the topics and the tables.
func (s *Stack) buildDelivery(ctx *pulumi.Context) error {
	cfg := s.Config
	var err error
	s.Roles, err = NewRoles(ctx, rolesName, &RolesArgs{NamePrefix: s.NamePrefix})
	if err != nil {
		return err
	}
	s.Messaging, err = NewMessaging(ctx, messagingName, &MessagingArgs{
		Contacts:          cfg.Contacts,
		NamePrefix:        s.NamePrefix,
		Partition:         s.Partition,
		Region:            s.Region,
		AccountID:         s.AccountID,
		PublisherRoleARNs: []pulumi.StringInput{s.Roles.Processor.Arn, s.Roles.Worker.Arn, s.Roles.Escalate.Arn},
		TwoWaySMS:         cfg.TwoWaySMS,
		SubscriberARNs:    principalARNPatterns(s.DeployerARN),
		AlarmNamePattern:  alarmNamePattern(s.NamePrefix),
		KeyAlias:          "alias/" + s.NamePrefix + "-sns",
		Protection:        cfg.Protection,
	})
	if err != nil {
		return err
	}
	s.Data, err = NewData(ctx, dataName, &DataArgs{
		NamePrefix:     s.NamePrefix,
		Contacts:       cfg.Contacts,
		TopicARNs:      s.Messaging.TopicARNs(),
		Protection:     cfg.Protection,
		Partition:      s.Partition,
		AccountID:      s.AccountID,
		AlertsKeyAlias: "alias/" + s.NamePrefix + "-alerts",
	})
	if err != nil {
		return err
	}
	s.Async, err = NewAsync(ctx, asyncName, &AsyncArgs{
		NamePrefix:        s.NamePrefix,
		Partition:         s.Partition,
		AccountID:         s.AccountID,
		KeyAlias:          "alias/" + s.NamePrefix + "-queue",
		Protection:        cfg.Protection,
		MaxReceiveCount:   cfg.AsyncMaxReceiveCount,
		WorkerTimeout:     WorkerTimeout,
		DeadLetterTimeout: DeadLetterTimeout,
	})
	return err
}

// buildEntry creates where an alert enters and what watches it, in
// dependency order: the API keys, the REST API (whose id the
// acknowledgment links need), the escalation timers' group and role, the
// functions that call nobody (the ack function among them), the Connect
// side (its flow invokes the ack function), the functions that deliver
// (they need the flow), the API's routes and stage, and the alarms.
func (s *Stack) buildEntry(ctx *pulumi.Context) error {
	cfg := s.Config
	var err error
	s.Keys, err = NewAPIKeys(ctx, keysName, &APIKeysArgs{NamePrefix: s.NamePrefix, Clients: cfg.APIClients})
	if err != nil {
		return err
	}
	if s.API, err = NewAPI(ctx, apiName, &APIArgs{Name: s.NamePrefix}); err != nil {
		return err
	}
	if cfg.AsksForAcknowledgment() {
		s.Timers, err = NewTimers(ctx, timersName, &TimersArgs{NamePrefix: s.NamePrefix, Partition: s.Partition, Region: s.Region, AccountID: s.AccountID})
		if err != nil {
			return err
		}
	}
	fargs := s.functionsArgs()
	if s.Functions, err = NewFunctions(ctx, functionsName, fargs); err != nil {
		return err
	}
	if cfg.UsesCalls() {
		if s.Voice, err = NewVoice(ctx, voiceName, s.voiceArgs()); err != nil {
			return err
		}
	}
	if err := s.Functions.AddDeliverers(ctx, functionsName, fargs, s.Voice); err != nil {
		return err
	}
	if err := s.API.Build(ctx, apiName, s.apiArgs()); err != nil {
		return err
	}
	s.Alarms, err = NewAlarms(ctx, alarmsName, s.alarmsArgs())
	return err
}

// voiceArgs configures the Connect side.
func (s *Stack) voiceArgs() *VoiceArgs {
	cfg := s.Config
	return &VoiceArgs{
		InstanceID:        cfg.ConnectInstanceID,
		InstanceAlias:     s.connectInstanceAlias(),
		SourcePhoneNumber: cfg.SourcePhoneNumber,
		ClaimCountry:      cfg.ClaimPhoneNumberCountry,
		Voice:             cfg.Voice,
		FlowName:          s.NamePrefix + "-alert",
		Partition:         s.Partition,
		Region:            s.Region,
		AccountID:         s.AccountID,
		Ack:               s.Functions.Ack,
	}
}

// functionsArgs configures the functions from the configuration and what
// the stack built before them.
func (s *Stack) functionsArgs() *FunctionsArgs {
	cfg := s.Config
	args := &FunctionsArgs{
		NamePrefix:                    s.NamePrefix,
		Roles:                         s.Roles,
		ArtifactDir:                   cfg.ArtifactDir,
		Arch:                          cfg.LambdaArch,
		LogRetentionDays:              cfg.LogRetentionDays,
		LogLevel:                      cfg.LogLevel,
		APIClients:                    s.Keys.AuthorizerClients(cfg.APIClients),
		ContactsTable:                 s.Data.Contacts,
		IdempotencyTable:              s.Data.Idempotency,
		AlertsTable:                   s.Data.Alerts,
		AlertsKeyARN:                  s.Data.AlertsKey.Arn,
		AlertRetentionDays:            cfg.AlertRetentionDays,
		FallbackOnUnknown:             cfg.FallbackOnUnknown,
		MetricsNamespace:              s.NamePrefix,
		IdempotencyTTL:                cfg.IdempotencyTTL,
		TopicARNs:                     s.Messaging.TopicARNList(),
		KeyARN:                        s.Messaging.Key.Arn,
		Region:                        s.Region,
		PHIDetectors:                  cfg.PHIDetectors,
		AuthorizerReservedConcurrency: cfg.AuthorizerReservedConcurrency,
		ProcessorReservedConcurrency:  cfg.ProcessorReservedConcurrency,
		SMSContent:                    cfg.SMSContent,
		Async:                         s.Async,
		RetryDelay:                    cfg.AsyncRetryDelay,
		InboundSMSTopic:               s.Messaging.InboundSMSTopic,
		Partition:                     s.Partition,
		AccountID:                     s.AccountID,
		Escalation: EscalationEnv{
			Set: cfg.EscalationSet(), Timers: s.Timers, AckBaseURL: s.AckBaseURL(), AckGrace: cfg.AckGrace,
			ReplyCodes: cfg.TwoWaySMS,
		},
	}
	return args
}

// AckBaseURL is the base of the acknowledgment links: the stack's
// ackBaseUrl, else the stage's execute-api URL.
func (s *Stack) AckBaseURL() pulumi.StringOutput {
	if s.Config.AckBaseURL != "" {
		return pulumi.String(strings.TrimSuffix(s.Config.AckBaseURL, "/")).ToStringOutput()
	}
	return s.API.StageURL(s.Region, dnsSuffix(s.Partition))
}

// dnsSuffix is the DNS suffix of AWS endpoints in partition.
func dnsSuffix(partition string) string {
	if partition == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// apiArgs configures the API from the configuration and the functions.
func (s *Stack) apiArgs() *APIArgs {
	cfg := s.Config
	plans := make([]ClientPlan, 0, len(cfg.APIClients))
	for _, cl := range cfg.APIClients {
		plans = append(plans, ClientPlan{Client: cl.Name, Limits: cfg.ClientLimits(cl), KeyID: s.Keys.Keys[cl.Name].ID()})
	}
	return &APIArgs{
		Name:               s.NamePrefix,
		Authorizer:         s.Functions.Authorizer,
		Processor:          s.Functions.Processor,
		Status:             s.Functions.Status,
		Ack:                s.Functions.Ack,
		AuthorizerCacheTTL: cfg.AuthorizerCacheTTL,
		ThrottleRateLimit:  cfg.ThrottleRateLimit,
		ThrottleBurstLimit: cfg.ThrottleBurstLimit,
		Clients:            plans,
		LogRetentionDays:   cfg.LogRetentionDays,
		EnableWAF:          cfg.EnableWAF,
		ManageAccount:      cfg.ManageAPIGatewayAccount,
		Partition:          s.Partition,
		Region:             s.Region,
		AccountID:          s.AccountID,
	}
}

// alarmsArgs configures the alarms from what the stack built.
func (s *Stack) alarmsArgs() *AlarmsArgs {
	cfg := s.Config
	args := &AlarmsArgs{
		NamePrefix:        s.NamePrefix,
		MetricNamespace:   s.NamePrefix,
		Partition:         s.Partition,
		Region:            s.Region,
		AccountID:         s.AccountID,
		SubscriberARNs:    principalARNPatterns(s.DeployerARN),
		KeyARN:            s.Messaging.Key.Arn,
		AlarmEmail:        cfg.AlarmEmail,
		APIName:           s.API.Name,
		StageName:         StageName,
		Functions:         s.Functions.Watched(),
		ProcessorLogGroup: s.Functions.ProcessorLogs.Name,
		RecordingLogGroups: map[string]pulumi.StringInput{
			names.FunctionWorker: s.Functions.WorkerLogs.Name, names.FunctionDeadLetter: s.Functions.DeadLetterLogs.Name,
		},
		AlertQueue:           AlertQueueName(s.NamePrefix),
		DeadLetterQueue:      DeadLetterQueueName(s.NamePrefix),
		EscalateLogGroup:     s.Functions.EscalateLogs.Name,
		TopicNames:           s.Messaging.TopicNames(),
		SMSMonthlySpendLimit: cfg.SMSMonthlySpendLimit,
		SMSSpendAlarmPercent: cfg.SMSSpendAlarmPercent,
	}
	if !cfg.UsesChannel(contact.ChannelSMS) {
		args.SMSMonthlySpendLimit = 0
	}
	if s.API.WebACL != nil {
		args.WebACLMetric = s.API.WAFMetricName
		args.BodyRuleMetric = s.API.WAFBodyRuleMetricName
	}
	return args
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
	ctx.Export(names.OutputAlertsTable, s.Data.Alerts.Name)
	ctx.Export(names.OutputStatusFunction, s.Functions.Status.Name)
	ctx.Export(names.OutputTopicARNs, s.Messaging.TopicARNs())
	ctx.Export(names.OutputAuthorizerFunction, s.Functions.Authorizer.Name)
	ctx.Export(names.OutputProcessorFunction, s.Functions.Processor.Name)
	ctx.Export(names.OutputContactFlowID, flowID)
	ctx.Export(names.OutputOperationsTopicARN, s.Alarms.Topic.Arn)
	ctx.Export(names.OutputEventBusName, s.Async.Bus.Name)
	ctx.Export(names.OutputAlertQueueURL, s.Async.Queue.Url)
	ctx.Export(names.OutputDeadLetterQueueURL, s.Async.DeadLetters.Url)
	ctx.Export(names.OutputWorkerFunction, s.Functions.Worker.Name)
	ctx.Export(names.OutputDeadLetterFunction, s.Functions.DeadLetter.Name)
	ctx.Export(names.OutputAckFunction, s.Functions.Ack.Name)
	ctx.Export(names.OutputEscalateFunction, s.Functions.Escalate.Name)
	ctx.Export(names.OutputAckBaseURL, s.AckBaseURL())
	group, inbound := pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput()
	if s.Timers != nil {
		group = s.Timers.Group.Name
	}
	if s.Messaging.InboundSMSTopic != nil {
		inbound = s.Messaging.InboundSMSTopic.Arn
	}
	ctx.Export(names.OutputScheduleGroup, group)
	ctx.Export(names.OutputInboundSMSTopicARN, inbound)
}

// connectInstanceAlias is the configured alias of a created Connect
// instance, or one derived from the name prefix and a hash of the account
// and region: aliases are unique across all of Amazon Connect, so a
// project-and-stack name alone would let only the first adopter deploy.
func (s *Stack) connectInstanceAlias() string {
	if s.Config.ConnectInstanceAlias != "" {
		return s.Config.ConnectInstanceAlias
	}
	sum := sha256.Sum256([]byte(s.AccountID + "/" + s.Region))
	suffix := "-" + hex.EncodeToString(sum[:])[:aliasHashLen]
	base := connectAlias(s.NamePrefix, maxAliasName-len(suffix))
	return base + suffix
}

// checkNamePrefix makes sure "<project>-<stack>-<function>" is a valid
// Lambda function name, before anything is registered.
func checkNamePrefix(prefix string) error {
	var problems []string
	for _, fn := range names.Functions {
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

// connectAlias turns prefix into the start of a Connect instance alias of
// at most maxLen characters: lower-case letters and digits joined by
// single hyphens, never starting with the reserved "d-".
func connectAlias(prefix string, maxLen int) string {
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
	if rest, ok := strings.CutPrefix(alias, reservedAliasPrefix); ok {
		alias = "d" + rest
	}
	if len(alias) > maxLen {
		alias = strings.TrimRight(alias[:maxLen], "-")
	}
	if alias == "" {
		alias = "a2p"
	}
	return alias
}

// principalARNPatterns are the aws:PrincipalArn values of the principal
// whose caller-identity ARN is arn. An assumed role's session ARN
// (arn:aws:sts::<account>:assumed-role/<role>/<session>) becomes its
// role's ARN, with and without a path, since the session ARN does not
// show the role's path; any other ARN (a user, root) is itself.
func principalARNPatterns(arn string) []string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return []string{arn}
	}
	role, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return []string{arn}
	}
	role, _, _ = strings.Cut(role, "/")
	base := fmt.Sprintf("arn:%s:iam::%s:role/", parts[1], parts[4])
	return []string{base + role, base + "*/" + role}
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
