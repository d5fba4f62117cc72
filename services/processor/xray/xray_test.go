package xray_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awsxray "github.com/aws/aws-xray-sdk-go/xray"

	"github.com/a2p-alerts/a2p-alerts/services/processor/xray"
)

// These tests change the X-Ray SDK's global configuration and the
// environment, so none of them runs in parallel.

// daemon is a UDP listener standing in for the X-Ray daemon.
type daemon struct {
	conn *net.UDPConn
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &daemon{conn: conn}
}

// segmentDoc is the part of a segment document the tests read.
type segmentDoc struct {
	Name        string                                  `json:"name"`
	ID          string                                  `json:"id"`
	TraceID     string                                  `json:"trace_id"`
	ParentID    string                                  `json:"parent_id"`
	Type        string                                  `json:"type"`
	Annotations map[string]any                          `json:"annotations"`
	Fault       bool                                    `json:"fault"`
	Error       bool                                    `json:"error"`
	HTTP        struct{ Response struct{ Status int } } `json:"http"`
	AWS         map[string]any                          `json:"aws"`
	Subsegments []json.RawMessage                       `json:"subsegments"`
}

// next reads one datagram: the daemon header line, then a segment.
func (d *daemon) next(t *testing.T) segmentDoc {
	t.Helper()
	buf := make([]byte, 64<<10)
	if err := d.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, _, err := d.conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no segment reached the daemon: %v", err)
	}
	header, body, ok := bytes.Cut(buf[:n], []byte("\n"))
	if !ok || !strings.Contains(string(header), `"format": "json"`) {
		t.Fatalf("datagram lacks the daemon header: %q", buf[:n])
	}
	var doc segmentDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("segment %q: %v", body, err)
	}
	return doc
}

// logSink collects log records.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// configure points the SDK at addr and configures it as main does.
func configure(t *testing.T, addr string) *logSink {
	t.Helper()
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", addr)
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "")
	sink := &logSink{}
	if err := xray.Configure(slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		t.Fatal(err)
	}
	return sink
}

func TestSegmentOutsideLambda(t *testing.T) {
	d := startDaemon(t)
	configure(t, d.conn.LocalAddr().String())
	t.Setenv(awsxray.LambdaTaskRootKey, "")

	tracer := xray.NewTracer(xray.SegmentName)
	_, span := tracer.Start(t.Context())
	span.Annotate("message_id", "msg-0001")
	span.Annotate("channel", "sms")
	span.Annotate("priority", "M")
	span.End(http.StatusBadGateway)

	doc := d.next(t)
	if doc.Name != xray.SegmentName || doc.Type != "" || doc.ParentID != "" || !strings.HasPrefix(doc.TraceID, "1-") {
		t.Errorf("segment = %+v, want a root segment named %s", doc, xray.SegmentName)
	}
	want := map[string]any{"message_id": "msg-0001", "channel": "sms", "priority": "M"}
	for k, v := range want {
		if doc.Annotations[k] != v {
			t.Errorf("annotation %s = %v, want %v", k, doc.Annotations[k], v)
		}
	}
	if doc.HTTP.Response.Status != http.StatusBadGateway || !doc.Fault {
		t.Errorf("status %d fault %v, want 502 and a fault", doc.HTTP.Response.Status, doc.Fault)
	}
}

func TestLocalSamplingTracesEveryRequest(t *testing.T) {
	d := startDaemon(t)
	configure(t, d.conn.LocalAddr().String())
	t.Setenv(awsxray.LambdaTaskRootKey, "")

	// The SDK's default local rules keep 1 request a second and 5% more;
	// ours keep all, so each of these reaches the daemon.
	const requests = 5
	tracer := xray.NewTracer(xray.SegmentName)
	for range requests {
		_, span := tracer.Start(t.Context())
		span.End(http.StatusOK)
	}
	ids := map[string]bool{}
	for range requests {
		ids[d.next(t).ID] = true
	}
	if len(ids) != requests {
		t.Errorf("%d distinct segments, want %d", len(ids), requests)
	}
}

func TestSubsegmentInLambda(t *testing.T) {
	d := startDaemon(t)
	configure(t, d.conn.LocalAddr().String())
	t.Setenv(awsxray.LambdaTaskRootKey, t.TempDir())

	const root, parent = "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
	tracer := xray.NewTracer(xray.SegmentName)
	// The Lambda runtime (aws-lambda-go) stores the header under this string key.
	ctx := context.WithValue(t.Context(), awsxray.LambdaTraceHeaderKey, "Root="+root+";Parent="+parent+";Sampled=1") //nolint:staticcheck // SA1029: the runtime and the SDK agree on this string key
	_, span := tracer.Start(ctx)
	span.Annotate("message_id", "msg-0001")
	span.End(http.StatusOK)

	doc := d.next(t)
	if doc.Name != xray.SegmentName || doc.Type != "subsegment" || doc.TraceID != root || doc.ParentID != parent {
		t.Errorf("segment = %+v, want a subsegment of the Lambda facade %s/%s", doc, root, parent)
	}
	if doc.Annotations["message_id"] != "msg-0001" || doc.HTTP.Response.Status != http.StatusOK || doc.Fault || doc.Error {
		t.Errorf("annotations %v status %d", doc.Annotations, doc.HTTP.Response.Status)
	}
}

func TestNoSpanInLambdaWithoutTraceHeader(t *testing.T) {
	configure(t, "127.0.0.1:2000")
	t.Setenv(awsxray.LambdaTaskRootKey, t.TempDir())
	ctx, span := xray.NewTracer(xray.SegmentName).Start(t.Context())
	span.Annotate("message_id", "msg-0001")
	span.End(http.StatusOK)
	if awsxray.GetSegment(ctx) != nil {
		t.Error("a segment was begun in Lambda without a trace header")
	}
}

func TestAWSCallsBecomeSubsegments(t *testing.T) {
	d := startDaemon(t)
	sink := configure(t, d.conn.LocalAddr().String())
	t.Setenv(awsxray.LambdaTaskRootKey, "")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-2", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1, BaseEndpoint: aws.String(srv.URL)}
	xray.Instrument(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	getItem := func(ctx context.Context) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String("contacts"),
			Key:       map[string]types.AttributeValue{"contact_id": &types.AttributeValueMemberS{Value: "dr-jones"}},
		})
		return err
	}

	ctx, span := xray.NewTracer(xray.SegmentName).Start(t.Context())
	if err := getItem(ctx); err != nil {
		t.Fatal(err)
	}
	span.End(http.StatusOK)

	doc := d.next(t)
	if len(doc.Subsegments) != 1 {
		t.Fatalf("subsegments = %d, want 1 for the DynamoDB call", len(doc.Subsegments))
	}
	var sub segmentDoc
	if err := json.Unmarshal(doc.Subsegments[0], &sub); err != nil {
		t.Fatal(err)
	}
	if sub.Name != "DynamoDB" || sub.AWS["operation"] != "GetItem" {
		t.Errorf("subsegment %s, aws %v; want DynamoDB GetItem", sub.Name, sub.AWS)
	}

	// A call outside any segment logs the missing context, never panics.
	if err := getItem(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sink.String(), "context missing") {
		t.Errorf("missing context not logged; log:\n%s", sink.String())
	}
}

func TestNoDaemonNeitherFailsNorLogsErrors(t *testing.T) {
	// A port nobody listens on: bind one, then free it.
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	sink := configure(t, addr)
	t.Setenv(awsxray.LambdaTaskRootKey, "")

	tracer := xray.NewTracer(xray.SegmentName)
	for range 20 {
		_, span := tracer.Start(t.Context())
		span.Annotate("message_id", "msg-0001")
		span.End(http.StatusOK)
	}
	for line := range strings.Lines(sink.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msg, _ := rec["msg"].(string)
		if rec["level"] != "WARN" || !strings.HasPrefix(msg, "x-ray: ") {
			t.Errorf("unexpected log line %v", rec)
		}
	}
}

func TestConfigureDaemonAddress(t *testing.T) {
	// The address Lambda sets is accepted; a malformed one is reported.
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000")
	if err := xray.Configure(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Configure with Lambda's daemon address: %v", err)
	}
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "not an address")
	if err := xray.Configure(slog.New(slog.DiscardHandler)); err == nil {
		t.Error("Configure accepted a malformed daemon address")
	}
}
