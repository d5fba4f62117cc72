// Package dynamo implements the processor's stores on Amazon DynamoDB: the
// contacts table (ContactStore), the idempotency table (IdempotencyStore,
// one item per alert key: API client and message_id) and the alerts table
// (AlertStore, alerts.go: per alert instance a state item, its attempts
// and its audit events). Each takes the SDK client behind an interface of
// just the methods it calls, so tests can fake the SDK.
//
// Expression placeholders are chosen so that none is a prefix of another:
// kumo, the emulator the sandbox uses, substitutes them by plain string
// replacement.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// ContactsAPI is the part of the DynamoDB client that ContactStore uses.
type ContactsAPI interface {
	// GetItem reads one item by key.
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ ContactsAPI = (*dynamodb.Client)(nil)

// ContactStore reads contacts from the contacts table.
type ContactStore struct {
	client ContactsAPI
	table  string
}

var _ alerting.ContactStore = (*ContactStore)(nil)

// NewContactStore returns a ContactStore reading table through client.
func NewContactStore(client ContactsAPI, table string) *ContactStore {
	return &ContactStore{client: client, table: table}
}

// GetContact reads the contact with id (an eventually consistent read:
// contacts change rarely and never during a request). A missing item is
// alerting.ErrContactNotFound.
func (s *ContactStore) GetContact(ctx context.Context, id string) (contact.Contact, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{names.AttrContactID: &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		return contact.Contact{}, fmt.Errorf("get contact %s from %s: %w", id, s.table, err)
	}
	if len(out.Item) == 0 {
		return contact.Contact{}, fmt.Errorf("contact %s: %w", id, alerting.ErrContactNotFound)
	}
	item, err := contactStrings(out.Item)
	if err != nil {
		return contact.Contact{}, fmt.Errorf("contact %s: %w", id, err)
	}
	c, err := contact.FromItem(item)
	if err != nil {
		return contact.Contact{}, fmt.Errorf("read contact %s: %w", id, err)
	}
	return c, nil
}

// contactStrings converts the item to the strings contact.FromItem reads.
// Attributes the contact uses must be strings; other attributes are
// ignored whatever their type, so an extra attribute cannot stop alerts.
func contactStrings(item map[string]types.AttributeValue) (map[string]string, error) {
	out := make(map[string]string, len(item))
	for name, v := range item {
		s, ok := v.(*types.AttributeValueMemberS)
		switch {
		case ok:
			out[name] = s.Value
		case isContactAttr(name):
			return nil, fmt.Errorf("attribute %s is not a string (S)", name)
		}
	}
	return out, nil
}

func isContactAttr(name string) bool {
	return strings.HasPrefix(name, names.AttrPreferencePrefix) || slices.Contains([]string{
		names.AttrContactID, names.AttrContactName, names.AttrCallPhone,
		names.AttrSMSTopicARN, names.AttrEmailTopicARN,
	}, name)
}

// IdempotencyAPI is the part of the DynamoDB client that IdempotencyStore
// uses.
type IdempotencyAPI interface {
	// PutItem writes an item, here under a condition.
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	// GetItem reads one item by key.
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	// UpdateItem updates an item, here under a condition.
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	// DeleteItem deletes an item, here under a condition.
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ IdempotencyAPI = (*dynamodb.Client)(nil)

// IdempotencyStore keeps idempotency records in the idempotency table, one
// item per alert key (alert.Key.String, see names.AttrIdempotencyKey), with
// the attribute names of package names.
type IdempotencyStore struct {
	client IdempotencyAPI
	table  string
}

var _ notify.IdempotencyStore = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns an IdempotencyStore on table through client.
func NewIdempotencyStore(client IdempotencyAPI, table string) *IdempotencyStore {
	return &IdempotencyStore{client: client, table: table}
}

// Expression placeholders. None is a prefix of another (see the package
// comment).
const (
	phKey        = "#k"
	phStatus     = "#st"
	phOwner      = "#own"
	phLockExpiry = "#le"
	phExpiration = "#ex"
	phRespStatus = "#rs"
	phRespBody   = "#rb"
	phChannel    = "#ch"
	phFailure    = "#fc"

	vNowS       = ":now_s"
	vNowMS      = ":now_ms"
	vInProgress = ":inprogress"
	vCompleted  = ":completed"
	vOwner      = ":own"
	vExpiration = ":ex"
	vRespStatus = ":rs"
	vRespBody   = ":rb"
	vChannel    = ":ch"
	vFailure    = ":fc"
)

// Expressions of the idempotency table.
const (
	// AcquireCondition lets a lock be written when no record exists, the
	// record has expired (DynamoDB deletes expired items only eventually),
	// or it is an in-progress lock that lapsed.
	AcquireCondition = "attribute_not_exists(" + phKey + ") OR " + phExpiration + " < " + vNowS +
		" OR (" + phStatus + " = " + vInProgress + " AND " + phLockExpiry + " < " + vNowMS + ")"
	// CompleteUpdate stores the answer, the channel, the failure class
	// (empty when sent) and the record's new expiration.
	CompleteUpdate = "SET " + phStatus + " = " + vCompleted + ", " + phRespStatus + " = " + vRespStatus +
		", " + phRespBody + " = " + vRespBody + ", " + phExpiration + " = " + vExpiration +
		", " + phChannel + " = " + vChannel + ", " + phFailure + " = " + vFailure
	// HoldsLockCondition guards completion and release: only the lock's
	// owner may complete or delete it.
	HoldsLockCondition = phStatus + " = " + vInProgress + " AND " + phOwner + " = " + vOwner
)

// maxAcquireAttempts bounds the retries of Acquire when the record that
// blocked the lock is gone by the time it is read.
const maxAcquireAttempts = 3

// Acquire writes the in-progress lock under AcquireCondition. When the
// condition fails it returns the record in the way (which may be the
// caller's own lock, when the SDK retried a write that had succeeded) and
// an error wrapping notify.ErrRecordExists.
func (s *IdempotencyStore) Acquire(ctx context.Context, lock notify.Lock) (notify.Record, error) {
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			names.AttrIdempotencyKey: str(lock.Key.String()),
			names.AttrClient:         str(lock.Key.Client),
			names.AttrMessageID:      str(lock.Key.MessageID),
			names.AttrInstance:       str(lock.Instance),
			names.AttrStatus:         str(string(notify.StatusInProgress)),
			names.AttrPayloadHash:    str(lock.PayloadHash),
			names.AttrLockOwner:      str(lock.Owner),
			names.AttrLockExpiry:     num(lock.LockExpiry.UnixMilli()),
			names.AttrExpiration:     num(lock.Expiration.Unix()),
		},
		ConditionExpression: aws.String(AcquireCondition),
		ExpressionAttributeNames: map[string]string{
			phKey:        names.AttrIdempotencyKey,
			phExpiration: names.AttrExpiration,
			phStatus:     names.AttrStatus,
			phLockExpiry: names.AttrLockExpiry,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vNowS:       num(lock.Now.Unix()),
			vNowMS:      num(lock.Now.UnixMilli()),
			vInProgress: str(string(notify.StatusInProgress)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for range maxAcquireAttempts {
		_, err := s.client.PutItem(ctx, in)
		if err == nil {
			return notify.Record{}, nil
		}
		item, err := s.itemInTheWay(ctx, lock.Key, err)
		if err != nil {
			return notify.Record{}, fmt.Errorf("put idempotency lock %s in %s: %w", lock.Key, s.table, err)
		}
		if len(item) == 0 {
			continue // released between the write and the read: try again
		}
		rec, err := recordFromItem(item)
		if err != nil {
			return notify.Record{}, fmt.Errorf("idempotency record %s in %s: %w", lock.Key, s.table, err)
		}
		return rec, fmt.Errorf("idempotency record %s: %w", lock.Key, notify.ErrRecordExists)
	}
	return notify.Record{}, fmt.Errorf("put idempotency lock %s in %s: the record changed %d times while being read", lock.Key, s.table, maxAcquireAttempts)
}

// itemInTheWay returns the item that failed a conditional write: from the
// failure's ALL_OLD item or, when the service returns none (kumo does
// not), from a consistent read; an empty item when it is gone. Errors
// other than a failed condition are returned as they are.
func (s *IdempotencyStore) itemInTheWay(ctx context.Context, key alert.Key, err error) (map[string]types.AttributeValue, error) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, err
	}
	if len(ccf.Item) > 0 {
		return ccf.Item, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read the record in the way: %w", err)
	}
	return out.Item, nil
}

// Complete marks the record completed with out, under HoldsLockCondition.
// When the condition fails because the record already holds this owner's
// completion (the SDK retried a write that had succeeded), it succeeds.
func (s *IdempotencyStore) Complete(ctx context.Context, lock notify.Lock, out notify.Outcome) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 keyOf(lock.Key),
		UpdateExpression:    aws.String(CompleteUpdate),
		ConditionExpression: aws.String(HoldsLockCondition),
		ExpressionAttributeNames: map[string]string{
			phStatus:     names.AttrStatus,
			phRespStatus: names.AttrResponseStatus,
			phRespBody:   names.AttrResponseBody,
			phExpiration: names.AttrExpiration,
			phChannel:    names.AttrChannel,
			phFailure:    names.AttrFailureClass,
			phOwner:      names.AttrLockOwner,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vCompleted:  str(string(notify.StatusCompleted)),
			vRespStatus: num(int64(out.Response.Status)),
			vRespBody:   str(out.Response.Body),
			vExpiration: num(out.Expiration.Unix()),
			vChannel:    str(string(out.Channel)),
			vFailure:    str(string(out.Failure)),
			vInProgress: str(string(notify.StatusInProgress)),
			vOwner:      str(lock.Owner),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	item, readErr := s.itemInTheWay(ctx, lock.Key, err)
	if readErr == nil && len(item) > 0 {
		if rec, err := recordFromItem(item); err == nil && rec.Status == notify.StatusCompleted &&
			rec.LockOwner == lock.Owner && rec.Response == out.Response {
			return nil
		}
	}
	return s.conditional("complete", lock.Key, err)
}

// Release deletes the in-progress record, under HoldsLockCondition.
func (s *IdempotencyStore) Release(ctx context.Context, lock notify.Lock) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 keyOf(lock.Key),
		ConditionExpression: aws.String(HoldsLockCondition),
		ExpressionAttributeNames: map[string]string{
			phStatus: names.AttrStatus,
			phOwner:  names.AttrLockOwner,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vInProgress: str(string(notify.StatusInProgress)),
			vOwner:      str(lock.Owner),
		},
	})
	return s.conditional("release", lock.Key, err)
}

// conditional wraps the error of a write guarded by HoldsLockCondition.
func (s *IdempotencyStore) conditional(op string, key alert.Key, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s idempotency record %s: %w", op, key, notify.ErrLockLost)
	}
	return fmt.Errorf("%s idempotency record %s in %s: %w", op, key, s.table, err)
}

func keyOf(key alert.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{names.AttrIdempotencyKey: str(key.String())}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// recordFromItem reads an idempotency record. The key and status are
// required; other attributes are read when present.
func recordFromItem(item map[string]types.AttributeValue) (notify.Record, error) {
	var rec notify.Record
	r := itemReader{item: item}
	rec.Key = r.key()
	rec.Status = notify.RecordStatus(r.str(names.AttrStatus, true))
	rec.PayloadHash = r.str(names.AttrPayloadHash, false)
	rec.LockOwner = r.str(names.AttrLockOwner, false)
	rec.Instance = r.str(names.AttrInstance, false)
	rec.Response.Body = r.str(names.AttrResponseBody, false)
	rec.Channel = contact.Channel(r.str(names.AttrChannel, false))
	rec.Failure = delivery.Class(r.str(names.AttrFailureClass, false))
	if ms := r.num(names.AttrLockExpiry); ms != 0 {
		rec.LockExpiry = time.UnixMilli(ms)
	}
	if sec := r.num(names.AttrExpiration); sec != 0 {
		rec.Expiration = time.Unix(sec, 0)
	}
	rec.Response.Status = int(r.num(names.AttrResponseStatus))
	return rec, r.err
}

// itemReader reads attributes of an item, keeping the first error.
type itemReader struct {
	item map[string]types.AttributeValue
	err  error
}

func (r *itemReader) key() alert.Key {
	s := r.str(names.AttrIdempotencyKey, true)
	if r.err != nil {
		return alert.Key{}
	}
	k, err := alert.ParseKey(s)
	if err != nil {
		r.err = fmt.Errorf("attribute %s: %w", names.AttrIdempotencyKey, err)
	}
	return k
}

func (r *itemReader) str(name string, required bool) string {
	if r.err != nil {
		return ""
	}
	v, ok := r.item[name]
	if !ok {
		if required {
			r.err = fmt.Errorf("attribute %s is missing", name)
		}
		return ""
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		r.err = fmt.Errorf("attribute %s is not a string (S)", name)
		return ""
	}
	return s.Value
}

func (r *itemReader) num(name string) int64 {
	if r.err != nil {
		return 0
	}
	v, ok := r.item[name]
	if !ok {
		return 0
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		r.err = fmt.Errorf("attribute %s is not a number (N)", name)
		return 0
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		r.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return i
}
