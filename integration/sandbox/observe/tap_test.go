package observe

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// TestTapSeesEachPublish runs against an emulator of its own: the tap
// needs SNS and SQS.
func TestTapSeesEachPublish(t *testing.T) {
	t.Parallel()

	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}

	bin, err := emulator.Locate(root)
	if err != nil {
		t.Fatal(err)
	}

	em, err := emulator.Start(t.Context(), emulator.Options{Bin: bin})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = em.Stop() })

	c := emulator.NewClients(em.Endpoint, "")

	topics := map[string]string{}

	for _, name := range []string{"alice-sms", "alice-email"} {
		out, err := c.SNS.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}

		topics[name] = aws.ToString(out.TopicArn)
	}

	var seen []Delivery

	tap, err := StartTap(t.Context(), c, func(d Delivery) { seen = append(seen, d) })
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = tap.Close() })

	for name, arn := range topics {
		if err := tap.Subscribe(t.Context(), name, arn); err != nil {
			t.Fatal(err)
		}
	}

	publish := func(topic, subject, message string) {
		t.Helper()

		in := &sns.PublishInput{TopicArn: aws.String(topics[topic]), Message: aws.String(message)}
		if subject != "" {
			in.Subject = aws.String(subject)
		}

		if _, err := c.SNS.Publish(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}

	publish("alice-email", "P1 alert: bed 4", "Patient in bed 4 needs review")
	publish("alice-sms", "", "Bed 4 needs review")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	got, err := tap.WaitFor(ctx, 2, nil)
	if err != nil {
		t.Fatal(err)
	}

	byTopic := map[string]Delivery{}
	for _, d := range got {
		byTopic[d.Topic] = d
	}

	email := byTopic["alice-email"]
	if email.TopicARN != topics["alice-email"] || email.Subject != "P1 alert: bed 4" ||
		email.Message != "Patient in bed 4 needs review" || email.MessageID == "" {
		t.Fatalf("email delivery %+v", email)
	}

	if sms := byTopic["alice-sms"]; sms.Message != "Bed 4 needs review" || sms.Subject != "" {
		t.Fatalf("sms delivery %+v", sms)
	}

	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}

	// The callback ran on the reading goroutine, which Close has ended.
	if len(seen) != 2 {
		t.Fatalf("onDelivery saw %d deliveries, want 2", len(seen))
	}

	if errs := tap.Errors(); len(errs) != 0 {
		t.Fatalf("tap errors: %v", errs)
	}

	short, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()

	if _, err := tap.WaitFor(short, 3, nil); err == nil || !strings.Contains(err.Error(), "2 of 3") {
		t.Fatalf("WaitFor past what arrived: %v; want a deadline error saying 2 of 3", err)
	}
}
