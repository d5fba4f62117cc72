package sdkhttp_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/a2p-alerts/a2p-alerts/services/processor/sdkhttp"
)

// TestConnectionsAreReused makes sequential DynamoDB calls through the
// SDK on one Client: they all travel on one connection, and every body
// arrives whole.
func TestConnectionsAreReused(t *testing.T) {
	t.Parallel()
	const calls = 500
	var conns, bad atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil || int64(len(b)) != r.ContentLength || !strings.Contains(string(b), `"TableName":"contacts"`) {
			bad.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"Item":{"contact_id":{"S":"C-1"}}}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	client := dynamodb.NewFromConfig(aws.Config{
		Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL), HTTPClient: sdkhttp.Wrap(awshttp.NewBuildableClient()),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	for range calls {
		if _, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String("contacts"),
			Key:       map[string]types.AttributeValue{"contact_id": &types.AttributeValueMemberS{Value: "C-1"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d sequential calls dialled %d connections, want 1", calls, n)
	}
	if n := bad.Load(); n > 0 {
		t.Errorf("%d requests arrived with a damaged body", n)
	}
}

// recorder is the next client: it records the request it was given.
type recorder struct {
	req  *http.Request
	body string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.req = req
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		r.body = string(b)
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

// opaqueBody is a body net/http cannot see into, as the SDK's is.
type opaqueBody struct {
	io.Reader
	closed bool
	err    error
}

func (b *opaqueBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	return b.Reader.Read(p)
}

func (b *opaqueBody) Close() error { b.closed = true; return nil }

func TestBodyIsSentFromMemory(t *testing.T) {
	t.Parallel()
	next := &recorder{}
	body := &opaqueBody{Reader: strings.NewReader("Action=Publish&Message=x")}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://sns.local/", body)
	req.ContentLength = int64(len("Action=Publish&Message=x"))
	resp, err := sdkhttp.Wrap(next).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if next.body != "Action=Publish&Message=x" || next.req.ContentLength != req.ContentLength {
		t.Errorf("sent %q (length %d), want the whole body", next.body, next.req.ContentLength)
	}
	if !body.closed {
		t.Error("the SDK's body was not closed once read")
	}
	if _, ok := next.req.Body.(*opaqueBody); ok {
		t.Error("the body sent is still the SDK's reader")
	}
	again, err := next.req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(again); string(b) != "Action=Publish&Message=x" {
		t.Errorf("GetBody gives %q", b)
	}
}

func TestUnreadableBodyIsNotSent(t *testing.T) {
	t.Parallel()
	next := &recorder{}
	broken := errors.New("stream broke")
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://sns.local/", &opaqueBody{Reader: strings.NewReader("x"), err: broken})
	req.ContentLength = 1
	resp, err := sdkhttp.Wrap(next).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, broken) {
		t.Errorf("err = %v, want the body's error", err)
	}
	if next.req != nil {
		t.Error("the request was sent")
	}
}
