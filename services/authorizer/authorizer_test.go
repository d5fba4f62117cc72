package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// Tokens of the fixtures and test clients. Every one of them, and its hash,
// must stay out of the logs.
const (
	wardToken     = "a2pt_W7x5Fq9XkR2mVb7LcJ8" // in testdata/request-event.json
	pharmacyToken = "a2pt_Ph3Hn4Tz8QwE1rYs6Pd" // in testdata/token-event.json
	labToken      = "a2pt_Lb2Ue7Wc3Kx9Bn2Gv5M"
	strangerToken = "a2pt_Zz9Jm6Ra1Yt4Sd8Hf0Q"
	fixtureArn    = "arn:aws:execute-api:eu-west-2:123456789012:a1b2c3d4e5/prod/POST/notification"
)

func testClients() []Client {
	return []Client{
		{Name: "ward-7", Hash: sha(wardToken)},
		{Name: "pharmacy", Hash: sha(pharmacyToken)},
		{Name: "lab", Hash: sha(labToken)},
	}
}

func sha(tok string) [32]byte {
	return sha256.Sum256([]byte(tok))
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// fixtureEvent returns testdata/name after mutate has changed its decoded form.
func fixtureEvent(tb testing.TB, name string, mutate func(ev map[string]any)) []byte {
	tb.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readFixture(tb, name), &ev); err != nil {
		tb.Fatalf("decode fixture %s: %v", name, err)
	}
	if mutate != nil {
		mutate(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		tb.Fatalf("encode event: %v", err)
	}
	return b
}

// dropAuth removes every Authorization header, whatever its case.
func dropAuth(ev map[string]any) {
	for _, key := range []string{"headers", "multiValueHeaders"} {
		m, _ := ev[key].(map[string]any)
		for k := range m {
			if strings.EqualFold(k, names.HeaderAuthorization) {
				delete(m, k)
			}
		}
	}
}

// headerMap returns the event's header map under key, creating it if absent.
func headerMap(ev map[string]any, key string) map[string]any {
	m, ok := ev[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		ev[key] = m
	}
	return m
}

// setAuth replaces the Authorization header in both header maps.
func setAuth(key, value string) func(map[string]any) {
	return func(ev map[string]any) {
		dropAuth(ev)
		headerMap(ev, "headers")[key] = value
		headerMap(ev, "multiValueHeaders")[key] = []string{value}
	}
}

func requestEvent(tb testing.TB, mutate ...func(map[string]any)) []byte {
	tb.Helper()
	return fixtureEvent(tb, "request-event.json", func(ev map[string]any) {
		for _, m := range mutate {
			m(ev)
		}
	})
}

func tokenEvent(tb testing.TB, mutate ...func(map[string]any)) []byte {
	tb.Helper()
	return fixtureEvent(tb, "token-event.json", func(ev map[string]any) {
		for _, m := range mutate {
			m(ev)
		}
	})
}

func setField(key string, value any) func(map[string]any) {
	return func(ev map[string]any) { ev[key] = value }
}

func deleteField(key string) func(map[string]any) {
	return func(ev map[string]any) { delete(ev, key) }
}

// newTestAuthorizer returns an Authorizer for testClients that logs JSON
// into the returned buffer.
func newTestAuthorizer(tb testing.TB) (*Authorizer, *bytes.Buffer) {
	tb.Helper()
	var logs bytes.Buffer
	a, err := New(testClients(), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a, &logs
}

func lambdaCtx(ctx context.Context, id string) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id})
}

// assertNoSecret fails when logs contain any 8-character piece of secret,
// its JSON-escaped form, or any 16-character piece of its hex hash.
func assertNoSecret(tb testing.TB, logs, secret string) {
	tb.Helper()
	escaped, err := json.Marshal(secret)
	if err != nil {
		tb.Fatalf("escape secret: %v", err)
	}
	if strings.Contains(logs, strings.Trim(string(escaped), `"`)) {
		tb.Errorf("logs contain the escaped token %q:\n%s", secret, logs)
	}
	for _, s := range []struct {
		text  string
		piece int
	}{{secret, 8}, {token.Hash(secret), 16}} {
		n := min(s.piece, len(s.text))
		for i := 0; i+n <= len(s.text); i++ {
			if strings.Contains(logs, s.text[i:i+n]) {
				tb.Errorf("logs contain %q, a piece of a token or of its hash:\n%s", s.text[i:i+n], logs)
				return
			}
		}
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()

	long := "a2pt_Ov1Kt7Yq_" + strings.Repeat("Q", MaxAuthorizationBytes)
	// Exactly at the limit: not malformed, merely unknown.
	const atLimitPrefix = "a2pt_At4Pw2Jr_"
	atLimit := atLimitPrefix + strings.Repeat("R", MaxAuthorizationBytes-len("Bearer "+atLimitPrefix))
	if n := len("Bearer " + atLimit); n != MaxAuthorizationBytes {
		t.Fatalf("at-limit value has %d bytes, want %d", n, MaxAuthorizationBytes)
	}
	ctlToken := "a2pt_Ct6Hs0Bn_\x01Kq8Zm3Vx"
	badJSON := []byte(`{"type":"REQUEST","methodArn":"` + fixtureArn + `","headers":{"Authorization":"Bearer ` + wardToken + `"`)

	// Every token any case sends; none may appear in any case's log.
	secrets := []string{wardToken, pharmacyToken, labToken, strangerToken, long, atLimit, ctlToken, "a2pt_Um8Fe3ÄöÜ_Zx81", "a2pt_Sp5 Lp4NqWz"}

	tests := []struct {
		name       string
		payload    []byte
		wantClient string // "" means the request must be refused
		wantReason string
		wantType   string
		wantArn    string
	}{
		// Allowed.
		{name: "request fixture, Bearer", payload: requestEvent(t), wantClient: "ward-7", wantType: "REQUEST", wantArn: fixtureArn},
		{name: "request raw token", payload: requestEvent(t, setAuth("Authorization", wardToken)), wantClient: "ward-7", wantType: "REQUEST", wantArn: fixtureArn},
		{name: "request lower-case header", payload: requestEvent(t, setAuth("authorization", "Bearer "+labToken)), wantClient: "lab", wantType: "REQUEST", wantArn: fixtureArn},
		{name: "request upper-case header", payload: requestEvent(t, setAuth("AUTHORIZATION", pharmacyToken)), wantClient: "pharmacy", wantType: "REQUEST", wantArn: fixtureArn},
		{name: "request lower-case scheme and extra spaces", payload: requestEvent(t, setAuth("Authorization", " bearer   "+labToken+" ")), wantClient: "lab", wantType: "REQUEST", wantArn: fixtureArn},
		{
			name:       "request headers only (kumo shape)",
			payload:    requestEvent(t, setAuth("Authorization", "Bearer "+wardToken), deleteField("multiValueHeaders")),
			wantClient: "ward-7", wantType: "REQUEST", wantArn: fixtureArn,
		},
		{
			name:       "request multiValueHeaders only",
			payload:    requestEvent(t, setAuth("authorization", "Bearer "+wardToken), setField("headers", map[string]any{"Host": "x"})),
			wantClient: "ward-7", wantType: "REQUEST", wantArn: fixtureArn,
		},
		{
			name:       "request other method ARN",
			payload:    requestEvent(t, setField("methodArn", "arn:aws:execute-api:us-east-1:000000000000:abc/dev/POST/notification")),
			wantClient: "ward-7", wantType: "REQUEST", wantArn: "arn:aws:execute-api:us-east-1:000000000000:abc/dev/POST/notification",
		},
		{name: "token fixture raw", payload: tokenEvent(t), wantClient: "pharmacy", wantType: "TOKEN", wantArn: fixtureArn},
		{name: "token event Bearer", payload: tokenEvent(t, setField("authorizationToken", "Bearer "+labToken)), wantClient: "lab", wantType: "TOKEN", wantArn: fixtureArn},

		// Missing.
		{name: "request without Authorization", payload: requestEvent(t, dropAuth), wantReason: "missing", wantType: "REQUEST"},
		{name: "request without any headers", payload: requestEvent(t, deleteField("headers"), deleteField("multiValueHeaders")), wantReason: "missing", wantType: "REQUEST"},
		{name: "request empty Authorization", payload: requestEvent(t, setAuth("Authorization", "")), wantReason: "missing", wantType: "REQUEST"},
		{name: "request blank Authorization", payload: requestEvent(t, setAuth("Authorization", " \t ")), wantReason: "missing", wantType: "REQUEST"},
		{name: "request Bearer without token", payload: requestEvent(t, setAuth("Authorization", "Bearer ")), wantReason: "missing", wantType: "REQUEST"},
		{name: "request Bearer alone", payload: requestEvent(t, setAuth("Authorization", "Bearer")), wantReason: "missing", wantType: "REQUEST"},
		{name: "token event empty token", payload: tokenEvent(t, setField("authorizationToken", "")), wantReason: "missing", wantType: "TOKEN"},
		{name: "token event without token", payload: tokenEvent(t, deleteField("authorizationToken")), wantReason: "missing", wantType: "TOKEN"},

		// Unknown.
		{name: "request unknown token", payload: requestEvent(t, setAuth("Authorization", "Bearer "+strangerToken)), wantReason: "unknown", wantType: "REQUEST"},
		{name: "request unknown raw token", payload: requestEvent(t, setAuth("Authorization", strangerToken)), wantReason: "unknown", wantType: "REQUEST"},
		{name: "request token with one character changed", payload: requestEvent(t, setAuth("Authorization", "Bearer "+wardToken[:len(wardToken)-1]+"9")), wantReason: "unknown", wantType: "REQUEST"},
		{name: "request prefix of a token", payload: requestEvent(t, setAuth("Authorization", "Bearer "+wardToken[:20])), wantReason: "unknown", wantType: "REQUEST"},
		{name: "request value exactly at the size limit", payload: requestEvent(t, setAuth("Authorization", "Bearer "+atLimit)), wantReason: "unknown", wantType: "REQUEST"},
		{name: "token event unknown token", payload: tokenEvent(t, setField("authorizationToken", strangerToken)), wantReason: "unknown", wantType: "TOKEN"},

		// Malformed.
		{name: "request oversized value", payload: requestEvent(t, setAuth("Authorization", "Bearer "+long)), wantReason: "malformed", wantType: "REQUEST"},
		{name: "token event oversized token", payload: tokenEvent(t, setField("authorizationToken", long)), wantReason: "malformed", wantType: "TOKEN"},
		{name: "bad event JSON with a valid token", payload: badJSON, wantReason: "malformed"},
		{name: "event is a JSON list", payload: []byte(`[]`), wantReason: "malformed"},
		{name: "headers of the wrong type", payload: []byte(`{"type":"REQUEST","methodArn":"` + fixtureArn + `","headers":["Authorization"]}`), wantReason: "malformed"},
		{name: "request without methodArn", payload: requestEvent(t, deleteField("methodArn")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "token event without methodArn", payload: tokenEvent(t, deleteField("methodArn")), wantReason: "malformed", wantType: "TOKEN"},
		{name: "methodArn is not an ARN", payload: requestEvent(t, setField("methodArn", "*")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "methodArn of another service", payload: requestEvent(t, setField("methodArn", "arn:aws:lambda:eu-west-2:1:function/x/y")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "methodArn without a stage", payload: requestEvent(t, setField("methodArn", "arn:aws:execute-api:eu-west-2:1:api")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "request token with a control character", payload: requestEvent(t, setAuth("Authorization", "Bearer "+ctlToken)), wantReason: "malformed", wantType: "REQUEST"},
		{name: "request valid token then newline", payload: requestEvent(t, setAuth("Authorization", "Bearer "+wardToken+"\n")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "token event valid token with NUL", payload: tokenEvent(t, setField("authorizationToken", pharmacyToken+"\x00")), wantReason: "malformed", wantType: "TOKEN"},
		{name: "request non-ASCII token", payload: requestEvent(t, setAuth("Authorization", "Bearer a2pt_Um8Fe3ÄöÜ_Zx81")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "request token with a space", payload: requestEvent(t, setAuth("Authorization", "Bearer a2pt_Sp5 Lp4NqWz")), wantReason: "malformed", wantType: "REQUEST"},
		{name: "request other scheme", payload: requestEvent(t, setAuth("Authorization", "Basic "+wardToken)), wantReason: "malformed", wantType: "REQUEST"},
		{
			name: "request conflicting Authorization headers",
			payload: requestEvent(t, func(ev map[string]any) {
				headerMap(ev, "multiValueHeaders")["Authorization"] = []string{"Bearer " + wardToken, "Bearer " + strangerToken}
			}),
			wantReason: "malformed", wantType: "REQUEST",
		},
		{
			name: "request two header spellings with different tokens",
			payload: requestEvent(t, setAuth("Authorization", "Bearer "+wardToken), func(ev map[string]any) {
				headerMap(ev, "headers")["authorization"] = "Bearer " + labToken
			}),
			wantReason: "malformed", wantType: "REQUEST",
		},
		{name: "unknown event type", payload: requestEvent(t, setField("type", "COGNITO")), wantReason: "malformed", wantType: "COGNITO"},
		{name: "event without type", payload: requestEvent(t, deleteField("type")), wantReason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, logs := newTestAuthorizer(t)
			reqID := "req-" + strings.ReplaceAll(tt.name, " ", "-")

			got, err := a.Authorize(lambdaCtx(t.Context(), reqID), tt.payload)

			if tt.wantClient == "" {
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("err = %v, want ErrUnauthorized", err)
				}
				if got.PrincipalID != "" || len(got.PolicyDocument.Statement) != 0 {
					t.Errorf("refused request returned a policy: %+v", got)
				}
			} else {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				assertAllow(t, got, tt.wantClient, tt.wantArn)
			}

			line := decodeOneLine(t, logs.String())
			want := map[string]any{
				"msg":        "authorizer decision",
				"request_id": reqID,
				"event_type": tt.wantType,
			}
			if tt.wantClient != "" {
				want["outcome"], want["client"], want["level"] = "allow", tt.wantClient, "INFO"
			} else {
				want["outcome"], want["reason"], want["level"] = "deny", tt.wantReason, "WARN"
			}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("log %q = %v, want %v", k, line[k], v)
				}
			}
			if tt.wantClient == "" {
				if _, ok := line["client"]; ok {
					t.Errorf("deny line names a client: %v", line)
				}
			} else if _, ok := line["reason"]; ok {
				t.Errorf("allow line has a reason: %v", line)
			}

			for _, s := range secrets {
				assertNoSecret(t, logs.String(), s)
			}
		})
	}
}

func assertAllow(tb testing.TB, got events.APIGatewayCustomAuthorizerResponse, client, arn string) {
	tb.Helper()
	if got.PrincipalID != client {
		tb.Errorf("principalId = %q, want %q", got.PrincipalID, client)
	}
	if got.Context[names.AuthContextClient] != client || len(got.Context) != 1 {
		tb.Errorf("context = %v, want {%q: %q}", got.Context, names.AuthContextClient, client)
	}
	if got.PolicyDocument.Version != "2012-10-17" {
		tb.Errorf("policy version = %q, want 2012-10-17", got.PolicyDocument.Version)
	}
	if len(got.PolicyDocument.Statement) != 1 {
		tb.Fatalf("policy has %d statements, want 1: %+v", len(got.PolicyDocument.Statement), got.PolicyDocument)
	}
	st := got.PolicyDocument.Statement[0]
	// Every route behind the authorizer, on the method's API and stage: a
	// cached answer must not refuse the token's next request on another
	// route.
	base := arn[:strings.LastIndex(arn, "/POST/")]
	want := []string{base + "/POST/notification", base + "/GET/notification/*", base + "/POST/notification/*/ack"}
	if st.Effect != "Allow" || len(st.Action) != 1 || st.Action[0] != "execute-api:Invoke" || !slices.Equal(st.Resource, want) {
		tb.Errorf("statement = %+v, want Allow execute-api:Invoke on %v", st, want)
	}
}

// decodeOneLine checks that logs hold exactly one JSON line and decodes it.
func decodeOneLine(tb testing.TB, logs string) map[string]any {
	tb.Helper()
	lines := strings.Split(strings.TrimSuffix(logs, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		tb.Fatalf("got %d log lines, want 1:\n%s", len(lines), logs)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		tb.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	return line
}

func TestInvoke(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuthorizer(t)

	t.Run("allow answers the policy JSON API Gateway expects", func(t *testing.T) {
		t.Parallel()
		out, err := a.Invoke(lambdaCtx(t.Context(), "req-1"), requestEvent(t))
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("decode response: %v", err)
		}
		var want any
		wantJSON := `{"principalId":"ward-7","policyDocument":{"Version":"2012-10-17","Statement":[` +
			`{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["` + fixtureArn + `","` +
			strings.TrimSuffix(fixtureArn, "POST/notification") + `GET/notification/*","` +
			strings.TrimSuffix(fixtureArn, "POST/notification") + `POST/notification/*/ack"]}]},` +
			`"context":{"client":"ward-7"}}`
		if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
			t.Fatalf("decode want: %v", err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("response = %s, want %s", out, wantJSON)
		}
	})

	t.Run("deny fails with exactly Unauthorized", func(t *testing.T) {
		t.Parallel()
		out, err := a.Invoke(lambdaCtx(t.Context(), "req-2"), requestEvent(t, dropAuth))
		if !errors.Is(err, ErrUnauthorized) || err.Error() != "Unauthorized" {
			t.Fatalf("err = %v, want exactly Unauthorized", err)
		}
		if out != nil {
			t.Errorf("response = %s, want none", out)
		}
	})
}

func TestAuthorizeWithoutLambdaContext(t *testing.T) {
	t.Parallel()
	a, logs := newTestAuthorizer(t)
	if _, err := a.Authorize(t.Context(), requestEvent(t)); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if got := decodeOneLine(t, logs.String())["request_id"]; got != "" {
		t.Errorf("request_id = %v, want empty outside Lambda", got)
	}
}

// The fixtures must have the shape aws-lambda-go's own types give them.
func TestFixturesMatchAWSTypes(t *testing.T) {
	t.Parallel()
	var req events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(readFixture(t, "request-event.json"), &req); err != nil {
		t.Fatalf("decode request fixture: %v", err)
	}
	if req.Type != "REQUEST" || req.MethodArn != fixtureArn || req.Headers["Authorization"] != "Bearer "+wardToken ||
		len(req.MultiValueHeaders["Authorization"]) != 1 || req.RequestContext.APIID != "a1b2c3d4e5" {
		t.Errorf("request fixture = %+v", req)
	}
	var tok events.APIGatewayCustomAuthorizerRequest
	if err := json.Unmarshal(readFixture(t, "token-event.json"), &tok); err != nil {
		t.Fatalf("decode token fixture: %v", err)
	}
	if tok.Type != "TOKEN" || tok.MethodArn != fixtureArn || tok.AuthorizationToken != pharmacyToken {
		t.Errorf("token fixture = %+v", tok)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tests := []struct {
		name    string
		clients []Client
		logger  *slog.Logger
		wantErr string
	}{
		{name: "valid", clients: testClients(), logger: logger},
		{name: "nil logger", clients: testClients(), logger: nil, wantErr: "logger is nil"},
		{name: "no clients", clients: nil, logger: logger, wantErr: "empty"},
		{name: "empty name", clients: []Client{{Name: "", Hash: sha(wardToken)}}, logger: logger, wantErr: "name is empty"},
		{
			name:    "duplicate name",
			clients: []Client{{Name: "a", Hash: sha(wardToken)}, {Name: "a", Hash: sha(labToken)}},
			logger:  logger, wantErr: "duplicate client name",
		},
		{
			name:    "duplicate hash",
			clients: []Client{{Name: "a", Hash: sha(wardToken)}, {Name: "b", Hash: sha(wardToken)}},
			logger:  logger, wantErr: "same sha256",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(tt.clients, tt.logger)
			if tt.wantErr == "" {
				if err != nil || a == nil {
					t.Fatalf("New = %v, %v; want an authorizer", a, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// New copies the clients: changing the caller's slice afterwards must not
// change who is admitted.
func TestNewCopiesClients(t *testing.T) {
	t.Parallel()
	clients := testClients()
	a, err := New(clients, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	clients[0].Hash = sha(strangerToken)
	if _, err := a.Authorize(t.Context(), requestEvent(t)); err != nil {
		t.Errorf("Authorize after changing the caller's slice: %v", err)
	}
}

func BenchmarkAuthorize(b *testing.B) {
	clients := make([]Client, 0, 10)
	for i := range 9 {
		clients = append(clients, Client{Name: fmt.Sprintf("client-%d", i), Hash: sha(fmt.Sprintf("a2pt_bench_%d", i))})
	}
	clients = append(clients, Client{Name: "ward-7", Hash: sha(wardToken)})
	a, err := New(clients, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	payload := requestEvent(b)
	ctx := lambdaCtx(b.Context(), "req-bench")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, payload); err != nil {
			b.Fatalf("Authorize: %v", err)
		}
	}
}

// TestAuthorizeReturnsTheClientsUsageKey checks that the Allow answer
// carries the matched client's usage key (API Gateway's
// usageIdentifierKey, which selects the client's usage plan), none for a
// client without one, and that no log line holds a key.
func TestAuthorizeReturnsTheClientsUsageKey(t *testing.T) {
	t.Parallel()
	const wardKey, labKey = "UsageKeyOfWard7xxxxxxxxxxxxxxxxxxxxx", "UsageKeyOfLabxxxxxxxxxxxxxxxxxxxxxxx"
	clients := []Client{
		{Name: "ward-7", Hash: sha(wardToken), UsageKey: wardKey},
		{Name: "lab", Hash: sha(labToken), UsageKey: labKey},
		{Name: "pharmacy", Hash: sha(pharmacyToken)},
	}
	var logs bytes.Buffer
	a, err := New(clients, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]string{wardToken: wardKey, labToken: labKey, pharmacyToken: ""} {
		got, err := a.Authorize(t.Context(), requestEvent(t, setAuth("Authorization", "Bearer "+tok)))
		if err != nil {
			t.Fatalf("Authorize: %v", err)
		}
		if got.UsageIdentifierKey != want {
			t.Errorf("principal %s: usageIdentifierKey = %q, want %q", got.PrincipalID, got.UsageIdentifierKey, want)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if want != "" && !strings.Contains(string(b), `"usageIdentifierKey":"`+want+`"`) {
			t.Errorf("encoded answer %s lacks usageIdentifierKey", b)
		}
	}
	if _, err := a.Authorize(t.Context(), requestEvent(t, setAuth("Authorization", "Bearer "+strangerToken))); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("unknown token: err = %v", err)
	}
	for _, key := range []string{wardKey, labKey} {
		if strings.Contains(logs.String(), key[:16]) {
			t.Errorf("logs hold a usage key:\n%s", logs.String())
		}
	}
}
