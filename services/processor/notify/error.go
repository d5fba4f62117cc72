package notify

import (
	"fmt"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
)

// Error is a failure the caller sees: a code (which alone decides the HTTP
// status, through api.Code.Status), a message safe to show, and the cause,
// which only the log sees.
type Error struct {
	// Code classifies the failure.
	Code api.Code
	// Message is a sentence safe to show the caller.
	Message string
	// Fields lists the failing fields of an invalid alert.
	Fields []alert.FieldError
	// Channel is the channel whose outcome is unknown (delivery_unknown).
	Channel contact.Channel
	// Attempts are the failed attempts of a delivery that followed
	// attempts.
	Attempts []api.FailedAttempt
	// RetryAfter is, for CodeInProgress and CodeUnavailable, the seconds
	// to wait before retrying.
	RetryAfter int
	// Err is the cause, for the log; it may be nil.
	Err error
}

// Error implements error. The text may hold detail unfit for callers; use
// Message for them.
func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Code) + ": " + e.Message
	}
	return string(e.Code) + ": " + e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status of the error, from the one table in package api.
func (e *Error) Status() int { return e.Code.Status() }

// Messages shown to callers, one per code.
const (
	msgInvalid          = "the alert is invalid; see fields"
	msgNotFound         = "no contact has this contact_id"
	msgInProgress       = "an alert with this message_id is being delivered now; retry after Retry-After seconds"
	msgMismatch         = "this message_id was already used for a different alert"
	msgNoDestination    = "the contact has no destination for any channel it prefers at this priority"
	msgUndeliverableAll = "every channel was tried and failed, at least one for good; nothing was delivered (see attempts). " +
		"Fix the cause and send it with a new message_id"
	msgUnavailable     = "a downstream service failed or was busy; nothing was sent and the request may be retried after Retry-After seconds"
	msgDeliveryUnknown = "the alert was handed to the %s provider but no answer came back: it may or may not have been sent, " +
		"and it will not be sent again on this channel. Confirm receipt with the clinician by other means"
	msgInternal = "internal error; quote the request_id when reporting it"
)

// unavailableRetryAfter is the Retry-After, in seconds, of an unavailable
// answer.
const unavailableRetryAfter = 2

func invalid(fields []alert.FieldError, cause error) *Error {
	return &Error{Code: api.CodeInvalid, Message: msgInvalid, Fields: fields, Err: cause}
}

func unavailable(cause error) *Error {
	return &Error{Code: api.CodeUnavailable, Message: msgUnavailable, RetryAfter: unavailableRetryAfter, Err: cause}
}

func internal(cause error) *Error {
	return &Error{Code: api.CodeInternal, Message: msgInternal, Err: cause}
}

func deliveryUnknown(ch contact.Channel, attempts []api.FailedAttempt, cause error) *Error {
	return &Error{Code: api.CodeDeliveryUnknown, Message: fmt.Sprintf(msgDeliveryUnknown, ch), Channel: ch, Attempts: attempts, Err: cause}
}
