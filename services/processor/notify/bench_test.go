package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting"
	"github.com/a2p-alerts/a2p-alerts/services/processor/alerting/alertingtest"
	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// BenchmarkHandler measures the handler's own cost on in-memory fakes,
// with JSON logging to io.Discard as in production.
func BenchmarkHandler(b *testing.B) {
	quiet := func(c *notify.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		c.Tracer = nil
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: testRequestID})

	b.Run("valid_alert", func(b *testing.B) {
		// The alert record's writes are accepted and not kept, like the
		// idempotency store's below; each instance is new.
		n := 0
		f := newFixture(b, quiet, func(c *alerting.Config) {
			c.Store = alertingtest.Discard{}
			c.Random = func() string { n++; return fmt.Sprintf("%08x", n) }
		})
		// Every lock is granted and every record written, without keeping
		// them: each iteration is a first delivery.
		f.idem.acquire = func(context.Context, notify.Lock) (notify.Record, error) { return notify.Record{}, nil }
		f.idem.completeFn = func(context.Context, notify.Lock, notify.Outcome) error { return nil }
		ev := eventFor(b, testAlert())
		b.ReportAllocs()
		for b.Loop() {
			f.pub.calls = f.pub.calls[:0]
			f.idem.acquires, f.idem.complete = f.idem.acquires[:0], f.idem.complete[:0]
			if resp, _ := f.h.Handle(ctx, ev); resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
		}
	})

	b.Run("replay", func(b *testing.B) {
		f := newFixture(b, quiet)
		ev := eventFor(b, testAlert())
		if resp, _ := f.h.Handle(ctx, ev); resp.StatusCode != http.StatusOK {
			b.Fatalf("first delivery: status %d: %s", resp.StatusCode, resp.Body)
		}
		b.ReportAllocs()
		for b.Loop() {
			f.idem.acquires = f.idem.acquires[:0]
			if resp, _ := f.h.Handle(ctx, ev); resp.Headers[names.HeaderIdempotentReplay] != "true" {
				b.Fatalf("not a replay: status %d: %s", resp.StatusCode, resp.Body)
			}
		}
	})

	b.Run("validation_failure", func(b *testing.B) {
		f := newFixture(b, quiet)
		ev := loadEvent(b, "proxy-event.json")
		ev.Body = `{"message_id":"msg 1","type":"Blood","patient_id":"","contact_id":"dr-jones","description":"x","priority":"Z"}`
		b.ReportAllocs()
		for b.Loop() {
			if resp, _ := f.h.Handle(ctx, ev); resp.StatusCode != http.StatusBadRequest {
				b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
		}
	})
}
