package standin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	connecttypes "github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
)

// newConnectClient is the real SDK client, pointed at the stub as
// AWS_ENDPOINT_URL_CONNECT points the processor's.
func newConnectClient(stub *ConnectStub) *connect.Client {
	return connect.NewFromConfig(emulator.Config(stub.URL, "eu-west-2"), func(o *connect.Options) {
		o.RetryMaxAttempts = 1
	})
}

func startStub(t *testing.T) *ConnectStub {
	t.Helper()

	stub, err := StartConnectStub(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = stub.Close() })

	return stub
}

func validCall() *connect.StartOutboundVoiceContactInput {
	return &connect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String("inst-1"),
		ContactFlowId:          aws.String("flow-1"),
		DestinationPhoneNumber: aws.String("+447700900123"),
		SourcePhoneNumber:      aws.String("+447700900999"),
		Attributes:             map[string]string{"message_ssml": "Bed 4 &amp; 5"},
	}
}

func TestConnectStubRecordsAndDeduplicates(t *testing.T) {
	t.Parallel()

	stub := startStub(t)
	client := newConnectClient(stub)

	first := validCall()
	first.ClientToken = aws.String("token-a")

	out1, err := client.StartOutboundVoiceContact(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}

	out2, err := client.StartOutboundVoiceContact(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}

	// No ClientToken: the SDK generates a fresh one, so this is a new call.
	third := validCall()

	out3, err := client.StartOutboundVoiceContact(t.Context(), third)
	if err != nil {
		t.Fatal(err)
	}

	id1, id2, id3 := aws.ToString(out1.ContactId), aws.ToString(out2.ContactId), aws.ToString(out3.ContactId)
	if id1 == "" || id1 != id2 {
		t.Fatalf("same ClientToken answered %q then %q; want one ContactId", id1, id2)
	}

	if id3 == id1 {
		t.Fatalf("a new ClientToken answered the old ContactId %q", id3)
	}

	calls := stub.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls recorded, want 3", len(calls))
	}

	got := calls[0]
	if got.InstanceID != "inst-1" || got.ContactFlowID != "flow-1" || got.DestinationPhoneNumber != "+447700900123" ||
		got.SourcePhoneNumber != "+447700900999" || got.ClientToken != "token-a" ||
		got.Attributes["message_ssml"] != "Bed 4 &amp; 5" || got.ContactID != id1 || got.Replayed {
		t.Fatalf("first call recorded as %+v", got)
	}

	if !calls[1].Replayed || calls[2].Replayed {
		t.Fatalf("Replayed flags %v, %v; want true, false", calls[1].Replayed, calls[2].Replayed)
	}

	if calls[2].ClientToken == "" {
		t.Fatal("the SDK's generated ClientToken was not recorded")
	}
}

func TestConnectStubFaults(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		mutate   func(*connect.StartOutboundVoiceContactInput)
		decide   func(OutboundCall) *ConnectError
		wantType string
	}{
		{
			name: "destination not E.164",
			mutate: func(in *connect.StartOutboundVoiceContactInput) {
				in.DestinationPhoneNumber = aws.String("07700900123")
			},
			wantType: "InvalidParameterException",
		},
		{
			name: "attributes over 32 KiB",
			mutate: func(in *connect.StartOutboundVoiceContactInput) {
				in.Attributes = map[string]string{"message_ssml": strings.Repeat("x", maxContactAttributesBytes)}
			},
			wantType: "InvalidParameterException",
		},
		{
			name: "injected fault",
			decide: func(OutboundCall) *ConnectError {
				return &ConnectError{Status: http.StatusTooManyRequests, Type: "LimitExceededException", Message: "slow down"}
			},
			wantType: "LimitExceededException",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			stub := startStub(t)
			stub.SetDecide(tt.decide)

			in := validCall()
			if tt.mutate != nil {
				tt.mutate(in)
			}

			_, err := newConnectClient(stub).StartOutboundVoiceContact(t.Context(), in)
			if err == nil {
				t.Fatal("call succeeded; want a fault")
			}

			if tt.wantType == "LimitExceededException" {
				var le *connecttypes.LimitExceededException
				if !errors.As(err, &le) {
					t.Fatalf("error %v is not a LimitExceededException", err)
				}
			} else {
				var ip *connecttypes.InvalidParameterException
				if !errors.As(err, &ip) {
					t.Fatalf("error %v is not an InvalidParameterException", err)
				}
			}

			calls := stub.Calls()
			if len(calls) != 1 || calls[0].Fault == nil || calls[0].Fault.Type != tt.wantType || calls[0].ContactID != "" {
				t.Fatalf("recorded %+v; want one faulted call without ContactId", calls)
			}
		})
	}
}

// TestConnectStubRefusesDestinations: UnreachableNumber is always refused
// for good, any number can be told to fail, and healed; other numbers are
// called meanwhile.
func TestConnectStubRefusesDestinations(t *testing.T) {
	t.Parallel()

	stub := startStub(t)
	client := newConnectClient(stub)
	call := func(number string) error {
		in := validCall()
		in.DestinationPhoneNumber = aws.String(number)
		_, err := client.StartOutboundVoiceContact(t.Context(), in)

		return err
	}

	var refused *connecttypes.DestinationNotAllowedException
	if err := call(UnreachableNumber); !errors.As(err, &refused) {
		t.Errorf("call to UnreachableNumber: %v, want DestinationNotAllowedException", err)
	}

	stub.FailDestination("+447700900555", &ConnectError{Status: http.StatusTooManyRequests, Type: "LimitExceededException", Message: "busy"})

	var limited *connecttypes.LimitExceededException
	if err := call("+447700900555"); !errors.As(err, &limited) {
		t.Errorf("call to the failed number: %v, want LimitExceededException", err)
	}

	if err := call("+447700900123"); err != nil {
		t.Errorf("call to another number: %v", err)
	}

	stub.FailDestination("+447700900555", nil)

	if err := call("+447700900555"); err != nil {
		t.Errorf("call after healing: %v", err)
	}

	faulted := 0
	for _, c := range stub.Calls() {
		if c.Fault != nil {
			faulted++
		}
	}

	if faulted != 2 {
		t.Errorf("%d faulted calls recorded, want 2", faulted)
	}
}

func TestConnectStubWaitForCalls(t *testing.T) {
	t.Parallel()

	stub := startStub(t)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()

	got, err := stub.WaitForCalls(ctx, 1, nil)
	if err == nil || len(got) != 0 {
		t.Fatalf("WaitForCalls with no calls: %v, %v; want a deadline error", got, err)
	}

	go func() {
		_, _ = newConnectClient(stub).StartOutboundVoiceContact(t.Context(), validCall())
	}()

	ctx2, cancel2 := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel2()

	got, err = stub.WaitForCalls(ctx2, 1, func(c OutboundCall) bool { return c.DestinationPhoneNumber == "+447700900123" })
	if err != nil || len(got) != 1 {
		t.Fatalf("WaitForCalls: %v, %v", got, err)
	}
}
