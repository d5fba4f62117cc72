package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// CallOutcome is what happens on a placed call.
type CallOutcome string

// The scripted outcomes of a call.
const (
	// NotAnswered: nobody picks up (the default).
	NotAnswered CallOutcome = "not answered"
	// AnsweredNoInput: the alert is heard twice and nothing is pressed:
	// the flow hangs up unacknowledged.
	AnsweredNoInput CallOutcome = "answered, no input"
	// AnsweredPressed1: 1 is pressed: the flow invokes the ack function.
	AnsweredPressed1 CallOutcome = "answered, 1 pressed"
)

// CallResult is how a placed call went: its outcome and, when 1 was
// pressed, the ack function's answer.
type CallResult struct {
	Call    OutboundCall
	Outcome CallOutcome
	// Answer is the ack function's answer ($.External in the flow).
	Answer map[string]string
	Err    error
}

// flowFunction is the function the contact flow's InvokeLambdaFunction
// names, and the instance the events come from.
type flowFunction struct {
	client      *lambda.Client
	name        string
	instanceARN string
}

// SetScript makes script decide each placed call's outcome (nil: none is
// answered). It stands in for the contact flow's keypad: on
// AnsweredPressed1 the stub invokes the flow's function with the
// events.ConnectEvent Connect would send. No script runs for a replayed
// ClientToken (no call is placed).
func (c *ConnectStub) SetScript(script func(OutboundCall) CallOutcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.script = script
}

// UseFlowFunction names the Lambda function the contact flow invokes (the
// deployed flow's InvokeLambdaFunction target) and the instance's ARN.
func (c *ConnectStub) UseFlowFunction(client *lambda.Client, name, instanceARN string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flow = flowFunction{client: client, name: name, instanceARN: instanceARN}
}

// WaitForResults waits until n results satisfy match (nil matches all).
func (c *ConnectStub) WaitForResults(ctx context.Context, n int, match func(CallResult) bool) ([]CallResult, error) {
	return c.results.WaitFor(ctx, n, match, "connect stub: call results")
}

// flowTimeout is Connect's limit on the flow's function (8 s), with room
// for the stub.
const flowTimeout = 10 * time.Second

// play runs the script on a placed call.
func (c *ConnectStub) play(ctx context.Context, call OutboundCall) {
	c.mu.Lock()
	script, flow := c.script, c.flow
	c.mu.Unlock()
	res := CallResult{Call: call, Outcome: NotAnswered}
	if script != nil {
		res.Outcome = script(call)
	}
	if res.Outcome == AnsweredPressed1 {
		res.Answer, res.Err = flow.invoke(ctx, call)
	}
	c.results.Add(res)
}

// invoke calls the flow's function as InvokeLambdaFunction would: a
// ContactFlowEvent with the contact's data and attributes.
func (f flowFunction) invoke(ctx context.Context, call OutboundCall) (map[string]string, error) {
	if f.client == nil {
		return nil, fmt.Errorf("1 pressed on call %s, but the stub knows no flow function (UseFlowFunction)", call.ContactID)
	}
	var ev events.ConnectEvent
	ev.Name = "ContactFlowEvent"
	ev.Details.ContactData = events.ConnectContactData{
		Attributes: call.Attributes, Channel: "VOICE", ContactID: call.ContactID, InitialContactID: call.ContactID,
		InitiationMethod: "OUTBOUND", InstanceARN: f.instanceARN,
		CustomerEndpoint: events.ConnectEndpoint{Address: call.DestinationPhoneNumber, Type: "TELEPHONE_NUMBER"},
		SystemEndpoint:   events.ConnectEndpoint{Address: call.SourcePhoneNumber, Type: "TELEPHONE_NUMBER"},
	}
	ev.Details.Parameters = map[string]string{}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("connect event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, flowTimeout)
	defer cancel()
	out, err := f.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.name), Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.name, err)
	}
	var answer map[string]string
	if out.FunctionError != nil || json.Unmarshal(out.Payload, &answer) != nil {
		return nil, fmt.Errorf("%s answered %s (%s)", f.name, out.Payload, aws.ToString(out.FunctionError))
	}
	return answer, nil
}
