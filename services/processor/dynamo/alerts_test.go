package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// fakeTable keeps the items every transaction puts (conditions are
// checked by kumo in the integration tests; here the inputs are) and
// answers queries from them.
type fakeTable struct {
	items   map[string]map[string]types.AttributeValue // pk + "|" + sk
	writes  []*dynamodb.TransactWriteItemsInput
	queries []*dynamodb.QueryInput
	fail    error
}

var _ dynamo.AlertsAPI = (*fakeTable)(nil)

func key(item map[string]types.AttributeValue) string {
	return sv(item[names.AttrPK]) + "|" + sv(item[names.AttrSK])
}

// sv is a string attribute's value ("" for any other).
func sv(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (f *fakeTable) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.writes = append(f.writes, in)
	if f.fail != nil {
		return nil, f.fail
	}
	for _, it := range in.TransactItems {
		f.items[key(it.Put.Item)] = it.Put.Item
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (f *fakeTable) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.queries = append(f.queries, in)
	pk := sv(in.ExpressionAttributeValues[":pk"])
	prefix := sv(in.ExpressionAttributeValues[":prefix"])
	var sks []string
	for k := range f.items {
		if p, sk, _ := strings.Cut(k, "|"); p == pk && strings.HasPrefix(sk, prefix) {
			sks = append(sks, sk)
		}
	}
	sort.Strings(sks)
	if !aws.ToBool(in.ScanIndexForward) && in.ScanIndexForward != nil {
		sort.Sort(sort.Reverse(sort.StringSlice(sks)))
	}
	if in.Limit != nil && len(sks) > int(*in.Limit) {
		sks = sks[:*in.Limit]
	}
	out := &dynamodb.QueryOutput{}
	for _, sk := range sks {
		out.Items = append(out.Items, f.items[pk+"|"+sk])
	}
	return out, nil
}

func (f *fakeTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	return &dynamodb.GetItemOutput{Item: f.items[key(in.Key)]}, nil
}

var (
	akey = alert.Key{Client: "ward-7", MessageID: "lab-1"}
	at0  = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

// delivered is an alert after a call failed and an SMS was sent.
func delivered(instance string) *alerting.Alert {
	content := alert.Alert{MessageID: "lab-1", Type: "t", PatientID: "P-1", ContactID: "C-1", Description: "K 6.9", Priority: alert.PriorityHigh}
	return &alerting.Alert{
		Key: akey, Instance: instance, Version: 7, Status: delivery.AlertSent, Priority: alert.PriorityHigh, ContactID: "C-1",
		Channels: []contact.Channel{contact.ChannelCall, contact.ChannelSMS}, PayloadHash: content.Hash(), Content: content,
		AcceptedAt: at0, SentAt: at0.Add(2 * time.Second), UpdatedAt: at0.Add(2 * time.Second), ExpiresAt: at0.Add(90 * 24 * time.Hour),
		Attempts: []alerting.Attempt{
			{Number: 1, Channel: contact.ChannelCall, ContactID: "C-1", Status: delivery.AttemptFailed, StartedAt: at0, EndedAt: at0.Add(time.Second),
				Failure: delivery.Permanent, FailureCode: "DestinationNotAllowedException"},
			{Number: 2, Channel: contact.ChannelSMS, ContactID: "C-1", Status: delivery.AttemptSent, StartedAt: at0.Add(time.Second),
				EndedAt: at0.Add(2 * time.Second), ProviderRef: "sns-1"},
		},
	}
}

func TestAlertStoreRoundTrip(t *testing.T) {
	t.Parallel()
	db := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	store := dynamo.NewAlertStore(db, "alerts-table")
	old := delivered("1796115500000-00000000")
	a := delivered("1796115600000-0a1b2c3d")
	events := []alerting.Event{
		{Seq: 1, Type: delivery.EventAccepted, At: at0, Actor: delivery.Client("ward-7"), Status: delivery.AlertAccepted},
		{Seq: 4, Type: delivery.EventFallback, At: at0.Add(time.Second), Actor: delivery.System, Status: delivery.AlertAccepted,
			Attempt: 2, Channel: contact.ChannelSMS, FromChannel: contact.ChannelCall},
		{Seq: 3, Type: delivery.EventAttemptFailed, At: at0.Add(time.Second), Actor: delivery.System, Status: delivery.AlertAccepted,
			Attempt: 1, Channel: contact.ChannelCall, Failure: delivery.Permanent},
	}
	for _, x := range []*alerting.Alert{old, a} {
		if err := store.Write(t.Context(), alerting.Change{Alert: x, From: 6, Attempt: &x.Attempts[0], AttemptFrom: delivery.AttemptSending}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Write(t.Context(), alerting.Change{Alert: a, From: 4, Attempt: &a.Attempts[1], AttemptFrom: delivery.AttemptNone, Events: events}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Latest(t.Context(), akey)
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Events = []alerting.Event{events[0], events[2], events[1]}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Latest =\n%+v\nwant the newest instance\n%+v", got, &want)
	}
	if q := db.queries[0]; aws.ToBool(q.ScanIndexForward) || aws.ToInt32(q.Limit) != 1 || !aws.ToBool(q.ConsistentRead) {
		t.Errorf("first query %+v: want the partition's last item, consistently", q)
	}
	if _, err := store.Latest(t.Context(), alert.Key{Client: "other", MessageID: "lab-1"}); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("another client's key: %v, want ErrNotFound", err)
	}
	// Load reads the instance it names, the older one included (issue 13).
	failed := alerting.Event{Seq: 7, Type: delivery.EventFailed, At: at0, Actor: delivery.System, Status: delivery.AlertFailed,
		Reason: delivery.ReasonDeadLettered}
	if err := store.Write(t.Context(), alerting.Change{Alert: old, From: 6, Events: []alerting.Event{failed}}); err != nil {
		t.Fatal(err)
	}
	loaded, err := store.Load(t.Context(), akey, old.Instance)
	if err != nil || loaded.Instance != old.Instance || len(loaded.Events) != 1 || loaded.Events[0] != failed {
		t.Errorf("Load = %+v, %v; want the older instance with its failed (dead_lettered) event", loaded, err)
	}
	if _, err := store.Load(t.Context(), akey, "1796115500000-ffffffff"); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("an unknown instance: %v, want ErrNotFound", err)
	}
}

func TestAlertStoreWriteConditions(t *testing.T) {
	t.Parallel()
	db := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	a := delivered("1796115600000-0a1b2c3d")
	ev := alerting.Event{Seq: 7, Type: delivery.EventSent, At: at0, Actor: delivery.System, Status: delivery.AlertSent}
	if err := dynamo.NewAlertStore(db, "alerts-table").Write(t.Context(),
		alerting.Change{Alert: a, From: 5, Attempt: &a.Attempts[1], AttemptFrom: delivery.AttemptSending, Events: []alerting.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	in := db.writes[0]
	if len(in.TransactItems) != 3 || len(aws.ToString(in.ClientRequestToken)) != 36 {
		t.Fatalf("%d items, token %q: want state, attempt and event under a 36-character token", len(in.TransactItems), aws.ToString(in.ClientRequestToken))
	}
	wantConds := []struct{ cond, sk string }{
		{"#ver = :from", "1796115600000-0a1b2c3d#STATE"},
		{"#st = :afrom", "1796115600000-0a1b2c3d#ATTEMPT#002"},
		{"attribute_not_exists(#pk)", "1796115600000-0a1b2c3d#EVENT#000007"},
	}
	for i, w := range wantConds {
		p := in.TransactItems[i].Put
		if aws.ToString(p.TableName) != "alerts-table" || aws.ToString(p.ConditionExpression) != w.cond ||
			sv(p.Item[names.AttrSK]) != w.sk {
			t.Errorf("item %d: %s on %v, want %s on %s", i, aws.ToString(p.ConditionExpression), p.Item[names.AttrSK], w.cond, w.sk)
		}
		checkPlaceholders(t, p.ExpressionAttributeNames, p.ExpressionAttributeValues, p.ConditionExpression)
		if attrString(p.Item[names.AttrExpiresAt]) != "N:1803891600" {
			t.Errorf("item %d expires_at %v, want the alert's", i, p.Item[names.AttrExpiresAt])
		}
	}
	if v := attrString(in.TransactItems[0].Put.ExpressionAttributeValues[":from"]); v != "N:5" {
		t.Errorf(":from = %s, want 5", v)
	}
	state := in.TransactItems[0].Put.Item
	if c := sv(state[names.AttrContent]); !strings.Contains(c, `"description":"K 6.9"`) {
		t.Errorf("content %q: want the alert kept for re-sending", c)
	}
	if v := sv(state[names.AttrPK]); v != "6:ward-7:lab-1" {
		t.Errorf("pk %q, want the key's stored form", v)
	}
}

func TestAlertStoreCreateConditions(t *testing.T) {
	t.Parallel()
	db := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	a := delivered("1796115600000-0a1b2c3d")
	_ = dynamo.NewAlertStore(db, "alerts-table").Write(t.Context(), alerting.Change{Alert: a, From: 0, Attempt: &a.Attempts[0], AttemptFrom: delivery.AttemptNone})
	for i, it := range db.writes[0].TransactItems {
		if got := aws.ToString(it.Put.ConditionExpression); got != "attribute_not_exists(#pk)" {
			t.Errorf("item %d of a new alert: %q, want it created only if absent", i, got)
		}
	}
}

func TestAlertStoreConflict(t *testing.T) {
	t.Parallel()
	canceled := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("ConditionalCheckFailed")}, {Code: aws.String("None")},
	}}
	other := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("ThrottlingError")}}}
	for name, tt := range map[string]struct {
		err      error
		conflict bool
	}{
		"condition failed": {canceled, true}, "throttled": {other, false}, "sdk error": {errors.New("boom"), false},
	} {
		db := &fakeTable{items: map[string]map[string]types.AttributeValue{}, fail: tt.err}
		a := delivered("1796115600000-0a1b2c3d")
		err := dynamo.NewAlertStore(db, "t").Write(t.Context(), alerting.Change{Alert: a, From: 6})
		if err == nil || errors.Is(err, alerting.ErrConflict) != tt.conflict {
			t.Errorf("%s: %v, want conflict %v", name, err, tt.conflict)
		}
	}
}
