package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// testContact is the contact every stack of the project configures
// (Pulumi.local.yaml and Pulumi.localstack.yaml both have C-1).
const testContact = "C-1"

// target is what the tests drive: the invoke URL of POST /notification, a
// token and a client, plus the observers the target has (nil when it has
// none: an external deployment has no Connect stub, X-Ray collector or
// fault injection, and a tap only when its endpoint is known).
type target struct {
	// name says which target this is, for messages.
	name string
	// url is the invoke URL of POST /notification.
	url string
	// token is a valid API token.
	token string
	// clientName is the API client token belongs to, "" when unknown (an
	// external target).
	clientName string
	// secondToken is a valid API token of another client, "" when the
	// target has none.
	secondToken string
	// client reaches url.
	client *http.Client
	// topicARNs is the stack's topicArns output: "<contact>/<channel>" to
	// the topic's ARN.
	topicARNs map[string]string

	// tap sees every SNS publish to the stack's topics.
	tap *observe.Tap
	// connect stands in for Amazon Connect.
	connect *standin.ConnectStub
	// sns injects SNS faults.
	sns *standin.SNSProxy
	// xray collects the functions' trace segments.
	xray *observe.XRayCollector
	// env is the embedded sandbox (fault injection through its emulator
	// clients), nil for an external target.
	env *sandbox.Sandbox
	// local is what Pulumi.local.yaml configures, nil for an external
	// target.
	local *localStack
	// noTap says why there is no tap.
	noTap string
}

// tgt is the package's one target, set up by TestMain.
var tgt *target

// localStack holds the expectations the embedded sandbox's stack file sets.
type localStack struct {
	contact       stack.ContactConfig
	instanceID    string
	sourcePhone   string
	contactFlowID string
}

// embeddedTarget wraps a started sandbox.
func embeddedTarget(env *sandbox.Sandbox) (*target, error) {
	cfg := env.Stack.Config
	ns := env.Stack.Project + ":"

	contacts, err := stack.ParseContacts(cfg[ns+names.ConfigContacts])
	if err != nil {
		return nil, fmt.Errorf("%s: contacts: %w", sandbox.StackFile, err)
	}

	ls := &localStack{
		instanceID:    cfg[ns+names.ConfigConnectInstanceID],
		sourcePhone:   cfg[ns+names.ConfigSourcePhoneNumber],
		contactFlowID: env.Deployment.OutputString(names.OutputContactFlowID),
	}

	found := false

	for _, c := range contacts {
		if c.ID == testContact {
			ls.contact, found = c, true
		}
	}

	if !found {
		return nil, fmt.Errorf("%s configures no contact %s", sandbox.StackFile, testContact)
	}

	arns, err := stringMap(env.Deployment.Outputs[names.OutputTopicARNs])
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", names.OutputTopicARNs, err)
	}

	return &target{
		name:        "embedded sandbox",
		url:         env.URL,
		token:       env.Token,
		clientName:  sandbox.ClientName,
		secondToken: env.SecondToken,
		client:      env.HTTPClient(),
		topicARNs:   arns,
		tap:         env.Tap,
		connect:     env.Connect,
		sns:         env.SNS,
		xray:        env.XRay,
		env:         env,
		local:       ls,
	}, nil
}

// Environment variables that select an external deployment instead of the
// embedded sandbox. Only these tests read them.
const (
	// envStackOutputs holds the JSON of `pulumi stack output --json` (or a
	// path to a file holding it); setting it selects the target.
	envStackOutputs = "A2P_STACK_OUTPUTS"
	// envAPIToken is a token whose hash is in the stack's apiClients.
	envAPIToken = "A2P_API_TOKEN"
	// envTargetEndpoint is the AWS endpoint of the target (LocalStack's
	// http://localhost:4566), unset for AWS itself.
	envTargetEndpoint = "A2P_TARGET_ENDPOINT"
)

// externalSpec is an external target as the environment describes it.
type externalSpec struct {
	url       string
	token     string
	endpoint  string
	topicARNs map[string]string
}

// parseExternal reads the external target's environment. Anything missing
// is an error naming all of it.
func parseExternal(getenv func(string) string) (*externalSpec, error) {
	outputs, err := readOutputs(getenv(envStackOutputs))
	if err != nil {
		return nil, fmt.Errorf("external target: %s: %w", envStackOutputs, err)
	}

	spec := &externalSpec{token: getenv(envAPIToken), endpoint: getenv(envTargetEndpoint)}

	var missing []string

	if spec.token == "" {
		missing = append(missing, envAPIToken+" (a token whose hash is in the stack's apiClients)")
	}

	spec.url, _ = outputs[names.OutputNotificationURL].(string)
	if u, err := url.Parse(spec.url); spec.url == "" || err != nil || u.Host == "" {
		missing = append(missing, fmt.Sprintf("the %s output in %s (an absolute URL)", names.OutputNotificationURL, envStackOutputs))
	}

	if spec.endpoint != "" {
		spec.topicARNs, err = stringMap(outputs[names.OutputTopicARNs])
		if err != nil || len(spec.topicARNs) == 0 {
			missing = append(missing, fmt.Sprintf("the %s output in %s (needed to tap SNS at %s)", names.OutputTopicARNs, envStackOutputs, envTargetEndpoint))
		}
	}

	if len(missing) > 0 {
		return nil, fmt.Errorf("external target (%s is set) is incomplete: missing %s", envStackOutputs, strings.Join(missing, "; "))
	}

	return spec, nil
}

// readOutputs parses `pulumi stack output --json`, given as the JSON
// itself or as the path of a file holding it.
func readOutputs(spec string) (map[string]any, error) {
	data := []byte(strings.TrimSpace(spec))
	if len(data) > 0 && data[0] != '{' {
		var err error
		if data, err = os.ReadFile(string(data)); err != nil {
			return nil, fmt.Errorf("neither a JSON object nor a readable file: %w", err)
		}
	}

	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("not the JSON of `pulumi stack output --json`: %w", err)
	}

	return out, nil
}

// stringMap reads a JSON object of strings.
func stringMap(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of strings, got %T", v)
	}

	out := make(map[string]string, len(m))

	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a string, got %T", k, x)
		}

		out[k] = s
	}

	return out, nil
}

// externalTarget builds the target from spec. With an endpoint it taps
// every topic of the stack through an SQS queue of its own, which the
// returned cleanup removes again.
func externalTarget(ctx context.Context, spec *externalSpec) (*target, func() error, error) {
	tg := &target{
		name:      "external target " + spec.url,
		url:       spec.url,
		token:     spec.token,
		client:    &http.Client{Timeout: 30 * time.Second},
		topicARNs: spec.topicARNs,
		noTap:     "no SNS tap; set " + envTargetEndpoint + " to the deployment's AWS endpoint, or run against the embedded sandbox",
	}

	if u, err := url.Parse(spec.url); err == nil && strings.HasSuffix(u.Hostname(), ".localhost") {
		tg.client = sandbox.LocalhostClient()
	}

	if spec.endpoint == "" {
		return tg, func() error { return nil }, nil
	}

	keys := slices.Sorted(maps.Keys(spec.topicARNs))
	clients := emulator.NewClients(spec.endpoint, arnRegion(spec.topicARNs[keys[0]]))

	tap, err := observe.StartTap(ctx, clients, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("tap %s: %w", spec.endpoint, err)
	}

	cleanup := func() error {
		// The tap's subscriptions and queue are ours: remove them from the
		// deployment.
		errs := []error{tap.Close()}

		for _, key := range keys {
			errs = append(errs, unsubscribeQueue(context.WithoutCancel(ctx), clients.SNS, spec.topicARNs[key], tap.QueueARN))
		}

		_, err := clients.SQS.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: aws.String(tap.QueueURL)})

		return errors.Join(append(errs, err)...)
	}

	for _, key := range keys {
		if err := tap.Subscribe(ctx, key, spec.topicARNs[key]); err != nil {
			return nil, nil, errors.Join(err, cleanup())
		}
	}

	tg.tap = tap

	return tg, cleanup, nil
}

// unsubscribeQueue removes the topic's subscriptions that deliver to the
// queue queueARN.
func unsubscribeQueue(ctx context.Context, client *sns.Client, topicARN, queueARN string) error {
	subs, err := client.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	if err != nil {
		return fmt.Errorf("list subscriptions of %s: %w", topicARN, err)
	}

	for _, s := range subs.Subscriptions {
		if aws.ToString(s.Endpoint) != queueARN {
			continue
		}

		if _, err := client.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
			return fmt.Errorf("unsubscribe the tap from %s: %w", topicARN, err)
		}
	}

	return nil
}

// arnRegion is the region field of an ARN ("" when it has none).
func arnRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 4 {
		return ""
	}

	return parts[3]
}

// lacks skips a test that needs what the target lacks. In the embedded
// sandbox nothing may skip, so there it fails instead.
func (tg *target) lacks(tb testing.TB, why string) {
	tb.Helper()

	if tg.env != nil {
		tb.Fatalf("the embedded sandbox lacks what this test needs (%s); nothing may skip here", why)
	}

	tb.Skipf("%s: %s", tg.name, why)
}

// needTap returns the SNS tap, or skips.
func (tg *target) needTap(tb testing.TB) *observe.Tap {
	tb.Helper()

	if tg.tap == nil {
		tg.lacks(tb, tg.noTap)
	}

	return tg.tap
}

// needConnect returns the Connect stub, or skips.
func (tg *target) needConnect(tb testing.TB) *standin.ConnectStub {
	tb.Helper()

	if tg.connect == nil {
		tg.lacks(tb, "no Connect stub (no emulator has Amazon Connect, and a real one places real calls); run against the embedded sandbox")
	}

	return tg.connect
}

// needSNSFaults returns the SNS fault proxy, or skips.
func (tg *target) needSNSFaults(tb testing.TB) *standin.SNSProxy {
	tb.Helper()

	if tg.sns == nil {
		tg.lacks(tb, "no SNS fault injection (it would break a shared deployment); run against the embedded sandbox")
	}

	return tg.sns
}

// needSecondClient returns a token of a second API client, or skips.
func (tg *target) needSecondClient(tb testing.TB) string {
	tb.Helper()

	if tg.secondToken == "" {
		tg.lacks(tb, "no second API client's token; run against the embedded sandbox")
	}

	return tg.secondToken
}

// needXRay returns the X-Ray collector, or skips.
func (tg *target) needXRay(tb testing.TB) *observe.XRayCollector {
	tb.Helper()

	if tg.xray == nil {
		tg.lacks(tb, "no X-Ray collector (the functions send their segments to the deployment's own daemon); run against the embedded sandbox")
	}

	return tg.xray
}

// needSandbox returns the embedded sandbox, for fault injection, or skips.
func (tg *target) needSandbox(tb testing.TB, what string) *sandbox.Sandbox {
	tb.Helper()

	if tg.env == nil {
		tg.lacks(tb, "no fault injection ("+what+" would break a shared deployment); run against the embedded sandbox")
	}

	return tg.env
}

// expectedChannel is the channel the test contact prefers first for p,
// when the target's configuration is known.
func (tg *target) expectedChannel(p alert.Priority) (contact.Channel, bool) {
	if tg.local == nil {
		return "", false
	}

	chs := tg.local.contact.Preferences[p]
	if len(chs) == 0 {
		return "", false
	}

	return chs[0], true
}

// topicARN is the ARN of the test contact's topic for ch.
func (tg *target) topicARN(tb testing.TB, ch contact.Channel) string {
	tb.Helper()

	arn, ok := tg.topicARNs[stack.TopicKey(testContact, ch)]
	if !ok {
		tb.Fatalf("%s has no topic %s (topics %v)", tg.name, stack.TopicKey(testContact, ch), slices.Sorted(maps.Keys(tg.topicARNs)))
	}

	return arn
}
