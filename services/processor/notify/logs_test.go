package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// secretsOf lists every value of a that must never be logged: the free
// text, the patient id, the contact's phone number and each rendered text.
func secretsOf(a alert.Alert) map[string]string {
	return map[string]string{
		"description":         a.Description,
		"escaped description": render.EscapeSSML(a.Description),
		"patient_id":          a.PatientID,
		"phone":               phone,
		"sms text":            render.SMS(a, render.SMSFull).Text,
		"email body":          render.Email(a).Body,
		"voice text":          render.Voice(a),
	}
}

// echo is a provider error that repeats what it was sent, as some AWS
// validation errors do.
func echo(parts ...string) error {
	return fmt.Errorf("ValidationException: bad request %s", strings.Join(parts, " | "))
}

func TestLogsHoldNoPHI(t *testing.T) {
	t.Parallel()
	type scenario struct {
		name  string
		alert alert.Alert
		setup func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest
	}
	// In these scenarios a logged cause held PHI, so the log must show a
	// redaction; in the others nothing needed redacting.
	redacts := map[string]bool{
		"sms provider echoes the text": true, "email provider echoes the text": true,
		"sms provider refuses, echoing the text": true, "sms provider throttles, echoing the text": true,
		"call provider echoes number and text": true, "contact store echoes the patient": true,
		"panic with the description": true, "completion write echoes the text": true, "release fails": true,
		"contact store panics with the patient": true,
	}
	send := func(edit func(*alert.Alert)) alert.Alert {
		a := testAlert()
		if edit != nil {
			edit(&a)
		}
		return a
	}
	plain := func(t *testing.T, _ *fixture, a alert.Alert) events.APIGatewayProxyRequest { return eventFor(t, a) }
	scenarios := []scenario{
		{"sent by call", send(func(a *alert.Alert) { a.Priority = alert.PriorityHigh }), plain},
		{"sent by sms", send(nil), plain},
		{"sent by email", send(func(a *alert.Alert) { a.Priority = alert.PriorityLow }), plain},
		{"replay", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.invoke(t, eventFor(t, a))
			return eventFor(t, a)
		}},
		{"mismatch", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			other := a
			other.Description = a.Description + " (edited)"
			f.invoke(t, eventFor(t, other))
			return eventFor(t, a)
		}},
		{"in progress", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.idem.put(notify.Record{Key: keyOf(a), Status: notify.StatusInProgress, PayloadHash: a.Hash(),
				LockOwner: "x", LockExpiry: t0.Add(time.Second), Expiration: t0.Add(time.Hour)})
			return eventFor(t, a)
		}},
		{"invalid with PHI in a field", send(func(a *alert.Alert) { a.Description += " NHS 943 476 5919" }), plain},
		{"invalid with PHI as an unknown field name", send(nil), func(t *testing.T, _ *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			ev := eventFor(t, a)
			ev.Body = strings.TrimSuffix(ev.Body, "}") + fmt.Sprintf(`,%q:"x"}`, a.PatientID)
			return ev
		}},
		{"not found", send(func(a *alert.Alert) { a.ContactID = "dr-nobody" }), plain},
		{"no destination", send(func(a *alert.Alert) { a.ContactID = "dr-nophone"; a.Priority = alert.PriorityHigh }), plain},
		{"sms provider echoes the text", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.pub.publish = func(_ context.Context, c publishCall) (string, error) { return "", echo(c.text) }
			return eventFor(t, a)
		}},
		{"sms provider refuses, echoing the text", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.pub.publish = func(_ context.Context, c publishCall) (string, error) {
				return "", &delivery.Error{Class: delivery.Permanent, Code: "InvalidParameter", Err: echo(c.text)}
			}
			return eventFor(t, a)
		}},
		{"sms provider throttles, echoing the text", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.pub.publish = func(_ context.Context, c publishCall) (string, error) {
				return "", &delivery.Error{Class: delivery.Transient, Code: "Throttled", Err: echo(c.text)}
			}
			return eventFor(t, a)
		}},
		{"email provider echoes the text", send(func(a *alert.Alert) { a.Priority = alert.PriorityLow }), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.pub.publish = func(_ context.Context, c publishCall) (string, error) { return "", echo(c.subject, c.text) }
			return eventFor(t, a)
		}},
		{"call provider echoes number and text", send(func(a *alert.Alert) { a.Priority = alert.PriorityHigh }), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.caller.call = func(_ context.Context, req alerting.CallRequest) (string, error) {
				return "", echo(req.Destination, req.MessageSSML)
			}
			return eventFor(t, a)
		}},
		{"contact store echoes the patient", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.contacts.get = func(context.Context, string) (contact.Contact, error) { return contact.Contact{}, echo(a.PatientID) }
			return eventFor(t, a)
		}},
		{"contact store panics with the patient", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.contacts.get = func(context.Context, string) (contact.Contact, error) { panic("no contact for " + a.PatientID) }
			return eventFor(t, a)
		}},
		{"panic with the description", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.pub.publish = func(context.Context, publishCall) (string, error) { panic(a.Description) }
			return eventFor(t, a)
		}},
		{"call without Connect settings", send(func(a *alert.Alert) { a.Priority = alert.PriorityHigh }), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			*f = *newFixture(t, func(c *alerting.Config) { c.Caller = nil })
			return eventFor(t, a)
		}},
		{"completion write echoes the text", send(nil), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.idem.completeFn = func(_ context.Context, _ notify.Lock, out notify.Outcome) error {
				return echo(out.Response.Body, a.Description)
			}
			return eventFor(t, a)
		}},
		{"release fails", send(func(a *alert.Alert) { a.ContactID = "dr-nobody" }), func(t *testing.T, f *fixture, a alert.Alert) events.APIGatewayProxyRequest {
			f.idem.release = func(context.Context, notify.Lock) error { return echo(a.PatientID) }
			return eventFor(t, a)
		}},
	}

	seenOutcomes := map[string]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			f := newFixture(t)
			ev := sc.setup(t, f, sc.alert)
			f.logs.buf.Reset()
			resp := f.invoke(t, ev)

			logs := f.logs.String()
			// Both the raw text and the decoded values, so that no JSON
			// escaping can hide a secret from the check.
			decoded := strings.Join(stringValues(f.logLines(t)), "\n")
			for what, secret := range secretsOf(sc.alert) {
				if strings.Contains(logs, secret) || strings.Contains(decoded, secret) {
					t.Errorf("logs hold the %s %q:\n%s", what, secret, logs)
				}
			}
			for k, v := range f.tracer.annotations {
				for what, secret := range secretsOf(sc.alert) {
					if strings.Contains(v, secret) {
						t.Errorf("trace annotation %s holds the %s", k, what)
					}
				}
			}
			var requestLines int
			for _, l := range f.logLines(t) {
				if l["msg"] == "request" {
					requestLines++
					if l["status"] != float64(resp.StatusCode) {
						t.Errorf("logged status %v, answered %d", l["status"], resp.StatusCode)
					}
					seenOutcomes[fmt.Sprint(l["outcome"])] = true
				}
			}
			if requestLines != 1 {
				t.Errorf("%d request lines, want exactly 1:\n%s", requestLines, logs)
			}
			if got := strings.Contains(logs, "[redacted]"); got != redacts[sc.name] {
				t.Errorf("logs show a redaction: %v, want %v:\n%s", got, redacts[sc.name], logs)
			}
		})
	}
	// Subtests above are sequential, so every outcome has been seen here.
	for _, o := range []string{"sent", "replay", "invalid", "not_found", "in_progress", "idempotency_mismatch", "no_destination",
		"undeliverable_all_channels", "unavailable", "delivery_unknown", "internal"} {
		if !seenOutcomes[o] {
			t.Errorf("no scenario produced outcome %s", o)
		}
	}
}

// stringValues collects every key and string value of the log lines.
func stringValues(lines []map[string]any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, l := range lines {
		walk(l)
	}
	return out
}
