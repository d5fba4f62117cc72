package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// Lookup items of the alerts table: an acknowledgment link's token or an
// SMS reply's code finds its attempt. The partition key is the kind and
// the secret's hash ("ACKTOKEN#<hex>", "ACKCODE#<hex>"), which cannot
// collide with an alert key's stored form (it starts with a digit); the
// sort key is the kind again. Only the hash of the secret is stored.
const (
	phUsed = "#used"
	// UseLookupCondition records a lookup's use once: the item exists and
	// is unused.
	UseLookupCondition = "attribute_exists(" + phPK + ") AND attribute_not_exists(" + phUsed + ")"
)

// lookupKinds maps each lookup kind to its item kind (names.AttrKind).
var lookupKinds = map[alerting.LookupKind]string{
	alerting.LookupToken: "ack_token",
	alerting.LookupCode:  "ack_code",
}

func lookupPK(kind alerting.LookupKind, hash string) string { return string(kind) + skSep + hash }

func lookupItem(l alerting.Lookup) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		names.AttrPK:         str(lookupPK(l.Kind, l.Hash)),
		names.AttrSK:         str(string(l.Kind)),
		names.AttrKind:       str(lookupKinds[l.Kind]),
		names.AttrAlertKey:   str(l.Ref.Key.String()),
		names.AttrInstance:   str(l.Ref.Instance),
		names.AttrAttempt:    num(int64(l.Ref.Attempt)),
		names.AttrContactID:  str(l.Ref.ContactID),
		names.AttrValidUntil: num(l.ValidUntil.UnixMilli()),
		names.AttrExpiresAt:  num(l.ExpiresAt.Unix()),
	}
	setTime(item, names.AttrUsedAt, l.UsedAt)
	return item
}

// putLookup creates a lookup (it must not exist) or records its use (it
// must exist, unused).
func (s *AlertStore) putLookup(l alerting.Lookup) types.TransactWriteItem {
	p := &types.Put{TableName: aws.String(s.table), Item: lookupItem(l)}
	if l.Use {
		p.ConditionExpression = aws.String(UseLookupCondition)
		p.ExpressionAttributeNames = map[string]string{phPK: names.AttrPK, phUsed: names.AttrUsedAt}
	} else {
		p.ConditionExpression = aws.String(NewItemCondition)
		p.ExpressionAttributeNames = map[string]string{phPK: names.AttrPK}
	}
	return types.TransactWriteItem{Put: p}
}

// FindLookup reads the lookup of kind with hash, consistently.
func (s *AlertStore) FindLookup(ctx context.Context, kind alerting.LookupKind, hash string) (alerting.Lookup, error) {
	if _, ok := lookupKinds[kind]; !ok || hash == "" || strings.Contains(hash, skSep) {
		return alerting.Lookup{}, fmt.Errorf("lookup %q: %w", kind, alerting.ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			names.AttrPK: str(lookupPK(kind, hash)), names.AttrSK: str(string(kind)),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return alerting.Lookup{}, fmt.Errorf("read %s in %s: %w", kind, s.table, err)
	}
	if len(out.Item) == 0 {
		return alerting.Lookup{}, fmt.Errorf("%s: %w", kind, alerting.ErrNotFound)
	}
	return decodeLookup(kind, hash, out.Item)
}

func decodeLookup(kind alerting.LookupKind, hash string, item map[string]types.AttributeValue) (alerting.Lookup, error) {
	r := &itemReader{item: item}
	l := alerting.Lookup{
		Kind: kind, Hash: hash,
		Ref: alerting.AckRef{
			Instance:  r.str(names.AttrInstance, true),
			Attempt:   int(r.num(names.AttrAttempt)),
			ContactID: r.str(names.AttrContactID, true),
		},
		ValidUntil: r.time(names.AttrValidUntil),
		UsedAt:     r.time(names.AttrUsedAt),
		ExpiresAt:  time.Unix(r.num(names.AttrExpiresAt), 0).UTC(),
	}
	if k, err := alert.ParseKey(r.str(names.AttrAlertKey, true)); err == nil {
		l.Ref.Key = k
	} else if r.err == nil {
		r.err = fmt.Errorf("attribute %s: %w", names.AttrAlertKey, err)
	}
	if r.err != nil {
		return alerting.Lookup{}, fmt.Errorf("%s item: %w", kind, r.err)
	}
	return l, nil
}
