package stack

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/connect"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// VoiceType is the type token of the Voice component. (The Go name is
// Voice, the token's Connect: the token is kept as first deployed, since
// renaming it would replace live resources.)
const VoiceType = "a2p:voice:Connect"

// Identifiers of the contact flow's actions.
const (
	flowActionSetVoice   = "set-voice"
	flowActionSpeak      = "speak-alert"
	flowActionDisconnect = "disconnect"
	// flowVersion is the Amazon Connect flow language version.
	flowVersion = "2019-10-30"
	// flowErrorNoMatch catches every error of an action.
	flowErrorNoMatch = "NoMatchingError"
)

// ContactFlow is an Amazon Connect flow in the flow language.
type ContactFlow struct {
	// Version is the flow language version.
	Version string `json:"Version"`
	// StartAction is the Identifier of the first action.
	StartAction string `json:"StartAction"`
	// Actions are the flow's blocks.
	Actions []FlowAction `json:"Actions"`
}

// FlowAction is one block of a ContactFlow.
type FlowAction struct {
	// Identifier names the action within the flow.
	Identifier string `json:"Identifier"`
	// Type is the flow-language action type.
	Type string `json:"Type"`
	// Parameters are the action's parameters.
	Parameters map[string]string `json:"Parameters"`
	// Transitions say what runs next.
	Transitions FlowTransitions `json:"Transitions"`
}

// FlowTransitions are an action's next steps.
type FlowTransitions struct {
	// NextAction runs after success.
	NextAction string `json:"NextAction,omitempty"`
	// Errors route errors to actions.
	Errors []FlowError `json:"Errors,omitempty"`
}

// FlowError routes one error type of an action.
type FlowError struct {
	// NextAction runs on this error.
	NextAction string `json:"NextAction"`
	// ErrorType is the error matched.
	ErrorType string `json:"ErrorType"`
}

// AlertContactFlow returns the outbound call's flow: set the Polly voice,
// speak the alert, hang up. On any error the call hangs up too.
//
// Each action has the transitions the Flow language reference documents
// for its type (see flowActionShapes in the tests):
// UpdateContactTextToSpeechVoice and MessageParticipant a NextAction and a
// NoMatchingError branch, DisconnectParticipant none. The current English
// reference for UpdateContactTextToSpeechVoice says NoMatchingError "must
// always be defined"; older, translated pages still say it has no errors.
func AlertContactFlow(voice string) ContactFlow {
	onError := []FlowError{{NextAction: flowActionDisconnect, ErrorType: flowErrorNoMatch}}
	return ContactFlow{
		Version:     flowVersion,
		StartAction: flowActionSetVoice,
		Actions: []FlowAction{
			{
				Identifier:  flowActionSetVoice,
				Type:        "UpdateContactTextToSpeechVoice",
				Parameters:  map[string]string{"TextToSpeechVoice": voice},
				Transitions: FlowTransitions{NextAction: flowActionSpeak, Errors: onError},
			},
			{
				Identifier: flowActionSpeak,
				Type:       "MessageParticipant",
				// The contact attribute is inserted into SSML as is. The
				// processor XML-escapes the alert text (& < > " ') before
				// it sets the attribute, so only escaped text reaches
				// Polly and a caller cannot inject SSML markup.
				Parameters:  map[string]string{"SSML": "<speak>$.Attributes." + names.ConnectMessageAttribute + "</speak>"},
				Transitions: FlowTransitions{NextAction: flowActionDisconnect, Errors: onError},
			},
			{
				Identifier:  flowActionDisconnect,
				Type:        "DisconnectParticipant",
				Parameters:  map[string]string{},
				Transitions: FlowTransitions{},
			},
		},
	}
}

// JSON marshals the flow as the contact flow's content.
func (f ContactFlow) JSON() (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("marshal contact flow: %w", err)
	}
	return string(b), nil
}

// VoiceArgs configures the Voice component.
type VoiceArgs struct {
	// InstanceID is an existing Connect instance; empty to create one.
	InstanceID string
	// InstanceAlias names a created instance (1 to 45 letters, digits
	// and hyphens; unique across Amazon Connect).
	InstanceAlias string
	// SourcePhoneNumber is the E.164 number calls come from; empty to
	// claim one in ClaimCountry.
	SourcePhoneNumber string
	// ClaimCountry is the ISO country of the DID to claim.
	ClaimCountry string
	// Voice is the Amazon Polly voice.
	Voice string
	// FlowName names the contact flow.
	FlowName string
	// Partition, Region, AccountID locate an existing instance's ARN.
	Partition, Region, AccountID string
}

// Voice holds the Amazon Connect side of delivery.
type Voice struct {
	pulumi.ResourceState

	// Instance is the created instance, or nil for an existing one.
	Instance *connect.Instance
	// PhoneNumber is the claimed number, or nil when configured.
	PhoneNumber *connect.PhoneNumber
	// ContactFlow is the outbound alert flow.
	ContactFlow *connect.ContactFlow
	// InstanceID is the instance id the processor calls through.
	InstanceID pulumi.StringOutput
	// InstanceARN is the instance's ARN.
	InstanceARN pulumi.StringOutput
	// SourcePhoneNumber is the number calls come from.
	SourcePhoneNumber pulumi.StringOutput
	// ContactFlowID is the flow's id (not the Pulumi id, which also holds
	// the instance id).
	ContactFlowID pulumi.StringOutput
}

// NewVoice creates the contact flow and, as configured, the instance and a
// claimed phone number.
func NewVoice(ctx *pulumi.Context, name string, args *VoiceArgs, opts ...pulumi.ResourceOption) (*Voice, error) {
	v := &Voice{}
	if err := ctx.RegisterComponentResource(VoiceType, name, v, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	if args.InstanceID == "" {
		inst, err := connect.NewInstance(ctx, name+"-instance", &connect.InstanceArgs{
			IdentityManagementType: pulumi.String("CONNECT_MANAGED"),
			InstanceAlias:          pulumi.String(args.InstanceAlias),
			InboundCallsEnabled:    pulumi.Bool(false),
			OutboundCallsEnabled:   pulumi.Bool(true),
		}, pulumi.Parent(v))
		if err != nil {
			return nil, fmt.Errorf("create connect instance: %w", err)
		}
		v.Instance = inst
		v.InstanceID = inst.ID().ToStringOutput()
		v.InstanceARN = inst.Arn
	} else {
		v.InstanceID = pulumi.String(args.InstanceID).ToStringOutput()
		v.InstanceARN = pulumi.Sprintf("arn:%s:connect:%s:%s:instance/%s", args.Partition, args.Region, args.AccountID, args.InstanceID)
	}

	if args.SourcePhoneNumber == "" {
		num, err := connect.NewPhoneNumber(ctx, name+"-phone-number", &connect.PhoneNumberArgs{
			CountryCode: pulumi.String(args.ClaimCountry),
			Type:        pulumi.String("DID"),
			TargetArn:   v.InstanceARN,
			Description: pulumi.String("a2p-alerts: source of alert calls"),
		}, pulumi.Parent(v))
		if err != nil {
			return nil, fmt.Errorf("claim phone number: %w", err)
		}
		v.PhoneNumber = num
		v.SourcePhoneNumber = num.PhoneNumber
	} else {
		v.SourcePhoneNumber = pulumi.String(args.SourcePhoneNumber).ToStringOutput()
	}

	content, err := AlertContactFlow(args.Voice).JSON()
	if err != nil {
		return nil, err
	}
	v.ContactFlow, err = connect.NewContactFlow(ctx, name+"-contact-flow", &connect.ContactFlowArgs{
		InstanceId:  v.InstanceID,
		Name:        pulumi.String(args.FlowName),
		Description: pulumi.String("a2p-alerts: speaks an alert and hangs up"),
		Type:        pulumi.String("CONTACT_FLOW"),
		Content:     pulumi.String(content),
	}, pulumi.Parent(v))
	if err != nil {
		return nil, fmt.Errorf("create contact flow: %w", err)
	}
	v.ContactFlowID = v.ContactFlow.ContactFlowId

	if err := ctx.RegisterResourceOutputs(v, pulumi.Map{
		"instanceId":        v.InstanceID,
		"sourcePhoneNumber": v.SourcePhoneNumber,
		"contactFlowId":     v.ContactFlowID,
	}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return v, nil
}
