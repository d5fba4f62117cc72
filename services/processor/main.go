// Command processor is the a2p-alerts processor Lambda behind POST
// /notification. It validates an alert, takes an idempotency lock on its
// key (the API client and the message_id), and has the alerting core
// accept it, deliver it by the contact's channels in order (falling back
// to the next when one fails: SNS for SMS and email, Amazon Connect for
// calls) and record every step in the alerts table.
//
// main only wires: it reads the environment (config.go), builds the AWS
// clients from the default configuration (so AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> can point them at an emulator; the SNS and
// Connect clients with their adapters' ClientOptions), builds the core
// (package alerting) on the adapters (dynamo, sns, connect, emf), injects
// it into notify.Handler and starts the Lambda runtime. The core's wiring
// is package setup's, which the worker shares; with names.EnvEventBus set,
// alerts whose request prefers respond-async are put on that bus (package
// queue) and delivered by the worker.
// Package profiling is the CPU profile switch, off by default; package
// tune sets the Go runtime for one invocation at a time.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/services/processor/profiling"
	"github.com/a2p-alerts/a2p-alerts/services/processor/queue"
	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/services/processor/tune"
	"github.com/a2p-alerts/a2p-alerts/services/processor/xray"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func main() {
	tune.Apply(tune.For(os.LookupEnv))
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		setup.StartupFailed(names.FunctionProcessor, nil, err)
	}
	logger := setup.Logger(cfg.core.LogLevel)
	if cfg.cpuProfile != "" {
		if err := profiling.WriteOnSignal(cfg.cpuProfile, logger); err != nil {
			setup.StartupFailed(names.FunctionProcessor, logger, err)
		}
	}
	if err := xray.Configure(logger); err != nil {
		setup.StartupFailed(names.FunctionProcessor, logger, err)
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		setup.StartupFailed(names.FunctionProcessor, logger, err)
	}
	h, err := newHandler(cfg, awsCfg, logger)
	if err != nil {
		setup.StartupFailed(names.FunctionProcessor, logger, err)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the AWS clients from awsCfg, each call traced by
// X-Ray and each request body sent from memory (sdkhttp), the alerting core
// on its adapters (package setup), the event bus's publisher when the
// stack has one, and the handler that uses them.
func newHandler(cfg config, awsCfg aws.Config, logger *slog.Logger) (*notify.Handler, error) {
	xray.Instrument(&awsCfg)
	setup.SendFromMemory(&awsCfg)
	core, err := setup.NewCore(cfg.core, awsCfg, os.Stdout)
	if err != nil {
		return nil, err
	}
	var q notify.Enqueuer // stays nil without a bus: Prefer: respond-async is ignored
	if cfg.eventBus != "" {
		q = queue.NewPublisher(eventbridge.NewFromConfig(awsCfg), cfg.eventBus)
	}
	return notify.New(notify.Config{
		Alerts:      core,
		Idempotency: dynamo.NewIdempotencyStore(dynamodb.NewFromConfig(awsCfg), cfg.idempotencyTable),
		Guard:       cfg.guard,
		TTL:         cfg.idempotencyTTL,
		LockTimeout: cfg.lockTimeout,
		Logger:      logger,
		Tracer:      xray.NewTracer(xray.SegmentName),
		Queue:       q,
	})
}
