package standin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// TestSNSProxy drives the proxy with the real SNS client: a Publish is
// forwarded and recorded with its attributes; an injected fault is
// answered in SNS's error shape without forwarding; a dropped answer is
// forwarded and then cut off.
func TestSNSProxy(t *testing.T) {
	t.Parallel()

	var forwarded atomic.Int32

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if form, _ := url.ParseQuery(string(body)); form.Get("Action") == "Publish" {
			forwarded.Add(1)
		}

		w.Header().Set("Content-Type", "text/xml")
		_, _ = fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>`)
	}))
	t.Cleanup(upstream.Close)

	proxy, err := StartSNSProxy(t.Context(), upstream.URL)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = proxy.Close() })

	client := sns.NewFromConfig(emulator.Config(proxy.URL, "us-east-1"), func(o *sns.Options) { o.RetryMaxAttempts = 1 })
	publish := func(msg string) error {
		_, err := client.Publish(t.Context(), &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:t"), Message: aws.String(msg),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
			},
		})

		return err
	}

	proxy.SetDecide(func(p Publish) *SNSFault {
		switch {
		case strings.HasSuffix(p.Message, "throttle"):
			return &SNSFault{Status: http.StatusTooManyRequests, Code: "Throttled", Message: "slow down"}
		case strings.HasSuffix(p.Message, "drop"):
			return &SNSFault{DropAnswer: true}
		}

		return nil
	})

	if err := publish("pass"); err != nil || forwarded.Load() != 1 {
		t.Fatalf("pass: %v, forwarded %d", err, forwarded.Load())
	}

	var apiErr smithy.APIError
	if err := publish("throttle"); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttled" || forwarded.Load() != 1 {
		t.Errorf("throttle: %v (forwarded %d), want Throttled and nothing forwarded", err, forwarded.Load())
	}

	if err := publish("drop"); err == nil || errors.As(err, &apiErr) || forwarded.Load() != 2 {
		t.Errorf("drop: %v (forwarded %d), want no answer after forwarding", err, forwarded.Load())
	}

	got := proxy.Publishes()
	if len(got) != 3 || got[0].Fault != nil || got[1].Fault == nil || !got[2].Fault.DropAnswer {
		t.Fatalf("publishes %+v, want pass, throttle, drop", got)
	}

	if got[0].Attributes["AWS.SNS.SMS.SMSType"] != "Transactional" || got[0].TopicARN != "arn:aws:sns:us-east-1:000000000000:t" {
		t.Errorf("recorded %+v, want the topic and the SMS type", got[0])
	}
}
