package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// inboundSMS is the message AWS End User Messaging two-way SMS publishes
// to a number's two-way SNS topic for each reply.
type inboundSMS struct {
	OriginationNumber          string `json:"originationNumber"`
	DestinationNumber          string `json:"destinationNumber"`
	MessageKeyword             string `json:"messageKeyword"`
	MessageBody                string `json:"messageBody"`
	InboundMessageID           string `json:"inboundMessageId"`
	PreviousPublishedMessageID string `json:"previousPublishedMessageId"`
}

// PublishInboundSMS is TEST CODE standing in for AWS End User Messaging
// two-way SMS, which kumo lacks, and for SNS's delivery of the reply to a
// Lambda subscriber, which kumo attempts only at localhost:4566 whatever
// port it serves on. It delivers an SMS reply from number from, saying
// body, to every Lambda function subscribed to topicARN (the stack's
// replies topic, its subscriptions read from kumo), as the events.SNSEvent
// SNS would send, synchronously: when it returns, the function has
// handled the reply. It returns the SNS message id it gave the reply.
func PublishInboundSMS(ctx context.Context, s *sns.Client, l *lambda.Client, topicARN, from, body string) (string, error) {
	msg, err := json.Marshal(inboundSMS{
		OriginationNumber: from, DestinationNumber: "+15555550199", MessageKeyword: "KEYWORD_SANDBOX",
		MessageBody: body, InboundMessageID: "sandbox-" + newContactID(), PreviousPublishedMessageID: newContactID(),
	})
	if err != nil {
		return "", fmt.Errorf("inbound sms: %w", err)
	}
	subs, err := s.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	if err != nil {
		return "", fmt.Errorf("subscriptions of %s: %w", topicARN, err)
	}
	id := newContactID()
	for _, sub := range subs.Subscriptions {
		if aws.ToString(sub.Protocol) != "lambda" {
			continue
		}
		ev := events.SNSEvent{Records: []events.SNSEventRecord{{
			EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: aws.ToString(sub.SubscriptionArn),
			SNS: events.SNSEntity{Type: "Notification", MessageID: id, TopicArn: topicARN, Message: string(msg), Timestamp: time.Now().UTC()},
		}}}
		payload, err := json.Marshal(ev)
		if err != nil {
			return "", fmt.Errorf("sns event: %w", err)
		}
		fn := aws.ToString(sub.Endpoint)
		out, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn[strings.LastIndex(fn, ":")+1:]), Payload: payload})
		if err != nil {
			return "", fmt.Errorf("deliver the reply to %s: %w", fn, err)
		}
		if out.FunctionError != nil {
			return id, fmt.Errorf("%s failed on the reply: %s", fn, out.Payload)
		}
	}
	return id, nil
}
