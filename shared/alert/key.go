package alert

import (
	"errors"
	"strconv"
	"strings"
)

// Key identifies one alert across the service: the API client that sent it
// (the authorizer's principal) and the alert's message_id. Each client has
// its own message_ids: the same id from two clients names two alerts, so
// idempotency, the Connect call client token and (later) the alert record
// are all scoped by Key, never by message_id alone.
type Key struct {
	// Client is the API client's name (token.ValidateClientName: any
	// printable characters).
	Client string
	// MessageID is the alert's message_id.
	MessageID string
}

// String returns the key's one stored form, the value of
// names.AttrIdempotencyKey: the byte length of Client in decimal, ":",
// Client, ":", MessageID, e.g. "6:ward-7:lab-1". The length prefix says
// where the client name ends whatever characters it holds, so two
// different keys never share a form (ParseKey inverts it).
func (k Key) String() string {
	return strconv.Itoa(len(k.Client)) + ":" + k.Client + ":" + k.MessageID
}

// errKeyForm reports a string that String did not produce.
var errKeyForm = errors.New("not an alert key of the form <client length>:<client>:<message_id>")

// ParseKey reads the form String writes.
func ParseKey(s string) (Key, error) {
	length, rest, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(length)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != length || len(rest) < n+1 || rest[n] != ':' {
		return Key{}, errKeyForm
	}
	return Key{Client: rest[:n], MessageID: rest[n+1:]}, nil
}
