package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// Client is one named API caller the authorizer accepts. The function never
// holds the caller's token, only its SHA-256.
type Client struct {
	// Name identifies the caller; it becomes the principalId and the
	// authorizer context value under names.AuthContextClient.
	Name string
	// Hash is the SHA-256 of the caller's token (the token without any
	// "Bearer " prefix).
	Hash [sha256.Size]byte
	// UsageKey is the value of the caller's API Gateway API key, returned
	// as usageIdentifierKey so that API Gateway applies the caller's usage
	// plan; "" returns none. It selects a plan and grants nothing (the API
	// takes keys from the authorizer only), but it is never logged.
	UsageKey string
}

// ParseClients parses the value of names.EnvAPIClients: a non-empty JSON list
// of token.Client ({"client": name, "sha256": 64 lowercase hex characters,
// "usage_key": optional API key value}), with unique client names, hashes
// and usage keys. Errors name the variable and the problem, and never
// repeat a hash or a key.
func ParseClients(raw string) ([]Client, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var entries []token.Client
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf(`%s: not a JSON list of {"client": ..., "sha256": ...}: %w`, names.EnvAPIClients, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: unexpected data after the JSON list", names.EnvAPIClients)
	}

	clients := make([]Client, 0, len(entries))
	for i, e := range entries {
		hash, err := parseHash(e.SHA256)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d (client %q): %w", names.EnvAPIClients, i, e.Name, err)
		}
		clients = append(clients, Client{Name: e.Name, Hash: hash, UsageKey: e.UsageKey})
	}
	if err := validateClients(clients); err != nil {
		return nil, fmt.Errorf("%s: %w", names.EnvAPIClients, err)
	}
	return clients, nil
}

// parseHash decodes 64 lowercase hex characters. The error does not repeat
// the input.
func parseHash(s string) ([sha256.Size]byte, error) {
	var hash [sha256.Size]byte
	if !token.ValidHash(s) {
		return hash, fmt.Errorf("sha256 must be %d lowercase hex characters (0-9, a-f), got %d characters",
			hex.EncodedLen(sha256.Size), len(s))
	}
	if _, err := hex.Decode(hash[:], []byte(s)); err != nil {
		return hash, fmt.Errorf("sha256 is not hex: %w", err)
	}
	return hash, nil
}

// validateClients checks what both ParseClients and New rely on: at least
// one client, names that pass token.ValidateClientName, no duplicate name,
// no duplicate hash (two clients with one token could not be told apart)
// and no usage key shared by two clients (they would share one plan).
func validateClients(clients []Client) error {
	if len(clients) == 0 {
		return errors.New("the list of clients is empty")
	}
	byName := make(map[string]int, len(clients))
	byHash := make(map[[sha256.Size]byte]string, len(clients))
	byKey := make(map[string]string, len(clients))
	for i, c := range clients {
		if err := token.ValidateClientName(c.Name); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if j, ok := byName[c.Name]; ok {
			return fmt.Errorf("entry %d: duplicate client name %q (also entry %d)", i, c.Name, j)
		}
		byName[c.Name] = i
		if other, ok := byHash[c.Hash]; ok {
			return fmt.Errorf("entry %d (client %q): same sha256 as client %q", i, c.Name, other)
		}
		byHash[c.Hash] = c.Name
		if c.UsageKey == "" {
			continue
		}
		if other, ok := byKey[c.UsageKey]; ok {
			return fmt.Errorf("entry %d (client %q): same usage_key as client %q", i, c.Name, other)
		}
		byKey[c.UsageKey] = c.Name
	}
	return nil
}
