package sns_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/sns"
)

type fakeSNS struct {
	publish func(*awssns.PublishInput) (*awssns.PublishOutput, error)
	inputs  []*awssns.PublishInput
}

var _ sns.PublishAPI = (*fakeSNS)(nil)

func (f *fakeSNS) Publish(_ context.Context, in *awssns.PublishInput, _ ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	return f.publish(in)
}

const topic = "arn:aws:sns:eu-west-2:000000000000:a2p-dr-jones-email"

func TestPublish(t *testing.T) {
	t.Parallel()
	sdkErr := errors.New("AuthorizationError")
	tests := []struct {
		name        string
		subject     string
		out         *awssns.PublishOutput
		err         error
		wantSubject *string
		wantID      string
	}{
		{"email with subject", "[High priority] blood_test_alert (ref msg-1)", &awssns.PublishOutput{MessageId: aws.String("m-1")},
			nil, aws.String("[High priority] blood_test_alert (ref msg-1)"), "m-1"},
		{"sms without subject", "", &awssns.PublishOutput{MessageId: aws.String("m-2")}, nil, nil, "m-2"},
		{"sdk error", "", nil, sdkErr, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSNS{publish: func(*awssns.PublishInput) (*awssns.PublishOutput, error) { return tt.out, tt.err }}
			id, err := sns.NewPublisher(f).Publish(t.Context(), topic, tt.subject, "the message")
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil && !strings.Contains(err.Error(), topic) {
				t.Errorf("err = %v, want it to name the topic", err)
			}
			if id != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
			if len(f.inputs) != 1 {
				t.Fatalf("Publish calls = %d, want 1", len(f.inputs))
			}
			in := f.inputs[0]
			if aws.ToString(in.TopicArn) != topic || aws.ToString(in.Message) != "the message" {
				t.Errorf("topic %q message %q", aws.ToString(in.TopicArn), aws.ToString(in.Message))
			}
			if (in.Subject == nil) != (tt.wantSubject == nil) || aws.ToString(in.Subject) != aws.ToString(tt.wantSubject) {
				t.Errorf("subject = %v, want %v", in.Subject, tt.wantSubject)
			}
			if in.PhoneNumber != nil || in.TargetArn != nil {
				t.Error("publish addresses a phone number or target instead of the topic")
			}
		})
	}
}
