package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TestSandboxEndToEnd starts the whole sandbox on testProgram and drives it
// as the integration tests will drive a2p-alerts: through the invoke URL
// of the stack outputs, the REQUEST authorizer and the proxy integration,
// with the functions' environment taken from the deployed resources, and
// observes X-Ray and SNS through the collector and the tap.
func TestSandboxEndToEnd(t *testing.T) {
	t.Parallel()

	sb, err := Start(t.Context(), Options{
		Program:  testProgram(writeTestZip(t)),
		Config:   testConfig(),
		RepoRoot: repoRoot,
		KumoBin:  kumoBin,
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		if t.Failed() {
			t.Log(sb.Logs())
		}

		_ = sb.Close()
	})

	t.Log(sb.Timings)

	d := sb.Deployment

	t.Run("stack outputs", func(t *testing.T) {
		apiID := d.OutputString("restApiId")
		want := "http://" + apiID + ".execute-api.localhost:" + strconv.Itoa(sb.Emulator.Port) + "/local/notification"

		if got := d.OutputString("notificationUrl"); apiID == "" || got != want {
			t.Errorf("notificationUrl %q, want %q", got, want)
		}

		if got := d.OutputString("accountId"); got != emulatorAccount {
			t.Errorf("accountId %q, want %q", got, emulatorAccount)
		}

		if got := d.OutputString("region"); got != "eu-west-2" {
			t.Errorf("region %q, want the stack's eu-west-2", got)
		}

		arns, ok := d.Outputs["topicArns"].(map[string]any)
		if arn, isString := arns["alice/sms"].(string); !ok || !isString || !strings.HasPrefix(arn, "arn:aws:sns:") {
			t.Errorf("topicArns %#v", d.Outputs["topicArns"])
		}

		if got := d.OutputString("echoFunction"); !regexp.MustCompile(`^echo-[0-9a-f]{7}$`).MatchString(got) {
			t.Errorf("echoFunction %q is not an auto-name", got)
		}
	})

	t.Run("recorded and emulated resources", func(t *testing.T) {
		for _, tc := range []struct {
			typ, name string
			emulated  bool
		}{
			{"aws:apigateway/restApi:RestApi", "api", true},
			{"aws:apigateway/authorizer:Authorizer", "auth", true},
			{"aws:iam/rolePolicy:RolePolicy", "fn", true},
			{"aws:apigateway/model:Model", "alert", false},
			{"aws:apigateway/requestValidator:RequestValidator", "body", false},
			{"aws:apigateway/methodSettings:MethodSettings", "throttle", false},
			{"aws:connect/contactFlow:ContactFlow", "alert", false},
			{"aws:sns/topicSubscription:TopicSubscription", "alice-sms-phone", false},
			{"sandboxtest:api:Api", "api", false},
		} {
			r, ok := d.Find(tc.typ, tc.name)
			if !ok {
				t.Errorf("%s %s not recorded", tc.typ, tc.name)

				continue
			}

			if r.Emulated != tc.emulated {
				t.Errorf("%s %s: Emulated %v, want %v", tc.typ, tc.name, r.Emulated, tc.emulated)
			}
		}

		policy, _ := d.Find("aws:iam/rolePolicy:RolePolicy", "fn")
		if role, _ := d.Find("aws:iam/role:Role", "fn"); policy.ID != role.ID+":"+policy.Output("name") {
			t.Errorf("role policy id %q does not name role %q (the resource reference)", policy.ID, role.ID)
		}
	})

	t.Run("table item written by the deploy", func(t *testing.T) {
		out, err := sb.Clients.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(d.OutputString("contactsTable")),
			Key:       map[string]ddbtypes.AttributeValue{"contact_id": &ddbtypes.AttributeValueMemberS{Value: "alice"}},
		})
		if err != nil {
			t.Fatal(err)
		}

		got, _ := out.Item["sms_topic_arn"].(*ddbtypes.AttributeValueMemberS)
		if arns, _ := d.Outputs["topicArns"].(map[string]any); got == nil || got.Value != arns["alice/sms"] {
			t.Fatalf("sms_topic_arn %#v, want the topic's ARN", out.Item["sms_topic_arn"])
		}
	})

	t.Run("function environment comes from the deployed resource", func(t *testing.T) {
		echo, ok := sb.Function("echo")
		if !ok {
			t.Fatalf("functions %v, want echo", sortedKeys(sb.Functions))
		}

		want := map[string]string{
			"TESTFN_GREETING":          "hello from the stack config",
			"CONTACTS_TABLE":           d.OutputString("contactsTable"),
			"AWS_LAMBDA_FUNCTION_NAME": d.OutputString("echoFunction"),
			"AWS_ENDPOINT_URL":         sb.Emulator.Endpoint,
			"AWS_ENDPOINT_URL_CONNECT": sb.Connect.URL,
			"AWS_XRAY_DAEMON_ADDRESS":  sb.XRay.Addr,
			"AWS_REGION":               "eu-west-2",
		}

		for k, v := range want {
			if got := echo.Env[k]; got != v {
				t.Errorf("%s=%q, want %q", k, got, v)
			}
		}

		if got := echo.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasSuffix(got, "/_runtime/"+d.OutputString("echoFunction")) {
			t.Errorf("AWS_LAMBDA_RUNTIME_API=%q", got)
		}
	})

	var traceHeader string

	t.Run("API through the authorizer", func(t *testing.T) {
		url := d.OutputString("notificationUrl")
		client := sb.HTTPClient()

		for _, tc := range []struct {
			auth string
			want int
		}{
			{"", http.StatusUnauthorized},      // no identity source: the authorizer is not called
			{"bogus", http.StatusUnauthorized}, // the authorizer raises "Unauthorized"
			{"deny", http.StatusForbidden},     // a Deny policy
			{"allow", http.StatusOK},           // through to the echo function
			{"allow", http.StatusOK},           // TTL 0: the authorizer runs again
		} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"message_id":"m-1"}`))
			if err != nil {
				t.Fatal(err)
			}

			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}

			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}

			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()

			if resp.StatusCode != tc.want {
				t.Fatalf("Authorization %q: status %d (%s), want %d", tc.auth, resp.StatusCode, body, tc.want)
			}

			if tc.want != http.StatusOK {
				continue
			}

			var echoed echoedBody
			if err := json.Unmarshal(body, &echoed); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}

			if echoed.Path != "/notification" || echoed.Method != http.MethodPost || echoed.Body != `{"message_id":"m-1"}` ||
				echoed.Greeting != "hello from the stack config" {
				t.Fatalf("echo saw %+v", echoed)
			}

			traceHeader = echoed.Trace
		}

		auth, _ := sb.Function("authorizer")

		ctx, cancel := contextWithTimeout(t, 10*time.Second)
		defer cancel()

		_ = auth.proc.out.WaitFor(ctx, func(out string) bool { return strings.Count(out, "authorizer: handling") >= 4 })
		if n := strings.Count(auth.Output(), "authorizer: handling"); n != 4 {
			t.Fatalf("authorizer ran %d times, want 4 (not for the request without a token)", n)
		}
	})

	t.Run("the readiness probes never reached the functions", func(t *testing.T) {
		// The runtime proxy answers the probe itself. Had a process
		// received it, testfn would have logged a decoding error before
		// the requests above (stdout and stderr share one pipe), and
		// those requests' lines are in the output by now.
		echo, _ := sb.Function("echo")
		waitOutput(t, echo, "echo: handling POST /notification")

		for name, fn := range sb.Functions {
			if strings.Contains(fn.Output(), "UnmarshalTypeError") {
				t.Errorf("%s received the readiness probe:\n%s", name, fn.Output())
			}
		}
	})

	t.Run("X-Ray segment of the Active function", func(t *testing.T) {
		root := regexp.MustCompile(`Root=([^;]+);Parent=[0-9a-f]{16};Sampled=1`).FindStringSubmatch(traceHeader)
		if root == nil {
			t.Fatalf("echo saw trace header %q; want a sampled root from the runtime proxy", traceHeader)
		}

		ctx, cancel := contextWithTimeout(t, 10*time.Second)
		defer cancel()

		got, err := sb.XRay.WaitFor(ctx, 1, func(s Segment) bool { return s.Name == "echo-work" && s.TraceID == root[1] })
		if err != nil {
			t.Fatalf("%v; segments %+v, errors %v", err, sb.XRay.Segments(), sb.XRay.Errors())
		}

		if got[0].Type != "subsegment" {
			t.Fatalf("echo-work sent as %q, want a subsegment of Lambda's facade", got[0].Type)
		}
	})

	t.Run("tap sees publishes to deployed topics", func(t *testing.T) {
		arns, _ := d.Outputs["topicArns"].(map[string]any)
		arn, _ := arns["alice/sms"].(string)

		if _, err := sb.Clients.SNS.Publish(t.Context(), &sns.PublishInput{
			TopicArn: aws.String(arn), Message: aws.String("Bed 4 needs review"), Subject: aws.String("P1"),
		}); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := contextWithTimeout(t, 10*time.Second)
		defer cancel()

		got, err := sb.Tap.WaitFor(ctx, 1, func(d Delivery) bool { return d.Topic == "alice-sms" })
		if err != nil {
			t.Fatal(err)
		}

		if got[0].Message != "Bed 4 needs review" || got[0].Subject != "P1" {
			t.Fatalf("delivery %+v", got[0])
		}
	})

	t.Run("close leaves no process", func(t *testing.T) {
		pids := sb.Pids()
		if len(pids) != 3 {
			t.Fatalf("pids %v, want kumo and two functions", pids)
		}

		if err := sb.Close(); err != nil {
			t.Fatal(err)
		}

		if err := sb.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		for _, pid := range pids {
			if ProcessAlive(pid) {
				t.Errorf("pid %d alive after Close", pid)
			}

			if members, _ := GroupMembers(pid); len(members) != 0 {
				t.Errorf("group %d still has %v after Close", pid, members)
			}
		}
	})
}

func TestDeployFailsLoudlyOnUnsupportedType(t *testing.T) {
	t.Parallel()

	_, err := Deploy(t.Context(), sharedEmulator.Endpoint, map[string]string{"sandboxtest:x": "y"}, unsupportedProgram)
	if err == nil || !strings.Contains(err.Error(), "aws:sqs/queue:Queue") {
		t.Fatalf("Deploy: %v; want an error naming aws:sqs/queue:Queue", err)
	}
}

func TestStartFailureStopsEverything(t *testing.T) {
	t.Parallel()

	_, err := Start(t.Context(), Options{
		Program:  unsupportedProgram,
		Config:   map[string]string{"sandboxtest:x": "y"},
		RepoRoot: repoRoot,
		KumoBin:  kumoBin,
	})
	if err == nil {
		t.Fatal("Start succeeded with an unsupported resource")
	}

	// The error carries kumo's output, whose first line names kumo's pid
	// via the header Logs writes.
	m := regexp.MustCompile(`===== kumo \(pid (\d+)\) =====`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error does not carry the logs: %v", err)
	}

	pid, _ := strconv.Atoi(m[1])
	if ProcessAlive(pid) {
		t.Fatalf("kumo %d left running after a failed Start", pid)
	}
}
