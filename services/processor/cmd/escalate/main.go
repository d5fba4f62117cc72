// Command escalate is the a2p-alerts escalate function, the target of
// every escalation timer (an EventBridge Scheduler schedule): package
// escalate hands the timer to the alerting core, which moves the alert to
// the timer's stage only if it is still unacknowledged and short of it,
// sets the next timer and reaches the stage's targets (SNS for SMS and
// email, Amazon Connect for calls), recording every step.
//
// main only wires: it reads the environment (package setup), builds
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

	"github.com/a2p-alerts/a2p-alerts/services/processor/escalate"
	"github.com/a2p-alerts/a2p-alerts/services/processor/setup"
	"github.com/a2p-alerts/a2p-alerts/services/processor/tune"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// fallbackTimeout stands in for the invocation's deadline when the
// context has none (Lambda always sets one).
const fallbackTimeout = time.Minute

func main() {
	tune.Apply(tune.For(os.LookupEnv))
	cfg, err := setup.LoadCore(setup.Env(os.LookupEnv))
	if err != nil {
		setup.StartupFailed(names.FunctionEscalate, nil, err)
	}
	logger := setup.Logger(cfg.LogLevel)
	h, err := newHandler(cfg, logger)
	if err != nil {
		setup.StartupFailed(names.FunctionEscalate, logger, err)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the clients, the core on the adapters (package
// setup) and the handler.
func newHandler(cfg setup.Core, logger *slog.Logger) (*escalate.Handler, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	setup.SendFromMemory(&awsCfg)
	core, err := setup.NewCore(cfg, awsCfg, os.Stdout)
	if err != nil {
		return nil, err
	}
	return escalate.New(core, logger, fallbackTimeout)
}
