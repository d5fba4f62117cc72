package alert

import (
	"crypto/sha256"
	"encoding/hex"
)

// callTokenPrefix namespaces the Connect client token so that it cannot
// collide with a token another system derives from the same message_id.
const callTokenPrefix = "a2p-alerts/call/v1:" //nolint:gosec // G101: a public namespace for a hash input, not a credential

// CallClientToken returns the Amazon Connect ClientToken for the alert with
// this message_id: the hex SHA-256 of a fixed prefix and the message_id
// (64 characters, within Connect's limit of 500). Retries of one alert share
// it, so Connect starts at most one call per message_id for the token's
// lifetime (7 days).
func CallClientToken(messageID string) string {
	sum := sha256.Sum256([]byte(callTokenPrefix + messageID))
	return hex.EncodeToString(sum[:])
}
