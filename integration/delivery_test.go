package integration

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

// markupDescription holds every character XML reserves, so that each
// channel shows whether the text was escaped where it must be (the call's
// SSML) and left alone where it must not be (SMS and email are plain text).
const markupDescription = `K+ <6.9> & "rising" 'fast' </speak><break time="9s"/> review`

// markupEscaped is markupDescription as it must stand inside <speak>,
// written out by hand rather than computed by the code under test.
const markupEscaped = `K+ &lt;6.9&gt; &amp; &quot;rising&quot; &apos;fast&apos; &lt;/speak&gt;&lt;break time=&quot;9s&quot;/&gt; review`

// TestEachPriorityReachesItsChannel sends one alert per priority and
// checks what its channel delivered, byte for byte.
func TestEachPriorityReachesItsChannel(t *testing.T) {
	t.Parallel()

	for _, p := range alert.Priorities {
		t.Run(p.Label(), func(t *testing.T) {
			t.Parallel()

			a := newAlert(t, p, "")
			a.Description = markupDescription

			sent := tgt.postAlert(t, a).wantSent(t, a)

			if want, ok := tgt.expectedChannel(p); ok && sent.Channel != string(want) {
				t.Fatalf("priority %s went by %s, want %s (%s)", p, sent.Channel, want, tgt.name)
			}

			switch contact.Channel(sent.Channel) {
			case contact.ChannelEmail:
				checkEmail(t, a, sent)
			case contact.ChannelSMS:
				checkSMS(t, a, sent)
			case contact.ChannelCall:
				checkCall(t, a, sent)
			}
		})
	}
}

// checkEmail checks the email delivery of a.
func checkEmail(t *testing.T, a alert.Alert, sent api.Sent) {
	t.Helper()

	d := waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0]
	checkTopicDelivery(t, d, sent, tgt.topicARN(t, contact.ChannelEmail))

	want := render.Email(a)
	if d.Subject != want.Subject {
		t.Errorf("subject %q, want %q", d.Subject, want.Subject)
	}

	if d.Message != want.Body {
		t.Errorf("body:\n%s\nwant:\n%s", d.Message, want.Body)
	}

	// What a clinician must see, stated independently of the renderer:
	// the priority and reference in the subject; the description verbatim
	// (plain text: no escaping) and the patient in the body.
	wantSubject := "[" + title(a.Priority) + " priority] " + a.Type + " (ref " + a.MessageID + ")"
	if d.Subject != wantSubject {
		t.Errorf("subject %q, want %q", d.Subject, wantSubject)
	}

	for _, s := range []string{"\n" + a.Description + "\n", "Patient: " + a.PatientID + "\n", "Type: " + a.Type + "\n"} {
		if !strings.Contains(d.Message, s) {
			t.Errorf("body lacks %q:\n%s", s, d.Message)
		}
	}
}

// checkSMS checks the SMS delivery of a.
func checkSMS(t *testing.T, a alert.Alert, sent api.Sent) {
	t.Helper()

	d := waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0]
	checkTopicDelivery(t, d, sent, tgt.topicARN(t, contact.ChannelSMS))

	if d.Subject != "" {
		t.Errorf("SMS has subject %q, want none", d.Subject)
	}

	ack := ackOf(d.Message)
	if (ack.Link != "") != tgt.escalates(a.Priority) || (ack.Code != "") != tgt.escalates(a.Priority) {
		t.Errorf("text %q: a link and a code when (and only when) the priority asks for an acknowledgment", d.Message)
	}
	if want := render.SMSWithAck(a, render.SMSFull, ack).Text; d.Message != want {
		t.Errorf("text:\n%s\nwant:\n%s", d.Message, want)
	}

	// What the processor asked SNS for, where the SNS proxy sees it (SNS
	// may keep its reserved AWS.SNS.* attributes from subscribers).
	if tgt.sns != nil {
		for _, p := range publishes(tgt.sns, a.MessageID) {
			if got := p.Attributes["AWS.SNS.SMS.SMSType"]; got != "Transactional" {
				t.Errorf("SMS published with SMS type %q, want Transactional (the account default is promotional)", got)
			}
		}
	}

	for _, line := range []string{title(a.Priority) + " priority: " + a.Type, "Patient: " + a.PatientID, a.Description, "Ref: " + a.MessageID} {
		if !containsLine(d.Message, line) {
			t.Errorf("text lacks the line %q:\n%s", line, d.Message)
		}
	}
}

// title is the priority's label with a capital, as messages show it.
func title(p alert.Priority) string {
	l := p.Label()

	return strings.ToUpper(l[:1]) + l[1:]
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}

	return false
}

// checkTopicDelivery checks an SNS delivery's topic and message id.
func checkTopicDelivery(t *testing.T, d observe.Delivery, sent api.Sent, wantTopic string) {
	t.Helper()

	if d.TopicARN != wantTopic {
		t.Errorf("delivered to topic %s, want %s", d.TopicARN, wantTopic)
	}

	if d.MessageID != sent.ProviderMessageID {
		t.Errorf("SNS message id %s, answered provider_message_id %s", d.MessageID, sent.ProviderMessageID)
	}
}

// checkCall checks the call placed for a.
func checkCall(t *testing.T, a alert.Alert, sent api.Sent) {
	t.Helper()

	c := waitCalls(t, tgt.needConnect(t), a.MessageID, 1)[0]

	if c.Fault != nil || c.ContactID != sent.ProviderMessageID {
		t.Errorf("call fault %v, contact id %q; answered provider_message_id %q", c.Fault, c.ContactID, sent.ProviderMessageID)
	}

	if ls := tgt.local; ls != nil {
		for _, f := range []struct{ name, got, want string }{
			{"InstanceId", c.InstanceID, ls.instanceID},
			{"ContactFlowId", c.ContactFlowID, ls.contactFlowID},
			{"SourcePhoneNumber", c.SourcePhoneNumber, ls.sourcePhone},
			{"DestinationPhoneNumber", c.DestinationPhoneNumber, ls.contact.CallPhone},
		} {
			if f.got != f.want || f.want == "" {
				t.Errorf("%s %q, want %q (the stack's)", f.name, f.got, f.want)
			}
		}
	}

	if tgt.clientName != "" {
		at := delivery.CallAttempt{ContactID: a.ContactID, Number: 1}
		if want := delivery.CallClientToken(alert.Key{Client: tgt.clientName, MessageID: a.MessageID}, a.Hash(), at); c.ClientToken != want {
			t.Errorf("ClientToken %q, want %q (delivery.CallClientToken of the client, message_id, payload hash and attempt 1)", c.ClientToken, want)
		}
	} else if len(c.ClientToken) != 64 {
		t.Errorf("ClientToken %q, want 64 hex characters", c.ClientToken)
	}

	ssml := c.Attributes[names.ConnectMessageAttribute]
	if want := render.Voice(a); ssml != want {
		t.Errorf("attribute %s:\n%s\nwant:\n%s", names.ConnectMessageAttribute, ssml, want)
	}

	if !strings.Contains(ssml, markupEscaped) {
		t.Errorf("attribute %s %q lacks the escaped description %q", names.ConnectMessageAttribute, ssml, markupEscaped)
	}

	// The contact flow puts the attribute inside <speak>: it must parse
	// as text there, with no element of its own, and read back as the
	// description the caller sent.
	text, err := speakText("<speak>" + ssml + "</speak>")
	if err != nil {
		t.Fatalf("<speak>%s</speak>: %v", ssml, err)
	}

	if !strings.Contains(text, " "+a.Description+". ") {
		t.Errorf("spoken text %q lacks the description %q", text, a.Description)
	}
}

// speakText parses an SSML document and returns its text. It fails when
// the root is not one <speak> element or when that element holds any
// markup: elements, comments, processing instructions or directives.
func speakText(doc string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))

	var (
		text  strings.Builder
		depth int
		roots int
	)

	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}

		if err != nil {
			return "", err
		}

		switch tk := tok.(type) {
		case xml.StartElement:
			if depth > 0 || tk.Name.Local != "speak" {
				return "", errors.New("markup <" + tk.Name.Local + "> inside <speak>")
			}

			depth++
			roots++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 {
				return "", errors.New("text outside <speak>")
			}

			text.Write(tk)
		default:
			return "", errors.New("markup other than text inside <speak>")
		}
	}

	if roots != 1 {
		return "", errors.New("not exactly one <speak> element")
	}

	return text.String(), nil
}
