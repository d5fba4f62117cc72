package provision

// Creators of the Messaging component's resources: the KMS key and alias,
// the topics, their subscriptions and policies.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func createKey(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	input := &kms.CreateKeyInput{
		Description: aws.String(in.str("description")),
		Tags:        pairs(in.strMap("tags"), func(k, v *string) kmstypes.Tag { return kmstypes.Tag{TagKey: k, TagValue: v} }),
	}
	if pol := in.str("policy"); pol != "" {
		input.Policy = aws.String(pol)
	}
	out, err := p.clients.KMS.CreateKey(ctx, input)
	if err != nil {
		return "", nil, fmt.Errorf("CreateKey: %w", err)
	}
	// enableKeyRotation and deletionWindowInDays are echoed only: kumo has
	// no EnableKeyRotation, and nothing is deleted.
	keyID := aws.ToString(out.KeyMetadata.KeyId)
	return keyID, map[string]any{"arn": aws.ToString(out.KeyMetadata.Arn), "keyId": keyID}, nil
}

func createAlias(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	name, target := in.str("name"), in.str("targetKeyId")
	if _, err := p.clients.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(target)}); err != nil {
		return "", nil, fmt.Errorf("CreateAlias: %w", err)
	}
	return name, map[string]any{"arn": p.arn("kms", name)}, nil
}

func createTopic(ctx context.Context, p *Provisioner, name string, in props) (string, map[string]any, error) {
	name = autoName(in, name, 256)
	out, err := p.clients.SNS.CreateTopic(ctx, &sns.CreateTopicInput{
		Name:       aws.String(name),
		Attributes: map[string]string{"DisplayName": in.str("displayName"), "KmsMasterKeyId": in.str("kmsMasterKeyId")},
		Tags:       pairs(in.strMap("tags"), func(k, v *string) snstypes.Tag { return snstypes.Tag{Key: k, Value: v} }),
	})
	if err != nil {
		return "", nil, fmt.Errorf("CreateTopic %s: %w", name, err)
	}
	arn := aws.ToString(out.TopicArn)
	return arn, map[string]any{"arn": arn, "name": name, "owner": p.account}, nil
}

func createTopicPolicy(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	arn := in.str("arn")
	if _, err := p.clients.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(arn), AttributeName: aws.String("Policy"), AttributeValue: aws.String(in.str("policy")),
	}); err != nil {
		return "", nil, fmt.Errorf("SetTopicAttributes Policy on %s: %w", arn, err)
	}
	return arn, map[string]any{"owner": p.account}, nil
}

// createSubscription subscribes an email endpoint (sms ones are on
// NotEmulated).
func createSubscription(ctx context.Context, p *Provisioner, _ string, in props) (string, map[string]any, error) {
	topic, protocol := in.str("topic"), in.str("protocol")
	out, err := p.clients.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(topic), Protocol: aws.String(protocol), Endpoint: aws.String(in.str("endpoint")), ReturnSubscriptionArn: true,
	})
	if err != nil {
		return "", nil, fmt.Errorf("subscribe %s to %s: %w", protocol, topic, err)
	}
	arn := aws.ToString(out.SubscriptionArn)
	// On AWS an email endpoint stays pending until the person confirms.
	return arn, map[string]any{"arn": arn, "ownerId": p.account, "pendingConfirmation": protocol == "email"}, nil
}
