// Command worker is the a2p-alerts worker Lambda, fed by the alert queue's
// event source mapping (ReportBatchItemFailures): it delivers the alerts
// POST /notification accepted with Prefer: respond-async (package worker),
// with the same alerting core as the processor. It has no X-Ray SDK:
// Lambda's active tracing records each invocation.
//
// main only wires: it reads the environment (the core's settings, package
// setup; names.EnvAlertQueueURL and names.EnvRetryDelay), builds the core
// and the SQS client from the default configuration (AWS_ENDPOINT_URL can
// point them at an emulator), and starts the Lambda runtime.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/a2p-alerts/a2p-alerts/services/processor/queue"
	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/services/processor/worker"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func main() {
	get := setup.Env(os.LookupEnv)
	core, err := setup.LoadCore(get)
	if err != nil {
		setup.StartupFailed(names.FunctionWorker, nil, err)
	}
	logger := setup.Logger(core.LogLevel)
	retryDelay, err := setup.Duration(names.EnvRetryDelay, get(names.EnvRetryDelay), names.DefaultAsyncRetryDelay)
	if err != nil {
		setup.StartupFailed(names.FunctionWorker, logger, err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		setup.StartupFailed(names.FunctionWorker, logger, err)
	}
	setup.SendFromMemory(&awsCfg)
	alerts, err := setup.NewCore(core, awsCfg, os.Stdout)
	if err != nil {
		setup.StartupFailed(names.FunctionWorker, logger, err)
	}
	var deferrer worker.Deferrer // nil without the queue's URL: the visibility timeout applies
	if url := get(names.EnvAlertQueueURL); url != "" {
		deferrer = queue.NewVisibility(sqs.NewFromConfig(awsCfg), url)
	}
	h, err := worker.New(worker.Config{
		Alerts: alerts, Queue: deferrer, RetryDelay: retryDelay,
		Timeout: core.DeliveryTimeout, Reserve: delivery.DefaultBudget.Reserve, Logger: logger,
	})
	if err != nil {
		setup.StartupFailed(names.FunctionWorker, logger, err)
	}
	lambda.Start(h.Handle)
}
