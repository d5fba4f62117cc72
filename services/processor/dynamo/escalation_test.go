package dynamo_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestEscalatedAlertRoundTrip writes an acknowledged alert that escalated
// once, with a link token, and reads back the policy, the stage, the
// acknowledgment, the events' stage, method and target, and the lookup.
func TestEscalatedAlertRoundTrip(t *testing.T) {
	t.Parallel()
	db := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	store := dynamo.NewAlertStore(db, "alerts-table")
	a := delivered("1796115600000-0a1b2c3d")
	a.Policy = escalation.Defaults()[alert.PriorityHigh].Resolve("C-2", "C-9")
	a.Stage, a.Status = 1, delivery.AlertAcknowledged
	a.Attempts[1].Stage = 1
	a.Ack = &alerting.Ack{At: at0.Add(time.Minute), By: delivery.Contact("C-1"), Method: delivery.AckLink, Attempt: 2, Late: true}
	events := []alerting.Event{
		{Seq: 5, Type: delivery.EventEscalated, At: at0, Actor: delivery.System, Status: delivery.AlertEscalated, Stage: 1},
		{Seq: 6, Type: delivery.EventTargetSkipped, At: at0, Actor: delivery.System, Status: delivery.AlertEscalated, Stage: 1, Target: escalation.RepeatCall},
		{Seq: 7, Type: delivery.EventAcknowledged, At: at0.Add(time.Minute), Actor: delivery.Contact("C-1"), Status: delivery.AlertAcknowledged,
			Attempt: 2, Method: delivery.AckLink, Late: true, Stage: 1},
	}
	token := alerting.Lookup{
		Kind: alerting.LookupToken, Hash: alerting.TokenHash("tok"), ValidUntil: at0.Add(time.Hour), ExpiresAt: a.ExpiresAt,
		Ref: alerting.AckRef{Key: a.Key, Instance: a.Instance, Attempt: 2, ContactID: "C-1"},
	}
	if err := store.Write(t.Context(), alerting.Change{Alert: a, From: 4, Attempt: &a.Attempts[1], AttemptFrom: delivery.AttemptSending,
		Events: events, Lookups: []alerting.Lookup{token}}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(t.Context(), akey, a.Instance)
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Events, want.Attempts = events, a.Attempts[1:] // only attempt 2 was written
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, &want)
	}
	l, err := store.FindLookup(t.Context(), alerting.LookupToken, token.Hash)
	if err != nil || !reflect.DeepEqual(l, token) {
		t.Errorf("FindLookup = %+v, %v; want %+v", l, err, token)
	}
	put := db.writes[0].TransactItems[len(db.writes[0].TransactItems)-1].Put
	if aws.ToString(put.ConditionExpression) != dynamo.NewItemCondition || sv(put.Item[names.AttrPK]) != "ACKTOKEN#"+token.Hash {
		t.Errorf("lookup put %+v: want a new item keyed by the hash", put)
	}
	if _, err := store.FindLookup(t.Context(), alerting.LookupCode, token.Hash); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("a code under a token's hash: %v", err)
	}
	if _, err := store.Load(t.Context(), akey, "1796115600001-0a1b2c3d"); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("Load of an unknown instance: %v", err)
	}
}

func TestUsingALookupIsConditional(t *testing.T) {
	t.Parallel()
	db := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	store := dynamo.NewAlertStore(db, "alerts-table")
	a := delivered("1796115600000-0a1b2c3d")
	used := alerting.Lookup{Kind: alerting.LookupCode, Hash: alerting.CodeHash("+447700900124", "123456"), Use: true, UsedAt: at0,
		Ref: alerting.AckRef{Key: a.Key, Instance: a.Instance, Attempt: 2, ContactID: "C-1"}}
	if err := store.Write(t.Context(), alerting.Change{Alert: a, From: 7, Lookups: []alerting.Lookup{used}}); err != nil {
		t.Fatal(err)
	}
	put := db.writes[0].TransactItems[1].Put
	if aws.ToString(put.ConditionExpression) != dynamo.UseLookupCondition || put.ExpressionAttributeNames["#used"] != names.AttrUsedAt {
		t.Errorf("use put %+v: want the item to exist unused", put)
	}
	if sv(put.Item[names.AttrKind]) != "ack_code" || put.Item[names.AttrUsedAt] == nil {
		t.Errorf("use put item %v", put.Item)
	}
}
