package observe

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
)

// alwaysSample samples every request, so the test does not depend on the
// SDK's default reservoir.
type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

func startCollector(t *testing.T) *XRayCollector {
	t.Helper()

	x, err := StartXRayCollector(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { _ = x.Close() })

	return x
}

// TestXRayCollectorReceivesSDKSegments sends a segment with the real X-Ray
// SDK, as a function's instrumentation does, and finds it parsed.
func TestXRayCollectorReceivesSDKSegments(t *testing.T) {
	t.Parallel()

	x := startCollector(t)

	// A malformed datagram first: it must be kept as an error, and must not
	// stop the collector.
	conn, err := (&net.Dialer{}).DialContext(t.Context(), "udp", x.Addr)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := conn.Write([]byte("not a segment")); err != nil {
		t.Fatal(err)
	}

	_ = conn.Close()

	addr, err := net.ResolveUDPAddr("udp", x.Addr)
	if err != nil {
		t.Fatal(err)
	}

	emitter, err := xray.NewDefaultEmitter(addr)
	if err != nil {
		t.Fatal(err)
	}

	ctx, err := xray.ContextWithConfig(t.Context(), xray.Config{
		DaemonAddr: x.Addr, Emitter: emitter, SamplingStrategy: alwaysSample{}, ServiceVersion: "test",
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, seg := xray.BeginSegment(ctx, "sandbox-unit")
	if err := seg.AddAnnotation("contact", "alice"); err != nil {
		t.Fatal(err)
	}

	_, sub := xray.BeginSubsegment(ctx, "deliver")
	sub.Close(nil)
	seg.Close(nil)

	wait, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	got, err := x.WaitFor(wait, 1, func(s Segment) bool { return s.Name == "sandbox-unit" })
	if err != nil {
		t.Fatal(err)
	}

	doc := got[0]
	if doc.TraceID != seg.TraceID || doc.ID != seg.ID || doc.Annotations["contact"] != "alice" {
		t.Fatalf("segment parsed as %+v; want trace %s, id %s, annotation contact=alice", doc, seg.TraceID, seg.ID)
	}

	var names []string
	doc.Walk(func(s Segment) { names = append(names, s.Name) })

	if strings.Join(names, ",") != "sandbox-unit,deliver" {
		t.Fatalf("segment tree %v, want [sandbox-unit deliver]", names)
	}

	if errs := x.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no header line") {
		t.Fatalf("errors %v, want the malformed datagram's", errs)
	}
}

func TestParseSegmentDatagram(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, datagram, wantErr, wantName string
	}{
		{name: "sdk format", datagram: "{\"format\": \"json\", \"version\": 1}\n{\"name\":\"processor\",\"trace_id\":\"1-a-b\",\"type\":\"subsegment\"}", wantName: "processor"},
		{name: "no header", datagram: `{"name":"x"}`, wantErr: "no header line"},
		{name: "wrong format", datagram: "{\"format\": \"xml\", \"version\": 1}\n{}", wantErr: "want format json"},
		{name: "bad document", datagram: "{\"format\": \"json\", \"version\": 1}\n{", wantErr: "segment document"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			seg, err := ParseSegmentDatagram([]byte(tt.datagram))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}

				return
			}

			if err != nil {
				t.Fatal(err)
			}

			if seg.Name != tt.wantName || seg.Type != "subsegment" {
				t.Fatalf("parsed %+v", seg)
			}
		})
	}
}
