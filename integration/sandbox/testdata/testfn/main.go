// Command testfn is a small Lambda function for the sandbox's own tests,
// built by TestMain into a bootstrap. TESTFN_ROLE selects what it does:
//
//   - authorizer: a REQUEST authorizer. Authorization "allow" gets an Allow
//     policy for the method, "deny" a Deny policy, anything else (or none)
//     the "Unauthorized" error API Gateway turns into 401.
//   - echo: an API Gateway proxy handler answering 200 with what it saw
//     (path, method, body, TESTFN_GREETING, its X-Ray trace header), doing
//     its work inside an X-Ray subsegment named "echo-work".
//
// Any other role exits at once with status 3.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-xray-sdk-go/xray"
)

func main() {
	switch role := os.Getenv("TESTFN_ROLE"); role {
	case "authorizer":
		lambda.Start(authorize)
	case "echo":
		lambda.Start(echo)
	default:
		fmt.Fprintf(os.Stderr, "testfn: unknown TESTFN_ROLE %q\n", role)
		os.Exit(3)
	}
}

func authorize(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	fmt.Println("authorizer: handling", req.MethodArn)

	effect := ""
	switch req.Headers["Authorization"] {
	case "allow":
		effect = "Allow"
	case "deny":
		effect = "Deny"
	default:
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}

	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "tester",
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{req.MethodArn},
			}},
		},
	}, nil
}

// echoed is the echo handler's response body.
type echoed struct {
	Path     string `json:"path"`
	Method   string `json:"method"`
	Body     string `json:"body"`
	Greeting string `json:"greeting"`
	Trace    string `json:"trace"`
}

func echo(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	fmt.Println("echo: handling", req.HTTPMethod, req.Path)

	var body []byte

	err := xray.Capture(ctx, "echo-work", func(context.Context) error {
		trace, _ := ctx.Value("x-amzn-trace-id").(string)

		var err error
		body, err = json.Marshal(echoed{
			Path:     req.Path,
			Method:   req.HTTPMethod,
			Body:     req.Body,
			Greeting: os.Getenv("TESTFN_GREETING"),
			Trace:    trace,
		})

		return err
	})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}

	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}
