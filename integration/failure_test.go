package integration

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// restorableTopicAttributes are the topic attributes the stack sets, which
// a recreated topic must have again.
var restorableTopicAttributes = []string{"DisplayName", "KmsMasterKeyId", "Policy"}

// TestSNSFailureThenRetryDeliversOnce deletes the test contact's SMS topic
// in the emulator: an SMS alert answers 502 unavailable (twice: the failed
// attempt released its lock, so the retry is not a 409). With the topic
// recreated (same name, so the same ARN) and its subscriptions restored,
// the retry with the same message_id delivers exactly once, and a further
// retry replays.
//
// It does not run in parallel: while the topic is gone, any other SMS
// alert would fail too.
func TestSNSFailureThenRetryDeliversOnce(t *testing.T) {
	env := tgt.needSandbox(t, "deleting a topic")
	tap := tgt.needTap(t)
	snsc := env.Clients.SNS
	arn := tgt.topicARN(t, contact.ChannelSMS)

	p := priorityFor(t, contact.ChannelSMS)
	a := newAlert(t, p, "")

	attrs, err := snsc.GetTopicAttributes(t.Context(), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}

	subsBefore := subscriptions(t, snsc, arn)
	if !slices.Contains(subsBefore, "sqs "+tap.QueueARN) {
		t.Fatalf("subscriptions %v lack the tap's queue", subsBefore)
	}

	if _, err := snsc.DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}

	restored := false
	restore := func() {
		if restored {
			return
		}

		restored = true
		restoreTopic(t, env, arn, attrs.Attributes, subsBefore)
	}
	t.Cleanup(restore) // also when the test fails half-way: other tests need the topic

	for range 2 {
		r := tgt.postAlert(t, a)
		r.wantError(t, api.CodeUnavailable)

		if r.replayed() {
			t.Errorf("502 marked as a replay")
		}
	}

	restore()

	if got := subscriptions(t, snsc, arn); !reflect.DeepEqual(got, subsBefore) {
		t.Fatalf("subscriptions after the restore %v, want %v", got, subsBefore)
	}

	first := tgt.postAlert(t, a)
	sent := first.wantSent(t, a)

	if sent.Channel != string(contact.ChannelSMS) {
		t.Fatalf("retry went by %s, want sms", sent.Channel)
	}

	if again := tgt.postAlert(t, a); again.status != http.StatusOK || !again.replayed() || string(again.body) != string(first.body) {
		t.Errorf("second retry: %d %s (replay %v), want the stored answer replayed", again.status, again.body, again.replayed())
	}

	tgt.drain(t)

	got := deliveries(tap, a.MessageID)
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want exactly 1", len(got))
	}

	if got[0].TopicARN != arn || got[0].MessageID != sent.ProviderMessageID {
		t.Errorf("delivery %+v, want topic %s, message %s", got[0], arn, sent.ProviderMessageID)
	}
}

// restoreTopic recreates the topic arn with its attributes and
// subscriptions, checking that the emulator gives it the same ARN.
func restoreTopic(t *testing.T, env *sandbox.Sandbox, arn string, attrs map[string]string, subs []string) {
	t.Helper()

	// It also runs as a cleanup, after t.Context is cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), waitTimeout)
	defer cancel()

	snsc := env.Clients.SNS

	keep := map[string]string{}

	for _, k := range restorableTopicAttributes {
		if v, ok := attrs[k]; ok {
			keep[k] = v
		}
	}

	out, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(arn[strings.LastIndexByte(arn, ':')+1:]), Attributes: keep})
	if err != nil {
		t.Fatalf("recreate topic %s: %v", arn, err)
	}

	if got := aws.ToString(out.TopicArn); got != arn {
		t.Fatalf("the recreated topic has ARN %s, want %s (the stack and the contacts table name the old one)", got, arn)
	}

	name := arn

	for _, r := range env.Deployment.ByType(provision.TypeTopic) {
		if r.ID == arn {
			name = r.Name
		}
	}

	have := subscriptionsCtx(ctx, t, snsc, arn)

	for _, s := range subs {
		if slices.Contains(have, s) {
			continue // the topic was not deleted after all
		}

		protocol, endpoint, _ := strings.Cut(s, " ")
		if protocol == "sqs" && endpoint == env.Tap.QueueARN {
			err = env.Tap.Subscribe(ctx, name, arn)
		} else {
			_, err = snsc.Subscribe(ctx, &sns.SubscribeInput{
				TopicArn: aws.String(arn), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint),
			})
		}

		if err != nil {
			t.Fatalf("restore subscription %s of %s: %v", s, arn, err)
		}
	}

	got, err := snsc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}

	for k, v := range keep {
		if got.Attributes[k] != v {
			t.Errorf("restored topic attribute %s %q, want %q", k, got.Attributes[k], v)
		}
	}
}

// subscriptions lists a topic's subscriptions as "protocol endpoint",
// sorted.
func subscriptions(t *testing.T, snsc *sns.Client, arn string) []string {
	t.Helper()

	return subscriptionsCtx(t.Context(), t, snsc, arn)
}

func subscriptionsCtx(ctx context.Context, t *testing.T, snsc *sns.Client, arn string) []string {
	t.Helper()

	out, err := snsc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}

	var subs []string
	for _, s := range out.Subscriptions {
		subs = append(subs, aws.ToString(s.Protocol)+" "+aws.ToString(s.Endpoint))
	}

	slices.Sort(subs)

	return subs
}

// priorityFor is a priority the test contact prefers ch for.
func priorityFor(t *testing.T, ch contact.Channel) alert.Priority {
	t.Helper()

	for _, p := range alert.Priorities {
		if got, ok := tgt.expectedChannel(p); ok && got == ch {
			return p
		}
	}

	t.Fatalf("the test contact prefers %s for no priority", ch)

	return ""
}

// TestCallFailureThenRetryDeliversOnce makes the Connect stub refuse this
// test's calls: the alert answers 502 unavailable, twice. Once the stub
// accepts calls again, the retry with the same message_id places exactly
// one call, with the same ClientToken as the refused attempts, and a
// further retry replays without calling.
//
// The fault applies only to this test's message_id, so other tests' calls
// go through and the test can run in parallel.
func TestCallFailureThenRetryDeliversOnce(t *testing.T) {
	t.Parallel()

	stub := tgt.needConnect(t)
	tgt.needSandbox(t, "a Connect fault")

	a := newAlert(t, priorityFor(t, contact.ChannelCall), "")

	var failing atomic.Bool

	failing.Store(true)

	// A 403 is not retried by the AWS SDK, so each request makes exactly
	// one attempt.
	stub.SetDecide(func(c standin.OutboundCall) *standin.ConnectError {
		if failing.Load() && calledFor(c, a.MessageID) {
			return &standin.ConnectError{
				Status: http.StatusForbidden, Type: "OutboundContactNotPermittedException", Message: "injected by " + t.Name(),
			}
		}

		return nil
	})
	t.Cleanup(func() { stub.SetDecide(nil) })

	for range 2 {
		r := tgt.postAlert(t, a)
		r.wantError(t, api.CodeUnavailable)
	}

	refused := calls(stub, a.MessageID)
	if len(refused) != 2 || refused[0].Fault == nil || refused[1].Fault == nil {
		t.Fatalf("calls %+v, want 2 refused", refused)
	}

	failing.Store(false)

	first := tgt.postAlert(t, a)
	sent := first.wantSent(t, a)

	if again := tgt.postAlert(t, a); again.status != http.StatusOK || !again.replayed() || string(again.body) != string(first.body) {
		t.Errorf("second retry: %d %s (replay %v), want the stored answer replayed", again.status, again.body, again.replayed())
	}

	all := calls(stub, a.MessageID)
	if len(all) != 3 {
		t.Fatalf("%d calls, want 2 refused and 1 placed", len(all))
	}

	placed := all[2]
	if placed.Fault != nil || placed.Replayed || placed.ContactID != sent.ProviderMessageID {
		t.Errorf("placed call %+v, want a new contact %s", placed, sent.ProviderMessageID)
	}

	for _, c := range all {
		if c.ClientToken != all[0].ClientToken || c.ClientToken == "" {
			t.Errorf("ClientTokens %q and %q differ: a retry must reuse the alert's token", c.ClientToken, all[0].ClientToken)
		}
	}
}
