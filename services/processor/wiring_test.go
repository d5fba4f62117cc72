package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsxray "github.com/aws/aws-xray-sdk-go/xray"

	"github.com/a2p-alerts/a2p-alerts/services/processor/notify"
	"github.com/a2p-alerts/a2p-alerts/services/processor/xray"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// fakeAWS answers the processor's AWS calls as DynamoDB, SNS and Connect
// would, for one contact ("C-1": call for H, SMS for M, email for
// L), and counts the requests by operation.
type fakeAWS struct {
	mu    sync.Mutex
	calls map[string]int
	// unsigned counts requests without a SigV4 Authorization header.
	unsigned int
}

const (
	fakeSMSTopic   = "arn:aws:sns:eu-west-2:000000000000:a2p-c1-sms"
	fakeEmailTopic = "arn:aws:sns:eu-west-2:000000000000:a2p-c1-email"
)

// fakeContact is the contacts table's item for C-1, as DynamoDB returns it.
var fakeContact = `{"Item":{"contact_id":{"S":"C-1"},"name":{"S":"Dr One"},"pref_H":{"S":"call"},"pref_M":{"S":"sms"},` +
	`"pref_L":{"S":"email"},"call_phone":{"S":"+447700900123"},"sms_topic_arn":{"S":"` + fakeSMSTopic + `"},` +
	`"email_topic_arn":{"S":"` + fakeEmailTopic + `"}}}`

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := ""
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		_, op, _ = strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch op {
		case "GetItem":
			_, _ = io.WriteString(w, fakeContact)
		case "Query":
			_, _ = io.WriteString(w, `{"Items":[],"Count":0}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	case r.URL.Path == "/contact/outbound-voice":
		op = "StartOutboundVoiceContact"
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ContactId":"contact-1"}`)
	case strings.Contains(string(body), "Action=Publish"):
		op = "Publish"
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`)
	default:
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.unsigned++
	}
}

// wiredHandler is the handler as main builds it, its AWS clients pointed
// at a fakeAWS and its X-Ray segments sent to a UDP socket that reads and
// drops them, as the X-Ray daemon would take them.
func wiredHandler(tb testing.TB, logTo io.Writer) (*notify.Handler, *fakeAWS) {
	tb.Helper()
	fake := &fakeAWS{calls: map[string]int{}}
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)

	daemon, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = daemon.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, _, err := daemon.ReadFrom(buf); err != nil {
				return
			}
		}
	}()

	logger := slog.New(slog.NewJSONHandler(logTo, nil))
	if err := xray.Configure(logger); err != nil {
		tb.Fatal(err)
	}
	if err := awsxray.Configure(awsxray.Config{DaemonAddr: daemon.LocalAddr().String()}); err != nil {
		tb.Fatal(err)
	}

	cfg, err := loadConfig(env(required(map[string]string{
		names.EnvConnectInstanceID:    "inst-1",
		names.EnvConnectContactFlowID: "flow-1",
		names.EnvConnectSourcePhone:   "+442079460000",
	})))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := newHandler(cfg, aws.Config{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, logger)
	if err != nil {
		tb.Fatal(err)
	}
	return h, fake
}

// proxyEvent is a POST /notification event of client "ward-7" for a new
// alert with priority p.
func proxyEvent(tb testing.TB, id string, p alert.Priority) events.APIGatewayProxyRequest {
	tb.Helper()
	body, err := json.Marshal(alert.Alert{
		MessageID: id, Type: "blood_test_alert", PatientID: "P-4F2A91", ContactID: "C-1",
		Description: "Potassium 6.9 mmol/L, please review", Priority: p,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Path: "/" + names.NotificationPath, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:  "gw-1",
			Authorizer: map[string]any{names.AuthContextPrincipalID: "ward-7", names.AuthContextClient: "ward-7"},
		},
	}
}

// TestWiredHandlerDelivers sends one alert per channel through the handler
// as main wires it: each answers 200 after its six AWS calls, every call
// signed.
func TestWiredHandlerDelivers(t *testing.T) {
	h, fake := wiredHandler(t, io.Discard)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	for i, p := range []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh} {
		resp, err := h.Handle(ctx, proxyEvent(t, fmt.Sprintf("wired-%d", i), p))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("priority %s: status %d, %v: %s", p, resp.StatusCode, err, resp.Body)
		}
	}
	// Each alert: the lock (PutItem), the record accepted (TransactWriteItems),
	// the contact (GetItem), the delivery, the record delivered
	// (TransactWriteItems), the answer (UpdateItem).
	want := map[string]int{"PutItem": 3, "TransactWriteItems": 6, "GetItem": 3, "Publish": 2, "StartOutboundVoiceContact": 1, "UpdateItem": 3}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if !maps.Equal(fake.calls, want) {
		t.Errorf("calls %v, want %v", fake.calls, want)
	}
	if fake.unsigned > 0 {
		t.Errorf("%d requests were not signed with SigV4", fake.unsigned)
	}
}

// BenchmarkWiredHandler is one alert's whole path through the processor
// but the Lambda Runtime API: the handler as main wires it, the AWS SDK's
// clients and middleware, X-Ray tracing (every request sampled, as in the
// sandbox), and the HTTP round trips to an in-process fake of DynamoDB,
// SNS and Connect. Alerts rotate SMS, email and call.
func BenchmarkWiredHandler(b *testing.B) {
	h, _ := wiredHandler(b, io.Discard)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	priorities := []alert.Priority{alert.PriorityMedium, alert.PriorityLow, alert.PriorityHigh}
	start := time.Now().UnixNano()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := proxyEvent(b, fmt.Sprintf("bench-%d-%d", start, i), priorities[i%len(priorities)])
		if resp, _ := h.Handle(ctx, ev); resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		i++
	}
}
