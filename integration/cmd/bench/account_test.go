package main

import (
	"slices"
	"strings"
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

	a := alert.Alert{MessageID: id, Type: "blood_test_alert", PatientID: "P-1", ContactID: contactID, Description: "K 6.9", Priority: alert.PriorityHigh}

	for _, ch := range contact.Channels {
		t.Run(string(ch), func(t *testing.T) {
			t.Parallel()

			text := renderFor(t, a, ch)
			if got := benchIDRE.FindString(text); got != id {
				t.Errorf("found %q in %q, want %q", got, text, id)
			}
		})
	}
}

// TestAccountingCatchesMissingAndDoubledDeliveries feeds deliveries through
// the same path as a run (the tap's callback and the Connect stub's calls),
// accounts for them, and checks that make bench's exit code is 1 when an
// accepted alert was lost or delivered twice, and 0 when each was
// delivered once. An SQS re-read of one SNS message is not a double.
func TestAccountingCatchesMissingAndDoubledDeliveries(t *testing.T) {
	t.Parallel()

	sms := func(l *deliveryLog, snsID, id string) {
		l.onDelivery(observe.Delivery{MessageID: snsID, Message: "Medium priority alert\nRef: " + id})
	}
	call := func(id string, fault bool) standin.OutboundCall {
		c := standin.OutboundCall{Attributes: map[string]string{names.ConnectMessageAttribute: "<speak>Reference " + id + ".</speak>"}}
		if fault {
			c.Fault = &standin.ConnectError{Status: 500}
		}

		return c
	}
	accepted := []outcome{{ID: "bn-aa-r50-0", Code: 200}, {ID: "bn-aa-r50-1", Code: 200}, {ID: "bn-aa-r50-2", Code: 200}, {ID: "bn-aa-r50-3", Code: 502}}

	for _, tt := range []struct {
		name    string
		deliver func(*deliveryLog) []standin.OutboundCall
		want    string // "" for exactly once
	}{
		{"exactly once", func(l *deliveryLog) []standin.OutboundCall {
			sms(l, "sns-1", "bn-aa-r50-0")
			sms(l, "sns-1", "bn-aa-r50-0") // the tap read it twice
			sms(l, "sns-2", "bn-aa-r50-1")

			return []standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-3", true)} // the 502 was a refused call
		}, ""},
		{"missing", func(l *deliveryLog) []standin.OutboundCall {
			sms(l, "sns-1", "bn-aa-r50-0")

			return []standin.OutboundCall{call("bn-aa-r50-2", false)}
		}, "lost 1 (e.g. bn-aa-r50-1)"},
		{"doubled SMS", func(l *deliveryLog) []standin.OutboundCall {
			sms(l, "sns-1", "bn-aa-r50-0")
			sms(l, "sns-2", "bn-aa-r50-1")
			sms(l, "sns-3", "bn-aa-r50-1") // a second publish

			return []standin.OutboundCall{call("bn-aa-r50-2", false)}
		}, "doubled 1 (e.g. bn-aa-r50-1)"},
		{"doubled call", func(l *deliveryLog) []standin.OutboundCall {
			sms(l, "sns-1", "bn-aa-r50-0")
			sms(l, "sns-2", "bn-aa-r50-1")

			return []standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-2", false)}
		}, "doubled 1 (e.g. bn-aa-r50-2)"},
		{"delivered without a 200", func(l *deliveryLog) []standin.OutboundCall {
			sms(l, "sns-1", "bn-aa-r50-0")
			sms(l, "sns-2", "bn-aa-r50-1")

			return []standin.OutboundCall{call("bn-aa-r50-2", false), call("bn-aa-r50-3", false)}
		}, "delivered without a 200 1 (e.g. bn-aa-r50-3)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			l := newDeliveryLog()
			delivered, _ := l.counts(tt.deliver(l))
			a := reckon(accepted, delivered)
			rep := &report{Phases: []phase{{Rate: 50, Outcomes: accepted, Account: a}}, Global: a}

			if got := a.problems(); got != tt.want {
				t.Fatalf("problems %q, want %q", got, tt.want)
			}

			if code, want := exitCode(rep), map[bool]int{true: 0, false: 1}[tt.want == ""]; code != want {
				t.Fatalf("exit code %d, want %d", code, want)
			}

			if a.Accepted != 3 || a.OK != 3 || a.Requests != 4 || a.Codes[502] != 1 {
				t.Errorf("answers counted as %+v", a)
			}
		})
	}
}

func TestDeliveryLogSignalsEachDelivery(t *testing.T) {
	t.Parallel()

	l := newDeliveryLog()
	_, changed := l.counts(nil)

	l.onDelivery(observe.Delivery{MessageID: "sns-1", Message: "no id here"})

	select {
	case <-changed:
	default:
		t.Fatal("a delivery did not signal a change")
	}

	if got, _ := l.counts(nil); len(got) != 0 {
		t.Errorf("counts %v for a message without a bench id", got)
	}
}

func TestReckonSortsIDs(t *testing.T) {
	t.Parallel()

	a := reckon([]outcome{{ID: "c", Code: 200}, {ID: "a", Code: 200}, {ID: "b", Code: 200}}, nil)
	if !slices.Equal(a.Lost, []string{"a", "b", "c"}) || !strings.HasPrefix(a.problems(), "lost 3 (e.g. a)") {
		t.Errorf("lost %v, problems %q", a.Lost, a.problems())
	}
}

// renderFor renders the text a channel delivers for a.
func renderFor(t *testing.T, a alert.Alert, ch contact.Channel) string {
	t.Helper()

	switch ch {
	case contact.ChannelSMS:
		return render.SMS(a, render.SMSFull).Text
	case contact.ChannelEmail:
		return render.Email(a).Body
	case contact.ChannelCall:
		return render.Voice(a)
	default:
		t.Fatalf("no rendering for channel %s", ch)

		return ""
	}
}
