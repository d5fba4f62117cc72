package alerting

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// LookupKind is what a lookup item finds an alert's attempt by.
type LookupKind string

// The kinds of lookup.
const (
	// LookupToken: the random token of an acknowledgment link.
	LookupToken LookupKind = "ACKTOKEN"
	// LookupCode: an SMS reply code, with the number it was sent to.
	LookupCode LookupKind = "ACKCODE"
)

// AckRef names the attempt an acknowledgment answers: its alert, its
// number and the contact it went to.
type AckRef struct {
	Key       alert.Key
	Instance  string
	Attempt   int
	ContactID string
}

// Lookup finds an attempt from outside the record: by a link's token or
// by an SMS reply's code and sender. Only a hash of the secret is kept.
type Lookup struct {
	// Kind is a token or a code.
	Kind LookupKind
	// Hash is TokenHash or CodeHash of the secret.
	Hash string
	// Ref is the attempt it answers.
	Ref AckRef
	// ValidUntil is when it stops acknowledging: the alert's window and
	// the grace.
	ValidUntil time.Time
	// UsedAt is when it acknowledged (it is single use); zero until then.
	UsedAt time.Time
	// ExpiresAt is when the item may be deleted (the alert's retention).
	ExpiresAt time.Time
	// Use marks the write that records its use (the item must exist and
	// be unused); otherwise the write creates it (it must not exist).
	Use bool
}

// Expired reports whether the lookup no longer acknowledges at t.
func (l Lookup) Expired(t time.Time) bool { return t.After(l.ValidUntil) }

// Used reports whether the lookup has acknowledged already.
func (l Lookup) Used() bool { return !l.UsedAt.IsZero() }

// tokenBytes is a link token's randomness: 128 bits.
const tokenBytes = 16

// NewToken returns a random link token: 128 bits, base64url without
// padding (22 characters).
func NewToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeDigits is an SMS reply code's length.
const codeDigits = 6

// NewCode returns a random SMS reply code of six digits.
func NewCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("alerting: crypto/rand: %v", err)) // never fails
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64())
}

// TokenHash is what the record keeps of a link token: its SHA-256, hex.
func TokenHash(token string) string {
	return hash("a2p-alerts/ack-token/v1\x00" + token)
}

// CodeHash is what the record keeps of an SMS reply code: the SHA-256 of
// the number the SMS went to and the code, so a reply matches only when
// it comes from that number with that code.
func CodeHash(phone, code string) string {
	return hash("a2p-alerts/ack-code/v1\x00" + phone + "\x00" + code)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tokenLen is a token's length as NewToken writes it.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// WellFormedToken reports whether s could be a token NewToken made: it
// lets a handler refuse junk without reading the table.
func WellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
