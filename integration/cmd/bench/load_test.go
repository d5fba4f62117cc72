package main

import (
	"slices"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// TestBenchIDInDeliveredTexts finds the message_id in the texts the
// processor really renders for each channel.
func TestBenchIDInDeliveredTexts(t *testing.T) {
	t.Parallel()

	id := idMaker{run: "a1b2c3"}.id("r200", 1234)
	if id != "bn-a1b2c3-r200-1234" {
		t.Fatalf("id = %q", id)
	}

	a := alert.Alert{MessageID: id, Type: "blood_test_alert", PatientID: "P-1", ContactID: "C-1", Description: "K 6.9", Priority: alert.PriorityHigh}
	texts := map[contact.Channel]string{
		contact.ChannelSMS:   render.SMS(a, render.SMSFull).Text,
		contact.ChannelEmail: render.Email(a).Body,
		contact.ChannelCall:  render.Voice(a),
	}

	for _, ch := range contact.Channels {
		if got := benchIDRE.FindString(texts[ch]); got != id {
			t.Errorf("%s: found %q in %q, want %q", ch, got, texts[ch], id)
		}
	}
}

// TestAccountingCatchesMissingAndDoubledDeliveries counts deliveries as a
// run does (the tap's SNS messages and the Connect stub's calls) and
// accounts for them: a lost or doubled alert, or a delivery of an alert
// that was not accepted, is a problem (make bench then exits 1); an SQS
// re-read of one SNS message and a refused call are not deliveries.
func TestAccountingCatchesMissingAndDoubledDeliveries(t *testing.T) {
	t.Parallel()

	sms := func(snsID, id string) observe.Delivery {
		return observe.Delivery{MessageID: snsID, Message: "Medium priority alert\nRef: " + id}
	}
	call := func(id string, fault bool) standin.OutboundCall {
		c := standin.OutboundCall{Attributes: map[string]string{names.ConnectMessageAttribute: "<speak>Reference " + id + ".</speak>"}}
		if fault {
			c.Fault = &standin.ConnectError{Status: 500}
		}

		return c
	}
	outcomes := []outcome{{ID: "bn-aa-r50-0", Code: 200}, {ID: "bn-aa-r50-1", Code: 202}, {ID: "bn-aa-r50-2", Code: 200}, {ID: "bn-aa-r50-3", Code: 502}}

	for _, tt := range []struct {
		name  string
		sns   []observe.Delivery
		calls []standin.OutboundCall
		want  string // "" for exactly once
	}{
		{"exactly once", []observe.Delivery{sms("sns-1", "bn-aa-r50-0"), sms("sns-1", "bn-aa-r50-0"), sms("sns-2", "bn-aa-r50-1"), sms("sns-9", "no id")},
			[]standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-3", true)}, ""},
		{"missing", []observe.Delivery{sms("sns-1", "bn-aa-r50-0")},
			[]standin.OutboundCall{call("bn-aa-r50-2", false)}, "lost 1 (e.g. bn-aa-r50-1)"},
		{"doubled SMS", []observe.Delivery{sms("sns-1", "bn-aa-r50-0"), sms("sns-2", "bn-aa-r50-1"), sms("sns-3", "bn-aa-r50-1")},
			[]standin.OutboundCall{call("bn-aa-r50-2", false)}, "doubled 1 (e.g. bn-aa-r50-1)"},
		{"doubled call", []observe.Delivery{sms("sns-1", "bn-aa-r50-0"), sms("sns-2", "bn-aa-r50-1")},
			[]standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-2", false)}, "doubled 1 (e.g. bn-aa-r50-2)"},
		{"delivered though not accepted", []observe.Delivery{sms("sns-1", "bn-aa-r50-0"), sms("sns-2", "bn-aa-r50-1")},
			[]standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-3", false)}, "delivered though not accepted 1 (e.g. bn-aa-r50-3)"},
		{"lost and doubled", []observe.Delivery{sms("sns-1", "bn-aa-r50-0"), sms("sns-2", "bn-aa-r50-0")},
			nil, "doubled 1 (e.g. bn-aa-r50-0); lost 2 (e.g. bn-aa-r50-1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			a := reckon(outcomes, deliveries(tt.sns, tt.calls), nil)
			if got := a.problems(); got != tt.want {
				t.Errorf("problems %q, want %q", got, tt.want)
			}

			if a.Requests != 4 || a.Accepted != 3 {
				t.Errorf("requests %d, accepted %d; want 4 and 3 (200 and 202 are accepted, 502 is not)", a.Requests, a.Accepted)
			}
		})
	}
}

func TestReckonSortsIDs(t *testing.T) {
	t.Parallel()

	a := reckon([]outcome{{ID: "c", Code: 200}, {ID: "a", Code: 200}, {ID: "b", Code: 200}}, map[string]int{"b": 2}, nil)
	if !slices.Equal(a.Lost, []string{"a", "c"}) || a.Deliveries != 2 || a.problems() != "doubled 1 (e.g. b); lost 2 (e.g. a)" {
		t.Errorf("lost %v, deliveries %d, problems %q", a.Lost, a.Deliveries, a.problems())
	}
}

func TestAWSCallsPerAlert(t *testing.T) {
	t.Parallel()

	sent := func(calls int) observe.Segment {
		seg := observe.Segment{Name: "a2p-processor", Annotations: map[string]any{names.AnnotationOutcome: names.OutcomeSent}}
		for range calls {
			seg.Subsegments = append(seg.Subsegments, observe.Segment{Name: "DynamoDB", Namespace: "aws"})
		}

		return seg
	}
	replay := sent(1)
	replay.Annotations[names.AnnotationOutcome] = names.OutcomeReplay

	if got := awsCallsPerAlert([]observe.Segment{sent(6), sent(6), sent(7), replay, {Name: "other"}}); got != 6 {
		t.Errorf("awsCallsPerAlert = %d, want 6 (the median of sent alerts only)", got)
	}

	if got := awsCallsPerAlert(nil); got != 0 {
		t.Errorf("awsCallsPerAlert(nil) = %d, want 0", got)
	}
}

// TestReckonUnanswered: a request the client gave up on counts as accepted
// when the server recorded it, and must then be delivered exactly once;
// one the server did not record must not be delivered.
func TestReckonUnanswered(t *testing.T) {
	t.Parallel()
	outcomes := []outcome{{ID: "kept", Code: 0}, {ID: "lost", Code: 0}, {ID: "ghost", Code: 0}, {ID: "refused", Code: 0}}
	recorded := map[string]bool{"kept": true, "lost": true}
	a := reckon(outcomes, map[string]int{"kept": 1, "ghost": 1}, recorded)
	if a.Unanswered != 4 || a.Accepted != 2 || a.problems() != "delivered though not accepted 1 (e.g. ghost); lost 1 (e.g. lost)" {
		t.Errorf("unanswered %d, accepted %d, problems %q", a.Unanswered, a.Accepted, a.problems())
	}
}
