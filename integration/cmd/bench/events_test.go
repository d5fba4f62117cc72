package main

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestProcessorEventNamesTheClient: the cold starts' proxy event carries
// what API Gateway passes from the authorizer, without which the processor
// answers 500 to every event.
func TestProcessorEventNamesTheClient(t *testing.T) {
	t.Parallel()

	b, err := processorEvent(alertBody("cold-1", 0))
	if err != nil {
		t.Fatal(err)
	}

	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{names.AuthContextClient, names.AuthContextPrincipalID} {
		if got := ev.RequestContext.Authorizer[key]; got != sandbox.ClientName {
			t.Errorf("requestContext.authorizer[%q] = %v, want %q", key, got, sandbox.ClientName)
		}
	}
}
