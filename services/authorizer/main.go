// Command authorizer is the API Gateway Lambda authorizer of a2p-alerts. It
// admits the named API clients listed, as SHA-256 hashes of their tokens, in
// names.EnvAPIClients, and refuses everyone else with "Unauthorized" (401).
//
// main only wires: it reads the environment, builds the Authorizer and hands
// it to the Lambda runtime. The logic is in authorizer.go.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		startupFailed(slog.New(slog.NewJSONHandler(os.Stdout, nil)), err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	auth, err := New(cfg.clients, logger)
	if err != nil {
		startupFailed(logger, err)
	}
	lambda.Start(auth)
}

// startupFailed logs why the function cannot start and exits, which Lambda
// reports as an init error.
func startupFailed(logger *slog.Logger, err error) {
	logger.Error("authorizer start-up failed", slog.String("error", err.Error()))
	os.Exit(1)
}
