// Package render turns a validated alert into what each channel delivers:
// the SMS text, the email subject and body, and the text a voice call
// speaks. Text bound for SSML is XML-escaped here, so an alert cannot
// inject markup into the contact flow's <speak> element.
package render

import (
	"fmt"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// SMSText is the text of an SMS and how carriers will carry it.
type SMSText struct {
	// Text is the whole message, sent as one SNS Publish.
	Text string
	// Encoding is "GSM-7" when every character is in the GSM 03.38
	// alphabet, else "UCS-2".
	Encoding string
	// Segments is how many SMS parts the text needs.
	Segments int
}

// SMSContent is how much of an alert its SMS carries: a stack setting
// (names.ConfigSMSContent), since an SMS is public content: it can show on
// a locked phone's screen and rests with the carrier.
type SMSContent string

// The SMS contents.
const (
	// SMSFull carries priority, type, patient id, description and
	// reference. The default.
	SMSFull SMSContent = "full"
	// SMSMinimal carries priority, type and reference only, and points the
	// clinician to the app or their email for the details, as Incident
	// Manager separates public from secure content.
	SMSMinimal SMSContent = "minimal"
)

// SMSContents lists every SMS content, the default first.
var SMSContents = []SMSContent{SMSFull, SMSMinimal}

// ParseSMSContent reads "full" or "minimal"; "" is SMSFull.
func ParseSMSContent(s string) (SMSContent, error) {
	if s == "" {
		return SMSFull, nil
	}
	for _, c := range SMSContents {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown SMS content %q (want %s or %s)", s, SMSFull, SMSMinimal)
}

// minimalSMSPointer ends a minimal SMS: where the details are.
const minimalSMSPointer = "For details, open the app or your email."

// SMS builds the SMS for a with the given content (SMSFull unless it is
// SMSMinimal).
//
// Past 160 GSM-7 characters (or 70 UCS-2 characters, when the text holds
// any character outside the GSM alphabet) the message is NOT truncated:
// SNS sends it as a concatenated SMS of 153-character (67 for UCS-2)
// parts, which the handset shows as one message. Each part is billed as
// an SMS. The longest alert (1000-character description) fits SNS's
// 1600-character limit for one Publish. Segments reports the count so the
// processor can log it.
func SMS(a alert.Alert, content SMSContent) SMSText {
	return SMSWithAck(a, content, Ack{})
}

// Ack is how a clinician acknowledges an alert from its message: a link
// to the acknowledgment page and, in an SMS, a code to reply with. The
// zero value asks for nothing.
type Ack struct {
	// Link is the acknowledgment page's URL ("" for none).
	Link string
	// Code is the SMS reply code ("" for none).
	Code string
}

// smsLine is the SMS's acknowledgment line, "" when it asks for nothing.
func (k Ack) smsLine() string {
	switch {
	case k.Code != "" && k.Link != "":
		return "To acknowledge, reply " + k.Code + " or open " + k.Link + "\n"
	case k.Code != "":
		return "Reply " + k.Code + " to acknowledge\n"
	case k.Link != "":
		return "To acknowledge, open " + k.Link + "\n"
	}
	return ""
}

// SMSWithAck is SMS with the acknowledgment line before the reference
// (which stays last in a full SMS: "Ref: <message_id>"; a minimal SMS
// ends with where the details are).
func SMSWithAck(a alert.Alert, content SMSContent, ack Ack) SMSText {
	// Concatenated rather than formatted: one allocation per text.
	line := ack.smsLine()
	text := title(a.Priority) + " priority: " + a.Type + "\nPatient: " + a.PatientID + "\n" + a.Description + "\n" + line + "Ref: " + a.MessageID
	if content == SMSMinimal {
		text = title(a.Priority) + " priority: " + a.Type + "\nRef: " + a.MessageID + "\n" + line + minimalSMSPointer
	}
	enc, segs := smsSegments(text)
	return SMSText{Text: text, Encoding: enc, Segments: segs}
}

// EmailText is an email's subject and plain-text body.
type EmailText struct {
	// Subject is at most 100 ASCII characters, one line, as SNS requires.
	Subject string
	// Body is the plain-text message.
	Body string
}

// maxSubject is SNS's limit on a Publish subject.
const maxSubject = 100

// Email builds the email for a.
func Email(a alert.Alert) EmailText { return EmailWithAck(a, Ack{}) }

// EmailWithAck is Email with a paragraph asking to acknowledge by the
// link (the code is for SMS replies only).
func EmailWithAck(a alert.Alert, ack Ack) EmailText {
	subject := "[" + title(a.Priority) + " priority] " + a.Type + " (ref " + a.MessageID + ")"
	if len(subject) > maxSubject { // all fields in the subject are ASCII
		subject = subject[:maxSubject-3] + "..."
	}
	ackPara := ""
	if ack.Link != "" {
		ackPara = "Please confirm that you have it: open " + ack.Link + " and press Acknowledge.\n\n"
	}
	body := "A " + a.Priority.Label() + " priority alert needs your attention.\n\nType: " + a.Type + "\nPatient: " + a.PatientID +
		"\n\n" + a.Description + "\n\n" + ackPara + "Reference: " + a.MessageID + "\n"
	return EmailText{Subject: subject, Body: body}
}

// Voice builds the text a call speaks, already XML-escaped for use
// inside the contact flow's <speak> element.
func Voice(a alert.Alert) string {
	text := fmt.Sprintf("This is a %s priority alert. %s, for patient %s. %s. Reference %s.",
		a.Priority.Label(), strings.ReplaceAll(a.Type, "_", " "), spell(a.PatientID),
		strings.TrimRight(a.Description, ". "), a.MessageID)
	return EscapeSSML(text)
}

// spell separates a patient id's characters so text-to-speech reads it
// out character by character instead of as a word or a number.
func spell(id string) string {
	return strings.Join(strings.Split(id, ""), " ")
}

var ssmlEscaper = strings.NewReplacer(
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	`"`, "&quot;",
	"'", "&apos;",
)

// EscapeSSML escapes the five characters XML reserves (& < > " ') so s can
// stand as text inside SSML.
func EscapeSSML(s string) string {
	return ssmlEscaper.Replace(s)
}

// title is the priority's Label with a capital first letter.
func title(p alert.Priority) string {
	switch l := p.Label(); l {
	case "low":
		return "Low"
	case "medium":
		return "Medium"
	case "high":
		return "High"
	default:
		return strings.ToUpper(l[:1]) + l[1:]
	}
}

// gsmBasic is the GSM 03.38 basic character set; gsmExtension characters
// take two septets (an escape and the character).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)

// smsSegments returns the encoding and the number of parts text needs.
func smsSegments(text string) (string, int) {
	septets := 0
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			return "UCS-2", parts(utf16Units(text), 70, 67)
		}
	}
	return "GSM-7", parts(septets, 160, 153)
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
