package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/services/processor/status"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/escalation"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const (
	phone       = "+447700900123"
	description = "Potassium 6.9 mmol/L, please review"
	patient     = "P-4F2A91"
)

// seed records, through a real core, an alert of client whose call fails
// and whose SMS is sent.
func seed(t *testing.T, store alerting.Store, client string) {
	t.Helper()
	c := contact.Contact{ID: "C-1", Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {contact.ChannelCall, contact.ChannelSMS}},
		CallPhone: phone, SMSTopicARN: "arn:aws:sns:eu-west-2:000000000000:c1-sms"}
	core, err := alerting.New(alerting.Config{
		Store: store, Contacts: contacts{c}, Publisher: providers{}, Caller: providers{}, Retention: time.Hour,
		Now: func() time.Time { return t0 }, Random: func() string { return "0a1b2c3d" },
	})
	if err != nil {
		t.Fatal(err)
	}
	a := alert.Alert{MessageID: "lab-1", Type: "blood_test_alert", PatientID: patient, ContactID: "C-1", Description: description, Priority: alert.PriorityHigh}
	acc, err := core.Accept(t.Context(), alerting.Intake{Key: alert.Key{Client: client, MessageID: "lab-1"}, Instance: core.NewInstance(), Alert: a, Actor: delivery.Client(client)})
	if err != nil {
		t.Fatal(err)
	}
	if res := core.Deliver(t.Context(), acc, t0.Add(time.Minute)); res.Outcome != alerting.OutcomeSent {
		t.Fatalf("seed: %+v", res)
	}
}

type contacts []contact.Contact

func (c contacts) GetContact(context.Context, string) (contact.Contact, error) { return c[0], nil }

type providers struct{}

func (providers) PublishSMS(context.Context, string, string) (string, error) { return "sns-1", nil }
func (providers) PublishEmail(context.Context, string, string, string) (string, error) {
	return "sns-2", nil
}

func (providers) Call(_ context.Context, r alerting.CallRequest) (string, error) {
	return "", &delivery.Error{Class: delivery.Permanent, Code: "DestinationNotAllowedException", Err: errors.New("refused " + r.Destination)}
}

func get(t *testing.T, h *status.Handler, client, id string) events.APIGatewayProxyResponse {
	t.Helper()
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodGet, PathParameters: map[string]string{names.PathParamMessageID: id},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "apigw-1"},
	}
	if client != "" {
		ev.RequestContext.Authorizer = map[string]any{names.AuthContextClient: client, names.AuthContextPrincipalID: client}
	}
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	resp, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func newHandler(t *testing.T, r status.Records) (*status.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	h, err := status.New(r, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, &logs
}

func TestGetAnswersTheRecord(t *testing.T) {
	t.Parallel()
	store := alertingtest.NewMemStore()
	seed(t, store, "ward-7")
	h, logs := newHandler(t, store)
	resp := get(t, h, "ward-7", "lab-1")
	if resp.StatusCode != http.StatusOK || resp.Headers[names.HeaderRequestID] != "req-1" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var rec api.AlertRecord
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.MessageID != "lab-1" || rec.Status != "sent" || rec.Priority != "H" || rec.ContactID != "C-1" ||
		strings.Join(rec.Channels, ",") != "call,sms" || rec.AcceptedAt != "2026-12-01T09:00:00.000Z" || rec.SentAt == "" {
		t.Errorf("record %+v", rec)
	}
	if len(rec.Attempts) != 2 || rec.Attempts[0].FailureClass != "permanent" || rec.Attempts[1].ProviderRef != "sns-1" {
		t.Errorf("attempts %+v", rec.Attempts)
	}
	var types []string
	for i, e := range rec.Events {
		types = append(types, e.Type)
		if e.Seq != i+1 || e.At == "" || e.Actor == "" || e.Status == "" {
			t.Errorf("event %+v", e)
		}
	}
	want := "accepted attempt_started attempt_failed fallback attempt_started attempt_sent sent"
	if strings.Join(types, " ") != want || rec.Events[0].Actor != "client:ward-7" || rec.Events[3].FromChannel != "call" {
		t.Errorf("events %v, want %s", types, want)
	}
	for _, secret := range []string{phone, description, patient, "blood_test_alert", "c1-sms", "DestinationNotAllowed"} {
		if strings.Contains(resp.Body, secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("answer or log holds %q", secret)
		}
	}
	if d := phi.Default().Check(resp.Body); d != nil {
		t.Errorf("the PHI guard finds %s in the answer", d.Reason())
	}
}

func TestGetRefuses(t *testing.T) {
	t.Parallel()
	store := alertingtest.NewMemStore()
	seed(t, store, "ward-7")
	failing := failingRecords{}
	tests := []struct {
		name    string
		records status.Records
		client  string
		id      string
		code    api.Code
	}{
		{"unknown id", store, "ward-7", "lab-2", api.CodeNotFound},
		{"another client's alert", store, "ward-8", "lab-1", api.CodeNotFound},
		{"client whose name joins to the key", store, "ward", "7:lab-1", api.CodeNotFound},
		{"invalid id", store, "ward-7", "lab 1", api.CodeInvalid},
		{"no client", store, "", "lab-1", api.CodeInternal},
		{"store down", failing, "ward-7", "lab-1", api.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, logs := newHandler(t, tt.records)
			resp := get(t, h, tt.client, tt.id)
			var body api.ErrorBody
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != tt.code.Status() || body.Error.Code != tt.code {
				t.Fatalf("%d %s, want %s", resp.StatusCode, resp.Body, tt.code)
			}
			if (resp.Headers[names.HeaderRetryAfter] != "") != (tt.code == api.CodeUnavailable) {
				t.Errorf("Retry-After %q on %s", resp.Headers[names.HeaderRetryAfter], tt.code)
			}
			if !strings.Contains(logs.String(), `"outcome":"`+string(tt.code)+`"`) {
				t.Errorf("log %s", logs.String())
			}
		})
	}
}

type failingRecords struct{}

func (failingRecords) Latest(context.Context, alert.Key) (*alerting.Alert, error) {
	return nil, errors.New("ProvisionedThroughputExceeded")
}

type noTimers struct{}

func (noTimers) Set(context.Context, escalation.Timer, time.Time) error { return nil }
func (noTimers) Cancel(context.Context, escalation.Timer) error         { return nil }

// TestGetShowsEscalationAndAcknowledgment: the record of an alert that
// escalated once and was then acknowledged shows the policy in force, the
// stage, who acknowledged how and when, and the time to acknowledge.
func TestGetShowsEscalationAndAcknowledgment(t *testing.T) {
	t.Parallel()
	store := alertingtest.NewMemStore()
	now := t0
	c := contact.Contact{ID: "C-1", Preferences: map[alert.Priority][]contact.Channel{alert.PriorityHigh: {contact.ChannelSMS}},
		SMSTopicARN: "arn:aws:sns:eu-west-2:000000000000:c1-sms"}
	core, err := alerting.New(alerting.Config{
		Store: store, Contacts: contacts{c}, Publisher: providers{}, Retention: time.Hour, Timers: noTimers{},
		Escalation: escalation.Set{Policies: escalation.Defaults(), FailSafe: "C-1"},
		Now:        func() time.Time { return now }, Random: func() string { return "0a1b2c3d" },
	})
	if err != nil {
		t.Fatal(err)
	}
	key := alert.Key{Client: "ward-7", MessageID: "lab-1"}
	a := alert.Alert{MessageID: "lab-1", Type: "blood_test_alert", PatientID: patient, ContactID: "C-1", Description: description, Priority: alert.PriorityHigh}
	acc, err := core.Accept(t.Context(), alerting.Intake{Key: key, Instance: core.NewInstance(), Alert: a, Actor: delivery.Client("ward-7")})
	if err != nil {
		t.Fatal(err)
	}
	core.Deliver(t.Context(), acc, t0.Add(time.Minute))
	now = t0.Add(5 * time.Minute)
	if _, err := core.Escalate(t.Context(), escalation.Timer{Key: key, Instance: acc.Record().Instance, Number: 1}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(6 * time.Minute)
	if _, err := core.Acknowledge(t.Context(), alerting.AckRequest{Key: key, Method: delivery.AckAPI, By: delivery.Client("ward-7")}); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, store)
	var rec api.AlertRecord
	dec := json.NewDecoder(strings.NewReader(get(t, h, "ward-7", "lab-1").Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "acknowledged" || rec.Stage != 1 || rec.AcknowledgedBy != "client:ward-7" || rec.AckMethod != "api" ||
		rec.AcceptedToAcknowledgedMS != 360000 || rec.AcknowledgedAt != "2026-12-01T09:06:00.000Z" || rec.AckLate {
		t.Errorf("record %+v", rec)
	}
	if e := rec.Escalation; e == nil || e.UnacknowledgedAfterSeconds != 1800 || len(e.Stages) != 3 || e.Stages[0].AfterSeconds != 300 ||
		strings.Join(e.Stages[2].Targets, ",") != "contact:C-1" {
		t.Errorf("escalation %+v", rec.Escalation)
	}
	last := rec.Events[len(rec.Events)-1]
	if last.Type != "acknowledged" || last.Method != "api" || last.Stage != 1 {
		t.Errorf("last event %+v", last)
	}
}
