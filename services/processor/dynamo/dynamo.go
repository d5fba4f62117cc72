// Package dynamo implements the processor's stores on Amazon DynamoDB: the
// contacts table (ContactStore) and the idempotency table
// (IdempotencyStore). Each takes the SDK client behind an interface of just
// the methods it calls, so tests can fake the SDK.
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

	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
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

var _ notify.ContactStore = (*ContactStore)(nil)

// NewContactStore returns a ContactStore reading table through client.
func NewContactStore(client ContactsAPI, table string) *ContactStore {
	return &ContactStore{client: client, table: table}
}

// GetContact reads the contact with id (an eventually consistent read:
// contacts change rarely and never during a request). A missing item is
// notify.ErrContactNotFound.
func (s *ContactStore) GetContact(ctx context.Context, id string) (contact.Contact, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{names.AttrContactID: &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		return contact.Contact{}, fmt.Errorf("get contact %s from %s: %w", id, s.table, err)
	}
	if len(out.Item) == 0 {
		return contact.Contact{}, fmt.Errorf("contact %s: %w", id, notify.ErrContactNotFound)
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
// item per message_id, with the attribute names of package names.
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
	phToken      = "#tok"
	phLockExpiry = "#le"
	phExpiration = "#ex"
	phRespStatus = "#rs"
	phRespBody   = "#rb"

	vNowS       = ":now_s"
	vNowMS      = ":now_ms"
	vInProgress = ":inprogress"
	vCompleted  = ":completed"
	vToken      = ":tok"
	vExpiration = ":ex"
	vRespStatus = ":rs"
	vRespBody   = ":rb"
)

// Expressions of the idempotency table.
const (
	// AcquireCondition lets a lock be written when no record exists, the
	// record has expired (DynamoDB deletes expired items only eventually),
	// or it is an in-progress lock that lapsed.
	AcquireCondition = "attribute_not_exists(" + phKey + ") OR " + phExpiration + " < " + vNowS +
		" OR (" + phStatus + " = " + vInProgress + " AND " + phLockExpiry + " < " + vNowMS + ")"
	// CompleteUpdate stores the answer and the record's new expiration.
	CompleteUpdate = "SET " + phStatus + " = " + vCompleted + ", " + phRespStatus + " = " + vRespStatus +
		", " + phRespBody + " = " + vRespBody + ", " + phExpiration + " = " + vExpiration
	// HoldsLockCondition guards completion and release: only the lock's
	// holder may complete or delete it.
	HoldsLockCondition = phStatus + " = " + vInProgress + " AND " + phToken + " = " + vToken
)

// maxAcquireAttempts bounds the retries of Acquire when the record that
// blocked the lock is gone by the time it is read.
const maxAcquireAttempts = 3

// Acquire writes the in-progress lock under AcquireCondition. When the
// condition fails it returns the record in the way, from the failure's
// ALL_OLD item or, when the service returns none (kumo does not), from a
// consistent read; the error then wraps notify.ErrRecordExists.
func (s *IdempotencyStore) Acquire(ctx context.Context, lock notify.Lock) (notify.Record, error) {
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			names.AttrIdempotencyKey: str(lock.Key),
			names.AttrStatus:         str(string(notify.StatusInProgress)),
			names.AttrPayloadHash:    str(lock.PayloadHash),
			names.AttrLockToken:      str(lock.Token),
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
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return notify.Record{}, fmt.Errorf("put idempotency lock %s in %s: %w", lock.Key, s.table, err)
		}
		item := ccf.Item
		if len(item) == 0 {
			out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      aws.String(s.table),
				Key:            keyOf(lock.Key),
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return notify.Record{}, fmt.Errorf("read idempotency record %s in %s: %w", lock.Key, s.table, err)
			}
			item = out.Item
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

// Complete marks the record completed with resp, under HoldsLockCondition.
func (s *IdempotencyStore) Complete(ctx context.Context, key, token string, resp notify.StoredResponse, expiration time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 keyOf(key),
		UpdateExpression:    aws.String(CompleteUpdate),
		ConditionExpression: aws.String(HoldsLockCondition),
		ExpressionAttributeNames: map[string]string{
			phStatus:     names.AttrStatus,
			phRespStatus: names.AttrResponseStatus,
			phRespBody:   names.AttrResponseBody,
			phExpiration: names.AttrExpiration,
			phToken:      names.AttrLockToken,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vCompleted:  str(string(notify.StatusCompleted)),
			vRespStatus: num(int64(resp.Status)),
			vRespBody:   str(resp.Body),
			vExpiration: num(expiration.Unix()),
			vInProgress: str(string(notify.StatusInProgress)),
			vToken:      str(token),
		},
	})
	return s.conditional("complete", key, err)
}

// Release deletes the in-progress record, under HoldsLockCondition.
func (s *IdempotencyStore) Release(ctx context.Context, key, token string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 keyOf(key),
		ConditionExpression: aws.String(HoldsLockCondition),
		ExpressionAttributeNames: map[string]string{
			phStatus: names.AttrStatus,
			phToken:  names.AttrLockToken,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vInProgress: str(string(notify.StatusInProgress)),
			vToken:      str(token),
		},
	})
	return s.conditional("release", key, err)
}

// conditional wraps the error of a write guarded by HoldsLockCondition.
func (s *IdempotencyStore) conditional(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s idempotency record %s: %w", op, key, notify.ErrLockLost)
	}
	return fmt.Errorf("%s idempotency record %s in %s: %w", op, key, s.table, err)
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{names.AttrIdempotencyKey: str(key)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// recordFromItem reads an idempotency record. The key and status are
// required; other attributes are read when present.
func recordFromItem(item map[string]types.AttributeValue) (notify.Record, error) {
	var rec notify.Record
	var err error
	if rec.Key, err = getS(item, names.AttrIdempotencyKey, true); err != nil {
		return rec, err
	}
	status, err := getS(item, names.AttrStatus, true)
	if err != nil {
		return rec, err
	}
	rec.Status = notify.RecordStatus(status)
	if rec.PayloadHash, err = getS(item, names.AttrPayloadHash, false); err != nil {
		return rec, err
	}
	if rec.LockToken, err = getS(item, names.AttrLockToken, false); err != nil {
		return rec, err
	}
	if rec.Response.Body, err = getS(item, names.AttrResponseBody, false); err != nil {
		return rec, err
	}
	ms, err := getN(item, names.AttrLockExpiry)
	if err != nil {
		return rec, err
	}
	if ms != 0 {
		rec.LockExpiry = time.UnixMilli(ms)
	}
	sec, err := getN(item, names.AttrExpiration)
	if err != nil {
		return rec, err
	}
	if sec != 0 {
		rec.Expiration = time.Unix(sec, 0)
	}
	status64, err := getN(item, names.AttrResponseStatus)
	if err != nil {
		return rec, err
	}
	rec.Response.Status = int(status64)
	return rec, nil
}

func getS(item map[string]types.AttributeValue, name string, required bool) (string, error) {
	v, ok := item[name]
	if !ok {
		if required {
			return "", fmt.Errorf("attribute %s is missing", name)
		}
		return "", nil
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("attribute %s is not a string (S)", name)
	}
	return s.Value, nil
}

func getN(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name]
	if !ok {
		return 0, nil
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s is not a number (N)", name)
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return i, nil
}
