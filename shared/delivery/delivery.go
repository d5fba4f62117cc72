// Package delivery names what can happen when the service hands an alert
// to a provider (Amazon SNS for SMS and email, Amazon Connect for calls),
// the provider-side idempotency token of a call, and the alert record's
// vocabulary (state.go): the alert and attempt statuses with their one
// table of allowed transitions, the audit event types and the actors. The
// adapters that talk to the providers classify each failure into one of
// three classes; the processor answers by class; the alert record keeps
// the class per attempt.
package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// Class is how a delivery attempt failed: what the provider may have done,
// and so whether another attempt is safe.
type Class string

// The failure classes.
const (
	// Transient: the provider provably did nothing (the request was never
	// sent, or the provider answered that it was throttled or
	// unavailable). Another attempt is safe: the next channel is tried at
	// once, and when every channel failed transiently the caller gets 503
	// unavailable with Retry-After and the idempotency lock is released.
	Transient Class = "transient"
	// Permanent: the provider refused the request and will refuse it again
	// (invalid or not-allowed destination, opted-out number, missing
	// permission, unknown contact flow). The next channel is tried at
	// once; when every channel failed, at least one of them for good, the
	// answer, 502 undeliverable_all_channels, is recorded: a retry with
	// the same body gets it again and sends nothing.
	Permanent Class = "permanent"
	// Ambiguous: the request may have reached the provider and taken
	// effect, but no answer says so (a timeout or a dropped connection
	// after it was sent, or a server error). The attempt is unknown; by
	// default no next channel is tried, the answer, 502 delivery_unknown,
	// is recorded, and nothing is sent again for this alert.
	Ambiguous Class = "ambiguous"
)

// Classes lists every class.
var Classes = []Class{Transient, Permanent, Ambiguous}

// Error is a provider error with its class. Code is the provider's error
// code ("Throttled", "InvalidParameter") or a fixed word for failures
// without one ("timeout", "not_sent", "no_answer"); it holds no PHI and may
// be logged.
type Error struct {
	// Class says what the provider may have done.
	Class Class
	// Code is the provider's error code, or a fixed word.
	Code string
	// Err is the provider's error, for the log. It may echo what was sent:
	// scrub it before logging.
	Err error
}

// Error implements error.
func (f *Error) Error() string {
	msg := string(f.Class) + " delivery failure " + f.Code
	if f.Err != nil {
		msg += ": " + f.Err.Error()
	}
	return msg
}

// Unwrap returns the provider's error.
func (f *Error) Unwrap() error { return f.Err }

// ClassOf returns the class of err: the class of the *Error it wraps, or
// Ambiguous for any other error, since an error nobody classified says
// nothing about whether the provider acted.
func ClassOf(err error) Class {
	var f *Error
	if errors.As(err, &f) {
		return f.Class
	}
	return Ambiguous
}

// callTokenPrefix namespaces the Connect call client token so that it
// cannot collide with a token another system derives from the same inputs.
// The version changes whenever the inputs do (v3 added the attempt).
const callTokenPrefix = "a2p-alerts/call/v3\x00" //nolint:gosec // G101: a public namespace for a hash input, not a credential

// CallAttempt says which call of an alert a token is for: the contact
// called and the attempt's number in the alert's record (1 for the first
// attempt, counting every channel tried).
type CallAttempt struct {
	// ContactID is the contact called.
	ContactID string
	// Number is the attempt's number, from 1.
	Number int
}

// CallClientToken returns the ClientToken of the Amazon Connect call that
// delivers attempt at of the alert key with payload hash payloadHash
// (alert.Alert.Hash): the hex SHA-256 of a fixed prefix, the key's stored
// form, the hash, the contact id and the attempt number, NUL-separated (64
// characters, within Connect's limit of 500). Connect starts at most one
// call per token for 7 days. A retry of the same alert by the same client
// keeps the token of each attempt, so Connect never calls twice for it; a
// different alert with the same message_id, the same message_id from
// another client, or another attempt of the same alert (a repeat call, or
// another contact) gets another token, so it is always called.
func CallClientToken(key alert.Key, payloadHash string, at CallAttempt) string {
	sum := sha256.Sum256([]byte(callTokenPrefix + key.String() + "\x00" + payloadHash + "\x00" +
		at.ContactID + "\x00" + strconv.Itoa(at.Number)))
	return hex.EncodeToString(sum[:])
}
