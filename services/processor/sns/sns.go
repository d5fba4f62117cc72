// Package sns delivers SMS and email alerts by publishing to each contact's
// Amazon SNS topic, whose subscription (an SMS number or an email address)
// receives the message. It implements notify.Publisher.
package sns

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
)

// PublishAPI is the part of the SNS client that Publisher uses.
type PublishAPI interface {
	// Publish sends a message to a topic.
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

var _ PublishAPI = (*awssns.Client)(nil)

// Publisher publishes alerts to SNS topics.
type Publisher struct {
	client PublishAPI
}

var _ notify.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher that publishes through client.
func NewPublisher(client PublishAPI) *Publisher {
	return &Publisher{client: client}
}

// Publish sends message to the topic, with subject when it is not empty
// (email subscriptions use it; SMS ignores it), and returns SNS's message
// id.
func (p *Publisher) Publish(ctx context.Context, topicARN, subject, message string) (string, error) {
	in := &awssns.PublishInput{
		TopicArn: aws.String(topicARN),
		Message:  aws.String(message),
	}
	if subject != "" {
		in.Subject = aws.String(subject)
	}
	out, err := p.client.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}
