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
// it into notify.Handler and starts the Lambda runtime.
// Package profiling is the CPU profile switch, off by default; package
// tune sets the Go runtime for one invocation at a time.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/services/processor/profiling"
	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/services/processor/sdkhttp"
	"github.com/a2p-alerts/a2p-alerts/services/processor/settings"
	"github.com/a2p-alerts/a2p-alerts/services/processor/sns"
	"github.com/a2p-alerts/a2p-alerts/services/processor/tune"
	"github.com/a2p-alerts/a2p-alerts/services/processor/xray"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

func main() {
	tune.Apply(tune.For(os.LookupEnv))
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		startupFailed(slog.New(slog.NewJSONHandler(os.Stdout, nil)), err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	if cfg.cpuProfile != "" {
		if err := profiling.WriteOnSignal(cfg.cpuProfile, logger); err != nil {
			startupFailed(logger, err)
		}
	}
	if err := xray.Configure(logger); err != nil {
		startupFailed(logger, err)
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		startupFailed(logger, err)
	}
	h, err := newHandler(cfg, awsCfg, logger)
	if err != nil {
		startupFailed(logger, err)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the AWS clients from awsCfg, each call traced by
// X-Ray and each request body sent from memory (sdkhttp), the SNS and
// Connect clients with their adapters' ClientOptions, the alerting core on
// the adapters, and the handler that uses them.
func newHandler(cfg config, awsCfg aws.Config, logger *slog.Logger) (*notify.Handler, error) {
	xray.Instrument(&awsCfg)
	if awsCfg.HTTPClient == nil { // LoadDefaultConfig always sets one
		awsCfg.HTTPClient = awshttp.NewBuildableClient()
	}
	awsCfg.HTTPClient = sdkhttp.Wrap(awsCfg.HTTPClient)
	db := dynamodb.NewFromConfig(awsCfg)
	budget := delivery.DefaultBudget

	var caller alerting.Caller // stays nil when the stack places no calls
	if cfg.connect != nil {
		c, err := connect.NewCaller(awsconnect.NewFromConfig(awsCfg, connect.ClientOptions(budget.Attempt)), *cfg.connect)
		if err != nil {
			return nil, err
		}
		caller = c
	}
	var metrics alerting.Metrics
	var timeliness alerting.Timeliness
	if cfg.metricsNamespace != "" {
		m := emf.New(os.Stdout, cfg.metricsNamespace)
		metrics, timeliness = m, m
	}
	esc, err := settings.LoadEscalation(os.Getenv)
	if err != nil {
		return nil, err
	}
	var timers alerting.Timers // stays nil when nothing escalates
	if esc.Scheduler != (scheduler.Settings{}) {
		if timers, err = scheduler.New(awsscheduler.NewFromConfig(awsCfg), esc.Scheduler); err != nil {
			return nil, err
		}
	}

	core, err := alerting.New(alerting.Config{
		Store:             dynamo.NewAlertStore(db, cfg.alertsTable),
		Contacts:          dynamo.NewContactStore(db, cfg.contactsTable),
		Publisher:         sns.NewPublisher(awssns.NewFromConfig(awsCfg, sns.ClientOptions(budget.Attempt))),
		Caller:            caller,
		Metrics:           metrics,
		SMSContent:        cfg.smsContent,
		Retention:         cfg.retention,
		FallbackOnUnknown: cfg.fallbackOnUnknown,
		Budget:            budget,
		Escalation:        esc.Set,
		Timers:            timers,
		AckBaseURL:        esc.AckBaseURL,
		AckGrace:          esc.AckGrace,
		AckReplyCodes:     esc.ReplyCodes,
		Timeliness:        timeliness,
	})
	if err != nil {
		return nil, err
	}
	return notify.New(notify.Config{
		Alerts:      core,
		Idempotency: dynamo.NewIdempotencyStore(db, cfg.idempotencyTable),
		Guard:       cfg.guard,
		TTL:         cfg.idempotencyTTL,
		LockTimeout: cfg.lockTimeout,
		Logger:      logger,
		Tracer:      xray.NewTracer(xray.SegmentName),
	})
}

// startupFailed logs why the function cannot start and exits, which Lambda
// reports as an init error.
func startupFailed(logger *slog.Logger, err error) {
	logger.Error("processor start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
