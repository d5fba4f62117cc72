// Package connect places voice-call alerts through Amazon Connect's
// StartOutboundVoiceContact. It implements notify.Caller.
package connect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// StartCallAPI is the part of the Connect client that Caller uses.
type StartCallAPI interface {
	// StartOutboundVoiceContact places an outbound call through a contact
	// flow.
	StartOutboundVoiceContact(ctx context.Context, in *awsconnect.StartOutboundVoiceContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.StartOutboundVoiceContactOutput, error)
}

var _ StartCallAPI = (*awsconnect.Client)(nil)

// Settings are the stack's Amazon Connect settings, from
// names.EnvConnectInstanceID, names.EnvConnectContactFlowID and
// names.EnvConnectSourcePhone.
type Settings struct {
	// InstanceID is the Connect instance.
	InstanceID string
	// ContactFlowID is the outbound contact flow that speaks the alert.
	ContactFlowID string
	// SourcePhone is the E.164 number the call comes from.
	SourcePhone string
}

// Caller places calls through one Connect instance and contact flow.
type Caller struct {
	client   StartCallAPI
	settings Settings
}

var _ notify.Caller = (*Caller)(nil)

// NewCaller returns a Caller placing calls through client with settings,
// all of which are required.
func NewCaller(client StartCallAPI, settings Settings) (*Caller, error) {
	var missing []string
	if settings.InstanceID == "" {
		missing = append(missing, "InstanceID")
	}
	if settings.ContactFlowID == "" {
		missing = append(missing, "ContactFlowID")
	}
	if settings.SourcePhone == "" {
		missing = append(missing, "SourcePhone")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("connect: missing settings %s", strings.Join(missing, ", "))
	}
	return &Caller{client: client, settings: settings}, nil
}

// Call starts the outbound call. The contact flow reads the escaped text
// from the contact attribute names.ConnectMessageAttribute; req.ClientToken
// makes Connect start one call per token however often it is retried.
func (c *Caller) Call(ctx context.Context, req notify.CallRequest) (string, error) {
	out, err := c.client.StartOutboundVoiceContact(ctx, &awsconnect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String(c.settings.InstanceID),
		ContactFlowId:          aws.String(c.settings.ContactFlowID),
		SourcePhoneNumber:      aws.String(c.settings.SourcePhone),
		DestinationPhoneNumber: aws.String(req.Destination),
		Attributes:             map[string]string{names.ConnectMessageAttribute: req.MessageSSML},
		ClientToken:            aws.String(req.ClientToken),
	})
	if err != nil {
		return "", fmt.Errorf("start outbound voice contact: %w", err)
	}
	if aws.ToString(out.ContactId) == "" {
		return "", errors.New("start outbound voice contact: the answer holds no contact id")
	}
	return aws.ToString(out.ContactId), nil
}
