// Package xray traces the processor with AWS X-Ray (aws-xray-sdk-go). It
// configures the SDK so that it never fails or waits on a missing daemon,
// instruments the AWS SDK v2 clients, and implements notify.Tracer.
//
// In AWS Lambda (LAMBDA_TASK_ROOT set, trace header in the context) the
// function's segment belongs to Lambda: each request becomes a subsegment
// of the SDK's facade segment, sampled as the trace header says. Anywhere
// else, such as the sandbox, where the bootstrap runs as a plain process
// against an emulator's Runtime API, each request begins its own segment,
// sampled by local rules.
package xray

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	awsxray "github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
)

// SegmentName names the processor's segment (or subsegment in Lambda).
const SegmentName = "a2p-processor"

// localRules sample every request. They apply only outside Lambda (in
// Lambda the trace header decides), where the volume is a developer's.
const localRules = `{"version": 2, "default": {"fixed_target": 1, "rate": 1.0}, "rules": []}`

// Configure sets the SDK's global recorder: local sampling rules, so no
// centralized sampling poller ever calls the daemon; a context-missing
// strategy that logs instead of panicking; and the SDK's log routed to
// logger (its info and debug at DEBUG, its warnings and errors, such as an
// unreachable daemon, at WARN). Segments go to the daemon named by
// AWS_XRAY_DAEMON_ADDRESS (default 127.0.0.1:2000) by UDP, which neither
// waits for nor needs an answer. Call it once, before serving.
//
// Two environment variables still act, as the SDK reads them itself:
// AWS_XRAY_CONTEXT_MISSING overrides the context-missing strategy (leave it
// unset or LOG_ERROR), and a malformed AWS_XRAY_DAEMON_ADDRESS makes the
// SDK panic when the package is initialised, before main runs.
func Configure(logger *slog.Logger) error {
	awsxray.SetLogger(slogLogger{logger: logger})
	rules, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(localRules))
	if err != nil {
		return fmt.Errorf("x-ray sampling rules: %w", err)
	}
	if err := awsxray.Configure(awsxray.Config{
		SamplingStrategy:       rules,
		ContextMissingStrategy: ctxmissing.NewDefaultLogErrorStrategy(),
	}); err != nil {
		return fmt.Errorf("configure x-ray: %w", err)
	}
	return nil
}

// Instrument makes every client built from cfg record its calls as
// subsegments of the request's segment.
func Instrument(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// Tracer begins one segment, or Lambda subsegment, per request.
type Tracer struct {
	name     string
	inLambda bool
}

var _ notify.Tracer = (*Tracer)(nil)

// NewTracer returns a Tracer for segments named name. It reads
// LAMBDA_TASK_ROOT once to tell AWS Lambda from anywhere else.
func NewTracer(name string) *Tracer {
	return &Tracer{name: name, inLambda: os.Getenv(awsxray.LambdaTaskRootKey) != ""}
}

// Start begins the request's span. In Lambda without a trace header there
// is nothing to attach to, and the span records nothing.
func (t *Tracer) Start(ctx context.Context) (context.Context, notify.Span) {
	var seg *awsxray.Segment
	if t.inLambda {
		if h, _ := ctx.Value(awsxray.LambdaTraceHeaderKey).(string); h == "" {
			return ctx, noSpan{}
		}
		ctx, seg = awsxray.BeginSubsegment(ctx, t.name)
	} else {
		ctx, seg = awsxray.BeginSegment(ctx, t.name)
	}
	if seg == nil {
		return ctx, noSpan{}
	}
	return ctx, span{seg: seg}
}

// span is one request's (sub)segment.
type span struct {
	seg *awsxray.Segment
}

// Annotate adds an indexed annotation; a failure only loses the annotation.
func (s span) Annotate(key, value string) {
	_ = s.seg.AddAnnotation(key, value) // fails only on an invalid key; ours are constants
}

// End records the HTTP status (4xx marks an error, 5xx a fault) and
// closes the segment, which emits it.
func (s span) End(status int) {
	awsxray.HttpCaptureResponse(s.seg, status)
	s.seg.Close(nil)
}

type noSpan struct{}

func (noSpan) Annotate(string, string) {}
func (noSpan) End(int)                 {}

// slogLogger routes the X-Ray SDK's log to slog.
type slogLogger struct {
	logger *slog.Logger
}

// Log implements xraylog.Logger.
func (l slogLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	lvl := slog.LevelDebug
	if level >= xraylog.LogLevelWarn {
		lvl = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.logger.Enabled(ctx, lvl) {
		return
	}
	l.logger.LogAttrs(ctx, lvl, "x-ray: "+msg.String(), slog.String("source", "aws-xray-sdk-go"))
}
