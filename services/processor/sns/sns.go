// Package sns delivers SMS and email alerts by publishing to each contact's
// Amazon SNS topic, whose subscription (an SMS number or an email address)
// receives the message. It implements alerting.Publisher, classifying every
// failure (package provider).
package sns

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/provider"
)

// PublishAPI is the part of the SNS client that Publisher uses.
type PublishAPI interface {
	// Publish sends a message to a topic.
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

var _ PublishAPI = (*awssns.Client)(nil)

// ClientOptions configures the SNS client Publisher is given: a timeout per
// attempt, and retries only of attempts that provably did not publish
// (provider.ClientOptions). Pass it to sns.NewFromConfig.
func ClientOptions(attemptTimeout time.Duration) func(*awssns.Options) {
	return func(o *awssns.Options) {
		o.HTTPClient, o.Retryer = provider.ClientOptions(attemptTimeout)
	}
}

// SMS message attributes: every SMS is transactional. The account's default
// type is promotional, which carriers deliver at lower priority and some
// block under do-not-disturb rules.
const (
	AttrSMSType          = "AWS.SNS.SMS.SMSType"
	SMSTypeTransactional = "Transactional"
	attrDataTypeText     = "String"
)

// Publisher publishes alerts to SNS topics.
type Publisher struct {
	client PublishAPI
}

var _ alerting.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher that publishes through client, which
// should be built with ClientOptions.
func NewPublisher(client PublishAPI) *Publisher {
	return &Publisher{client: client}
}

// PublishSMS sends text to the SMS topic as a transactional SMS and returns
// SNS's message id.
func (p *Publisher) PublishSMS(ctx context.Context, topicARN, text string) (string, error) {
	return p.publish(ctx, &awssns.PublishInput{
		TopicArn: aws.String(topicARN),
		Message:  aws.String(text),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrSMSType: {DataType: aws.String(attrDataTypeText), StringValue: aws.String(SMSTypeTransactional)},
		},
	})
}

// PublishEmail sends body with subject to the email topic and returns SNS's
// message id.
func (p *Publisher) PublishEmail(ctx context.Context, topicARN, subject, body string) (string, error) {
	return p.publish(ctx, &awssns.PublishInput{
		TopicArn: aws.String(topicARN),
		Subject:  aws.String(subject),
		Message:  aws.String(body),
	})
}

// publish sends in; errors wrap the *delivery.Error that classifies them.
func (p *Publisher) publish(ctx context.Context, in *awssns.PublishInput) (string, error) {
	ctx, attempts := provider.Track(ctx)
	out, err := p.client.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", aws.ToString(in.TopicArn), provider.Classify(err, attempts))
	}
	return aws.ToString(out.MessageId), nil
}
