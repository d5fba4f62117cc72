// Command escalate is the a2p-alerts escalate function, the target of
// every escalation timer (an EventBridge Scheduler schedule): package
// escalate hands the timer to the alerting core, which moves the alert to
// the timer's stage only if it is still unacknowledged and short of it,
// sets the next timer and reaches the stage's targets (SNS for SMS and
// email, Amazon Connect for calls), recording every step.
//
// main only wires: it reads the environment (package settings), builds
// the AWS clients from the default configuration (AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> can point them at an emulator), the core on
// the adapters, and starts the Lambda runtime.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsscheduler "github.com/aws/aws-sdk-go-v2/service/scheduler"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/connect"
	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/emf"
	"github.com/a2p-alerts/a2p-alerts/services/processor/escalate"
	"github.com/a2p-alerts/a2p-alerts/services/processor/scheduler"
	"github.com/a2p-alerts/a2p-alerts/services/processor/settings"
	"github.com/a2p-alerts/a2p-alerts/services/processor/sns"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

// fallbackTimeout stands in for the invocation's deadline when the
// context has none (Lambda always sets one).
const fallbackTimeout = time.Minute

func main() {
	getenv := settings.Getenv(os.Getenv)
	d, err := settings.LoadDelivery(getenv)
	if err != nil {
		startupFailed(slog.New(slog.NewJSONHandler(os.Stdout, nil)), err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: d.LogLevel}))
	h, err := newHandler(getenv, d, logger)
	if err != nil {
		startupFailed(logger, err)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the clients, the core on the adapters and the
// handler.
func newHandler(getenv settings.Getenv, d settings.Delivery, logger *slog.Logger) (*escalate.Handler, error) {
	esc, err := settings.LoadEscalation(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	budget := delivery.DefaultBudget
	db := dynamodb.NewFromConfig(awsCfg)
	cfg := alerting.Config{
		Store: dynamo.NewAlertStore(db, d.AlertsTable), Contacts: dynamo.NewContactStore(db, d.ContactsTable),
		Publisher:  sns.NewPublisher(awssns.NewFromConfig(awsCfg, sns.ClientOptions(budget.Attempt))),
		SMSContent: d.SMSContent, Retention: d.Retention, FallbackOnUnknown: d.FallbackOnUnknown, Budget: budget,
		Escalation: esc.Set, AckBaseURL: esc.AckBaseURL, AckGrace: esc.AckGrace, AckReplyCodes: esc.ReplyCodes,
	}
	if d.Connect != nil {
		if cfg.Caller, err = connect.NewCaller(awsconnect.NewFromConfig(awsCfg, connect.ClientOptions(budget.Attempt)), *d.Connect); err != nil {
			return nil, err
		}
	}
	if cfg.Timers, err = scheduler.New(awsscheduler.NewFromConfig(awsCfg), esc.Scheduler); err != nil {
		return nil, err
	}
	if d.MetricsNamespace != "" {
		m := emf.New(os.Stdout, d.MetricsNamespace)
		cfg.Metrics, cfg.Timeliness = m, m
	}
	core, err := alerting.New(cfg)
	if err != nil {
		return nil, err
	}
	return escalate.New(core, logger, fallbackTimeout)
}

// startupFailed logs why the function cannot start and exits, which Lambda
// reports as an init error.
func startupFailed(logger *slog.Logger, err error) {
	logger.Error("escalate start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
