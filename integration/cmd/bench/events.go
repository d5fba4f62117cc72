package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// contactID is the contact Pulumi.local.yaml seeds: call for H, SMS for M,
// email for L.
const contactID = "C-1"

// priorities is the rotation of priorities the alerts use: one SMS, one
// email and one call in every three.
var priorities = []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh}

// alertBody is the JSON body of the k-th alert, with message_id id.
func alertBody(id string, k int) []byte {
	body, err := json.Marshal(alert.Alert{
		MessageID:   id,
		Type:        "blood_test_alert",
		PatientID:   "P-4F2A91",
		ContactID:   contactID,
		Description: "Potassium 6.9 mmol/L, please review",
		Priority:    priorities[k%len(priorities)],
	})
	if err != nil {
		panic(err) // a struct of strings always encodes
	}

	return body
}

// authorizerEvent is a REQUEST authorizer event for POST /notification
// with the sandbox's token, as kumo's API Gateway sends it (kumo's
// methodArn always says us-east-1 and account 000000000000).
func authorizerEvent(sb *sandbox.Sandbox) ([]byte, error) {
	b, err := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST",
		MethodArn: fmt.Sprintf("arn:aws:execute-api:us-east-1:000000000000:%s/%s/POST/%s",
			sb.Deployment.OutputString(names.OutputRestAPIID), sb.Deployment.OutputString(names.OutputStageName), names.NotificationPath),
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{names.HeaderAuthorization: sb.Token},
	})
	if err != nil {
		return nil, fmt.Errorf("encode authorizer event: %w", err)
	}

	return b, nil
}

// processorEvent is the proxy event of POST /notification carrying body,
// from the sandbox's API client: API Gateway passes the authorizer's
// principalId and context in requestContext.authorizer, and the processor
// refuses an event without them.
func processorEvent(body []byte) ([]byte, error) {
	b, err := json.Marshal(events.APIGatewayProxyRequest{
		Path:       "/" + names.NotificationPath,
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{
			names.AuthContextPrincipalID: sandbox.ClientName,
			names.AuthContextClient:      sandbox.ClientName,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode proxy event: %w", err)
	}

	return b, nil
}

// checkAnswer fails unless a function's answer is a success: a proxy
// response with status 200, or an authorizer's Allow policy.
func checkAnswer(payload []byte) error {
	var answer struct {
		StatusCode     *int `json:"statusCode"`
		PolicyDocument struct {
			Statement []struct{ Effect string }
		} `json:"policyDocument"`
	}

	if err := json.Unmarshal(payload, &answer); err != nil {
		return fmt.Errorf("answer %s: %w", payload, err)
	}

	if answer.StatusCode != nil {
		if *answer.StatusCode != http.StatusOK {
			return fmt.Errorf("processor answered %s", payload)
		}

		return nil
	}

	for _, st := range answer.PolicyDocument.Statement {
		if strings.EqualFold(st.Effect, "Allow") {
			return nil
		}
	}

	return fmt.Errorf("authorizer did not allow: %s", payload)
}
