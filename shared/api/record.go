package api

import (
	"encoding/json"
	"fmt"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// AlertRecord is the body of GET /notification/{message_id}: the newest
// alert the calling client sent with that message_id, its attempts and its
// audit trail. It holds no description, patient id, phone number or email
// address: an alert's content is kept (for re-sending) but never returned.
// Times are RFC 3339 in UTC with milliseconds.
type AlertRecord struct {
	// MessageID echoes the alert's message_id.
	MessageID string `json:"message_id"`
	// Status is the alert's status: accepted, sent, failed, escalated,
	// acknowledged or unacknowledged.
	Status string `json:"status"`
	// Priority is H, M or L.
	Priority string `json:"priority"`
	// ContactID is the clinician alerted.
	ContactID string `json:"contact_id"`
	// Channels is the channel order that applied, first tried first.
	Channels []string `json:"channels"`
	// AcceptedAt is when the alert was recorded.
	AcceptedAt string `json:"accepted_at"`
	// SentAt is when a provider accepted it; absent until then.
	SentAt string `json:"sent_at,omitempty"`
	// Stage is the escalation stage reached: 0 until the alert escalates.
	Stage int `json:"stage"`
	// Escalation is the policy in force, copied when the alert was
	// accepted; absent when its priority asks for no acknowledgment.
	Escalation *EscalationRecord `json:"escalation,omitempty"`
	// AcknowledgedAt, AcknowledgedBy ("client:<name>" or "contact:<id>"),
	// AckMethod (api, link, keypad or sms) and AckLate (after the window)
	// describe the acknowledgment; absent until then.
	AcknowledgedAt string `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
	AckMethod      string `json:"ack_method,omitempty"`
	AckLate        bool   `json:"ack_late,omitempty"`
	// AcceptedToAcknowledgedMS is the time to acknowledge, the figure a
	// hospital audits; absent until acknowledged.
	AcceptedToAcknowledgedMS int64 `json:"accepted_to_acknowledged_ms,omitempty"`
	// Attempts are the deliveries tried, in order.
	Attempts []AttemptRecord `json:"attempts"`
	// Events is the append-only audit trail, in order.
	Events []EventRecord `json:"events"`
}

// AttemptRecord is one delivery on one channel to one contact.
type AttemptRecord struct {
	// Attempt is the attempt's number, from 1.
	Attempt int `json:"attempt"`
	// Channel is call, sms or email.
	Channel string `json:"channel"`
	// ContactID is the clinician the attempt went to.
	ContactID string `json:"contact_id"`
	// Status is sending, sent, failed or unknown.
	Status string `json:"status"`
	// StartedAt is when the attempt began.
	StartedAt string `json:"started_at"`
	// EndedAt is when its outcome was recorded; absent while sending.
	EndedAt string `json:"ended_at,omitempty"`
	// ProviderRef is the SNS message id or the Connect contact id of a
	// sent attempt.
	ProviderRef string `json:"provider_ref,omitempty"`
	// FailureClass is transient, permanent or ambiguous, for a failed or
	// unknown attempt.
	FailureClass string `json:"failure_class,omitempty"`
	// Stage is the escalation stage the attempt belongs to (absent: the
	// first delivery).
	Stage int `json:"stage,omitempty"`
}

// EscalationRecord is the escalation policy an alert carries.
type EscalationRecord struct {
	// Stages are due in order.
	Stages []EscalationStageRecord `json:"stages"`
	// UnacknowledgedAfterSeconds is when, after acceptance, the alert
	// becomes unacknowledged.
	UnacknowledgedAfterSeconds int `json:"unacknowledged_after_seconds"`
}

// EscalationStageRecord is one stage of an EscalationRecord.
type EscalationStageRecord struct {
	// AfterSeconds is when the stage is due, after acceptance.
	AfterSeconds int `json:"after_seconds"`
	// Targets are who it reaches: next-channel, repeat-call or
	// contact:<id>.
	Targets []string `json:"targets"`
}

// EventRecord is one audit event.
type EventRecord struct {
	// Seq orders the events of an alert, from 1.
	Seq int `json:"seq"`
	// Type is what happened (delivery.EventType).
	Type string `json:"type"`
	// At is when it happened.
	At string `json:"at"`
	// Actor is who caused it: "system", "client:<name>" or
	// "contact:<id>".
	Actor string `json:"actor"`
	// Status is the alert's status after the event.
	Status string `json:"status"`
	// Attempt is the attempt the event is about, if any.
	Attempt int `json:"attempt,omitempty"`
	// Channel is that attempt's channel.
	Channel string `json:"channel,omitempty"`
	// FromChannel is, for a fallback, the channel that failed.
	FromChannel string `json:"from_channel,omitempty"`
	// FailureClass is, for a failed or unknown attempt, its class.
	FailureClass string `json:"failure_class,omitempty"`
	// Reason is, on a failed event of an alert given up other than by
	// every channel failing, why (delivery.Reason: dead_lettered,
	// not_queued).
	Reason string `json:"reason,omitempty"`
	// Stage is, for an escalation, the stage reached; for an
	// acknowledgment, the stage it came at.
	Stage int `json:"stage,omitempty"`
	// Method is, for an acknowledgment, how it came.
	Method string `json:"method,omitempty"`
	// Late is true on an acknowledgment after the alert's window.
	Late bool `json:"late,omitempty"`
	// Target is, for a skipped escalation target, which one.
	Target string `json:"target,omitempty"`
}

// schemaString, schemaInt and schemaTime are the property shapes of the
// record's schema.
func schemaString(doc string, enum ...string) map[string]any {
	p := map[string]any{"type": "string", "description": doc}
	if len(enum) > 0 {
		p["enum"] = enum
	}
	return p
}

func schemaInt(doc string) map[string]any {
	return map[string]any{"type": "integer", "minimum": 1, "description": doc}
}

func schemaTime(doc string) map[string]any {
	return map[string]any{"type": "string", "format": "date-time", "description": doc}
}

func schemaObject(title string, props map[string]any, required ...string) map[string]any {
	return map[string]any{
		"type": "object", "title": title, "properties": props, "required": required, "additionalProperties": false,
	}
}

// The enumerations of the schema, from the one definition of each.
var (
	schemaAlertStatuses   = stringsOf(delivery.AlertStatuses)
	schemaAttemptStatuses = stringsOf(delivery.AttemptStatuses)
	schemaChannels        = stringsOf(contact.Channels)
	schemaClasses         = stringsOf(delivery.Classes)
	schemaEventTypes      = stringsOf(delivery.EventTypes)
	schemaPriorities      = stringsOf(alert.Priorities)
	schemaReasons         = stringsOf(delivery.Reasons)
	schemaAckMethods      = stringsOf(delivery.AckMethods)
)

func schemaCount(doc string) map[string]any {
	return map[string]any{"type": "integer", "minimum": 0, "description": doc}
}

func schemaBool(doc string) map[string]any {
	return map[string]any{"type": "boolean", "description": doc}
}

// escalationSchema is EscalationRecord's schema.
func escalationSchema() map[string]any {
	stage := schemaObject("EscalationStage", map[string]any{
		"after_seconds": schemaInt("When the stage is due, in seconds after acceptance."),
		"targets": map[string]any{"type": "array", "minItems": 1, "description": "Who it reaches: next-channel, repeat-call or contact:<contact id>.",
			"items": map[string]any{"type": "string"}},
	}, "after_seconds", "targets")
	return schemaObject("Escalation", map[string]any{
		"stages":                       map[string]any{"type": "array", "items": stage, "description": "The stages, in order."},
		"unacknowledged_after_seconds": schemaInt("When, in seconds after acceptance, the alert becomes unacknowledged."),
	}, "stages", "unacknowledged_after_seconds")
}

func stringsOf[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// AlertRecordSchema returns the JSON Schema (draft-04, as API Gateway
// models require) of AlertRecord, the answer of
// GET /notification/{message_id}. A test checks it against the structs'
// JSON fields.
func AlertRecordSchema() []byte {
	channel := schemaString("call, sms or email", schemaChannels...)
	attempt := schemaObject("Attempt", map[string]any{
		"attempt":       schemaInt("The attempt's number, from 1."),
		"channel":       channel,
		"contact_id":    schemaString("The clinician the attempt went to."),
		"status":        schemaString("sending, sent, failed or unknown (the provider may have delivered it).", schemaAttemptStatuses...),
		"started_at":    schemaTime("When the attempt began."),
		"ended_at":      schemaTime("When its outcome was recorded; absent while sending."),
		"provider_ref":  schemaString("The SNS message id or Amazon Connect contact id of a sent attempt."),
		"failure_class": schemaString("Why a failed or unknown attempt failed.", schemaClasses...),
		"stage":         schemaInt("The escalation stage the attempt belongs to; absent for the first delivery."),
	}, "attempt", "channel", "contact_id", "status", "started_at")
	event := schemaObject("Event", map[string]any{
		"seq":           schemaInt("Orders the alert's events, from 1."),
		"type":          schemaString("What happened.", schemaEventTypes...),
		"at":            schemaTime("When it happened."),
		"actor":         schemaString(`Who caused it: "system", "client:<API client>" or "contact:<contact id>".`),
		"status":        schemaString("The alert's status after the event.", schemaAlertStatuses...),
		"attempt":       schemaInt("The attempt the event is about."),
		"channel":       channel,
		"from_channel":  schemaString("For a fallback, the channel that failed.", schemaChannels...),
		"failure_class": schemaString("For a failed or unknown attempt, its class.", schemaClasses...),
		"reason": schemaString("On a failed event, why the alert was given up other than by every channel failing: "+
			"dead_lettered (its queue message was received asyncMaxReceiveCount times without an outcome) or "+
			"not_queued (it could not be put on the event bus; the POST answered 503).", schemaReasons...),
		"stage":  schemaInt("For an escalation, the stage reached; for an acknowledgment, the stage it came at."),
		"method": schemaString("For an acknowledgment, how it came.", schemaAckMethods...),
		"late":   schemaBool("For an acknowledgment, true when it came after the alert's window."),
		"target": schemaString("For a skipped escalation target: next-channel, repeat-call or contact:<contact id>."),
	}, "seq", "type", "at", "actor", "status")
	record := schemaObject("AlertRecord", map[string]any{
		"message_id":                  schemaString("The alert's message_id."),
		"status":                      schemaString("accepted, sent, failed, escalated, acknowledged or unacknowledged.", schemaAlertStatuses...),
		"priority":                    schemaString("H, M or L.", schemaPriorities...),
		"contact_id":                  schemaString("The clinician alerted."),
		"channels":                    map[string]any{"type": "array", "items": channel, "minItems": 1, "description": "The channel order that applied."},
		"accepted_at":                 schemaTime("When the alert was recorded."),
		"sent_at":                     schemaTime("When a provider accepted it; absent until then."),
		"stage":                       schemaCount("The escalation stage reached: 0 until the alert escalates."),
		"escalation":                  escalationSchema(),
		"acknowledged_at":             schemaTime("When it was acknowledged; absent until then."),
		"acknowledged_by":             schemaString(`Who acknowledged it: "client:<API client>" or "contact:<contact id>".`),
		"ack_method":                  schemaString("How it was acknowledged.", schemaAckMethods...),
		"ack_late":                    schemaBool("True when the acknowledgment came after the alert's window."),
		"accepted_to_acknowledged_ms": schemaCount("Milliseconds from accepted to acknowledged: the time to acknowledge."),
		"attempts":                    map[string]any{"type": "array", "items": attempt},
		"events":                      map[string]any{"type": "array", "items": event},
	}, "message_id", "status", "priority", "contact_id", "channels", "accepted_at", "stage", "attempts", "events")
	record["$schema"] = "http://json-schema.org/draft-04/schema#"
	record["description"] = "The answer of GET /notification/{message_id}: the newest alert this API client sent with " +
		"the message_id. It never holds the description, patient id, phone numbers or email addresses."
	out, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("api: marshal schema: %v", err)) // plain maps and strings cannot fail
	}
	return out
}
