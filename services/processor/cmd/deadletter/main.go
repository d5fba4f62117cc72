// Command deadletter is the a2p-alerts dead-letter handler Lambda, fed by
// the dead-letter queue's event source mapping
// (ReportBatchItemFailures): it gives up the alerts whose queue message
// was dead-lettered (package deadletter). It only reads and writes alert
// records, so its role may do nothing else; it has no X-Ray SDK and no
// provider clients.
//
// main only wires: it reads the environment (names.EnvAlertsTable,
// names.EnvMetricsNamespace, names.EnvDeliveryTimeout,
// names.EnvLogLevel), builds the DynamoDB client from the default
// configuration (AWS_ENDPOINT_URL can point it at an emulator), and starts
// the Lambda runtime.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/deadletter"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func main() {
	get := setup.Env(os.LookupEnv)
	level, err := setup.LogLevel(get(names.EnvLogLevel))
	if err != nil {
		setup.StartupFailed(names.FunctionDeadLetter, nil, err)
	}
	logger := setup.Logger(level)
	table := get(names.EnvAlertsTable)
	if table == "" {
		setup.StartupFailed(names.FunctionDeadLetter, logger, fmt.Errorf("%s is not set: it names the alerts table", names.EnvAlertsTable))
	}
	timeout, err := setup.PositiveDuration(names.EnvDeliveryTimeout, get(names.EnvDeliveryTimeout), alerting.DefaultDeliveryTimeout.String())
	if err != nil {
		setup.StartupFailed(names.FunctionDeadLetter, logger, err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		setup.StartupFailed(names.FunctionDeadLetter, logger, err)
	}
	setup.SendFromMemory(&awsCfg)
	var metrics alerting.Metrics
	if ns := get(names.EnvMetricsNamespace); ns != "" {
		metrics = emf.New(os.Stdout, ns)
	}
	records, err := alerting.NewRecords(alerting.RecordsConfig{
		Store: dynamo.NewAlertStore(dynamodb.NewFromConfig(awsCfg), table), Metrics: metrics, DeliveryTimeout: timeout,
	})
	if err != nil {
		setup.StartupFailed(names.FunctionDeadLetter, logger, err)
	}
	h, err := deadletter.New(records, logger)
	if err != nil {
		setup.StartupFailed(names.FunctionDeadLetter, logger, err)
	}
	lambda.Start(h.Handle)
}
