package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

// Tests of the alert lifecycle (issue 11): the record GET answers, its
// audit trail, fallback to the next channel, and what the record never
// shows.

// fallbackContact is the sandbox stack's second contact: H is [call, sms],
// and the Connect stub refuses every call to its number
// (standin.UnreachableNumber).
const fallbackContact = "C-2"

// get sends GET /notification/{id} with token.
func (tg *target) get(tb testing.TB, id, token string) reply {
	tb.Helper()

	return tg.getURL(tb, tg.url+"/"+url.PathEscape(id), token)
}

// getLocation follows the Location header of a POST answer.
func (tg *target) getLocation(tb testing.TB, r reply) reply {
	tb.Helper()

	loc := r.header.Get(names.HeaderLocation)
	if loc == "" {
		tb.Fatalf("answer %s has no %s header", r, names.HeaderLocation)
	}

	base, err := url.Parse(tg.url)
	if err != nil {
		tb.Fatal(err)
	}

	ref, err := url.Parse(loc)
	if err != nil {
		tb.Fatalf("%s %q: %v", names.HeaderLocation, loc, err)
	}

	return tg.getURL(tb, base.ResolveReference(ref).String(), tg.token)
}

func (tg *target) getURL(tb testing.TB, u, token string) reply {
	tb.Helper()

	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}

	req.Header.Set(names.HeaderAuthorization, token)

	resp, err := tg.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}

	defer func() { _ = resp.Body.Close() }()

	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		tb.Fatal(err)
	}

	return reply{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
}

// record decodes a GET answer strictly, and checks that it holds nothing
// of the alert but what the record may show: no description, patient id
// or type, no destination of the contact, nothing the PHI guard finds.
func (r reply) record(tb testing.TB, a alert.Alert) api.AlertRecord {
	tb.Helper()

	r.wantStatus(tb, http.StatusOK)

	var rec api.AlertRecord
	decodeStrict(tb, r.body, &rec)

	body := string(r.body)
	// Provider references are random ids (Connect's UUIDs): about 1 in 550
	// has a run of ten digits between its hyphens that passes the NHS
	// number check. They are not the alert's, so the guard skips them.
	if d := phi.Default().Check(providerRefs.ReplaceAllString(body, `"provider_ref":""`)); d != nil {
		tb.Errorf("the PHI guard finds %s in the record %s", d.Reason(), body)
	}

	for what, secret := range map[string]string{"description": a.Description, "patient id": a.PatientID, "type": a.Type} {
		if strings.Contains(body, secret) {
			tb.Errorf("the record holds the alert's %s %q", what, secret)
		}
	}

	if tgt.local != nil {
		for _, d := range destinations(tb, a.ContactID) {
			if strings.Contains(body, d) {
				tb.Errorf("the record holds the destination %q", d)
			}
		}
	}

	if rec.MessageID != a.MessageID || rec.Priority != string(a.Priority) || rec.ContactID != a.ContactID || rec.AcceptedAt == "" {
		tb.Errorf("record %+v does not describe alert %s", rec, a.MessageID)
	}

	return rec
}

// providerRefs finds the provider references of a record's JSON.
var providerRefs = regexp.MustCompile(`"provider_ref":"[^"]*"`)

// destinations are every phone number, address and topic ARN of a contact
// of the sandbox's stack.
func destinations(tb testing.TB, id string) []string {
	tb.Helper()

	contacts, err := stack.ParseContacts(tgt.env.Stack.Config[tgt.env.Stack.Key(names.ConfigContacts)])
	if err != nil {
		tb.Fatal(err)
	}

	var out []string

	for _, c := range contacts {
		if c.ID == id {
			out = append(out, c.CallPhone, c.SMSPhone, c.Email)
		}
	}

	for k, arn := range tgt.topicARNs {
		if strings.HasPrefix(k, id+"/") {
			out = append(out, arn)
		}
	}

	if len(out) == 0 {
		tb.Fatalf("no destinations for contact %s", id)
	}

	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// eventTypes lists the record's event types, checking their order.
func eventTypes(tb testing.TB, rec api.AlertRecord) []string {
	tb.Helper()

	var out []string

	for i, e := range rec.Events {
		if e.Seq != i+1 {
			tb.Errorf("event %d has seq %d: events out of order", i, e.Seq)
		}

		out = append(out, e.Type)
	}

	return out
}

// TestRecordOfEachChannel sends one alert per priority (call, SMS,
// email): each answer names its record (Location), which shows one
// attempt, sent, and the audit events in order, the first by the client.
func TestRecordOfEachChannel(t *testing.T) {
	t.Parallel()

	for _, p := range alert.Priorities {
		t.Run(p.Label(), func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, p, "")
			r := tgt.postAlert(t, a)
			sent := r.wantSent(t, a)

			if sent.Attempts != 1 {
				t.Errorf("answer names %d attempts, want 1", sent.Attempts)
			}

			rec := tgt.getLocation(t, r).record(t, a)
			if rec.Status != "sent" || rec.SentAt == "" || len(rec.Attempts) != 1 {
				t.Fatalf("record %+v, want sent in one attempt", rec)
			}

			at := rec.Attempts[0]
			if at.Attempt != 1 || at.Channel != sent.Channel || at.Status != "sent" || at.ProviderRef != sent.ProviderMessageID ||
				at.ContactID != a.ContactID || at.StartedAt == "" || at.EndedAt == "" || at.FailureClass != "" {
				t.Errorf("attempt %+v, want sent by %s as %s", at, sent.Channel, sent.ProviderMessageID)
			}

			want := []string{"accepted", "attempt_started", "attempt_sent", "sent"}
			if got := eventTypes(t, rec); !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}

			if tgt.clientName != "" && rec.Events[0].Actor != "client:"+tgt.clientName {
				t.Errorf("accepted by %q, want the client", rec.Events[0].Actor)
			}

			if rec.Events[1].Actor != "system" || rec.Events[3].Status != "sent" {
				t.Errorf("events %+v", rec.Events)
			}
		})
	}
}

// TestCallFailsSMSSent: C-2's call is refused for good, so the SMS goes at
// once in the same request: two attempts, a fallback event, one SMS at the
// tap and no call placed.
func TestCallFailsSMSSent(t *testing.T) {
	t.Parallel()

	tgt.needSandbox(t, "a contact whose calls are refused")
	tap, stub := tgt.needTap(t), tgt.needConnect(t)

	a := newAlert(t, alert.PriorityHigh, "")
	a.ContactID = fallbackContact

	r := tgt.postAlert(t, a)

	sent := r.wantSent(t, a)
	if sent.Channel != string(contact.ChannelSMS) || sent.Attempts != 2 {
		t.Fatalf("answer %+v, want sent by sms after 2 attempts", sent)
	}

	rec := tgt.getLocation(t, r).record(t, a)
	if rec.Status != "sent" || len(rec.Attempts) != 2 || !slices.Equal(rec.Channels, []string{"call", "sms"}) {
		t.Fatalf("record %+v", rec)
	}

	if c, s := rec.Attempts[0], rec.Attempts[1]; c.Channel != "call" || c.Status != "failed" || c.FailureClass != "permanent" ||
		s.Channel != "sms" || s.Status != "sent" || s.ProviderRef != sent.ProviderMessageID {
		t.Errorf("attempts %+v", rec.Attempts)
	}

	want := []string{"accepted", "attempt_started", "attempt_failed", "fallback", "attempt_started", "attempt_sent", "sent"}
	if got := eventTypes(t, rec); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}

	if fb := rec.Events[3]; fb.FromChannel != "call" || fb.Channel != "sms" || fb.Attempt != 2 {
		t.Errorf("fallback event %+v, want from call to sms at attempt 2", fb)
	}

	tgt.drain(t)

	if got := len(deliveries(tap, a.MessageID)); got != 1 {
		t.Errorf("%d deliveries at the tap, want the one SMS", got)
	}

	for _, c := range calls(stub, a.MessageID) {
		if c.Fault == nil || c.DestinationPhoneNumber != standin.UnreachableNumber {
			t.Errorf("call %+v: want only the refused one", c)
		}
	}
}

// TestEveryChannelFails: C-2's call is refused and its SMS too (injected):
// 502 undeliverable_all_channels naming each attempt's channel and class
// (no destination), the record failed, nothing delivered.
func TestEveryChannelFails(t *testing.T) {
	t.Parallel()

	tgt.needSandbox(t, "a contact whose calls are refused")
	proxy, tap := tgt.needSNSFaults(t), tgt.needTap(t)

	a := newAlert(t, alert.PriorityHigh, "")
	a.ContactID = fallbackContact
	snsFaults.inject(t, proxy.SetDecide, a.MessageID, snsInvalid)

	r := tgt.postAlert(t, a)
	e := r.wantError(t, api.CodeUndeliverableAllChannels)

	want := []api.FailedAttempt{{Channel: "call", FailureClass: "permanent"}, {Channel: "sms", FailureClass: "permanent"}}
	if !slices.Equal(e.Attempts, want) || e.Channel != "" {
		t.Errorf("error %+v, want attempts %+v", e, want)
	}

	for _, d := range destinations(t, fallbackContact) {
		if strings.Contains(string(r.body), d) {
			t.Errorf("the answer holds the destination %q", d)
		}
	}

	rec := tgt.getLocation(t, r).record(t, a)
	if rec.Status != "failed" || rec.SentAt != "" || len(rec.Attempts) != 2 {
		t.Errorf("record %+v, want failed after two attempts", rec)
	}

	if got := eventTypes(t, rec); got[len(got)-1] != "failed" {
		t.Errorf("events %v, want the last to be failed", got)
	}

	if again := tgt.postAlert(t, a); !again.replayed() || again.status != r.status {
		t.Errorf("retry: %s, want the recorded answer replayed", again)
	}

	tgt.drain(t)

	if got := len(deliveries(tap, a.MessageID)); got != 0 {
		t.Errorf("%d deliveries at the tap, want none", got)
	}
}

// TestGetRefuses: an unknown message_id and another client's alert are the
// same 404 (no existence oracle); no token is 401.
func TestGetRefuses(t *testing.T) {
	t.Parallel()

	a := newAlert(t, alert.PriorityLow, "")
	tgt.postAlert(t, a).wantSent(t, a)

	tgt.get(t, newMessageID(t, "unknown"), tgt.token).wantError(t, api.CodeNotFound)

	other := tgt.get(t, a.MessageID, tgt.needSecondClient(t))
	other.wantError(t, api.CodeNotFound)

	unknown := tgt.get(t, newMessageID(t, "unknown2"), tgt.token)
	if msg := func(r reply) string { return r.apiError(t).Message }; msg(other) != msg(unknown) {
		t.Errorf("another client's alert answers %q, an unknown id %q: want the same", msg(other), msg(unknown))
	}

	if r := tgt.get(t, a.MessageID, ""); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %s, want 401", r)
	}

	tgt.get(t, a.MessageID, tgt.token).record(t, a) // and the owner reads it
}

// TestReusedMessageIDAnswersTheNewest: once the idempotency record has
// expired, a different alert with the same message_id is a second alert:
// both records stay, apart, and GET answers the newest.
func TestReusedMessageIDAnswersTheNewest(t *testing.T) {
	t.Parallel()

	env := tgt.needSandbox(t, "deleting an idempotency record")

	a := newAlert(t, alert.PriorityMedium, "")
	tgt.postAlert(t, a).wantSent(t, a)

	forget(t, env, a.MessageID)

	b := a
	b.Priority, b.Description = alert.PriorityLow, "Sodium 118 mmol/L, another alert with the same message_id"
	tgt.postAlert(t, b).wantSent(t, b)

	if rec := tgt.get(t, a.MessageID, tgt.token).record(t, b); rec.Priority != "L" || rec.Attempts[0].Channel != "email" {
		t.Errorf("record %+v, want the newer alert (L, by email)", rec)
	}

	if n := len(stateItems(t, env, a.MessageID)); n != 2 {
		t.Errorf("%d alert instances recorded, want 2", n)
	}
}

// stateItems reads the state items of the sandbox client's message_id id
// from the alerts table: one per alert instance.
func stateItems(t *testing.T, env *sandbox.Sandbox, id string) []map[string]types.AttributeValue {
	t.Helper()

	out, err := env.Clients.DynamoDB.Query(t.Context(), &dynamodb.QueryInput{
		TableName:                 aws.String(env.Deployment.OutputString(names.OutputAlertsTable)),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": names.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: alert.Key{Client: sandbox.ClientName, MessageID: id}.String()}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}

	return slices.DeleteFunc(out.Items, func(it map[string]types.AttributeValue) bool {
		k, _ := it[names.AttrKind].(*types.AttributeValueMemberS)

		return k == nil || k.Value != "state"
	})
}

// TestConflictingWriteLeavesNoEvent: while the call is with Connect,
// another writer moves the alert's state item on (its version). The
// processor's write of the outcome is a transaction conditioned on the
// version it read: it fails as a whole, so no audit event is written and
// the attempt stays as it was; the processor says so at ERROR. The caller
// still learns the call was placed.
func TestConflictingWriteLeavesNoEvent(t *testing.T) {
	t.Parallel()

	env := tgt.needSandbox(t, "writing the alerts table")
	stub := tgt.needConnect(t)

	a := newAlert(t, priorityFor(t, contact.ChannelCall), "")
	table := env.Deployment.OutputString(names.OutputAlertsTable)

	var bumped error

	callFaults.during(t, stub.SetDecide, a.MessageID, func(standin.OutboundCall) {
		bumped = bumpVersion(context.WithoutCancel(t.Context()), env, table, a.MessageID)
	})

	r := tgt.postAlert(t, a)
	r.wantSent(t, a)

	if bumped != nil {
		t.Fatalf("the conflicting write failed: %v", bumped)
	}

	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	if got := eventTypes(t, rec); !slices.Equal(got, []string{"accepted", "attempt_started"}) {
		t.Errorf("events %v: the refused transaction must leave no event", got)
	}

	if rec.Status != "accepted" || rec.Attempts[0].Status != "sending" {
		t.Errorf("record %s, attempt %s: the refused transaction must change nothing", rec.Status, rec.Attempts[0].Status)
	}

	fn, err := env.Function(names.OutputProcessorFunction)
	if err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(fn.Output(), fmt.Sprintf(`"msg":%q,"request_id"`, names.LogAlertNotRecorded)) ||
		!strings.Contains(fn.Output(), a.MessageID) {
		t.Error("the processor did not log the unrecorded change")
	}
}

// bumpVersion moves the newest state item of the sandbox client's
// message_id id to the next version, as another writer would.
func bumpVersion(ctx context.Context, env *sandbox.Sandbox, table, id string) error {
	pk := alert.Key{Client: sandbox.ClientName, MessageID: id}.String()

	out, err := env.Clients.DynamoDB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": names.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pk}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil || len(out.Items) != 1 {
		return fmt.Errorf("read the state of %s: %d items, %w", id, len(out.Items), err)
	}

	state := out.Items[0]

	version, ok := state[names.AttrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return fmt.Errorf("the state of %s has no numeric %s", id, names.AttrVersion)
	}

	n := version.Value

	v, err := strconv.Atoi(n)
	if err != nil {
		return fmt.Errorf("version %q: %w", n, err)
	}

	_, err = env.Clients.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{names.AttrPK: state[names.AttrPK], names.AttrSK: state[names.AttrSK]},
		UpdateExpression:          aws.String("SET #v = :next"),
		ConditionExpression:       aws.String("#v = :was"),
		ExpressionAttributeNames:  map[string]string{"#v": names.AttrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":was": &types.AttributeValueMemberN{Value: n}, ":next": &types.AttributeValueMemberN{Value: strconv.Itoa(v + 1)}},
	})
	if err != nil {
		return fmt.Errorf("bump the version of %s: %w", id, err)
	}

	return nil
}

// TestMetricLines: the processor writes embedded-metric-format lines for
// a fallback: the alert's (sent, one fallback) and one per attempt, with
// dimensions from fixed sets only and nothing of the alert in them.
func TestMetricLines(t *testing.T) {
	t.Parallel()

	env := tgt.needSandbox(t, "the processor's output")

	a := newAlert(t, alert.PriorityHigh, "")
	a.ContactID = fallbackContact
	tgt.postAlert(t, a).wantSent(t, a)

	fn, err := env.Function(names.OutputProcessorFunction)
	if err != nil {
		t.Fatal(err)
	}

	allowed := map[string][]string{
		names.DimPriority: {"H", "M", "L"}, names.DimOutcome: {"sent", "failed", "unknown", "retry"},
		names.DimChannel: {"call", "sms", "email"}, names.DimResult: {"sent", "transient", "permanent", "ambiguous"},
	}
	var fallback, refusedCall bool

	for line := range strings.Lines(fn.Output()) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}

		if strings.Contains(line, a.MessageID) || strings.Contains(line, a.Description) || strings.Contains(line, a.ContactID) {
			t.Errorf("metric line holds the alert: %s", line)
		}

		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}

		for dim, values := range allowed {
			if v, ok := m[dim]; ok && !slices.Contains(values, fmt.Sprint(v)) {
				t.Errorf("dimension %s = %v, not one of %v", dim, v, values)
			}
		}

		fallback = fallback || (m[names.DimPriority] == "H" && m[names.DimOutcome] == "sent" && m[names.MetricFallbacks] == 1.0)
		refusedCall = refusedCall || (m[names.DimChannel] == "call" && m[names.DimResult] == "permanent")
	}

	if !fallback || !refusedCall {
		t.Errorf("no metric line for the fallback (%v) or the refused call (%v)", fallback, refusedCall)
	}
}
