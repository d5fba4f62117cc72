// Package connect places voice-call alerts through Amazon Connect's
// StartOutboundVoiceContact. It implements alerting.Caller, classifying every
// failure (package provider).
package connect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/provider"
	"github.com/a2p-alerts/a2p-alerts/shared/contact"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// StartCallAPI is the part of the Connect client that Caller uses.
type StartCallAPI interface {
	// StartOutboundVoiceContact places an outbound call through a contact
	// flow.
	StartOutboundVoiceContact(ctx context.Context, in *awsconnect.StartOutboundVoiceContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.StartOutboundVoiceContactOutput, error)
}

var _ StartCallAPI = (*awsconnect.Client)(nil)

// ClientOptions configures the Connect client Caller is given: a timeout
// per attempt, and retries only of attempts that provably started no call
// (provider.ClientOptions). Pass it to connect.NewFromConfig.
func ClientOptions(attemptTimeout time.Duration) func(*awsconnect.Options) {
	return func(o *awsconnect.Options) {
		o.HTTPClient, o.Retryer = provider.ClientOptions(attemptTimeout)
	}
}

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

// Validate is the one check of the Connect settings: all three are set and
// the source phone is E.164. Errors name the environment variables the
// settings come from.
func (s Settings) Validate() error {
	var set, missing []string
	for _, v := range []struct{ name, value string }{
		{names.EnvConnectInstanceID, s.InstanceID},
		{names.EnvConnectContactFlowID, s.ContactFlowID},
		{names.EnvConnectSourcePhone, s.SourcePhone},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		} else {
			set = append(set, v.name)
		}
	}
	if len(missing) > 0 {
		msg := "calls need all three Amazon Connect settings: " + strings.Join(missing, ", ") + " not set"
		if len(set) > 0 {
			msg += " while " + strings.Join(set, ", ") + " set"
		}
		return errors.New(msg)
	}
	if err := contact.ValidateE164(s.SourcePhone); err != nil {
		return fmt.Errorf("%s: %w", names.EnvConnectSourcePhone, err)
	}
	return nil
}

// Caller places calls through one Connect instance and contact flow.
type Caller struct {
	client   StartCallAPI
	settings Settings
}

var _ alerting.Caller = (*Caller)(nil)

// NewCaller returns a Caller placing calls through client (built with
// ClientOptions) with settings, which must pass Validate.
func NewCaller(client StartCallAPI, settings Settings) (*Caller, error) {
	if err := settings.Validate(); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &Caller{client: client, settings: settings}, nil
}

// Call starts the outbound call. The contact flow reads the escaped text
// from the contact attribute names.ConnectMessageAttribute; req.ClientToken
// makes Connect start one call per token however often it is retried.
// Errors wrap the *delivery.Error that classifies them.
func (c *Caller) Call(ctx context.Context, req alerting.CallRequest) (string, error) {
	ctx, attempts := provider.Track(ctx)
	out, err := c.client.StartOutboundVoiceContact(ctx, &awsconnect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String(c.settings.InstanceID),
		ContactFlowId:          aws.String(c.settings.ContactFlowID),
		SourcePhoneNumber:      aws.String(c.settings.SourcePhone),
		DestinationPhoneNumber: aws.String(req.Destination),
		Attributes:             attributes(req),
		ClientToken:            aws.String(req.ClientToken),
	})
	if err != nil {
		return "", fmt.Errorf("start outbound voice contact: %w", provider.Classify(err, attempts))
	}
	if aws.ToString(out.ContactId) == "" {
		// Connect answered success: a call may be under way.
		return "", &delivery.Error{Class: delivery.Ambiguous, Code: "no_contact_id",
			Err: errors.New("start outbound voice contact: the answer holds no contact id")}
	}
	return aws.ToString(out.ContactId), nil
}

// attributes are the call's contact attributes: the text to speak and,
// when the alert asks for an acknowledgment, the attempt the contact
// flow's keypad acknowledgment names (alert key, instance, attempt).
func attributes(req alerting.CallRequest) map[string]string {
	attrs := map[string]string{names.ConnectMessageAttribute: req.MessageSSML}
	if ref := req.Ref; ref.Attempt > 0 {
		attrs[names.ConnectAlertAttribute] = ref.Key.String()
		attrs[names.ConnectInstanceAttribute] = ref.Instance
		attrs[names.ConnectAttemptAttribute] = strconv.Itoa(ref.Attempt)
	}
	return attrs
}
