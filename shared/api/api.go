// Package api holds the wire types of the API that the functions write and
// callers (and the integration tests) read: the success body of POST
// /notification, the alert record GET /notification/{message_id} answers
// (record.go, with its JSON Schema), the error body, and the one table
// that maps error codes to HTTP status.
package api

import (
	"net/http"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// Code classifies an error for callers. Each code has one HTTP status.
type Code string

// The error codes of the API.
const (
	// CodeInvalid: the body failed validation (400). Fields says why.
	CodeInvalid Code = "invalid"
	// CodeNotFound: the contact_id names no contact (404).
	CodeNotFound Code = "not_found"
	// CodeInProgress: the same message_id is being delivered now (409,
	// with Retry-After).
	CodeInProgress Code = "in_progress"
	// CodeIdempotencyMismatch: the message_id was used with another
	// payload (422).
	CodeIdempotencyMismatch Code = "idempotency_mismatch"
	// CodeNoDestination: the contact has no destination for the channel
	// it prefers at this priority (422).
	CodeNoDestination Code = "no_destination"
	// CodeUndeliverableAllChannels: every channel of the contact was tried
	// and failed, at least one of them for good (invalid or not-allowed
	// destination, opted-out number, missing permission, unknown contact
	// flow); nothing was delivered and the alert is failed. Attempts lists
	// each attempt's channel and failure class. The answer is recorded: a
	// retry with the same body gets it again (502).
	CodeUndeliverableAllChannels Code = "undeliverable_all_channels"
	// CodeUnavailable: a downstream service failed or was throttled (on
	// every channel tried), or too little time was left to send; nothing
	// was sent and the request may be retried after Retry-After seconds
	// (503).
	CodeUnavailable Code = "unavailable"
	// CodeDeliveryUnknown: the alert was handed to the provider but no
	// answer came back, so it may or may not have been sent. The answer is
	// recorded and nothing is sent again on that channel for this alert
	// (502).
	CodeDeliveryUnknown Code = "delivery_unknown"
	// CodeInternal: an unexpected error; details are in the log under the
	// request id (500).
	CodeInternal Code = "internal"
)

// The error codes API Gateway answers itself, before the processor runs:
// the stack's gateway responses (infra/stack) write them in ErrorBody's
// envelope with a fixed message and the request id.
const (
	// CodeUnauthorized: the Authorization header is missing or its token
	// matches no API client (401).
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden: the request was refused before it reached the
	// service: an authorizer policy that does not allow it, or the web
	// application firewall (403).
	CodeForbidden Code = "forbidden"
	// CodeThrottled: the stage's or the client's rate, or the client's
	// daily quota, is used up; retry later with the same body (429).
	CodeThrottled Code = "throttled"
	// CodeTimeout: the service did not answer in time. The alert may or
	// may not have been delivered: retry with the same body, which the
	// message_id makes safe (504).
	CodeTimeout Code = "timeout"
	// CodeRejected: API Gateway refused the request for another reason
	// (no such route, body too large, unsupported media type). API Gateway
	// keeps its own 4XX status; 400 is the nominal one.
	CodeRejected Code = "rejected"
)

// The error codes of acknowledgment (issue 12).
const (
	// CodeNotAcknowledgeable: the alert failed on every channel, so
	// nobody received it and there is nothing to acknowledge (409).
	CodeNotAcknowledgeable Code = "not_acknowledgeable"
	// CodeGone: the acknowledgment link has expired or was already used
	// (410, an HTML page that says which).
	CodeGone Code = "gone"
)

// Codes lists every code, in the order of the README's status table.
var Codes = []Code{
	CodeInvalid, CodeNotFound, CodeInProgress, CodeIdempotencyMismatch, CodeNoDestination,
	CodeUndeliverableAllChannels, CodeUnavailable, CodeDeliveryUnknown, CodeInternal,
	CodeUnauthorized, CodeForbidden, CodeThrottled, CodeTimeout, CodeRejected,
	CodeNotAcknowledgeable, CodeGone,
}

// statuses is the one table from code to HTTP status.
var statuses = map[Code]int{
	CodeInvalid:                  http.StatusBadRequest,
	CodeNotFound:                 http.StatusNotFound,
	CodeInProgress:               http.StatusConflict,
	CodeIdempotencyMismatch:      http.StatusUnprocessableEntity,
	CodeNoDestination:            http.StatusUnprocessableEntity,
	CodeUndeliverableAllChannels: http.StatusBadGateway,
	CodeUnavailable:              http.StatusServiceUnavailable,
	CodeDeliveryUnknown:          http.StatusBadGateway,
	CodeInternal:                 http.StatusInternalServerError,
	// Answered by API Gateway (gateway responses).
	CodeUnauthorized: http.StatusUnauthorized,
	CodeForbidden:    http.StatusForbidden,
	CodeThrottled:    http.StatusTooManyRequests,
	CodeTimeout:      http.StatusGatewayTimeout,
	CodeRejected:     http.StatusBadRequest,
	// Acknowledgment.
	CodeNotAcknowledgeable: http.StatusConflict,
	CodeGone:               http.StatusGone,
}

// Status returns the HTTP status for c; unknown codes are 500.
func (c Code) Status() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error for the caller.
type ErrorDetail struct {
	// Code classifies the error.
	Code Code `json:"code"`
	// Message is a sentence safe to show the caller.
	Message string `json:"message"`
	// Fields lists each failing field of an invalid body.
	Fields []alert.FieldError `json:"fields,omitempty"`
	// Channel names the channel whose outcome is unknown, in a
	// delivery_unknown answer: call, sms or email.
	Channel string `json:"channel,omitempty"`
	// Attempts lists each attempt's channel and failure class, in an
	// undeliverable_all_channels, delivery_unknown or unavailable answer
	// that follows attempts. It never names a destination.
	Attempts []FailedAttempt `json:"attempts,omitempty"`
	// RequestID identifies the request in the logs.
	RequestID string `json:"request_id,omitempty"`
}

// FailedAttempt is one attempt of a failed delivery, as an error answer
// lists it.
type FailedAttempt struct {
	// Channel is call, sms or email.
	Channel string `json:"channel"`
	// FailureClass is transient, permanent or ambiguous.
	FailureClass string `json:"failure_class"`
}

// StatusSent is the only status of a successful response.
const StatusSent = "sent"

// Sent is the body of a successful response.
type Sent struct {
	// MessageID echoes the alert's message_id.
	MessageID string `json:"message_id"`
	// Status is always StatusSent.
	Status string `json:"status"`
	// Channel is the channel used: call, sms or email.
	Channel string `json:"channel"`
	// ProviderMessageID is the SNS message id or the Connect contact id.
	ProviderMessageID string `json:"provider_message_id"`
	// Attempts is how many attempts it took: 1, or more when earlier
	// channels failed and the alert fell back to the next.
	Attempts int `json:"attempts"`
}

// StatusAccepted is the status of an asynchronous answer (issue 13).
const StatusAccepted = "accepted"

// Accepted is the body of 202 Accepted, the answer to a POST with
// Prefer: respond-async: the alert is validated, recorded as accepted and
// queued; it is delivered afterwards. Its Location header names the record
// (GET /notification/{message_id}), which shows the delivery.
type Accepted struct {
	// MessageID echoes the alert's message_id.
	MessageID string `json:"message_id"`
	// Status is always StatusAccepted.
	Status string `json:"status"`
}

// StatusAcknowledged is the status of an acknowledged alert.
const StatusAcknowledged = "acknowledged"

// Acknowledged is the body of a successful POST
// /notification/{message_id}/ack: the acknowledgment in force, the
// first one's when the alert was already acknowledged.
type Acknowledged struct {
	// MessageID echoes the alert's message_id.
	MessageID string `json:"message_id"`
	// Status is always StatusAcknowledged.
	Status string `json:"status"`
	// AcknowledgedAt is when the (first) acknowledgment was recorded.
	AcknowledgedAt string `json:"acknowledged_at"`
	// AcknowledgedBy is who acknowledged: "client:<name>" or
	// "contact:<id>".
	AcknowledgedBy string `json:"acknowledged_by"`
	// Method is how: api, link, keypad or sms.
	Method string `json:"method"`
	// Late is true when it came after the alert's window.
	Late bool `json:"late"`
	// AlreadyAcknowledged is true when this request found the alert
	// acknowledged already and changed nothing.
	AlreadyAcknowledged bool `json:"already_acknowledged"`
	// AcceptedToAcknowledgedMS is the time from accepted to acknowledged.
	AcceptedToAcknowledgedMS int64 `json:"accepted_to_acknowledged_ms"`
}
