package connect_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

var settings = connect.Settings{InstanceID: "inst-1", ContactFlowID: "flow-1", SourcePhone: "+442079460000"}

// fakeConnect serves Connect's REST-JSON StartOutboundVoiceContact: it
// records each request body and answers with answer (a contact id when
// nil).
type fakeConnect struct {
	mu     sync.Mutex
	bodies []map[string]any
	answer func(n int, w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeConnect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if r.Method != http.MethodPut || r.URL.Path != "/contact/outbound-voice" || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	n := len(f.bodies)
	f.mu.Unlock()
	if f.answer != nil && f.answer(n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ContactId":"contact-1"}`))
}

func (f *fakeConnect) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// connectError answers a Connect error in REST-JSON.
func connectError(status int, errType string) func(int, http.ResponseWriter, *http.Request) bool {
	return func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("X-Amzn-ErrorType", errType)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"Message":"injected"}`))
		return true
	}
}

// caller is a Caller on a real Connect client, built as main builds it.
func caller(t *testing.T, f *fakeConnect, attemptTimeout time.Duration) *connect.Caller {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := awsconnect.New(awsconnect.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, connect.ClientOptions(attemptTimeout))
	c, err := connect.NewCaller(client, settings)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var req = alerting.CallRequest{
	Destination: "+447700900123",
	MessageSSML: "Potassium &amp; rising &lt;recheck&gt;",
	ClientToken: delivery.CallClientToken(alert.Key{Client: "ward-7", MessageID: "msg-0001"}, strings.Repeat("a", 64), delivery.CallAttempt{ContactID: "dr-jones", Number: 1}),
}

func TestCall(t *testing.T) {
	t.Parallel()
	f := &fakeConnect{}
	id, err := caller(t, f, time.Second).Call(t.Context(), req)
	if err != nil || id != "contact-1" {
		t.Fatalf("Call = %q, %v; want contact-1", id, err)
	}
	in := f.bodies[0]
	for field, want := range map[string]string{
		"InstanceId": "inst-1", "ContactFlowId": "flow-1", "SourcePhoneNumber": "+442079460000",
		"DestinationPhoneNumber": "+447700900123", "ClientToken": req.ClientToken,
	} {
		if in[field] != want {
			t.Errorf("%s = %v, want %q", field, in[field], want)
		}
	}
	attrs, _ := in["Attributes"].(map[string]any)
	if want := map[string]any{names.ConnectMessageAttribute: req.MessageSSML}; !maps.Equal(attrs, want) {
		t.Errorf("attributes = %v, want %v (passed through, already escaped)", attrs, want)
	}
}

// TestCallNamesItsAttempt: a call of an alert that asks for an
// acknowledgment carries its attempt, which the contact flow hands the
// ack function with the call's ContactId.
func TestCallNamesItsAttempt(t *testing.T) {
	t.Parallel()
	f := &fakeConnect{}
	r := req
	r.Ref = alerting.AckRef{Key: alert.Key{Client: "ward-7", MessageID: "msg-0001"}, Instance: "1796115600000-0a1b2c3d", Attempt: 3, ContactID: "dr-jones"}
	if _, err := caller(t, f, time.Second).Call(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	attrs, _ := f.bodies[0]["Attributes"].(map[string]any)
	want := map[string]any{
		names.ConnectMessageAttribute: r.MessageSSML, names.ConnectAlertAttribute: "6:ward-7:msg-0001",
		names.ConnectInstanceAttribute: r.Ref.Instance, names.ConnectAttemptAttribute: "3",
	}
	if !maps.Equal(attrs, want) {
		t.Errorf("attributes = %v, want %v", attrs, want)
	}
}

// TestCallFailures checks each class end to end through the real SDK
// client: how often Connect is asked, and how the failure is classified.
func TestCallFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answer   func(int, http.ResponseWriter, *http.Request) bool
		wantSent int
		class    delivery.Class
		code     string
	}{
		{"limit exceeded: retried, then transient", connectError(http.StatusTooManyRequests, "LimitExceededException"), 3, delivery.Transient, "LimitExceededException"},
		{"destination not allowed: permanent", connectError(http.StatusForbidden, "DestinationNotAllowedException"), 1, delivery.Permanent, "DestinationNotAllowedException"},
		{"outbound calls not permitted: permanent", connectError(http.StatusForbidden, "OutboundContactNotPermittedException"), 1, delivery.Permanent, "OutboundContactNotPermittedException"},
		{"unknown contact flow: permanent", connectError(http.StatusNotFound, "ResourceNotFoundException"), 1, delivery.Permanent, "ResourceNotFoundException"},
		{"internal error: ambiguous, never retried", connectError(http.StatusInternalServerError, "InternalServiceException"), 1, delivery.Ambiguous, "InternalServiceException"},
		{"answer dropped: ambiguous, never retried", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			hijack(w)
			return true
		}, 1, delivery.Ambiguous, "no_answer"},
		{"no contact id in the answer: ambiguous", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			_, _ = w.Write([]byte(`{}`))
			return true
		}, 1, delivery.Ambiguous, "no_contact_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeConnect{answer: tt.answer}
			_, err := caller(t, f, 500*time.Millisecond).Call(t.Context(), req)
			if got := f.count(); got != tt.wantSent {
				t.Errorf("Connect was asked %d times, want %d", got, tt.wantSent)
			}
			var fail *delivery.Error
			if !errors.As(err, &fail) || fail.Class != tt.class || fail.Code != tt.code {
				t.Fatalf("err = %v, want a %s failure with code %s", err, tt.class, tt.code)
			}
			if f.count() > 1 {
				for _, b := range f.bodies {
					if b["ClientToken"] != req.ClientToken {
						t.Errorf("a retried attempt changed the ClientToken to %v", b["ClientToken"])
					}
				}
			}
		})
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*connect.Settings)
		want []string // "" entry: valid
	}{
		{"all set", func(*connect.Settings) {}, nil},
		{"instance missing", func(s *connect.Settings) { s.InstanceID = "" }, []string{names.EnvConnectInstanceID, "not set while"}},
		{"flow missing", func(s *connect.Settings) { s.ContactFlowID = "" }, []string{names.EnvConnectContactFlowID}},
		{"source missing", func(s *connect.Settings) { s.SourcePhone = "" }, []string{names.EnvConnectSourcePhone}},
		{"none set", func(s *connect.Settings) { *s = connect.Settings{} }, []string{names.EnvConnectInstanceID, names.EnvConnectContactFlowID, names.EnvConnectSourcePhone}},
		{"source not E.164", func(s *connect.Settings) { s.SourcePhone = "020 7946 0000" }, []string{names.EnvConnectSourcePhone, "E.164"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := settings
			tt.edit(&s)
			err := s.Validate()
			if (err == nil) != (tt.want == nil) {
				t.Fatalf("Validate = %v, want error %v", err, tt.want != nil)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			// NewCaller applies the same one check.
			if c, nerr := connect.NewCaller(nil, s); (nerr == nil) != (err == nil) || (nerr == nil) != (c != nil) {
				t.Errorf("NewCaller = %v, %v; Validate = %v", c, nerr, err)
			}
		})
	}
}

// hijack closes the connection without an answer, after the request was read.
func hijack(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}
