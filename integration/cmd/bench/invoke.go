package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// contactID is the contact Pulumi.local.yaml seeds: call for H, SMS for M,
// email for L.
const contactID = "C-1"

// loadPriorities is the rotation of priorities the load uses: one SMS, one
// email and one call in every three alerts.
var loadPriorities = []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh}

// alertBody is the JSON body of the k-th alert, with message_id id. The
// same (id, k) always gives the same bytes, so a replay matches its
// original's payload hash.
func alertBody(id string, k int) []byte {
	body, err := json.Marshal(alert.Alert{
		MessageID:   id,
		Type:        "blood_test_alert",
		PatientID:   "P-4F2A91",
		ContactID:   contactID,
		Description: "Potassium 6.9 mmol/L, please review",
		Priority:    loadPriorities[k%len(loadPriorities)],
	})
	if err != nil {
		panic(err) // a struct of strings always encodes
	}

	return body
}

// bodyFor is the body alertBody gave the alert with message_id id, whose
// last dash-separated part is its index k.
func bodyFor(id string) []byte {
	k, err := strconv.Atoi(id[strings.LastIndexByte(id, '-')+1:])
	if err != nil {
		k = 0
	}

	return alertBody(id, k)
}

// stackFunctions are the deployed functions the benchmark drives.
type stackFunctions struct {
	authorizer, processor *lambdahost.Function
	// authLogical and procLogical are their keys in Sandbox.Functions.
	authLogical, procLogical string
}

// findFunctions finds the authorizer and the processor by their deployed
// names (stack outputs).
func findFunctions(env *sandbox.Sandbox) (stackFunctions, error) {
	var sf stackFunctions

	authName := env.Deployment.OutputString(names.OutputAuthorizerFunction)
	procName := env.Deployment.OutputString(names.OutputProcessorFunction)

	for logical, fn := range env.Functions {
		switch fn.Spec.Name {
		case authName:
			sf.authorizer, sf.authLogical = fn, logical
		case procName:
			sf.processor, sf.procLogical = fn, logical
		}
	}

	if sf.authorizer == nil || sf.processor == nil {
		return sf, fmt.Errorf("the sandbox runs no function named %q or %q", authName, procName)
	}

	return sf, nil
}

// authorizerEvent is a REQUEST authorizer event for POST /notification
// with the sandbox's token, as kumo's API Gateway sends it.
func authorizerEvent(env *sandbox.Sandbox) ([]byte, error) {
	methodARN := fmt.Sprintf("arn:aws:execute-api:us-east-1:000000000000:%s/%s/POST/notification",
		env.Deployment.OutputString(names.OutputRestAPIID), env.Deployment.OutputString(names.OutputStageName))

	ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:       "REQUEST",
		MethodArn:  methodARN,
		Resource:   "/notification",
		Path:       "/notification",
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{names.HeaderAuthorization: env.Token, "Content-Type": "application/json"},
		MultiValueHeaders: map[string][]string{
			names.HeaderAuthorization: {env.Token}, "Content-Type": {"application/json"},
		},
	}

	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode authorizer event: %w", err)
	}

	return b, nil
}

// checkAllow fails unless an authorizer's answer allows the request.
func checkAllow(payload []byte) error {
	var resp events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("authorizer answered %s: %w", payload, err)
	}

	for _, st := range resp.PolicyDocument.Statement {
		if strings.EqualFold(st.Effect, "Allow") {
			return nil
		}
	}

	return fmt.Errorf("authorizer did not allow: %s", payload)
}

// processorEvent is the proxy event of POST /notification carrying body.
func processorEvent(body []byte) ([]byte, error) {
	b, err := json.Marshal(events.APIGatewayProxyRequest{
		Resource:   "/notification",
		Path:       "/notification",
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	})
	if err != nil {
		return nil, fmt.Errorf("encode proxy event: %w", err)
	}

	return b, nil
}

// checkSent fails unless a processor's answer is a 200.
func checkSent(payload []byte) error {
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("processor answered %s: %w", payload, err)
	}

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("processor answered %d: %s", resp.StatusCode, resp.Body)
	}

	return nil
}

// invoke calls the function synchronously through the emulator's Lambda
// Invoke API and returns its answer and the round trip.
func invoke(ctx context.Context, client *lambda.Client, fn *lambdahost.Function, payload []byte) ([]byte, time.Duration, error) {
	start := time.Now()

	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn.Spec.Name), Payload: payload},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })

	d := time.Since(start)
	if err != nil {
		return nil, d, fmt.Errorf("invoke %s: %w", fn.Spec.Name, err)
	}

	if out.FunctionError != nil {
		return nil, d, fmt.Errorf("invoke %s: function error %s: %s", fn.Spec.Name, aws.ToString(out.FunctionError), out.Payload)
	}

	return out.Payload, d, nil
}
