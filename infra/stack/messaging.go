package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// MessagingType is the type token of the Messaging component.
const MessagingType = "a2p:messaging:Topics"

// topicChannels are the channels delivered through an SNS topic, and the
// subscription protocol of each.
var topicChannels = []struct {
	channel  contact.Channel
	protocol string
}{
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
	// Partition, AccountID locate the account, for the key policy's and
	// the topic policies' root principal.
	Partition, AccountID string
	// PublisherRoleARN is the processor's role, the only principal the
	// topic policies let publish.
	PublisherRoleARN pulumi.StringInput
	// KeyAlias names the key, e.g. "alias/a2p-alerts-dev-sns".
	KeyAlias string
	// Protection sets the key's deletion window.
	Protection Protection
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
	// keys lists the topic keys in creation order.
	keys []string
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

	// The key policy delegates to the account (root): access is then
	// decided by IAM policies, such as the processor's inline policy that
	// grants GenerateDataKey and Decrypt on this key alone. Without this
	// statement nobody could manage the key, and KMS refuses such a policy
	// unless its lockout safety check is bypassed. In a key policy,
	// Resource "*" means this key.
	keyPolicy, err := policy(Statement{
		Sid:       "AccountRootDelegation",
		Effect:    effectAllow,
		Principal: map[string]string{"AWS": root},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	}).JSON()
	if err != nil {
		return nil, err
	}
	window := keyDeletionWindowDev
	if args.Protection.Full() {
		window = keyDeletionWindowProd
	}
	m.Key, err = kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String("a2p-alerts: encrypts the alert SNS topics"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               pulumi.String(keyPolicy),
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
			if err := m.addTopic(ctx, name, c, tc.channel, tc.protocol, root, args.PublisherRoleARN); err != nil {
				return nil, err
			}
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

// addTopic creates the topic of one contact and channel, its subscription
// and its policy.
func (m *Messaging) addTopic(ctx *pulumi.Context, name string, c ContactConfig, ch contact.Channel,
	protocol, root string, publisher pulumi.StringInput,
) error {
	key := TopicKey(c.ID, ch)
	base := fmt.Sprintf("%s-%s-%s", name, c.ID, ch)
	topic, err := sns.NewTopic(ctx, base, &sns.TopicArgs{
		// SMS shows at most 10 characters of the display name as sender.
		DisplayName:    pulumi.String("A2P Alerts"),
		KmsMasterKeyId: m.Key.Arn,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create topic %s: %w", key, err)
	}
	sub, err := sns.NewTopicSubscription(ctx, base+"-subscription", &sns.TopicSubscriptionArgs{
		Topic:    topic.Arn,
		Protocol: pulumi.String(protocol),
		Endpoint: pulumi.String(c.destination(ch)),
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", key, err)
	}
	doc := policyOutput(pulumi.StringMap{"topic": topic.Arn, "publisher": publisher}, func(v map[string]string) PolicyDocument {
		return topicPolicy(v["topic"], root, v["publisher"])
	})
	pol, err := sns.NewTopicPolicy(ctx, base+"-policy", &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: doc,
	}, pulumi.Parent(m))
	if err != nil {
		return fmt.Errorf("create topic policy %s: %w", key, err)
	}
	m.Topics[key], m.Subscriptions[key], m.TopicPolicies[key] = topic, sub, pol
	m.keys = append(m.keys, key)
	return nil
}

// topicPolicy lets the account manage the topic and denies sns:Publish to
// every principal but the publisher role. The publisher's Allow comes from
// its own inline policy (same account); this Deny makes sure no other
// principal, however privileged, can page a clinician.
func topicPolicy(topicARN, root, publisherRoleARN string) PolicyDocument {
	return policy(
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
			Sid:       "PublishOnlyByProcessor",
			Effect:    effectDeny,
			Principal: "*",
			Action:    []string{"sns:Publish"},
			Resource:  []string{topicARN},
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": publisherRoleARN},
			},
		},
	)
}
