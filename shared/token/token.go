// Package token makes and hashes API client tokens. Deployments store only
// a token's SHA-256 (config apiClients, env names.EnvAPIClients); the token
// itself goes to the calling system and nowhere else.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bytes is the entropy of a generated token: 256 bits.
const Bytes = 32

// Hash returns the lower-case hex SHA-256 of a token.
func Hash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Generate returns a new random token (URL-safe base64, no padding) and
// its hash.
func Generate() (tok, hash string, err error) {
	b := make([]byte, Bytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read random bytes: %w", err)
	}
	tok = base64.RawURLEncoding.EncodeToString(b)
	return tok, Hash(tok), nil
}

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidHash reports whether h looks like a Hash result: 64 lower-case hex
// characters.
func ValidHash(h string) bool {
	return hashPattern.MatchString(h)
}

// Client is one element of the JSON list in names.EnvAPIClients: a named
// caller and its token's hash. The infra program writes the list; the
// authorizer reads it.
type Client struct {
	// Name identifies the caller in logs and in the authorizer context.
	Name string `json:"client"`
	// SHA256 is Hash of the caller's token.
	SHA256 string `json:"sha256"`
	// UsageKey is the value of the caller's API Gateway API key, which the
	// authorizer returns as usageIdentifierKey so that API Gateway applies
	// the caller's usage plan (rate, burst, daily quota). It identifies a
	// plan and grants nothing: the API takes keys from the authorizer
	// only, never from a request header. Empty: no usage plan.
	UsageKey string `json:"usage_key,omitempty"`
}

// MaxClientName is the longest API client name, in characters.
const MaxClientName = 64

// ValidateClientName checks an API client's name, which becomes the
// authorizer's principalId and appears in logs: 1 to MaxClientName
// printable characters without surrounding spaces. The infra program,
// the authorizer and scripts/gentoken all apply this one rule.
func ValidateClientName(name string) error {
	switch {
	case name == "":
		return errors.New("client name is empty")
	case utf8.RuneCountInString(name) > MaxClientName:
		return fmt.Errorf("client name is longer than %d characters", MaxClientName)
	case strings.TrimSpace(name) != name || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }):
		return fmt.Errorf("client name %q has surrounding spaces or unprintable characters", name)
	}
	return nil
}
