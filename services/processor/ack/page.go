package ack

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// The acknowledgment page: plain HTML with one form, no script, readable
// on a phone (a viewport, 18 px text, a full-width button at least 48 px
// high), accessible (lang, a button labelled by its text, a status
// message in a live region, contrast of 7:1 or more). It shows the
// alert's priority, type and reference, never its text or patient.
//
//go:embed page.html
var pageFS embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFS, "page.html"))

// pageView is what one page shows.
type pageView struct {
	// Title is the page's heading and title.
	Title string
	// Priority, Type and Reference describe the alert ("" for none).
	Priority, Type, Reference string
	// Form shows the Acknowledge button.
	Form bool
	// Message is a sentence under the details; Tone styles it: "done",
	// "gone" or "".
	Message, Tone string
}

// pageTime is how a page shows a time.
func pageTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// methodWords says how an acknowledgment came, for people.
var methodWords = map[string]string{"api": "by the ward system", "link": "by link", "keypad": "on the call", "sms": "by SMS reply"}

func details(a *alerting.Alert, v pageView) pageView {
	if a != nil {
		v.Priority, v.Type, v.Reference = a.Priority.Label(), a.Content.Type, a.Key.MessageID
	}
	return v
}

func pageOpen(a *alerting.Alert) pageView {
	return details(a, pageView{Title: "Acknowledge this alert", Form: true,
		Message: "Pressing the button records that you have received this alert, so that it is not escalated further."})
}

func pageDone(a *alerting.Alert) pageView {
	msg := "Acknowledged at " + pageTime(a.Ack.At) + ". Thank you."
	if a.Ack.Late {
		msg += " It came after the alert's window, and is recorded as late."
	}
	return details(a, pageView{Title: "Acknowledged", Message: msg, Tone: "done"})
}

func pageAlready(a *alerting.Alert) pageView {
	return details(a, pageView{Title: "Already acknowledged", Tone: "done",
		Message: fmt.Sprintf("This alert was already acknowledged at %s, %s.", pageTime(a.Ack.At), methodWords[string(a.Ack.Method)])})
}

func pageUsed(a *alerting.Alert) pageView {
	v := pageView{Title: "This link was used already", Tone: "gone", Message: "This link has acknowledged its alert already."}
	if a != nil && a.Ack != nil {
		v.Title = "Already acknowledged"
		v.Message = fmt.Sprintf("This link was used already: the alert was acknowledged at %s, %s.", pageTime(a.Ack.At), methodWords[string(a.Ack.Method)])
	}
	return details(a, v)
}

func pageExpired(a *alerting.Alert, until time.Time) pageView {
	msg := "This link has expired. If the alert is still open, acknowledge it on the call, by SMS reply or in the ward system."
	if !until.IsZero() {
		msg = "This link expired at " + pageTime(until) + ". If the alert is still open, acknowledge it on the call, by SMS reply or in the ward system."
	}
	return details(a, pageView{Title: "This link has expired", Tone: "gone", Message: msg})
}

func pageClosed(a *alerting.Alert) pageView {
	return details(a, pageView{Title: "Nothing to acknowledge", Tone: "gone",
		Message: "This alert reached nobody and was closed as failed; the operators were alerted."})
}

func pageUnknown() pageView {
	return pageView{Title: "This link is not valid", Tone: "gone", Message: "Check that you opened the whole link from the message."}
}

func pageUnavailable() pageView {
	return pageView{Title: "Please try again", Tone: "gone", Message: "The acknowledgment could not be recorded just now. Reload this page in a moment."}
}

// Headers of every page: no caching (each shows the alert's current
// state), no referrer (the link holds its token), nothing framed or run.
var pageHeaders = map[string]string{
	"Content-Type":            "text/html; charset=utf-8",
	"Cache-Control":           "no-store",
	"Referrer-Policy":         "no-referrer",
	"X-Robots-Tag":            "noindex",
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

// page renders v with status.
func page(requestID string, status int, v pageView) events.APIGatewayProxyResponse {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, v); err != nil {
		panic(fmt.Sprintf("ack: render page: %v", err)) // a fixed template of strings and a bool
	}
	headers := map[string]string{names.HeaderRequestID: requestID}
	for k, v := range pageHeaders {
		headers[k] = v
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: b.String()}
}
