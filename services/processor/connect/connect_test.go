package connect_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

type fakeConnect struct {
	start  func(*awsconnect.StartOutboundVoiceContactInput) (*awsconnect.StartOutboundVoiceContactOutput, error)
	inputs []*awsconnect.StartOutboundVoiceContactInput
}

var _ connect.StartCallAPI = (*fakeConnect)(nil)

func (f *fakeConnect) StartOutboundVoiceContact(_ context.Context, in *awsconnect.StartOutboundVoiceContactInput, _ ...func(*awsconnect.Options)) (*awsconnect.StartOutboundVoiceContactOutput, error) {
	f.inputs = append(f.inputs, in)
	return f.start(in)
}

var settings = connect.Settings{InstanceID: "inst-1", ContactFlowID: "flow-1", SourcePhone: "+442079460000"}

func TestCall(t *testing.T) {
	t.Parallel()
	sdkErr := errors.New("DestinationNotAllowedException")
	tests := []struct {
		name    string
		out     *awsconnect.StartOutboundVoiceContactOutput
		err     error
		wantID  string
		wantErr string
	}{
		{"started", &awsconnect.StartOutboundVoiceContactOutput{ContactId: aws.String("contact-1")}, nil, "contact-1", ""},
		{"sdk error", nil, sdkErr, "", "DestinationNotAllowed"},
		{"no contact id", &awsconnect.StartOutboundVoiceContactOutput{}, nil, "", "no contact id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeConnect{start: func(*awsconnect.StartOutboundVoiceContactInput) (*awsconnect.StartOutboundVoiceContactOutput, error) {
				return tt.out, tt.err
			}}
			c, err := connect.NewCaller(f, settings)
			if err != nil {
				t.Fatal(err)
			}
			req := notify.CallRequest{
				Destination: "+447700900123",
				MessageSSML: "Potassium &amp; rising &lt;recheck&gt;",
				ClientToken: alert.CallClientToken("msg-0001"),
			}
			id, err := c.Call(t.Context(), req)
			if id != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("err = %v does not wrap the SDK's", err)
			}
			if len(f.inputs) != 1 {
				t.Fatalf("calls = %d, want 1", len(f.inputs))
			}
			in := f.inputs[0]
			for what, got := range map[string][2]string{
				"instance":    {aws.ToString(in.InstanceId), "inst-1"},
				"flow":        {aws.ToString(in.ContactFlowId), "flow-1"},
				"source":      {aws.ToString(in.SourcePhoneNumber), "+442079460000"},
				"destination": {aws.ToString(in.DestinationPhoneNumber), "+447700900123"},
				"token":       {aws.ToString(in.ClientToken), req.ClientToken},
			} {
				if got[0] != got[1] {
					t.Errorf("%s = %q, want %q", what, got[0], got[1])
				}
			}
			if want := map[string]string{names.ConnectMessageAttribute: req.MessageSSML}; !maps.Equal(in.Attributes, want) {
				t.Errorf("attributes = %v, want %v (passed through, already escaped)", in.Attributes, want)
			}
		})
	}
}

func TestNewCallerNeedsEverySetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*connect.Settings)
		want string
	}{
		{"instance", func(s *connect.Settings) { s.InstanceID = "" }, "InstanceID"},
		{"flow", func(s *connect.Settings) { s.ContactFlowID = "" }, "ContactFlowID"},
		{"source", func(s *connect.Settings) { s.SourcePhone = "" }, "SourcePhone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := settings
			tt.edit(&s)
			c, err := connect.NewCaller(&fakeConnect{}, s)
			if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewCaller = %v, %v; want an error naming %s", c, err, tt.want)
			}
		})
	}
}
