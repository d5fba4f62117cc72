package token_test

import (
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

func TestHash(t *testing.T) {
	t.Parallel()
	// echo -n 384324732 | sha256sum (the AWS sample's example token)
	if got, want := token.Hash("384324732"), "1d73ad675f074c2129b4c92fc675f18abe4522c54e077c7c6aa22b218e94782d"; got != want {
		t.Errorf("Hash = %q, want %q", got, want)
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, ha, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two tokens are equal")
	}
	if len(a) != 43 {
		t.Errorf("token %q has %d chars, want 43 (32 bytes base64url)", a, len(a))
	}
	if token.Hash(a) != ha || !token.ValidHash(ha) {
		t.Errorf("hash %q does not match token", ha)
	}
}

func TestValidHash(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		token.Hash("x"):                true,
		"ABCDEF" + token.Hash("x")[6:]: false,
		token.Hash("x")[:63]:           false,
		"":                             false,
	} {
		if got := token.ValidHash(h); got != want {
			t.Errorf("ValidHash(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestValidateClientName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"lab-system":            "",
		"Ward 7 app":            "",
		"":                      "empty",
		" lab":                  "surrounding spaces",
		"lab\n":                 "surrounding spaces",
		"la\x00b":               "unprintable",
		strings.Repeat("x", 65): "longer than 64",
		strings.Repeat("é", 64): "",
	}
	for name, want := range tests {
		err := token.ValidateClientName(name)
		if want == "" {
			if err != nil {
				t.Errorf("ValidateClientName(%q) = %v, want nil", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateClientName(%q) = %v, want %q", name, err, want)
		}
	}
}
