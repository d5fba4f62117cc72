// Command status is the a2p-alerts status Lambda behind
// GET /notification/{message_id}: it answers the calling API client's
// newest alert record with that message_id (package status). It only
// reads the alerts table, so its role may do nothing else; it has no
// X-Ray SDK (Lambda's active tracing records each invocation) and no
// provider clients, so it starts cold faster than the processor.
//
// main only wires: it reads the environment, builds the DynamoDB client
// from the default configuration (AWS_ENDPOINT_URL can point it at an
// emulator), and starts the Lambda runtime.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/a2p-alerts/a2p-alerts/services/processor/dynamo"
	"github.com/a2p-alerts/a2p-alerts/services/processor/status"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

func main() {
	table, level, err := loadConfig(os.Getenv)
	if err != nil {
		startupFailed(slog.New(slog.NewJSONHandler(os.Stdout, nil)), err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		startupFailed(logger, err)
	}
	h, err := status.New(dynamo.NewAlertStore(dynamodb.NewFromConfig(awsCfg), table), logger)
	if err != nil {
		startupFailed(logger, err)
	}
	lambda.Start(h.Handle)
}

// loadConfig reads names.EnvAlertsTable (required) and names.EnvLogLevel
// (optional, INFO).
func loadConfig(getenv func(string) string) (string, slog.Level, error) {
	var level slog.Level
	table := strings.TrimSpace(getenv(names.EnvAlertsTable))
	if table == "" {
		return "", level, fmt.Errorf("%s is not set: it names the alerts table", names.EnvAlertsTable)
	}
	if v := strings.TrimSpace(getenv(names.EnvLogLevel)); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return "", level, fmt.Errorf("%s: %q is not DEBUG, INFO, WARN or ERROR", names.EnvLogLevel, v)
		}
	}
	return table, level, nil
}

// startupFailed logs why the function cannot start and exits, which Lambda
// reports as an init error.
func startupFailed(logger *slog.Logger, err error) {
	logger.Error("status start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
