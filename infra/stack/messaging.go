package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// MessagingType is the type token of the Messaging component. (The Go
// name is Messaging, the token's Topics: the token is kept as first
// deployed, since renaming it would replace live resources.)
const MessagingType = "a2p:messaging:Topics"

// topicChannel is a channel delivered through an SNS topic, and the
// subscription protocol of its topic.
type topicChannel struct {
	channel  contact.Channel
	protocol string
}

// topicChannels are the channels delivered through an SNS topic.
var topicChannels = []topicChannel{
	{contact.ChannelSMS, "sms"},
	{contact.ChannelEmail, "email"},
}

// Key deletion windows, in days.
const (
	keyDeletionWindowDev  = 7
	keyDeletionWindowProd = 30
)

// MessagingArgs configures the Messaging component.
type MessagingArgs struct {
	// Contacts are the configured contacts; a topic is made for each of
	// their SMS and email channels that some priority uses.
	Contacts []ContactConfig
	// NamePrefix starts each topic's name:
	// "<NamePrefix>-<contact id>-<channel>".
	NamePrefix string
	// Partition, Region, AccountID locate the account, for the key
	// policy's and the topic policies' principals and conditions.
	Partition, Region, AccountID string
	// PublisherRoleARNs are the roles of the functions that deliver (the
	// processor's, the worker's and the escalate function's), the only
	// principals the topic policies let publish.
	PublisherRoleARNs []pulumi.StringInput
	// SubscriberARNs are the aws:PrincipalArn patterns of the deploying
	// principal, the only one the topic policies let subscribe.
	SubscriberARNs []string
	// AlarmNamePattern matches the stack's alarm names: CloudWatch may use
	// the key for those alarms only (the operations topic is encrypted
	// with it too).
	AlarmNamePattern string
	// KeyAlias names the key, e.g. "alias/a2p-alerts-dev-sns".
	KeyAlias string
	// Protection sets the key's deletion window.
	Protection Protection
	// TwoWaySMS creates the topic AWS End User Messaging publishes SMS
	// replies to (InboundSMSTopic).
	TwoWaySMS bool
}

// Messaging holds the SNS side of delivery: the KMS key that encrypts the
// topics and, per contact and channel, a topic with one subscription and
// a topic policy.
type Messaging struct {
	pulumi.ResourceState

	// Key encrypts every topic (rotation on).
	Key *kms.Key
	// Alias names Key.
	Alias *kms.Alias
	// Topics by TopicKey(contact id, channel).
	Topics map[string]*sns.Topic
	// Subscriptions by TopicKey: protocol "sms" or "email".
	Subscriptions map[string]*sns.TopicSubscription
	// TopicPolicies by TopicKey.
	TopicPolicies map[string]*sns.TopicPolicy
	// InboundSMSTopic receives SMS replies from two-way SMS, and
	// InboundSMSPolicy lets only End User Messaging of this account
	// publish to it; nil without TwoWaySMS.
	InboundSMSTopic  *sns.Topic
	InboundSMSPolicy *sns.TopicPolicy
	// keys and names list the topic keys and names in creation order.
	keys, names []string
}

// TopicKey is the key of a topic in Messaging.Topics and in the
// names.OutputTopicARNs stack output: "<contact id>/<channel>".
func TopicKey(contactID string, ch contact.Channel) string {
	return contactID + "/" + string(ch)
}

// TopicARNs maps every TopicKey to its topic's ARN.
func (m *Messaging) TopicARNs() pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, t := range m.Topics {
		out[k] = t.Arn
	}
	return out
}

// TopicARNList lists the topics' ARNs in creation order.
func (m *Messaging) TopicARNList() pulumi.StringArray {
	out := make(pulumi.StringArray, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, m.Topics[k].Arn)
	}
	return out
}

// NewMessaging creates the key, topics, subscriptions and topic policies.
func NewMessaging(ctx *pulumi.Context, name string, args *MessagingArgs, opts ...pulumi.ResourceOption) (*Messaging, error) {
	m := &Messaging{
		Topics:        map[string]*sns.Topic{},
		Subscriptions: map[string]*sns.TopicSubscription{},
		TopicPolicies: map[string]*sns.TopicPolicy{},
	}
	if err := ctx.RegisterComponentResource(MessagingType, name, m, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	root := fmt.Sprintf("arn:%s:iam::%s:root", args.Partition, args.AccountID)
	keyDoc, err := keyPolicy(args, root).JSON()
	if err != nil {
		return nil, err
	}
	window := keyDeletionWindowDev
	if args.Protection.Full() {
		window = keyDeletionWindowProd
	}
	m.Key, err = kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("%s: encrypts the alert and operations SNS topics", args.NamePrefix),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               pulumi.String(keyDoc),
	}, pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	m.Alias, err = kms.NewAlias(ctx, name+"-key-alias", &kms.AliasArgs{
		Name:        pulumi.String(args.KeyAlias),
		TargetKeyId: m.Key.KeyId,
	}, pulumi.Parent(m))
	if err != nil {
		return nil, fmt.Errorf("create key alias: %w", err)
	}

	for _, c := range args.Contacts {
		for _, tc := range topicChannels {
			if !c.Uses(tc.channel) {
				continue // as the seed: no topic for a channel nobody uses
			}
			if err := m.addTopic(ctx, name, args, c, tc, root); err != nil {
				return nil, err
			}
		}
	}

	if args.TwoWaySMS {
		if err := m.addInboundSMS(ctx, name, args, root); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{
		"keyArn":    m.Key.Arn,
		"topicArns": m.TopicARNs(),
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return m, nil
}

// keyPolicy delegates the key to the account (root): access is then
// decided by IAM policies, such as the processor's inline policy that
// grants GenerateDataKey* and Decrypt on this key alone, through SNS.
// Without this statement nobody could manage the key, and KMS refuses such
// a policy unless its lockout safety check is bypassed. The second
// statement lets CloudWatch encrypt the notifications of this stack's
// alarms for the operations topic: CloudWatch cannot publish to a topic
// encrypted with a key it may not use. In a key policy, Resource "*" means
// this key.
func keyPolicy(args *MessagingArgs, root string) PolicyDocument {
	doc := policy(
		Statement{
			Sid:       "AccountRootDelegation",
			Effect:    effectAllow,
			Principal: map[string]string{"AWS": root},
			Action:    []string{"kms:*"},
			Resource:  []string{"*"},
		},
		Statement{
			Sid:       "CloudWatchAlarmsOfThisStack",
			Effect:    effectAllow,
			Principal: map[string]string{"Service": cloudwatchService},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
			Condition: alarmSourceCondition(args.Partition, args.Region, args.AccountID, args.AlarmNamePattern),
		},
	)
	if args.TwoWaySMS {
		// End User Messaging encrypts the replies it publishes to the
		// replies' topic with this key: for this account's numbers only.
		doc.Statement = append(doc.Statement, Statement{
			Sid:       "SMSRepliesOfThisAccount",
			Effect:    effectAllow,
			Principal: map[string]string{"Service": smsVoiceService},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.AccountID}},
		})
	}
	return doc
}

// alarmSourceCondition limits a grant to CloudWatch acting for the alarms
// of this account whose names match pattern (no confused deputy).
func alarmSourceCondition(partition, region, account, pattern string) map[string]map[string]any {
	return map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": account},
		"ArnLike":      {"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", partition, region, account, pattern)},
	}
}

// TopicName is the physical name of the topic of one contact and channel.
func TopicName(prefix, contactID string, ch contact.Channel) string {
	return prefix + "-" + contactID + "-" + string(ch)
}

// TopicNames lists the topics' physical names in creation order.
func (m *Messaging) TopicNames() []string {
	return append([]string(nil), m.names...)
}

// addTopic creates the topic of one contact and channel, its policy and
// its subscription. The endpoint (a phone number or an address) is a
// secret in the state.
func (m *Messaging) addTopic(ctx *pulumi.Context, name string, args *MessagingArgs, c ContactConfig,
	tc topicChannel, root string,
) error {
	key := TopicKey(c.ID, tc.channel)
	base := fmt.Sprintf("%s-%s-%s", name, c.ID, tc.channel)
	topicName := TopicName(args.NamePrefix, c.ID, tc.channel)
	topic, err := sns.NewTopic(ctx, base, &sns.TopicArgs{
		Name: pulumi.String(topicName),
		// SMS shows at most 10 characters of the display name as sender.
		DisplayName:    pulumi.String("A2P Alerts"),
		KmsMasterKeyId: m.Key.Arn,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create topic %s: %w", key, err)
	}
	inputs := pulumi.StringMap{"topic": topic.Arn}
	for i, arn := range args.PublisherRoleARNs {
		inputs[fmt.Sprintf("publisher%d", i)] = arn
	}
	doc := policyOutput(inputs, func(v map[string]string) PolicyDocument {
		publishers := make([]string, 0, len(args.PublisherRoleARNs))
		for i := range args.PublisherRoleARNs {
			publishers = append(publishers, v[fmt.Sprintf("publisher%d", i)])
		}
		return topicPolicy(v["topic"], root, args.SubscriberARNs, Statement{
			Sid:       "PublishOnlyByDeliveringFunctions",
			Effect:    effectDeny,
			Principal: "*",
			Action:    []string{"sns:Publish"},
			Resource:  []string{v["topic"]},
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": publishers},
			},
		})
	})
	pol, err := sns.NewTopicPolicy(ctx, base+"-policy", &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: doc,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create topic policy %s: %w", key, err)
	}
	// After the policy, so that a new deploying principal is allowed to
	// subscribe before it does.
	sub, err := sns.NewTopicSubscription(ctx, base+"-subscription", &sns.TopicSubscriptionArgs{
		Topic:    topic.Arn,
		Protocol: pulumi.String(tc.protocol),
		Endpoint: secret(pulumi.String(c.destination(tc.channel))),
	}, pulumi.Parent(m), pulumi.DependsOn([]pulumi.Resource{pol}))
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", key, err)
	}
	m.Topics[key], m.Subscriptions[key], m.TopicPolicies[key] = topic, sub, pol
	m.keys = append(m.keys, key)
	m.names = append(m.names, topicName)
	return nil
}

// topicPolicy lets the account manage the topic and lets no principal but
// the deploying one subscribe (a subscription would receive every alert or
// page), then adds the topic's own statements: for a contact's topic, a
// Deny of sns:Publish to every principal but the roles of the functions
// that deliver (the processor's and the worker's), so that no other
// principal, however privileged, can page a clinician.
func topicPolicy(topicARN, root string, subscribers []string, extra ...Statement) PolicyDocument {
	doc := policy(
		Statement{
			Sid:       "OwnerManagement",
			Effect:    effectAllow,
			Principal: map[string]string{"AWS": root},
			Action: []string{
				"sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
				"sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
			},
			Resource: []string{topicARN},
		},
		Statement{
			Sid:       "SubscribeOnlyByDeployer",
			Effect:    effectDeny,
			Principal: "*",
			Action:    []string{"sns:Subscribe"},
			Resource:  []string{topicARN},
			Condition: map[string]map[string]any{
				"ArnNotLike": {"aws:PrincipalArn": subscribers},
			},
		},
	)
	doc.Statement = append(doc.Statement, extra...)
	return doc
}

// smsVoiceService is AWS End User Messaging SMS's service principal.
const smsVoiceService = "sms-voice.amazonaws.com"

// InboundSMSTopicName is the physical name of the SMS replies' topic.
func InboundSMSTopicName(prefix string) string { return prefix + "-sms-replies" }

// addInboundSMS creates the topic two-way SMS publishes replies to: only
// End User Messaging acting for this account may publish, only the
// deploying principal may subscribe (the ack function is subscribed by the
// deployment).
func (m *Messaging) addInboundSMS(ctx *pulumi.Context, name string, args *MessagingArgs, root string) error {
	var err error
	m.InboundSMSTopic, err = sns.NewTopic(ctx, name+"-sms-replies", &sns.TopicArgs{
		Name:           pulumi.String(InboundSMSTopicName(args.NamePrefix)),
		KmsMasterKeyId: m.Key.Arn,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create sms replies topic: %w", err)
	}
	doc := policyOutput(pulumi.StringMap{"topic": m.InboundSMSTopic.Arn}, func(v map[string]string) PolicyDocument {
		return topicPolicy(v["topic"], root, args.SubscriberARNs, Statement{
			Sid:       "RepliesFromEndUserMessaging",
			Effect:    effectAllow,
			Principal: map[string]string{"Service": smsVoiceService},
			Action:    []string{"sns:Publish"},
			Resource:  []string{v["topic"]},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.AccountID}},
		})
	})
	m.InboundSMSPolicy, err = sns.NewTopicPolicy(ctx, name+"-sms-replies-policy", &sns.TopicPolicyArgs{
		Arn: m.InboundSMSTopic.Arn, Policy: doc,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create sms replies topic policy: %w", err)
	}
	return nil
}
