// Command ack is the a2p-alerts ack function: every acknowledgment, by
// the API (POST /notification/{message_id}/ack), by link (GET and POST
// /ack/{token}), by the call's keypad (the contact flow's
// InvokeLambdaFunction) and by SMS reply (the two-way SMS topic), goes
// through it to the alerting core's one Acknowledge rule (package ack).
// Its role may read and write alert records and delete a pending
// escalation timer, nothing else: it neither publishes, calls nor reads
// contacts, and it links no X-Ray SDK (Lambda's active tracing records
// each invocation).
//
// main only wires: it reads the environment, builds the DynamoDB and
// Scheduler clients from the default configuration (AWS_ENDPOINT_URL can
// point them at an emulator) and starts the Lambda runtime.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/a2p-alerts/a2p-alerts/services/processor/ack"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func main() {
	get := setup.Env(os.LookupEnv)
	level, err := setup.LogLevel(get(names.EnvLogLevel))
	if err != nil {
		setup.StartupFailed(names.FunctionAck, nil, err)
	}
	logger := setup.Logger(level)
	h, err := newHandler(get, logger)
	if err != nil {
		setup.StartupFailed(names.FunctionAck, logger, err)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the clients, the acknowledging core and the handler.
func newHandler(get setup.Getter, logger *slog.Logger) (*ack.Handler, error) {
	table := get(names.EnvAlertsTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set: it names the alerts table", names.EnvAlertsTable)
	}
	esc, err := setup.LoadEscalation(get)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	cfg := alerting.Config{Store: dynamo.NewAlertStore(dynamodb.NewFromConfig(awsCfg), table)}
	if cfg.Timers, err = setup.Timers(esc, awsCfg); err != nil {
		return nil, err
	}
	if ns := get(names.EnvMetricsNamespace); ns != "" {
		cfg.Timeliness = emf.New(os.Stdout, ns)
	}
	core, err := alerting.NewAcknowledger(cfg)
	if err != nil {
		return nil, err
	}
	return ack.New(core, logger)
}
