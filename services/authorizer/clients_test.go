package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

func clientsJSON(tb testing.TB, entries ...[2]string) string {
	tb.Helper()
	list := make([]map[string]string, 0, len(entries))
	for _, e := range entries {
		list = append(list, map[string]string{"client": e[0], "sha256": e[1]})
	}
	b, err := json.Marshal(list)
	if err != nil {
		tb.Fatalf("encode clients: %v", err)
	}
	return string(b)
}

func TestParseClients(t *testing.T) {
	t.Parallel()
	ward, lab := token.Hash(wardToken), token.Hash(labToken)

	t.Run("usage keys", func(t *testing.T) {
		t.Parallel()
		got, err := ParseClients(`[{"client":"a","sha256":"` + ward + `","usage_key":"k1"},{"client":"b","sha256":"` + lab + `"}]`)
		if err != nil {
			t.Fatalf("ParseClients: %v", err)
		}
		if got[0].UsageKey != "k1" || got[1].UsageKey != "" {
			t.Errorf("usage keys = %q, %q; want k1 and none", got[0].UsageKey, got[1].UsageKey)
		}
	})

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		got, err := ParseClients(clientsJSON(t, [2]string{"ward-7", ward}, [2]string{"lab", lab}))
		if err != nil {
			t.Fatalf("ParseClients: %v", err)
		}
		want := []Client{{Name: "ward-7", Hash: sha(wardToken)}, {Name: "lab", Hash: sha(labToken)}}
		if len(got) != len(want) {
			t.Fatalf("got %d clients, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("client %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})

	tests := []struct {
		name    string
		raw     string
		wantErr string
	}{
		{name: "empty string", raw: "", wantErr: "not a JSON list"},
		{name: "bad JSON", raw: `[{"client":"a","sha256":`, wantErr: "not a JSON list"},
		{name: "object instead of list", raw: `{"client":"a","sha256":"` + ward + `"}`, wantErr: "not a JSON list"},
		{name: "unknown field", raw: `[{"client":"a","sha-256":"` + ward + `"}]`, wantErr: "not a JSON list"},
		{name: "trailing data", raw: clientsJSON(t, [2]string{"a", ward}) + ` []`, wantErr: "unexpected data"},
		{name: "null", raw: "null", wantErr: "empty"},
		{name: "empty list", raw: "[]", wantErr: "empty"},
		{name: "empty client name", raw: clientsJSON(t, [2]string{"", ward}), wantErr: "name is empty"},
		{name: "padded client name", raw: clientsJSON(t, [2]string{" ward-7", ward}), wantErr: "surrounding spaces"},
		{name: "control character in name", raw: clientsJSON(t, [2]string{"ward\n7", ward}), wantErr: "unprintable"},
		{name: "duplicate client names", raw: clientsJSON(t, [2]string{"a", ward}, [2]string{"a", lab}), wantErr: "duplicate client name"},
		{name: "duplicate hashes", raw: clientsJSON(t, [2]string{"a", ward}, [2]string{"b", ward}), wantErr: "same sha256"},
		{
			name:    "duplicate usage keys",
			raw:     `[{"client":"a","sha256":"` + ward + `","usage_key":"k1"},{"client":"b","sha256":"` + lab + `","usage_key":"k1"}]`,
			wantErr: "same usage_key",
		},
		{name: "missing hash", raw: `[{"client":"a"}]`, wantErr: "64 lowercase hex"},
		{name: "short hash", raw: clientsJSON(t, [2]string{"a", ward[:63]}), wantErr: "64 lowercase hex"},
		{name: "long hash", raw: clientsJSON(t, [2]string{"a", ward + "0"}), wantErr: "64 lowercase hex"},
		{name: "upper-case hash", raw: clientsJSON(t, [2]string{"a", strings.ToUpper(ward)}), wantErr: "lowercase hex"},
		{name: "non-hex hash", raw: clientsJSON(t, [2]string{"a", "g" + ward[1:]}), wantErr: "lowercase hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseClients(tt.raw)
			if err == nil {
				t.Fatalf("ParseClients = %+v, want an error", got)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, names.EnvAPIClients+": ") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("err = %q, want %q and %q", msg, names.EnvAPIClients, tt.wantErr)
			}
			for _, h := range []string{ward, lab, strings.ToUpper(ward)} {
				if strings.Contains(msg, h[8:24]) {
					t.Errorf("err %q repeats a hash", msg)
				}
			}
		})
	}
}
