package sns_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/a2p-alerts/a2p-alerts/services/processor/sns"
	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
)

const topic = "arn:aws:sns:eu-west-2:000000000000:a2p-dr-jones-sms"

// fakeSNS serves SNS's query protocol: it records each Publish's form and
// answers with answer (success when nil).
type fakeSNS struct {
	mu     sync.Mutex
	forms  []url.Values
	answer func(n int, w http.ResponseWriter, r *http.Request) bool // true when it answered
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	n := len(f.forms)
	f.mu.Unlock()
	if f.answer != nil && f.answer(n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-%d</MessageId></PublishResult><ResponseMetadata><RequestId>r-%d</RequestId></ResponseMetadata></PublishResponse>`, n, n)
}

func (f *fakeSNS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forms)
}

// snsError answers an SNS error in the query protocol's XML.
func snsError(status int, code string) func(int, http.ResponseWriter, *http.Request) bool {
	return func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code)
		return true
	}
}

// publisher is a Publisher on a real SNS client, built as main builds it,
// talking to f.
func publisher(t *testing.T, f *fakeSNS, attemptTimeout time.Duration) *sns.Publisher {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := awssns.New(awssns.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, sns.ClientOptions(attemptTimeout))
	return sns.NewPublisher(client)
}

func TestPublishSMSIsTransactional(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{}
	id, err := publisher(t, f, time.Second).PublishSMS(t.Context(), topic, "High priority: blood_test_alert")
	if err != nil || id != "m-1" {
		t.Fatalf("PublishSMS = %q, %v; want m-1", id, err)
	}
	form := f.forms[0]
	want := map[string]string{
		"Action": "Publish", "TopicArn": topic, "Message": "High priority: blood_test_alert",
		"MessageAttributes.entry.1.Name":              sns.AttrSMSType,
		"MessageAttributes.entry.1.Value.DataType":    "String",
		"MessageAttributes.entry.1.Value.StringValue": sns.SMSTypeTransactional,
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("%s = %q, want %q (form %v)", k, got, v, form)
		}
	}
	for _, k := range []string{"Subject", "PhoneNumber", "TargetArn"} {
		if form.Has(k) {
			t.Errorf("an SMS publish carries %s", k)
		}
	}
}

func TestPublishEmail(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{}
	id, err := publisher(t, f, time.Second).PublishEmail(t.Context(), topic, "[High priority] x (ref m)", "the body")
	if err != nil || id != "m-1" {
		t.Fatalf("PublishEmail = %q, %v; want m-1", id, err)
	}
	form := f.forms[0]
	if form.Get("Subject") != "[High priority] x (ref m)" || form.Get("Message") != "the body" || form.Get("TopicArn") != topic {
		t.Errorf("form = %v", form)
	}
	if form.Has("MessageAttributes.entry.1.Name") {
		t.Error("an email publish carries the SMS type")
	}
}

// TestPublishFailures checks each class end to end through the real SDK
// client: how often SNS is asked, and how the failure is classified.
func TestPublishFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answer   func(int, http.ResponseWriter, *http.Request) bool
		wantSent int // publishes SNS saw
		class    delivery.Class
		code     string
	}{
		{"throttled: retried, then transient", snsError(http.StatusTooManyRequests, "Throttled"), 3, delivery.Transient, "Throttled"},
		{"throttled once: retried, then sent", func(n int, w http.ResponseWriter, r *http.Request) bool {
			return n == 1 && snsError(http.StatusTooManyRequests, "Throttled")(n, w, r)
		}, 2, "", ""},
		{"unavailable: retried, then transient", snsError(http.StatusServiceUnavailable, "ServiceUnavailable"), 3, delivery.Transient, "ServiceUnavailable"},
		{"invalid parameter: permanent, asked once", snsError(http.StatusBadRequest, "InvalidParameter"), 1, delivery.Permanent, "InvalidParameter"},
		{"not authorised: permanent, asked once", snsError(http.StatusForbidden, "AuthorizationError"), 1, delivery.Permanent, "AuthorizationError"},
		{"internal error: ambiguous, never retried", snsError(http.StatusInternalServerError, "InternalError"), 1, delivery.Ambiguous, "InternalError"},
		{"answer dropped: ambiguous, never retried", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			hijack(w)
			return true
		}, 1, delivery.Ambiguous, "no_answer"},
		{"no answer in time: ambiguous, never retried", func(_ int, _ http.ResponseWriter, r *http.Request) bool {
			<-r.Context().Done() // the client gave up and closed the connection
			return true
		}, 1, delivery.Ambiguous, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSNS{answer: tt.answer}
			_, err := publisher(t, f, 200*time.Millisecond).PublishSMS(t.Context(), topic, "text")
			if got := f.count(); got != tt.wantSent {
				t.Errorf("SNS was asked %d times, want %d", got, tt.wantSent)
			}
			if tt.class == "" {
				if err != nil {
					t.Errorf("err = %v, want success", err)
				}
				return
			}
			var fail *delivery.Error
			if !errors.As(err, &fail) || fail.Class != tt.class || fail.Code != tt.code {
				t.Fatalf("err = %v, want a %s failure with code %s", err, tt.class, tt.code)
			}
			if !errors.Is(err, fail.Err) {
				t.Error("the failure does not unwrap to the SDK's error")
			}
		})
	}
}

func TestPublishNotSent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Close() // a port that refuses connections
	client := awssns.New(awssns.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String("http://" + srv.Listener.Addr().String()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, sns.ClientOptions(time.Second))
	_, err := sns.NewPublisher(client).PublishSMS(t.Context(), topic, "text")
	var fail *delivery.Error
	if !errors.As(err, &fail) || fail.Class != delivery.Transient || fail.Code != "not_sent" {
		t.Errorf("err = %v, want a transient not_sent failure", err)
	}
}

// hijack closes the connection without an answer, after the request was read.
func hijack(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}
