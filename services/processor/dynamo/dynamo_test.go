package dynamo_test

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// fakeDB is the DynamoDB client's methods as function fields; it records
// every input.
type fakeDB struct {
	getItem    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	updateItem func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	deleteItem func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)

	gets    []*dynamodb.GetItemInput
	puts    []*dynamodb.PutItemInput
	updates []*dynamodb.UpdateItemInput
	deletes []*dynamodb.DeleteItemInput
}

var (
	_ dynamo.ContactsAPI    = (*fakeDB)(nil)
	_ dynamo.IdempotencyAPI = (*fakeDB)(nil)
)

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets = append(f.gets, in)
	return f.getItem(in)
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	return f.putItem(in)
}

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.updates = append(f.updates, in)
	return f.updateItem(in)
}

func (f *fakeDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.deletes = append(f.deletes, in)
	return f.deleteItem(in)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// attrString renders an attribute value for comparison.
func attrString(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	default:
		return "?"
	}
}

func attrsEqual(tb testing.TB, what string, got, want map[string]types.AttributeValue) {
	tb.Helper()
	g, w := map[string]string{}, map[string]string{}
	for k, v := range got {
		g[k] = attrString(v)
	}
	for k, v := range want {
		w[k] = attrString(v)
	}
	if !maps.Equal(g, w) {
		tb.Errorf("%s = %v, want %v", what, g, w)
	}
}

// placeholders finds #name and :value placeholders in expressions.
var placeholders = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// checkPlaceholders asserts that the expressions use exactly the
// placeholders defined (DynamoDB rejects unused ones) and that none is a
// prefix of another (kumo substitutes them by string replacement).
func checkPlaceholders(tb testing.TB, exprNames map[string]string, exprValues map[string]types.AttributeValue, exprs ...*string) {
	tb.Helper()
	used := map[string]bool{}
	for _, e := range exprs {
		for _, p := range placeholders.FindAllString(aws.ToString(e), -1) {
			used[p] = true
		}
	}
	defined := slices.Collect(maps.Keys(exprNames))
	defined = append(defined, slices.Collect(maps.Keys(exprValues))...)
	if got, want := slices.Sorted(maps.Keys(used)), slices.Sorted(slices.Values(defined)); !slices.Equal(got, want) {
		tb.Errorf("placeholders used %v, defined %v", got, want)
	}
	for _, a := range defined {
		for _, b := range defined {
			if a != b && strings.HasPrefix(b, a) {
				tb.Errorf("placeholder %s is a prefix of %s", a, b)
			}
		}
	}
}

func ccf(item map[string]types.AttributeValue) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: item}
}

func TestContactStoreGetContact(t *testing.T) {
	t.Parallel()
	jones := map[string]types.AttributeValue{
		names.AttrContactID:     s("dr-jones"),
		names.AttrContactName:   s("Dr Jones"),
		"pref_H":                s("call,email"),
		"pref_L":                s("email"),
		names.AttrCallPhone:     s("+447700900123"),
		names.AttrEmailTopicARN: s("arn:aws:sns:eu-west-2:000000000000:email"),
		"updated_at":            n("1764150000"), // not the contact's: ignored
	}
	sdkErr := errors.New("RequestLimitExceeded")
	tests := []struct {
		name    string
		out     *dynamodb.GetItemOutput
		err     error
		want    contact.Contact
		wantErr error  // errors.Is target
		errText string // part of the message
	}{
		{
			name: "found",
			out:  &dynamodb.GetItemOutput{Item: jones},
			want: contact.Contact{
				ID: "dr-jones", Name: "Dr Jones",
				Preferences: map[alert.Priority][]contact.Channel{
					alert.PriorityHigh: {contact.ChannelCall, contact.ChannelEmail}, alert.PriorityLow: {contact.ChannelEmail},
				},
				CallPhone: "+447700900123", EmailTopicARN: "arn:aws:sns:eu-west-2:000000000000:email",
			},
		},
		{name: "not found", out: &dynamodb.GetItemOutput{}, wantErr: alerting.ErrContactNotFound},
		{name: "sdk error", err: sdkErr, wantErr: sdkErr, errText: "contacts-table"},
		{
			name:    "known attribute of the wrong type",
			out:     &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{names.AttrContactID: s("x"), names.AttrCallPhone: n("447700900123")}},
			errText: names.AttrCallPhone + " is not a string",
		},
		{
			name:    "unknown channel",
			out:     &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{names.AttrContactID: s("x"), "pref_M": s("pager")}},
			errText: "pager",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &fakeDB{getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return tt.out, tt.err }}
			got, err := dynamo.NewContactStore(db, "contacts-table").GetContact(t.Context(), "dr-jones")

			if len(db.gets) != 1 {
				t.Fatalf("GetItem calls = %d, want 1", len(db.gets))
			}
			in := db.gets[0]
			if aws.ToString(in.TableName) != "contacts-table" {
				t.Errorf("table = %q", aws.ToString(in.TableName))
			}
			attrsEqual(t, "key", in.Key, map[string]types.AttributeValue{names.AttrContactID: s("dr-jones")})

			wantFail := tt.wantErr != nil || tt.errText != ""
			if (err != nil) != wantFail {
				t.Fatalf("err = %v, want failure %v", err, wantFail)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if tt.errText != "" && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %v, want it to mention %q", err, tt.errText)
			}
			if !wantFail && (got.ID != tt.want.ID || got.Name != tt.want.Name || got.CallPhone != tt.want.CallPhone ||
				got.EmailTopicARN != tt.want.EmailTopicARN || got.SMSTopicARN != "" || !maps.EqualFunc(got.Preferences, tt.want.Preferences, slices.Equal)) {
				t.Errorf("contact = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// storedKey is the stored form of the test lock's key.
const storedKey = "6:ward-7:msg-0001"

var (
	now  = time.Date(2026, 11, 26, 9, 30, 0, 250_000_000, time.UTC)
	lock = notify.Lock{
		Key: alert.Key{Client: "ward-7", MessageID: "msg-0001"}, Instance: "1795685400250-0a1b2c3d", PayloadHash: "abc123", Owner: "owner-1", Now: now,
		LockExpiry: now.Add(10 * time.Second), Expiration: now.Add(24 * time.Hour),
	}
	// existingItem is a completed record as the table holds it.
	existingItem = map[string]types.AttributeValue{
		names.AttrIdempotencyKey: s(storedKey),
		names.AttrClient:         s("ward-7"),
		names.AttrMessageID:      s("msg-0001"),
		names.AttrStatus:         s("COMPLETED"),
		names.AttrPayloadHash:    s("abc123"),
		names.AttrLockOwner:      s("owner-0"),
		names.AttrLockExpiry:     n("1795685410250"),
		names.AttrExpiration:     n("1795771800"),
		names.AttrResponseStatus: n("422"),
		names.AttrResponseBody:   s(`{"error":{"code":"undeliverable"}}`),
		names.AttrChannel:        s("sms"),
		names.AttrFailureClass:   s("permanent"),
	}
	existingRecord = notify.Record{
		Key: lock.Key, Status: notify.StatusCompleted, PayloadHash: "abc123", LockOwner: "owner-0",
		LockExpiry: time.UnixMilli(1795685410250), Expiration: time.Unix(1795771800, 0),
		Response: notify.StoredResponse{Status: 422, Body: `{"error":{"code":"undeliverable"}}`},
		Channel:  contact.ChannelSMS, Failure: delivery.Permanent,
	}
)

func TestIdempotencyStoreAcquireWritesConditionalLock(t *testing.T) {
	t.Parallel()
	db := &fakeDB{putItem: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return &dynamodb.PutItemOutput{}, nil }}
	rec, err := dynamo.NewIdempotencyStore(db, "idem-table").Acquire(t.Context(), lock)
	if err != nil || rec != (notify.Record{}) {
		t.Fatalf("Acquire = %+v, %v; want the lock", rec, err)
	}
	if len(db.puts) != 1 || len(db.gets) != 0 {
		t.Fatalf("puts %d, gets %d; want 1 put", len(db.puts), len(db.gets))
	}
	in := db.puts[0]
	if aws.ToString(in.TableName) != "idem-table" {
		t.Errorf("table = %q", aws.ToString(in.TableName))
	}
	attrsEqual(t, "item", in.Item, map[string]types.AttributeValue{
		names.AttrIdempotencyKey: s(storedKey),
		names.AttrClient:         s("ward-7"),
		names.AttrMessageID:      s("msg-0001"),
		names.AttrInstance:       s("1795685400250-0a1b2c3d"),
		names.AttrStatus:         s("INPROGRESS"),
		names.AttrPayloadHash:    s("abc123"),
		names.AttrLockOwner:      s("owner-1"),
		names.AttrLockExpiry:     n("1795685410250"),
		names.AttrExpiration:     n("1795771800"),
	})
	const wantCond = "attribute_not_exists(#k) OR #ex < :now_s OR (#st = :inprogress AND #le < :now_ms)"
	if got := aws.ToString(in.ConditionExpression); got != wantCond {
		t.Errorf("condition = %q, want %q", got, wantCond)
	}
	wantNames := map[string]string{
		"#k": names.AttrIdempotencyKey, "#ex": names.AttrExpiration, "#st": names.AttrStatus, "#le": names.AttrLockExpiry,
	}
	if !maps.Equal(in.ExpressionAttributeNames, wantNames) {
		t.Errorf("names = %v, want %v", in.ExpressionAttributeNames, wantNames)
	}
	attrsEqual(t, "values", in.ExpressionAttributeValues, map[string]types.AttributeValue{
		":now_s": n("1795685400"), ":now_ms": n("1795685400250"), ":inprogress": s("INPROGRESS"),
	})
	if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", in.ReturnValuesOnConditionCheckFailure)
	}
	checkPlaceholders(t, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ConditionExpression)
}

func TestIdempotencyStoreAcquireReadsRecordInTheWay(t *testing.T) {
	t.Parallel()
	sdkErr := errors.New("InternalServerError")
	tests := []struct {
		name     string
		puts     []error                           // results of successive PutItem calls
		gets     []map[string]types.AttributeValue // items of successive GetItem calls
		getErr   error
		want     notify.Record
		wantErr  error
		wantLock bool
		wantPuts int
		wantGets int
	}{
		{
			name: "ALL_OLD returned",
			puts: []error{ccf(existingItem)},
			want: existingRecord, wantErr: notify.ErrRecordExists, wantPuts: 1, wantGets: 0,
		},
		{
			name: "no ALL_OLD (kumo): consistent read",
			puts: []error{ccf(nil)},
			gets: []map[string]types.AttributeValue{existingItem},
			want: existingRecord, wantErr: notify.ErrRecordExists, wantPuts: 1, wantGets: 1,
		},
		{
			name:     "record gone before the read: lock taken on the retry",
			puts:     []error{ccf(nil), nil},
			gets:     []map[string]types.AttributeValue{nil},
			wantLock: true, wantPuts: 2, wantGets: 1,
		},
		{
			name:     "record keeps vanishing: gives up",
			puts:     []error{ccf(nil), ccf(nil), ccf(nil)},
			gets:     []map[string]types.AttributeValue{nil, nil, nil},
			wantPuts: 3, wantGets: 3,
		},
		{
			name:    "read fails",
			puts:    []error{ccf(nil)},
			getErr:  sdkErr,
			wantErr: sdkErr, wantPuts: 1, wantGets: 1,
		},
		{
			name:    "put fails",
			puts:    []error{sdkErr},
			wantErr: sdkErr, wantPuts: 1,
		},
		{
			name:     "malformed record",
			puts:     []error{ccf(map[string]types.AttributeValue{names.AttrIdempotencyKey: s(storedKey), names.AttrStatus: n("1")})},
			wantPuts: 1,
		},
		{
			name:     "key not in the stored form",
			puts:     []error{ccf(map[string]types.AttributeValue{names.AttrIdempotencyKey: s("msg-0001"), names.AttrStatus: s("COMPLETED")})},
			wantPuts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &fakeDB{}
			db.putItem = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				return &dynamodb.PutItemOutput{}, tt.puts[len(db.puts)-1]
			}
			db.getItem = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				if tt.getErr != nil {
					return nil, tt.getErr
				}
				return &dynamodb.GetItemOutput{Item: tt.gets[len(db.gets)-1]}, nil
			}
			rec, err := dynamo.NewIdempotencyStore(db, "idem-table").Acquire(t.Context(), lock)

			if len(db.puts) != tt.wantPuts || len(db.gets) != tt.wantGets {
				t.Errorf("puts %d, gets %d; want %d, %d", len(db.puts), len(db.gets), tt.wantPuts, tt.wantGets)
			}
			for _, in := range db.gets {
				if !aws.ToBool(in.ConsistentRead) || aws.ToString(in.TableName) != "idem-table" {
					t.Errorf("read is not a consistent read of the table: %+v", in)
				}
				attrsEqual(t, "read key", in.Key, map[string]types.AttributeValue{names.AttrIdempotencyKey: s(storedKey)})
			}
			switch {
			case tt.wantLock && err != nil:
				t.Fatalf("err = %v, want the lock", err)
			case !tt.wantLock && err == nil:
				t.Fatalf("err = nil, want a failure")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if !errors.Is(tt.wantErr, notify.ErrRecordExists) && errors.Is(err, notify.ErrRecordExists) {
				t.Errorf("err = %v claims a record exists", err)
			}
			if rec != tt.want {
				t.Errorf("record = %+v, want %+v", rec, tt.want)
			}
		})
	}
}

// completion is the outcome the Complete tests write.
var completion = notify.Outcome{
	Response: notify.StoredResponse{Status: 502, Body: `{"error":{"code":"delivery_unknown"}}`},
	Channel:  contact.ChannelCall, Failure: delivery.Ambiguous, Expiration: now.Add(24 * time.Hour),
}

// completedBy is the item after owner completed it with completion.
func completedBy(owner string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		names.AttrIdempotencyKey: s(storedKey), names.AttrStatus: s("COMPLETED"), names.AttrLockOwner: s(owner),
		names.AttrResponseStatus: n("502"), names.AttrResponseBody: s(completion.Response.Body),
	}
}

func TestIdempotencyStoreComplete(t *testing.T) {
	t.Parallel()
	sdkErr := errors.New("InternalServerError")
	tests := []struct {
		name     string
		err      error
		read     map[string]types.AttributeValue // the consistent read after a failed condition
		wantErr  error
		wantGets int
	}{
		{name: "completed"},
		{name: "lock lost to another owner", err: ccf(completedBy("owner-2")), wantErr: notify.ErrLockLost},
		{name: "lock lost, record gone (kumo: read)", err: ccf(nil), wantErr: notify.ErrLockLost, wantGets: 1},
		// The SDK retried an update whose first attempt had succeeded.
		{name: "own completion already written", err: ccf(completedBy("owner-1"))},
		{name: "own completion already written (kumo: read)", err: ccf(nil), read: completedBy("owner-1"), wantGets: 1},
		{name: "sdk error", err: sdkErr, wantErr: sdkErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &fakeDB{
				updateItem: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
					return &dynamodb.UpdateItemOutput{}, tt.err
				},
				getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					return &dynamodb.GetItemOutput{Item: tt.read}, nil
				},
			}
			err := dynamo.NewIdempotencyStore(db, "idem-table").Complete(t.Context(), lock, completion)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(tt.wantErr, sdkErr) && errors.Is(err, notify.ErrLockLost) {
				t.Error("an SDK error reads as a lost lock")
			}
			if len(db.gets) != tt.wantGets {
				t.Errorf("reads = %d, want %d", len(db.gets), tt.wantGets)
			}
			in := db.updates[0]
			if aws.ToString(in.TableName) != "idem-table" {
				t.Errorf("table = %q", aws.ToString(in.TableName))
			}
			attrsEqual(t, "key", in.Key, map[string]types.AttributeValue{names.AttrIdempotencyKey: s(storedKey)})
			if got, want := aws.ToString(in.UpdateExpression), "SET #st = :completed, #rs = :rs, #rb = :rb, #ex = :ex, #ch = :ch, #fc = :fc"; got != want {
				t.Errorf("update = %q, want %q", got, want)
			}
			if got, want := aws.ToString(in.ConditionExpression), "#st = :inprogress AND #own = :own"; got != want {
				t.Errorf("condition = %q, want %q", got, want)
			}
			wantNames := map[string]string{
				"#st": names.AttrStatus, "#rs": names.AttrResponseStatus, "#rb": names.AttrResponseBody,
				"#ex": names.AttrExpiration, "#own": names.AttrLockOwner, "#ch": names.AttrChannel, "#fc": names.AttrFailureClass,
			}
			if !maps.Equal(in.ExpressionAttributeNames, wantNames) {
				t.Errorf("names = %v, want %v", in.ExpressionAttributeNames, wantNames)
			}
			attrsEqual(t, "values", in.ExpressionAttributeValues, map[string]types.AttributeValue{
				":completed": s("COMPLETED"), ":rs": n("502"), ":rb": s(completion.Response.Body),
				":ex": n("1795771800"), ":inprogress": s("INPROGRESS"), ":own": s("owner-1"),
				":ch": s("call"), ":fc": s("ambiguous"),
			})
			checkPlaceholders(t, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.UpdateExpression, in.ConditionExpression)
		})
	}
}

func TestIdempotencyStoreRelease(t *testing.T) {
	t.Parallel()
	sdkErr := errors.New("InternalServerError")
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{"released", nil, nil},
		{"lock lost", ccf(nil), notify.ErrLockLost},
		{"sdk error", sdkErr, sdkErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := &fakeDB{deleteItem: func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
				return &dynamodb.DeleteItemOutput{}, tt.err
			}}
			err := dynamo.NewIdempotencyStore(db, "idem-table").Release(t.Context(), lock)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			in := db.deletes[0]
			if aws.ToString(in.TableName) != "idem-table" {
				t.Errorf("table = %q", aws.ToString(in.TableName))
			}
			attrsEqual(t, "key", in.Key, map[string]types.AttributeValue{names.AttrIdempotencyKey: s(storedKey)})
			if got, want := aws.ToString(in.ConditionExpression), "#st = :inprogress AND #own = :own"; got != want {
				t.Errorf("condition = %q, want %q", got, want)
			}
			if want := map[string]string{"#st": names.AttrStatus, "#own": names.AttrLockOwner}; !maps.Equal(in.ExpressionAttributeNames, want) {
				t.Errorf("names = %v, want %v", in.ExpressionAttributeNames, want)
			}
			attrsEqual(t, "values", in.ExpressionAttributeValues, map[string]types.AttributeValue{
				":inprogress": s("INPROGRESS"), ":own": s("owner-1"),
			})
			checkPlaceholders(t, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ConditionExpression)
		})
	}
}
