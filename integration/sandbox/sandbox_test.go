package sandbox

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/proc"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestStart starts the whole sandbox as make dev does and checks the
// wiring the integration tests rely on; they test the behaviour through
// it.
func TestStart(t *testing.T) {
	t.Parallel()

	// The authorizer's answers are cached, as on a deployed stack: a
	// token's second request, on another route, is let through by the
	// first request's cached policy (kumo applies it to the new route's
	// method ARN, as API Gateway does).
	sb, err := Start(t.Context(), Options{Config: map[string]string{names.ConfigLogLevel: "INFO", names.ConfigAuthorizerCacheTTL: "300"}})
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

	t.Run("invoke URL and token", func(t *testing.T) {
		want := `^http://[0-9a-z-]+\.execute-api\.localhost:` + strconv.Itoa(sb.Emulator.Port) + `/v1/notification$`
		if !regexp.MustCompile(want).MatchString(sb.URL) || len(sb.Token) < 32 {
			t.Errorf("URL %q, token %q", sb.URL, sb.Token)
		}

		if got := sb.Stack.Config[sb.Stack.Key(names.ConfigLogLevel)]; got != "INFO" {
			t.Errorf("the log level override reads %q in the deployed stack", got)
		}
	})

	t.Run("functions run with the deployed environment", func(t *testing.T) {
		fn, err := sb.Function(names.OutputProcessorFunction)
		if err != nil {
			t.Fatal(err)
		}

		for k, want := range map[string]string{
			names.EnvContactsTable:     sb.Deployment.OutputString(names.OutputContactsTable),
			"AWS_LAMBDA_FUNCTION_NAME": sb.Deployment.OutputString(names.OutputProcessorFunction),
			"AWS_ENDPOINT_URL":         sb.Emulator.Endpoint,
			"AWS_ENDPOINT_URL_CONNECT": sb.Connect.URL,
			"AWS_XRAY_DAEMON_ADDRESS":  sb.XRay.Addr,
			"AWS_REGION":               sb.Deployment.Region,
			names.EnvLogLevel:          "INFO",
		} {
			if got := fn.Env[k]; got != want {
				t.Errorf("%s=%q, want %q", k, got, want)
			}
		}

		if got := fn.Env["AWS_LAMBDA_RUNTIME_API"]; !strings.HasSuffix(got, "/_runtime/"+fn.Spec.Name) {
			t.Errorf("AWS_LAMBDA_RUNTIME_API=%q, want the proxy's path of the function", got)
		}

		if _, err := sb.Function(names.OutputRestAPIID); err == nil {
			t.Error("Function found a function named by the REST API's id")
		}
	})

	t.Run("the readiness probes never reached the functions", func(t *testing.T) {
		// Each function logs one line per invocation it handles, and none
		// has been sent yet.
		for name, fn := range sb.Functions {
			if out := fn.Output(); strings.Contains(out, `"msg":"authorizer decision"`) || strings.Contains(out, `"msg":"request"`) {
				t.Errorf("%s handled an invocation:\n%s", name, out)
			}
		}
	})

	t.Run("a cached authorizer answer covers both routes", func(t *testing.T) {
		body := `{"message_id":"cache-1","type":"blood_test_alert","patient_id":"P-1","contact_id":"C-1",` +
			`"description":"Potassium 6.9 mmol/L","priority":"L"}`
		if status := request(t, sb, http.MethodPost, sb.URL, body); status != http.StatusOK {
			t.Fatalf("POST: %d", status)
		}

		if status := request(t, sb, http.MethodGet, sb.URL+"/cache-1", ""); status != http.StatusOK {
			t.Fatalf("GET after POST with the same token: %d, want 200 (a cached policy naming only POST answers 403)", status)
		}

		authz, err := sb.Function(names.OutputAuthorizerFunction)
		if err != nil {
			t.Fatal(err)
		}

		if n := strings.Count(authz.Output(), `"msg":"authorizer decision"`); n != 1 {
			t.Errorf("the authorizer ran %d times, want once: the second request must use the cached answer", n)
		}
	})

	t.Run("close leaves no process", func(t *testing.T) {
		pids := sb.Pids()
		if len(pids) != 1+len(names.Functions) {
			t.Fatalf("pids %v, want kumo and %d functions", pids, len(names.Functions))
		}

		if err := sb.Close(); err != nil {
			t.Fatal(err)
		}

		if err := sb.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		for _, pid := range pids {
			if members, _ := proc.GroupMembers(pid); proc.Alive(pid) || len(members) != 0 {
				t.Errorf("pid %d (group %v) alive after Close", pid, members)
			}
		}
	})
}

// request sends one request with the sandbox's token and returns its
// status.
func request(t *testing.T, sb *Sandbox, method, url, body string) int {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	req.Header.Set(names.HeaderAuthorization, sb.Token)

	resp, err := sb.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}

	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	return resp.StatusCode
}

// TestStartFailureStopsEverything makes the deploy fail, after kumo has
// started: Start must stop it and return its logs.
func TestStartFailureStopsEverything(t *testing.T) {
	t.Parallel()

	_, err := Start(t.Context(), Options{Config: map[string]string{names.ConfigLogLevel: "LOUD"}})
	if err == nil || !strings.Contains(err.Error(), names.ConfigLogLevel) {
		t.Fatalf("Start with log level LOUD: %v; want the program's refusal", err)
	}

	m := regexp.MustCompile(`===== kumo \(pid (\d+)\) =====`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error does not carry the logs: %v", err)
	}

	if pid, _ := strconv.Atoi(m[1]); proc.Alive(pid) {
		t.Fatalf("kumo %d left running after a failed Start", pid)
	}
}
