package stack

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/connect"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// VoiceType is the type token of the Voice component. (The Go name is
// Voice, the token's Connect: the token is kept as first deployed, since
// renaming it would replace live resources.)
const VoiceType = "a2p:voice:Connect"

// Identifiers of the contact flow's actions.
const (
	flowActionSetVoice    = "set-voice"
	flowActionAsk         = "ask-to-acknowledge"
	flowActionAskAgain    = "ask-again"
	flowActionAcknowledge = "acknowledge"
	flowActionCheck       = "check-acknowledgment"
	flowActionRecorded    = "acknowledgment-recorded"
	flowActionNotRecorded = "acknowledgment-not-recorded"
	flowActionDisconnect  = "disconnect"
	// flowVersion is the Amazon Connect flow language version.
	flowVersion = "2019-10-30"
	// flowErrorNoMatch catches every error of an action.
	flowErrorNoMatch = "NoMatchingError"
	// flowErrorTimeout is GetParticipantInput's error when nothing was
	// pressed in time; flowErrorNoCondition when a key matched no
	// condition (or Compare's value matched none).
	flowErrorTimeout     = "InputTimeLimitExceeded"
	flowErrorNoCondition = "NoMatchingCondition"
	// keypadAckDigit is the key that acknowledges.
	keypadAckDigit = "1"
	// keypadInputSeconds is how long the flow waits for the key.
	keypadInputSeconds = "8"
	// ackInvocationSeconds is Connect's limit (at most 8 s) on the ack
	// function's answer.
	ackInvocationSeconds = "8"
	// ackResultPath is where the flow reads the ack function's answer.
	ackResultPath = "$.External.result"
	// ackAcknowledged is the answer that says the press was recorded.
	ackAcknowledged = "acknowledged"
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
	// Parameters are the action's parameters: strings, or an object
	// (InvokeLambdaFunction's ResponseValidation).
	Parameters map[string]any `json:"Parameters"`
	// Transitions say what runs next.
	Transitions FlowTransitions `json:"Transitions"`
}

// FlowTransitions are an action's next steps.
type FlowTransitions struct {
	// NextAction runs after success.
	NextAction string `json:"NextAction,omitempty"`
	// Conditions route by a value: a key pressed, or Compare's value.
	Conditions []FlowCondition `json:"Conditions,omitempty"`
	// Errors route errors to actions.
	Errors []FlowError `json:"Errors,omitempty"`
}

// FlowCondition routes one value of an action to an action.
type FlowCondition struct {
	// NextAction runs when the condition holds.
	NextAction string `json:"NextAction"`
	// Condition is the test.
	Condition FlowTest `json:"Condition"`
}

// FlowTest compares the action's value with operands.
type FlowTest struct {
	Operator string   `json:"Operator"`
	Operands []string `json:"Operands"`
}

// FlowError routes one error type of an action.
type FlowError struct {
	// NextAction runs on this error.
	NextAction string `json:"NextAction"`
	// ErrorType is the error matched.
	ErrorType string `json:"ErrorType"`
}

// AlertContactFlow returns the outbound call's flow: set the Polly voice,
// speak the alert and ask the clinician to press 1; with no key (or
// another), ask once more, then hang up unacknowledged. On 1, invoke the
// ack function ackARN (which accepts the press only for the ContactId the
// call's attempt recorded), and say whether it recorded the
// acknowledgment; then hang up. Any error hangs up.
//
// Each action has the transitions the Flow language reference documents
// for its type (see flowActionShapes in the tests):
// UpdateContactTextToSpeechVoice and MessageParticipant a NextAction and
// a NoMatchingError branch; GetParticipantInput conditions on the key and
// InputTimeLimitExceeded, NoMatchingCondition and NoMatchingError
// branches; InvokeLambdaFunction a NextAction and NoMatchingError;
// Compare conditions and NoMatchingCondition; DisconnectParticipant none.
// The current English reference for UpdateContactTextToSpeechVoice says
// NoMatchingError "must always be defined"; older, translated pages still
// say it has no errors.
func AlertContactFlow(voice, ackARN string) ContactFlow {
	hangUp := []FlowError{{NextAction: flowActionDisconnect, ErrorType: flowErrorNoMatch}}
	pressed := []FlowCondition{{NextAction: flowActionAcknowledge, Condition: FlowTest{Operator: "Equals", Operands: []string{keypadAckDigit}}}}
	// The contact attribute is inserted into SSML as is. The processor
	// XML-escapes the alert text (& < > " ') before it sets the attribute,
	// so only escaped text reaches Polly and a caller cannot inject SSML
	// markup.
	ask := func(id, prefix, again string) FlowAction {
		return FlowAction{
			Identifier: id,
			Type:       "GetParticipantInput",
			Parameters: map[string]any{
				"SSML":                  "<speak>" + prefix + "$.Attributes." + names.ConnectMessageAttribute + ` <break time="1s"/>Press 1 to acknowledge this alert.</speak>`,
				"StoreInput":            "False",
				"InputTimeLimitSeconds": keypadInputSeconds,
			},
			Transitions: FlowTransitions{Conditions: pressed, Errors: []FlowError{
				{NextAction: again, ErrorType: flowErrorTimeout}, {NextAction: again, ErrorType: flowErrorNoCondition},
				{NextAction: flowActionDisconnect, ErrorType: flowErrorNoMatch},
			}},
		}
	}
	say := func(id, text string) FlowAction {
		return FlowAction{Identifier: id, Type: "MessageParticipant", Parameters: map[string]any{"Text": text},
			Transitions: FlowTransitions{NextAction: flowActionDisconnect, Errors: hangUp}}
	}
	return ContactFlow{
		Version:     flowVersion,
		StartAction: flowActionSetVoice,
		Actions: []FlowAction{
			{
				Identifier:  flowActionSetVoice,
				Type:        "UpdateContactTextToSpeechVoice",
				Parameters:  map[string]any{"TextToSpeechVoice": voice},
				Transitions: FlowTransitions{NextAction: flowActionAsk, Errors: hangUp},
			},
			ask(flowActionAsk, "", flowActionAskAgain),
			ask(flowActionAskAgain, "Again. ", flowActionDisconnect),
			{
				Identifier: flowActionAcknowledge,
				Type:       "InvokeLambdaFunction",
				Parameters: map[string]any{
					"LambdaFunctionARN":          ackARN,
					"InvocationTimeLimitSeconds": ackInvocationSeconds,
					"ResponseValidation":         map[string]string{"ResponseType": "STRING_MAP"},
				},
				Transitions: FlowTransitions{NextAction: flowActionCheck, Errors: []FlowError{{NextAction: flowActionNotRecorded, ErrorType: flowErrorNoMatch}}},
			},
			{
				Identifier: flowActionCheck,
				Type:       "Compare",
				Parameters: map[string]any{"ComparisonValue": ackResultPath},
				Transitions: FlowTransitions{
					Conditions: []FlowCondition{{NextAction: flowActionRecorded, Condition: FlowTest{Operator: "Equals", Operands: []string{ackAcknowledged}}}},
					Errors:     []FlowError{{NextAction: flowActionNotRecorded, ErrorType: flowErrorNoCondition}},
				},
			},
			say(flowActionRecorded, "Thank you. Your acknowledgment is recorded."),
			say(flowActionNotRecorded, "Your acknowledgment could not be recorded. Please acknowledge with the link or the code in your message."),
			{
				Identifier:  flowActionDisconnect,
				Type:        "DisconnectParticipant",
				Parameters:  map[string]any{},
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
	// Ack is the ack function the flow invokes when 1 is pressed.
	Ack *lambda.Function
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
	// AckAssociation associates the ack function with the instance (a
	// flow may only invoke associated functions), and AckPermission lets
	// this instance, and no other, invoke it.
	AckAssociation *connect.LambdaFunctionAssociation
	AckPermission  *lambda.Permission
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

	if err := v.associateAck(ctx, name, args); err != nil {
		return nil, err
	}
	content := applyString(args.Ack.Arn, func(arn string) (string, error) { return AlertContactFlow(args.Voice, arn).JSON() })
	var err error
	v.ContactFlow, err = connect.NewContactFlow(ctx, name+"-contact-flow", &connect.ContactFlowArgs{
		InstanceId:  v.InstanceID,
		Name:        pulumi.String(args.FlowName),
		Description: pulumi.String("a2p-alerts: speaks an alert and asks the clinician to press 1 to acknowledge it"),
		Type:        pulumi.String("CONTACT_FLOW"),
		Content:     content,
	}, pulumi.Parent(v), pulumi.DependsOn([]pulumi.Resource{v.AckAssociation, v.AckPermission}))
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

// connectService is Amazon Connect's service principal.
const connectService = "connect.amazonaws.com"

// associateAck associates the ack function with the instance and lets the
// instance (and only it, in this account) invoke it.
func (v *Voice) associateAck(ctx *pulumi.Context, name string, args *VoiceArgs) error {
	var err error
	v.AckPermission, err = lambda.NewPermission(ctx, name+"-ack-invoke-by-connect", &lambda.PermissionArgs{
		Function:      args.Ack.Name,
		Action:        pulumi.String("lambda:InvokeFunction"),
		Principal:     pulumi.String(connectService),
		SourceArn:     v.InstanceARN,
		SourceAccount: pulumi.String(args.AccountID),
	}, pulumi.Parent(v))
	if err != nil {
		return fmt.Errorf("create the ack function's permission for connect: %w", err)
	}
	v.AckAssociation, err = connect.NewLambdaFunctionAssociation(ctx, name+"-ack-association", &connect.LambdaFunctionAssociationArgs{
		InstanceId:  v.InstanceID,
		FunctionArn: args.Ack.Arn,
	}, pulumi.Parent(v), pulumi.DependsOn([]pulumi.Resource{v.AckPermission}))
	if err != nil {
		return fmt.Errorf("associate the ack function with the instance: %w", err)
	}
	return nil
}
