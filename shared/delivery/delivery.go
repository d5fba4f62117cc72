// Package delivery names what can happen when the service hands an alert
// to a provider (Amazon SNS for SMS and email, Amazon Connect for calls),
// and the provider-side idempotency token of a call. The adapters that
// talk to the providers classify each failure into one of three classes;
// the processor answers by class; the alert record (a later issue) keeps
// the class per attempt.
package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// Class is how a delivery attempt failed: what the provider may have done,
// and so whether another attempt is safe.
type Class string

// The failure classes.
const (
	// Transient: the provider provably did nothing (the request was never
	// sent, or the provider answered that it was throttled or
	// unavailable). Another attempt is safe; the caller gets 503
	// unavailable with Retry-After and the idempotency lock is released.
	Transient Class = "transient"
	// Permanent: the provider refused the request and will refuse it again
	// (invalid or not-allowed destination, opted-out number, missing
	// permission, unknown contact flow). The answer, 422 undeliverable, is
	// recorded: a retry with the same body gets it again and sends nothing.
	Permanent Class = "permanent"
	// Ambiguous: the request may have reached the provider and taken
	// effect, but no answer says so (a timeout or a dropped connection
	// after it was sent, or a server error). The outcome is unknown; the
	// answer, 502 delivery_unknown, is recorded, and nothing is sent on
	// that channel again for this alert.
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
// The version changes whenever the inputs do.
const callTokenPrefix = "a2p-alerts/call/v2\x00" //nolint:gosec // G101: a public namespace for a hash input, not a credential

// CallClientToken returns the ClientToken of the Amazon Connect call that
// delivers the alert key with payload hash payloadHash (alert.Alert.Hash):
// the hex SHA-256 of a fixed prefix, the key's stored form, a NUL and the
// hash (64 characters, within Connect's limit of 500). Connect starts at
// most one call per token for 7 days. A retry of the same alert by the
// same client keeps the token, so Connect never calls twice for it; a
// different alert with the same message_id, or the same message_id from
// another client, gets another token, so it is never mistaken for a
// retry and always called.
func CallClientToken(key alert.Key, payloadHash string) string {
	sum := sha256.Sum256([]byte(callTokenPrefix + key.String() + "\x00" + payloadHash))
	return hex.EncodeToString(sum[:])
}
