package render_test

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/render"
)

func sample() alert.Alert {
	return alert.Alert{
		MessageID: "msg-1", Type: "blood_test_alert", PatientID: "P-7",
		ContactID: "C-1", Description: "Potassium 6.9 mmol/L", Priority: alert.PriorityHigh,
	}
}

func TestEscapeSSML(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"plain":                   "plain",
		"a & b":                   "a &amp; b",
		"<break time='3s'/>":      "&lt;break time=&apos;3s&apos;/&gt;",
		`"quoted"`:                "&quot;quoted&quot;",
		"</speak><speak>injected": "&lt;/speak&gt;&lt;speak&gt;injected",
		"&amp; already":           "&amp;amp; already",
		"ünïcödé stays":           "ünïcödé stays",
	}
	for in, want := range tests {
		if got := render.EscapeSSML(in); got != want {
			t.Errorf("EscapeSSML(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVoiceCannotInjectMarkup parses the voice text inside <speak> as XML
// and checks that hostile descriptions stay character data.
func TestVoiceCannotInjectMarkup(t *testing.T) {
	t.Parallel()
	for _, desc := range []string{
		`</speak><speak><audio src="https://evil.example/x.mp3"/>`,
		`<break time="10s"/> & more`,
		`'single' "double" <>&`,
	} {
		a := sample()
		a.Description = desc
		doc := "<speak>" + render.Voice(a) + "</speak>"
		dec := xml.NewDecoder(strings.NewReader(doc))
		elements := 0
		var text strings.Builder
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tk := tok.(type) {
			case xml.StartElement:
				elements++
			case xml.CharData:
				text.Write(tk)
			}
		}
		if elements != 1 {
			t.Errorf("description %q produced %d elements in <speak>, want 1", desc, elements)
		}
		if !strings.Contains(text.String(), strings.TrimRight(desc, ". ")) {
			t.Errorf("spoken text %q lost the description %q", text.String(), desc)
		}
	}
}

func TestVoiceContent(t *testing.T) {
	t.Parallel()
	got := render.Voice(sample())
	for _, want := range []string{"high priority alert", "blood test alert", "P - 7", "Potassium 6.9 mmol/L", "Reference msg-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("Voice() = %q, want it to contain %q", got, want)
		}
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	e := render.Email(sample())
	if e.Subject != "[High priority] blood_test_alert (ref msg-1)" {
		t.Errorf("Subject = %q", e.Subject)
	}
	for _, want := range []string{"high priority", "Type: blood_test_alert", "Patient: P-7", "Potassium 6.9 mmol/L", "Reference: msg-1"} {
		if !strings.Contains(e.Body, want) {
			t.Errorf("Body lacks %q:\n%s", want, e.Body)
		}
	}
	long := sample()
	long.MessageID = strings.Repeat("m", 128)
	s := render.Email(long).Subject
	if len(s) != 100 || !strings.HasSuffix(s, "...") || strings.ContainsAny(s, "\r\n") {
		t.Errorf("long subject = %q (%d bytes), want 100 bytes ending ...", s, len(s))
	}
}

func TestSMS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		desc     string
		encoding string
		segments int
	}{
		{"short", "Potassium high", "GSM-7", 1},
		{"long GSM", strings.Repeat("a", 300), "GSM-7", 3},
		{"extension chars count twice", strings.Repeat("€", 100), "GSM-7", 2},
		{"unicode switches to UCS-2", "Résultat prêt – à voir", "UCS-2", 2},
		{"longest", strings.Repeat("b", 1000), "GSM-7", 7}, // 1056 septets / 153
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := sample()
			a.Description = tt.desc
			got := render.SMS(a, render.SMSFull)
			if got.Encoding != tt.encoding || got.Segments != tt.segments {
				t.Errorf("SMS = %s in %d parts, want %s in %d (text %d chars)", got.Encoding, got.Segments, tt.encoding, tt.segments, len([]rune(got.Text)))
			}
			if !strings.Contains(got.Text, tt.desc) {
				t.Error("SMS text lost the description: nothing may be truncated")
			}
			if len([]rune(got.Text)) > 1600 {
				t.Errorf("SMS text is %d chars, over SNS's 1600", len([]rune(got.Text)))
			}
		})
	}
	got := render.SMS(sample(), render.SMSFull).Text
	for _, want := range []string{"High priority: blood_test_alert", "Patient: P-7", "Potassium 6.9 mmol/L", "Ref: msg-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("SMS text %q lacks %q", got, want)
		}
	}
}

func TestSMSMinimal(t *testing.T) {
	t.Parallel()
	a := sample()
	got := render.SMS(a, render.SMSMinimal)
	if want := "High priority: blood_test_alert\nRef: msg-1\nFor details, open the app or your email."; got.Text != want {
		t.Errorf("minimal SMS = %q, want %q", got.Text, want)
	}
	for name, secret := range map[string]string{"description": a.Description, "patient_id": a.PatientID} {
		if strings.Contains(got.Text, secret) {
			t.Errorf("minimal SMS carries the %s", name)
		}
	}
	if got.Encoding != "GSM-7" || got.Segments != 1 {
		t.Errorf("minimal SMS is %s in %d parts, want one GSM-7 part", got.Encoding, got.Segments)
	}
	if full := render.SMS(a, render.SMSFull); full.Text == got.Text {
		t.Error("full and minimal SMS are the same")
	}
}

func TestParseSMSContent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]render.SMSContent{"": render.SMSFull, "full": render.SMSFull, "minimal": render.SMSMinimal} {
		if got, err := render.ParseSMSContent(in); err != nil || got != want {
			t.Errorf("ParseSMSContent(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Minimal", "none", " full"} {
		if _, err := render.ParseSMSContent(in); err == nil || !strings.Contains(err.Error(), "full or minimal") {
			t.Errorf("ParseSMSContent(%q) error = %v, want one naming full and minimal", in, err)
		}
	}
}

func TestAckInMessages(t *testing.T) {
	t.Parallel()
	a := alert.Alert{MessageID: "msg-1", Type: "blood_test_alert", PatientID: "P-1", ContactID: "C-1", Description: "K 6.9", Priority: alert.PriorityHigh}
	ack := render.Ack{Link: "https://x.example/v1/ack/tok", Code: "482913"}
	sms := render.SMSWithAck(a, render.SMSFull, ack).Text
	if !strings.Contains(sms, "\nTo acknowledge, reply 482913 or open https://x.example/v1/ack/tok\n") || !strings.HasSuffix(sms, "\nRef: msg-1") {
		t.Errorf("SMS %q: want the code and link before the reference", sms)
	}
	if got := render.SMSWithAck(a, render.SMSFull, render.Ack{}).Text; got != render.SMS(a, render.SMSFull).Text || strings.Contains(got, "acknowledge") {
		t.Errorf("SMS without an ack %q asks to acknowledge", got)
	}
	if m := render.SMSWithAck(a, render.SMSMinimal, ack).Text; !strings.Contains(m, "reply 482913") || strings.Contains(m, "K 6.9") {
		t.Errorf("minimal SMS %q: want the code, not the description", m)
	}
	mail := render.EmailWithAck(a, ack).Body
	if !strings.Contains(mail, "open https://x.example/v1/ack/tok and press Acknowledge") || strings.Contains(mail, "482913") {
		t.Errorf("email %q: want the link and no reply code", mail)
	}
	if render.EmailWithAck(a, render.Ack{}) != render.Email(a) {
		t.Error("an email without an ack differs from Email")
	}
}

// TestTextsKeepTheirFormat: the texts are built by concatenation; they are
// exactly what the format strings they replaced would print, whatever the
// fields hold (format verbs included) and whatever the priority.
func TestTextsKeepTheirFormat(t *testing.T) {
	t.Parallel()
	for _, p := range []alert.Priority{alert.PriorityLow, alert.PriorityMedium, alert.PriorityHigh, "X"} {
		a := alert.Alert{MessageID: "m-%d-1", Type: "blood_%s_test", PatientID: "P-%v", ContactID: "C-1",
			Description: "K 6.9 & <recheck> %% 100% \"q\"", Priority: p}
		titled := strings.ToUpper(p.Label()[:1]) + p.Label()[1:]
		full := fmt.Sprintf("%s priority: %s\nPatient: %s\n%s\nRef: %s", titled, a.Type, a.PatientID, a.Description, a.MessageID)
		minimal := fmt.Sprintf("%s priority: %s\nRef: %s\n%s", titled, a.Type, a.MessageID, "For details, open the app or your email.")
		subject := fmt.Sprintf("[%s priority] %s (ref %s)", titled, a.Type, a.MessageID)
		body := fmt.Sprintf("A %s priority alert needs your attention.\n\nType: %s\nPatient: %s\n\n%s\n\nReference: %s\n",
			p.Label(), a.Type, a.PatientID, a.Description, a.MessageID)
		if got := render.SMS(a, render.SMSFull).Text; got != full {
			t.Errorf("SMS full (%s) = %q, want %q", p, got, full)
		}
		if got := render.SMS(a, render.SMSMinimal).Text; got != minimal {
			t.Errorf("SMS minimal (%s) = %q, want %q", p, got, minimal)
		}
		if e := render.Email(a); e.Subject != subject || e.Body != body {
			t.Errorf("email (%s) = %q / %q, want %q / %q", p, e.Subject, e.Body, subject, body)
		}
	}
}
