package sandbox

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

func newTestProvisioner(t *testing.T) *Provisioner {
	t.Helper()

	p, err := NewProvisioner(t.Context(), ProvisionerOptions{Endpoint: sharedEmulator.Endpoint, Region: "eu-west-2"})
	if err != nil {
		t.Fatal(err)
	}

	return p
}

func mustNew(t *testing.T, p *Provisioner, typ, name string, inputs map[string]any) (string, resource.PropertyMap) {
	t.Helper()

	id, st, err := p.NewResource(pulumi.MockResourceArgs{
		TypeToken: typ,
		Name:      name,
		Inputs:    resource.NewPropertyMapFromMap(inputs),
		Custom:    true,
	})
	if err != nil {
		t.Fatalf("NewResource %s %s: %v", typ, name, err)
	}

	return id, st
}

var autoNamed = regexp.MustCompile(`^contacts-[0-9a-f]{7}$`)

func TestProvisionerTableAndItem(t *testing.T) {
	t.Parallel()

	p := newTestProvisioner(t)

	id, st := mustNew(t, p, "aws:dynamodb/table:Table", "contacts", map[string]any{
		"attributes":  []any{map[string]any{"name": "contact_id", "type": "S"}},
		"hashKey":     "contact_id",
		"billingMode": "PAY_PER_REQUEST",
		"ttl":         map[string]any{"attributeName": "expiration", "enabled": true},
	})

	if !autoNamed.MatchString(id) {
		t.Fatalf("table id %q is not a Pulumi auto-name contacts-<7 hex>", id)
	}

	if got := st["name"].StringValue(); got != id {
		t.Fatalf("name output %q, want the id %q", got, id)
	}

	if got, want := st["arn"].StringValue(), ":table/"+id; !strings.HasSuffix(got, want) {
		t.Fatalf("arn %q does not end in %q", got, want)
	}

	// The input is echoed back in the state, as the provider does.
	if got := st["hashKey"].StringValue(); got != "contact_id" {
		t.Fatalf("hashKey echoed as %q", got)
	}

	itemID, _ := mustNew(t, p, "aws:dynamodb/tableItem:TableItem", "alice", map[string]any{
		"tableName": id,
		"hashKey":   "contact_id",
		"item":      `{"contact_id":{"S":"alice"},"pref_H":{"S":"call"},"n":{"N":"42"},"tags":{"SS":["a","b"]},"nested":{"M":{"on":{"BOOL":true}}}}`,
	})

	if want := id + "|contact_id|alice"; itemID != want {
		t.Fatalf("item id %q, want %q", itemID, want)
	}

	c := sharedClients()

	got, err := c.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(id),
		Key:       map[string]ddbtypes.AttributeValue{"contact_id": &ddbtypes.AttributeValueMemberS{Value: "alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	pref, ok := got.Item["pref_H"].(*ddbtypes.AttributeValueMemberS)
	if !ok || pref.Value != "call" {
		t.Fatalf("pref_H read back as %#v", got.Item["pref_H"])
	}

	n, ok := got.Item["n"].(*ddbtypes.AttributeValueMemberN)
	if !ok || n.Value != "42" {
		t.Fatalf("n read back as %#v", got.Item["n"])
	}

	nested, ok := got.Item["nested"].(*ddbtypes.AttributeValueMemberM)
	if !ok {
		t.Fatalf("nested read back as %#v", got.Item["nested"])
	}

	if on, ok := nested.Value["on"].(*ddbtypes.AttributeValueMemberBOOL); !ok || !on.Value {
		t.Fatalf("nested.on read back as %#v", nested.Value["on"])
	}

	ttl, err := c.DynamoDB.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}

	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expiration" {
		t.Fatalf("TTL attribute %q, want expiration", got)
	}

	recs := p.Resources()
	if len(recs) != 2 || !recs[0].Emulated || !recs[1].Emulated {
		t.Fatalf("records %+v, want two emulated resources", recs)
	}
}

func TestProvisionerRejectsUnknownTypes(t *testing.T) {
	t.Parallel()

	p := newTestProvisioner(t)

	_, _, err := p.NewResource(pulumi.MockResourceArgs{
		TypeToken: "aws:sqs/queue:Queue", Name: "jobs", Custom: true, Inputs: resource.PropertyMap{},
	})
	if err == nil || !strings.Contains(err.Error(), "aws:sqs/queue:Queue") {
		t.Fatalf("error %v, want one naming aws:sqs/queue:Queue", err)
	}

	_, err = p.Call(pulumi.MockCallArgs{Token: "aws:ec2/getVpc:getVpc"})
	if err == nil || !strings.Contains(err.Error(), "aws:ec2/getVpc:getVpc") {
		t.Fatalf("error %v, want one naming aws:ec2/getVpc:getVpc", err)
	}

	if n := len(p.Resources()); n != 0 {
		t.Fatalf("%d resources recorded for failed registrations", n)
	}
}

// TestProvisionerRecordsUnhosted checks that the types kumo cannot host are
// recorded with provider-shaped outputs and not sent to kumo, and that a
// component just returns empty state.
func TestProvisionerRecordsUnhosted(t *testing.T) {
	t.Parallel()

	p := newTestProvisioner(t)
	c := sharedClients()

	topicARN, _ := mustNew(t, p, "aws:sns/topic:Topic", "alice-sms", map[string]any{})

	subID, sub := mustNew(t, p, "aws:sns/topicSubscription:TopicSubscription", "alice-sms-phone", map[string]any{
		"topic": topicARN, "protocol": "sms", "endpoint": "+15555550100",
	})
	if !strings.HasPrefix(subID, topicARN+":") || sub["arn"].StringValue() != subID {
		t.Fatalf("sms subscription id %q / arn %v, want <topic arn>:<uuid>", subID, sub["arn"])
	}

	subs, err := c.SNS.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	if err != nil {
		t.Fatal(err)
	}

	if len(subs.Subscriptions) != 0 {
		t.Fatalf("the sms subscription reached kumo: %+v", subs.Subscriptions)
	}

	flowID, flow := mustNew(t, p, "aws:connect/contactFlow:ContactFlow", "alert-flow", map[string]any{
		"instanceId": "inst-1", "name": "alert", "type": "CONTACT_FLOW", "content": "{}",
	})

	if want := "inst-1:" + flow["contactFlowId"].StringValue(); flowID != want {
		t.Fatalf("contact flow id %q, want %q", flowID, want)
	}

	_, phone := mustNew(t, p, "aws:connect/phoneNumber:PhoneNumber", "caller", map[string]any{
		"countryCode": "GB", "targetArn": "arn:aws:connect:eu-west-2:000000000000:instance/inst-1", "type": "DID",
	})
	if got := phone["phoneNumber"].StringValue(); contact.ValidateE164(got) != nil || !strings.HasPrefix(got, "+447700900") {
		t.Fatalf("claimed number %q, want a fictional GB E.164 number", got)
	}

	compID, compState, err := p.NewResource(pulumi.MockResourceArgs{TypeToken: "a2p:alerts:Api", Name: "api", Custom: false})
	if err != nil || compID != "" || len(compState) != 0 {
		t.Fatalf("component: id %q, state %v, err %v; want empty", compID, compState, err)
	}

	byName := map[string]*Resource{}
	for _, r := range p.Resources() {
		byName[r.Name] = r
	}

	for name, wantEmulated := range map[string]bool{"alice-sms": true, "alice-sms-phone": false, "alert-flow": false, "caller": false, "api": false} {
		r, ok := byName[name]
		if !ok {
			t.Fatalf("%s not recorded", name)
		}

		if r.Emulated != wantEmulated {
			t.Errorf("%s: Emulated %v, want %v (note %q)", name, r.Emulated, wantEmulated, r.Note)
		}
	}
}

func TestProvisionerCalls(t *testing.T) {
	t.Parallel()

	p := newTestProvisioner(t)

	who, err := p.Call(pulumi.MockCallArgs{Token: "aws:index/getCallerIdentity:getCallerIdentity"})
	if err != nil {
		t.Fatal(err)
	}

	if got := who["accountId"].StringValue(); got != emulatorAccount {
		t.Fatalf("accountId %q, want the emulator's %q", got, emulatorAccount)
	}

	region, err := p.Call(pulumi.MockCallArgs{Token: "aws:index/getRegion:getRegion"})
	if err != nil {
		t.Fatal(err)
	}

	if got := region["name"].StringValue(); got != "eu-west-2" {
		t.Fatalf("region %q, want the stack's eu-west-2", got)
	}

	part, err := p.Call(pulumi.MockCallArgs{Token: "aws:index/getPartition:getPartition"})
	if err != nil {
		t.Fatal(err)
	}

	if got := part["partition"].StringValue(); got != "aws" {
		t.Fatalf("partition %q", got)
	}
}

func TestRenderPolicyDocument(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{
			name: "single values collapse to strings",
			input: map[string]any{"statements": []any{map[string]any{
				"actions": []any{"sns:Publish"}, "resources": []any{"arn:aws:sns:*:*:t"},
			}}},
			want: `{"Statement":[{"Action":"sns:Publish","Effect":"Allow","Resource":"arn:aws:sns:*:*:t"}],"Version":"2012-10-17"}`,
		},
		{
			name: "principals, conditions and lists",
			input: map[string]any{"statements": []any{map[string]any{
				"sid": "Assume", "effect": "Allow", "actions": []any{"sts:AssumeRole", "sts:TagSession"},
				"principals": []any{map[string]any{"type": "Service", "identifiers": []any{"lambda.amazonaws.com"}}},
				"conditions": []any{map[string]any{"test": "StringEquals", "variable": "aws:SourceAccount", "values": []any{"1"}}},
			}}},
			want: `{"Statement":[{"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:SourceAccount":"1"}},` +
				`"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Sid":"Assume"}],"Version":"2012-10-17"}`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := renderPolicyDocument(props(resource.NewPropertyMapFromMap(tt.input)))
			if err != nil {
				t.Fatal(err)
			}

			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}

			if !json.Valid([]byte(got)) {
				t.Fatal("not JSON")
			}
		})
	}
}

func TestParseDynamoItemErrors(t *testing.T) {
	t.Parallel()

	tests := map[string]string{
		"not an object":   `[1]`,
		"untyped value":   `{"a":"x"}`,
		"two types":       `{"a":{"S":"x","N":"1"}}`,
		"unknown type":    `{"a":{"Q":"x"}}`,
		"bad binary":      `{"a":{"B":"%%%"}}`,
		"bad list member": `{"a":{"L":[{"S":1}]}}`,
	}

	for name, item := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			if _, err := parseDynamoItem(item); err == nil {
				t.Fatalf("parseDynamoItem(%s) succeeded; want an error", item)
			}
		})
	}
}
