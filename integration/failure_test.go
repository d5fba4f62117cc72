package integration

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/provision"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// restorableTopicAttributes are the topic attributes the stack sets, which
// a recreated topic must have again.
var restorableTopicAttributes = []string{"DisplayName", "KmsMasterKeyId", "Policy"}

// TestDeletedTopicIsUndeliverable deletes the test contact's SMS topic in
// the emulator, whose Publish then answers NotFound: a refusal that would
// repeat, so the alert is 502 undeliverable_all_channels (sms is the
// contact's only channel at that priority), recorded. A retry with
// the same body replays that answer even once the topic is back (same
// name, so the same ARN): nothing is sent for it, ever. A new message_id
// delivers.
//
// It does not run in parallel: while the topic is gone, any other SMS
// alert would fail too.
func TestDeletedTopicIsUndeliverable(t *testing.T) {
	env := tgt.needSandbox(t, "deleting a topic")
	tap := tgt.needTap(t)
	snsc := env.Clients.SNS
	arn := tgt.topicARN(t, contact.ChannelSMS)

	a := newAlert(t, priorityFor(t, contact.ChannelSMS), "")

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

	first := tgt.postAlert(t, a)
	wantAttempts := []api.FailedAttempt{{Channel: string(contact.ChannelSMS), FailureClass: "permanent"}}
	if e := first.wantError(t, api.CodeUndeliverableAllChannels); !slices.Equal(e.Attempts, wantAttempts) || first.replayed() {
		t.Errorf("error %+v (replay %v), want a fresh undeliverable_all_channels naming the sms attempt", e, first.replayed())
	}

	restore()

	if got := subscriptions(t, snsc, arn); !reflect.DeepEqual(got, subsBefore) {
		t.Fatalf("subscriptions after the restore %v, want %v", got, subsBefore)
	}

	if again := tgt.postAlert(t, a); again.status != first.status || !again.replayed() || !bytes.Equal(again.body, first.body) {
		t.Errorf("retry: %s (replay %v), want the recorded %s replayed", again, again.replayed(), first)
	}

	b := newAlert(t, priorityFor(t, contact.ChannelSMS), "new-id")
	tgt.postAlert(t, b).wantSent(t, b)

	tgt.drain(t)

	if got := deliveries(tap, a.MessageID); len(got) != 0 {
		t.Errorf("%d deliveries of the undeliverable alert, want none", len(got))
	}

	if got := deliveries(tap, b.MessageID); len(got) != 1 {
		t.Errorf("%d deliveries of the new alert, want 1", len(got))
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

// Faults the tests inject, one per class, as SNS and Connect answer them.
var (
	snsThrottled      = &standin.SNSFault{Status: http.StatusTooManyRequests, Code: "Throttled", Message: "Rate exceeded (injected)"}
	snsInternal       = &standin.SNSFault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "injected"}
	snsInvalid        = &standin.SNSFault{Status: http.StatusBadRequest, Code: "InvalidParameter", Message: "Invalid parameter: injected"}
	snsDropped        = &standin.SNSFault{DropAnswer: true}
	errCallLimited    = &standin.ConnectError{Status: http.StatusTooManyRequests, Type: "LimitExceededException", Message: "injected"}
	errCallInternal   = &standin.ConnectError{Status: http.StatusInternalServerError, Type: "InternalServiceException", Message: "injected"}
	errCallNotAllowed = &standin.ConnectError{Status: http.StatusForbidden, Type: "DestinationNotAllowedException", Message: "injected"}
	errCallDropped    = &standin.ConnectError{DropAnswer: true}
)

// publishedFor reports whether a Publish through the SNS proxy carries the
// alert with message_id id (see deliveredFor).
func publishedFor(p standin.Publish, id string) bool {
	return deliveredFor(observe.Delivery{Message: p.Message}, id)
}

// publishes returns the SNS proxy's Publishes of the alert id so far.
func publishes(proxy *standin.SNSProxy, id string) []standin.Publish {
	return slices.DeleteFunc(proxy.Publishes(), func(p standin.Publish) bool { return !publishedFor(p, id) })
}

// faults routes one stand-in's requests to the fault of the test that
// owns their alert: each stand-in has one decide function, so tests that
// inject faults run in parallel with each other and with every other test.
type faults[Req, Fault any] struct {
	mu      sync.Mutex
	once    sync.Once
	byID    map[string]*Fault      // message_id -> fault
	hooks   map[string]func(Req)   // message_id -> run while the request is held
	matches func(Req, string) bool // whether a request carries the alert
}

// Faults of the SNS proxy and the Connect stub.
var (
	snsFaults  = &faults[standin.Publish, standin.SNSFault]{byID: map[string]*standin.SNSFault{}, matches: publishedFor}
	callFaults = &faults[standin.OutboundCall, standin.ConnectError]{byID: map[string]*standin.ConnectError{}, matches: calledFor}
)

// inject makes the stand-in (whose SetDecide is install) answer requests
// for the alert id with fault until heal is called or the test ends.
func (f *faults[Req, Fault]) inject(t *testing.T, install func(func(Req) *Fault), id string, fault *Fault) (heal func()) {
	t.Helper()

	f.once.Do(func() { install(f.decide) })

	f.mu.Lock()
	f.byID[id] = fault
	f.mu.Unlock()

	heal = func() {
		f.mu.Lock()
		delete(f.byID, id)
		f.mu.Unlock()
	}
	t.Cleanup(heal)

	return heal
}

// during makes the stand-in run hook on each request for the alert id,
// while the request is held (before it is answered), until the test ends.
func (f *faults[Req, Fault]) during(t *testing.T, install func(func(Req) *Fault), id string, hook func(Req)) {
	t.Helper()

	f.once.Do(func() { install(f.decide) })

	f.mu.Lock()
	if f.hooks == nil {
		f.hooks = map[string]func(Req){}
	}
	f.hooks[id] = hook
	f.mu.Unlock()

	t.Cleanup(func() {
		f.mu.Lock()
		delete(f.hooks, id)
		f.mu.Unlock()
	})
}

// decide is the stand-in's decide function.
func (f *faults[Req, Fault]) decide(r Req) *Fault {
	f.mu.Lock()
	var hook func(Req)
	for id, h := range f.hooks {
		if f.matches(r, id) {
			hook = h
		}
	}
	f.mu.Unlock()

	if hook != nil {
		hook(r) // outside the lock: a hook may take its time
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	for id, fault := range f.byID {
		if f.matches(r, id) {
			return fault
		}
	}

	return nil
}

// faultCase is one class of failure, injected on one channel.
type faultCase struct {
	name string
	// attempts is how many requests the provider sees for one POST: the
	// SDK retries only what provably did not take effect.
	attempts int
	// code is the API's answer; recorded answers replay, others release
	// the lock so a retry delivers.
	code     api.Code
	recorded bool
	// delivered is how many deliveries the provider made for the alert
	// while faulted.
	delivered int
}

// deliveredInAll is how many deliveries the alert gets in all: a transient
// fault's retry delivers once, a recorded answer is never sent again.
func (fc faultCase) deliveredInAll() int {
	if fc.recorded {
		return fc.delivered
	}

	return 1
}

var faultCases = map[string]faultCase{
	"transient":          {"transient", 3, api.CodeUnavailable, false, 0},
	"permanent":          {"permanent", 1, api.CodeUndeliverableAllChannels, true, 0},
	"ambiguous: 5xx":     {"ambiguous: 5xx", 1, api.CodeDeliveryUnknown, true, 0},
	"ambiguous: dropped": {"ambiguous: dropped", 1, api.CodeDeliveryUnknown, true, 1},
}

// checkFault posts a, which the provider faults, and checks the answer,
// how often the provider was asked (asked), and what a retry gets once
// the provider behaves (heal): a transient fault's retry delivers once, a
// recorded answer replays and asks the provider nothing more.
func checkFault(t *testing.T, fc faultCase, a alert.Alert, ch contact.Channel, asked func() int, heal func()) {
	t.Helper()

	r := tgt.postAlert(t, a)
	e := r.wantError(t, fc.code)

	if got := asked(); got != fc.attempts {
		t.Errorf("the provider was asked %d times, want %d", got, fc.attempts)
	}

	if retryAfter := r.header.Get(names.HeaderRetryAfter); (retryAfter != "") != !fc.recorded {
		t.Errorf("Retry-After %q on %s", retryAfter, fc.code)
	}

	if fc.code == api.CodeDeliveryUnknown && e.Channel != string(ch) {
		t.Errorf("error channel %q, want %s", e.Channel, ch)
	}

	if len(e.Attempts) != 1 || e.Attempts[0].Channel != string(ch) {
		t.Errorf("error attempts %+v, want the one attempt on %s", e.Attempts, ch)
	}

	heal()

	again := tgt.postAlert(t, a)

	if !fc.recorded {
		again.wantSent(t, a)

		if got := asked(); got != fc.attempts+1 {
			t.Errorf("the provider was asked %d times in all, want %d", got, fc.attempts+1)
		}

		return
	}

	if again.status != r.status || !again.replayed() || !bytes.Equal(again.body, r.body) {
		t.Errorf("retry: %s (replay %v), want the recorded %s replayed", again, again.replayed(), r)
	}

	if got := asked(); got != fc.attempts {
		t.Errorf("the provider was asked %d times in all, want %d: a retry must not send again", got, fc.attempts)
	}
}

// TestSNSFaults injects each class of SNS failure into this test's SMS
// alerts (the SNS proxy; other tests' publishes pass): transient
// (throttling: retried by the SDK, then 503), permanent (502
// undeliverable_all_channels: the contact's only channel for M, recorded),
// ambiguous (a 500, or the answer dropped after SNS published: 502
// delivery_unknown, recorded, never sent again).
func TestSNSFaults(t *testing.T) {
	t.Parallel()

	proxy := tgt.needSNSFaults(t)
	tap := tgt.needTap(t)

	for fault, fc := range map[*standin.SNSFault]faultCase{
		snsThrottled: faultCases["transient"], snsInvalid: faultCases["permanent"],
		snsInternal: faultCases["ambiguous: 5xx"], snsDropped: faultCases["ambiguous: dropped"],
	} {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, priorityFor(t, contact.ChannelSMS), "")
			heal := snsFaults.inject(t, proxy.SetDecide, a.MessageID, fault)

			checkFault(t, fc, a, contact.ChannelSMS, func() int { return len(publishes(proxy, a.MessageID)) }, heal)
			tgt.drain(t)

			if got, want := len(deliveries(tap, a.MessageID)), fc.deliveredInAll(); got != want {
				t.Errorf("%d deliveries at the tap, want %d", got, want)
			}
		})
	}
}

// TestConnectFaults injects each class of Connect failure into this test's
// calls (the Connect stub; other tests' calls pass), as TestSNSFaults does
// for SMS. Every attempt carries the alert's one ClientToken.
func TestConnectFaults(t *testing.T) {
	t.Parallel()

	stub := tgt.needConnect(t)
	tgt.needSandbox(t, "Connect faults")

	for fault, fc := range map[*standin.ConnectError]faultCase{
		errCallLimited: faultCases["transient"], errCallNotAllowed: faultCases["permanent"],
		errCallInternal: faultCases["ambiguous: 5xx"], errCallDropped: faultCases["ambiguous: dropped"],
	} {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, priorityFor(t, contact.ChannelCall), "")
			heal := callFaults.inject(t, stub.SetDecide, a.MessageID, fault)

			checkFault(t, fc, a, contact.ChannelCall, func() int { return len(calls(stub, a.MessageID)) }, heal)

			all := calls(stub, a.MessageID)

			placed := 0

			for _, c := range all {
				if c.ClientToken != all[0].ClientToken {
					t.Errorf("ClientTokens %q and %q differ: every attempt for one alert must carry its token", c.ClientToken, all[0].ClientToken)
				}

				if c.Fault == nil && !c.Replayed {
					placed++
				}
			}

			if want := fc.deliveredInAll(); placed != want {
				t.Errorf("%d calls placed, want %d", placed, want)
			}
		})
	}
}
