package integration

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// forget deletes the idempotency record of the sandbox client's alert id,
// as the table's TTL does once idempotencyTtl has passed (which may be as
// short as a minute) while Connect still remembers the call's ClientToken
// for 7 days.
func forget(t *testing.T, env *sandbox.Sandbox, id string) {
	t.Helper()

	key := alert.Key{Client: sandbox.ClientName, MessageID: id}.String()
	if _, err := env.Clients.DynamoDB.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{
		TableName: aws.String(env.Deployment.OutputString(names.OutputIdempotencyTable)),
		Key:       map[string]types.AttributeValue{names.AttrIdempotencyKey: &types.AttributeValueMemberS{Value: key}},
	}); err != nil {
		t.Fatalf("delete the record %s: %v", key, err)
	}
}

// TestReusedMessageIDIsCalled: once a call's record has expired, a
// different alert that reuses its message_id is still called (Connect is
// given another ClientToken), while the same alert sent again is
// de-duplicated by Connect (the same ClientToken). The other client's
// alert with the same message_id is always called.
func TestReusedMessageIDIsCalled(t *testing.T) {
	t.Parallel()

	env := tgt.needSandbox(t, "deleting an idempotency record")
	stub := tgt.needConnect(t)

	a := newAlert(t, priorityFor(t, contact.ChannelCall), "")
	first := tgt.postAlert(t, a).wantSent(t, a)

	forget(t, env, a.MessageID)

	b := a
	b.Description = "Sodium 118 mmol/L, a different alert with the same message_id"
	second := tgt.postAlert(t, b).wantSent(t, b)

	forget(t, env, a.MessageID)

	again := tgt.postAlert(t, a).wantSent(t, a)

	other := tgt.postAuth(t, encode(t, a), auth{header: tgt.needSecondClient(t)}).wantSent(t, a)

	all := calls(stub, a.MessageID)
	if len(all) != 4 {
		t.Fatalf("%d requests reached Connect, want 4", len(all))
	}

	checks := []struct {
		name     string
		call     int
		answered string
		replayed bool
		token    int // index of the call whose token it must carry, -1 for a new one
	}{
		{"first alert", 0, first.ProviderMessageID, false, -1},
		{"different alert, same message_id", 1, second.ProviderMessageID, false, -1},
		{"same alert again: Connect de-duplicates", 2, first.ProviderMessageID, true, 0},
		{"same alert from the other client", 3, other.ProviderMessageID, false, -1},
	}

	tokens := map[string]bool{}

	for _, c := range checks {
		got := all[c.call]
		if got.Replayed != c.replayed || got.ContactID != c.answered {
			t.Errorf("%s: Connect replayed %v contact %s, want replayed %v, answered %s", c.name, got.Replayed, got.ContactID, c.replayed, c.answered)
		}

		switch {
		case c.token >= 0 && got.ClientToken != all[c.token].ClientToken:
			t.Errorf("%s: ClientToken %s, want the first alert's %s", c.name, got.ClientToken, all[c.token].ClientToken)
		case c.token < 0 && tokens[got.ClientToken]:
			t.Errorf("%s: ClientToken %s was already used: Connect would place no call", c.name, got.ClientToken)
		}

		tokens[got.ClientToken] = true
	}

	if again.ProviderMessageID != first.ProviderMessageID {
		t.Errorf("the same alert answered contact %s, want the first call's %s", again.ProviderMessageID, first.ProviderMessageID)
	}
}

// TestIdempotencyIsScopedByClient: two clients using one message_id each
// get their own delivery, replay and mismatch; neither blocks or replays
// the other's.
func TestIdempotencyIsScopedByClient(t *testing.T) {
	t.Parallel()

	second := auth{header: tgt.needSecondClient(t)}
	tap := tgt.needTap(t)

	a := newAlert(t, priorityFor(t, contact.ChannelSMS), "")
	edited := a
	edited.Description = "The second client's own alert"

	firstA := tgt.postAlert(t, a)
	firstA.wantSent(t, a)

	// The same body from the other client: a delivery of its own, not a
	// replay.
	secondA := tgt.postAuth(t, encode(t, a), second)
	secondA.wantSent(t, a)

	// Each client's repeat replays its own answer.
	if r := tgt.postAuth(t, encode(t, a), second); !r.replayed() || !bytes.Equal(r.body, secondA.body) {
		t.Errorf("second client's repeat: %s (replay %v), want its own answer replayed", r, r.replayed())
	}

	if r := tgt.postAlert(t, a); !r.replayed() || !bytes.Equal(r.body, firstA.body) {
		t.Errorf("first client's repeat: %s (replay %v), want its own answer replayed", r, r.replayed())
	}

	// A different payload is a mismatch only for the client that used the
	// id, whichever that is.
	tgt.postAlert(t, edited).wantError(t, api.CodeIdempotencyMismatch)
	tgt.postAuth(t, encode(t, edited), second).wantError(t, api.CodeIdempotencyMismatch)

	b := newAlert(t, priorityFor(t, contact.ChannelSMS), "edited")
	b2 := b
	b2.Description = "Another client, same id, different alert"

	tgt.postAlert(t, b).wantSent(t, b)

	if r := tgt.postAuth(t, encode(t, b2), second); r.status != http.StatusOK || r.replayed() {
		t.Errorf("second client's different alert with the first's id: %s, want a fresh 200", r)
	}

	tgt.drain(t)

	for id, want := range map[string]int{a.MessageID: 2, b.MessageID: 2} {
		if got := len(deliveries(tap, id)); got != want {
			t.Errorf("%s: %d deliveries, want %d (one per client)", id, got, want)
		}
	}
}
