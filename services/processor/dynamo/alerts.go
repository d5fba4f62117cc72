package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// AlertsAPI is the part of the DynamoDB client that AlertStore uses.
type AlertsAPI interface {
	// TransactWriteItems writes items atomically, here under conditions.
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	// Query reads items of one partition.
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// GetItem reads one lookup item (an ack token or code).
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ AlertsAPI = (*dynamodb.Client)(nil)

// AlertStore keeps alert records in the alerts table (names.AttrPK,
// names.AttrSK): per alert instance a state item, one item per attempt and
// the audit events, with the attribute names of package names.
type AlertStore struct {
	client AlertsAPI
	table  string
}

var _ alerting.Store = (*AlertStore)(nil)

// NewAlertStore returns an AlertStore on table through client.
func NewAlertStore(client AlertsAPI, table string) *AlertStore {
	return &AlertStore{client: client, table: table}
}

// Item kinds (names.AttrKind) and sort key parts of the alerts table.
const (
	kindState   = "state"
	kindAttempt = "attempt"
	kindEvent   = "event"

	skSep     = "#"
	skState   = "STATE"
	skAttempt = "ATTEMPT"
	skEvent   = "EVENT"
)

// SortKey functions: "<instance>#STATE", "<instance>#ATTEMPT#<nnn>",
// "<instance>#EVENT#<nnnnnn>". Within an instance STATE sorts after
// ATTEMPT and EVENT, so the last item of a partition is the newest
// instance's state.
func stateSK(instance string) string { return instance + skSep + skState }

func attemptSK(instance string, n int) string {
	return fmt.Sprintf("%s%s%s%s%03d", instance, skSep, skAttempt, skSep, n)
}

func eventSK(instance string, seq int) string {
	return fmt.Sprintf("%s%s%s%s%06d", instance, skSep, skEvent, skSep, seq)
}

// Expressions of the alerts table. Placeholders: none is a prefix of
// another (see the package comment).
const (
	phPK          = "#pk"
	phVersion     = "#ver"
	phAlertStatus = "#st"
	vFrom         = ":from"
	vAttemptFrom  = ":afrom"
	vPK           = ":pk"
	vPrefix       = ":prefix"

	// NewItemCondition creates an item only if it does not exist: a new
	// state, attempt or event item never overwrites one.
	NewItemCondition = "attribute_not_exists(" + phPK + ")"
	// VersionCondition moves the state item only from the version read.
	VersionCondition = phVersion + " = " + vFrom
	// AttemptCondition moves an attempt only from the status read.
	AttemptCondition = phAlertStatus + " = " + vAttemptFrom
	// latestKeyCondition and instanceKeyCondition select a partition, and
	// one instance's items in it.
	latestKeyCondition   = phPK + " = " + vPK
	instanceKeyCondition = phPK + " = " + vPK + " AND begins_with(#sk, " + vPrefix + ")"
)

// Write applies ch in one TransactWriteItems: the state item (created
// under NewItemCondition, or replaced under VersionCondition), the attempt
// item (NewItemCondition or AttemptCondition) and one new item per event
// (NewItemCondition). A failed condition is alerting.ErrConflict. The
// request token is derived from the alert, instance and new version, so
// an SDK retry of a write that succeeded is answered as the success it
// was.
func (s *AlertStore) Write(ctx context.Context, ch alerting.Change) error {
	a := ch.Alert
	items := make([]types.TransactWriteItem, 0, 2+len(ch.Events))
	state, err := stateItem(a)
	if err != nil {
		return err
	}
	items = append(items, s.put(state, ch.From == 0, VersionCondition, map[string]types.AttributeValue{vFrom: num(int64(ch.From))}))
	if at := ch.Attempt; at != nil {
		items = append(items, s.put(attemptItem(a, at), ch.AttemptFrom == delivery.AttemptNone, AttemptCondition,
			map[string]types.AttributeValue{vAttemptFrom: str(string(ch.AttemptFrom))}))
	}
	for _, e := range ch.Events {
		items = append(items, s.put(eventItem(a, e), true, "", nil))
	}
	for _, l := range ch.Lookups {
		items = append(items, s.putLookup(l))
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      items,
		ClientRequestToken: aws.String(requestToken(a)),
	})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return fmt.Errorf("alert %s/%s at version %d: %w", a.Key, a.Instance, ch.From, alerting.ErrConflict)
			}
		}
	}
	return fmt.Errorf("write alert %s/%s to %s: %w", a.Key, a.Instance, s.table, err)
}

// put is one conditional Put: NewItemCondition when create, else cond on
// the attribute named by attr with values.
func (s *AlertStore) put(item map[string]types.AttributeValue, create bool, cond string, values map[string]types.AttributeValue) types.TransactWriteItem {
	p := &types.Put{TableName: aws.String(s.table), Item: item}
	switch {
	case create:
		p.ConditionExpression = aws.String(NewItemCondition)
		p.ExpressionAttributeNames = map[string]string{phPK: names.AttrPK}
	case cond == VersionCondition:
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames = map[string]string{phVersion: names.AttrVersion}
		p.ExpressionAttributeValues = values
	default:
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames = map[string]string{phAlertStatus: names.AttrAlertStatus}
		p.ExpressionAttributeValues = values
	}
	return types.TransactWriteItem{Put: p}
}

// requestTokenLen is TransactWriteItems' ClientRequestToken limit.
const requestTokenLen = 36

func requestToken(a *alerting.Alert) string {
	sum := sha256.Sum256([]byte(a.Key.String() + "\x00" + a.Instance + "\x00" + strconv.Itoa(a.Version)))
	return hex.EncodeToString(sum[:])[:requestTokenLen]
}

// common are the attributes of every item of an alert instance.
func common(a *alerting.Alert, sk, kind string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		names.AttrPK:        str(a.Key.String()),
		names.AttrSK:        str(sk),
		names.AttrKind:      str(kind),
		names.AttrInstance:  str(a.Instance),
		names.AttrExpiresAt: num(a.ExpiresAt.Unix()),
	}
}

// stateItem is the alert's state item. Its content is the alert as sent,
// as JSON.
func stateItem(a *alerting.Alert) (map[string]types.AttributeValue, error) {
	content, err := json.Marshal(a.Content)
	if err != nil {
		return nil, fmt.Errorf("alert %s content: %w", a.Key, err)
	}
	item := common(a, stateSK(a.Instance), kindState)
	for k, v := range map[string]types.AttributeValue{
		names.AttrClient:       str(a.Key.Client),
		names.AttrMessageID:    str(a.Key.MessageID),
		names.AttrVersion:      num(int64(a.Version)),
		names.AttrAlertStatus:  str(string(a.Status)),
		names.AttrPriority:     str(string(a.Priority)),
		names.AttrContactID:    str(a.ContactID),
		names.AttrChannels:     str(contact.FormatChannels(a.Channels)),
		names.AttrPayloadHash:  str(a.PayloadHash),
		names.AttrContent:      str(string(content)),
		names.AttrAcceptedAt:   num(a.AcceptedAt.UnixMilli()),
		names.AttrUpdatedAt:    num(a.UpdatedAt.UnixMilli()),
		names.AttrAttemptCount: num(int64(len(a.Attempts))),
	} {
		item[k] = v
	}
	setTime(item, names.AttrSentAt, a.SentAt)
	if a.Policy.Enabled() {
		policy, err := json.Marshal(a.Policy)
		if err != nil {
			return nil, fmt.Errorf("alert %s policy: %w", a.Key, err)
		}
		item[names.AttrPolicy] = str(string(policy))
	}
	setNum(item, names.AttrStage, a.Stage)
	if ack := a.Ack; ack != nil {
		item[names.AttrAckedAt] = num(ack.At.UnixMilli())
		item[names.AttrAckedBy] = str(ack.By.String())
		item[names.AttrAckMethod] = str(string(ack.Method))
		setNum(item, names.AttrAckAttempt, ack.Attempt)
		setFlag(item, names.AttrLate, ack.Late)
	}
	return item, nil
}

func attemptItem(a *alerting.Alert, at *alerting.Attempt) map[string]types.AttributeValue {
	item := common(a, attemptSK(a.Instance, at.Number), kindAttempt)
	item[names.AttrAttempt] = num(int64(at.Number))
	item[names.AttrChannel] = str(string(at.Channel))
	item[names.AttrContactID] = str(at.ContactID)
	item[names.AttrAlertStatus] = str(string(at.Status))
	setTime(item, names.AttrStartedAt, at.StartedAt)
	setTime(item, names.AttrEndedAt, at.EndedAt)
	setStr(item, names.AttrProviderRef, at.ProviderRef)
	setStr(item, names.AttrFailureClass, string(at.Failure))
	setStr(item, names.AttrFailureCode, at.FailureCode)
	setNum(item, names.AttrStage, at.Stage)
	return item
}

func eventItem(a *alerting.Alert, e alerting.Event) map[string]types.AttributeValue {
	item := common(a, eventSK(a.Instance, e.Seq), kindEvent)
	item[names.AttrSeq] = num(int64(e.Seq))
	item[names.AttrEventType] = str(string(e.Type))
	item[names.AttrAt] = num(e.At.UnixMilli())
	item[names.AttrActor] = str(e.Actor.String())
	item[names.AttrAlertStatus] = str(string(e.Status))
	if e.Attempt > 0 {
		item[names.AttrAttempt] = num(int64(e.Attempt))
	}
	setStr(item, names.AttrChannel, string(e.Channel))
	setStr(item, names.AttrFromChannel, string(e.FromChannel))
	setStr(item, names.AttrFailureClass, string(e.Failure))
	setStr(item, names.AttrReason, string(e.Reason))
	setNum(item, names.AttrStage, e.Stage)
	setStr(item, names.AttrAckMethod, string(e.Method))
	setFlag(item, names.AttrLate, e.Late)
	setStr(item, names.AttrTarget, string(e.Target))
	return item
}

func setNum(item map[string]types.AttributeValue, name string, n int) {
	if n != 0 {
		item[name] = num(int64(n))
	}
}

// setFlag writes a true flag as the number 1; false is absent.
func setFlag(item map[string]types.AttributeValue, name string, b bool) {
	if b {
		item[name] = num(1)
	}
}

func setStr(item map[string]types.AttributeValue, name, v string) {
	if v != "" {
		item[name] = str(v)
	}
}

func setTime(item map[string]types.AttributeValue, name string, t time.Time) {
	if !t.IsZero() {
		item[name] = num(t.UnixMilli())
	}
}

// Load reads one instance of key: every item of it, with consistent
// reads.
func (s *AlertStore) Load(ctx context.Context, key alert.Key, instance string) (*alerting.Alert, error) {
	items, err := s.instanceItems(ctx, key, instance)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("alert %s/%s: %w", key, instance, alerting.ErrNotFound)
	}
	a, err := decodeAlert(items)
	if err != nil {
		return nil, fmt.Errorf("alert %s/%s in %s: %w", key, instance, s.table, err)
	}
	return a, nil
}

// Latest reads the newest instance of key: the partition's last item
// (its state), then every item of that instance, with consistent reads.
func (s *AlertStore) Latest(ctx context.Context, key alert.Key) (*alerting.Alert, error) {
	last, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String(latestKeyCondition),
		ExpressionAttributeNames:  map[string]string{phPK: names.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{vPK: str(key.String())},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query alert %s in %s: %w", key, s.table, err)
	}
	if len(last.Items) == 0 {
		return nil, fmt.Errorf("alert %s: %w", key, alerting.ErrNotFound)
	}
	r := itemReader{item: last.Items[0]}
	instance, ok := strings.CutSuffix(r.str(names.AttrSK, true), skSep+skState)
	if r.err != nil || !ok {
		return nil, fmt.Errorf("alert %s: the partition's last item is not a state item", key)
	}
	return s.Load(ctx, key, instance)
}

// instanceItems reads every item of one instance, in sort key order.
func (s *AlertStore) instanceItems(ctx context.Context, key alert.Key, instance string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String(instanceKeyCondition),
		ExpressionAttributeNames: map[string]string{phPK: names.AttrPK, "#sk": names.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			vPK: str(key.String()), vPrefix: str(instance + skSep),
		},
		ConsistentRead: aws.Bool(true),
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query alert %s/%s in %s: %w", key, instance, s.table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
