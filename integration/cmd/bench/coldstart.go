package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/lambdahost"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// coldStart is one start of a function's process, timed from the moment
// exec succeeded.
type coldStart struct {
	// Init ends when the process first polls the Runtime API, comparable
	// to Lambda's Init Duration.
	Init time.Duration
	// Total ends when the first real invocation has completed.
	Total time.Duration
}

// coldStarts restarts each function n times and times each start. The
// first invocation is a real event sent with the emulator's Invoke API:
// for the authorizer a REQUEST event with the sandbox's token, for the
// processor a proxy event with a new alert, whose delivery the final
// accounting counts.
func coldStarts(ctx context.Context, b *bench) error {
	b.report.Cold = map[string][]coldStart{}

	for _, fn := range functionOrder {
		f, err := b.sb.Function(functionOutputs[fn])
		if err != nil {
			return err
		}

		b.step("%d cold starts of the %s", b.report.Settings.ColdStarts, fn)

		for i := range b.report.Settings.ColdStarts {
			payload, id, err := b.coldEvent(fn, i)
			if err != nil {
				return err
			}

			cs, err := b.coldStart(ctx, f, payload)

			o := outcome{ID: id, Code: http.StatusOK, Latency: cs.Total - cs.Init}
			if err != nil {
				o.Code, o.Err = 0, err.Error()
			}

			if id != "" {
				b.report.Outcomes = append(b.report.Outcomes, o)
			}

			if err != nil {
				return fmt.Errorf("cold start %d of the %s: %w\n%s", i+1, fn, err, f.Output())
			}

			b.report.Cold[fn] = append(b.report.Cold[fn], cs)
		}
	}

	return nil
}

// coldEvent is the i-th cold start's first event for fn, and the
// message_id it carries ("" for the authorizer's).
func (b *bench) coldEvent(fn string, i int) ([]byte, string, error) {
	if fn == names.FunctionAuthorizer {
		ev, err := authorizerEvent(b.sb)

		return ev, "", err
	}

	id := b.ids.id("cold", i)
	ev, err := processorEvent(alertBody(id, i))

	return ev, id, err
}

// coldStart restarts f and times it until the first invocation of payload
// has completed.
func (b *bench) coldStart(ctx context.Context, f *lambdahost.Function, payload []byte) (coldStart, error) {
	if err := f.Restart(); err != nil {
		return coldStart{}, err
	}

	// Restart returns once exec has succeeded: the clock starts with the
	// new image, after the package was unzipped (Lambda's Init Duration
	// does not count that either).
	t0 := time.Now()

	if err := f.WaitReady(ctx, b.sb.Clients.Lambda, lambdahost.DefaultReadyTimeout); err != nil {
		return coldStart{}, err
	}

	cs := coldStart{Init: time.Since(t0)}

	out, err := b.sb.Clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.Spec.Name), Payload: payload},
		func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	cs.Total = time.Since(t0)

	switch {
	case err != nil:
		return cs, fmt.Errorf("invoke: %w", err)
	case out.FunctionError != nil:
		return cs, fmt.Errorf("function error %s: %s", aws.ToString(out.FunctionError), out.Payload)
	}

	return cs, checkAnswer(out.Payload)
}
