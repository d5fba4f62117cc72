// Command sandbox runs a2p-alerts offline on the embedded emulator: the
// real infra program deployed from Pulumi.local.yaml, the real authorizer
// and processor binaries, an SNS tap and a Connect stub.
//
//	-mode dev   serve on 127.0.0.1:4566, print the invoke URL, a fresh token
//	            and, per priority, a curl command to send an alert and one
//	            to read its record, then every delivery until Ctrl-C (make dev)
//	-mode demo  send one alert per priority (the call is answered and 1
//	            pressed), then one whose call fails and falls back to SMS,
//	            acknowledged by the ward system, then the loop: an alert
//	            whose call rings unanswered, the SMS with a link at stage 1,
//	            the link pressed; show the deliveries and the records, and
//	            exit 0 only if all arrived and the loop closed (make demo)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/standin"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// demoWait bounds how long demo waits for the three deliveries.
const demoWait = 30 * time.Second

func main() {
	mode := flag.String("mode", "dev", "dev (serve until Ctrl-C) or demo (send one alert per priority and check)")
	port := flag.Int("port", -1, "emulator port (default 4566 for dev, a free port for demo)")
	verbose := flag.Bool("verbose", false, "show the emulator's and functions' output")
	flag.Parse()
	if *mode != "dev" && *mode != "demo" {
		fmt.Fprintln(os.Stderr, "sandbox: -mode must be dev or demo")
		os.Exit(2)
	}
	if *port < 0 {
		*port = 0
		if *mode == "dev" {
			*port = emulator.DevPort
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *mode, *port, *verbose)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, mode string, port int, verbose bool) error {
	var output io.Writer
	if verbose {
		output = os.Stderr
	}
	fmt.Println("Building the functions for this machine and starting the sandbox...")
	env, err := sandbox.Start(ctx, sandbox.Options{Port: port, Output: output, OnDelivery: printDelivery, PollQueues: true, FireSchedules: true,
		OnFireError: func(err error) { fmt.Fprintln(os.Stderr, "sandbox: escalation timer:", err) }})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("Stopping the sandbox...")
		if err := env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox: close:", err)
		}
	}()
	fmt.Println(env.Timings)
	env.Connect.SetScript(answerHighToC1)
	go printCalls(ctx, env)
	go printCallResults(ctx, env)
	if mode == "demo" {
		return demo(ctx, env)
	}
	printUsage(env)
	<-ctx.Done()
	fmt.Println()
	return nil
}

// The sandbox stack's contacts: C-1 has one channel per priority; C-2's
// calls are refused by the Connect stub, so its high-priority alerts fall
// back to SMS; C-3's calls ring unanswered, so its high-priority alerts
// escalate (the stack's stage 1 is due 5 s after acceptance).
const (
	contactOne         = "C-1"
	contactUnreachable = "C-2"
	contactEscalating  = "C-3"
)

// answerHighToC1 scripts the Connect stub: C-1 answers and presses 1 (the
// flow invokes the ack function); every other call rings unanswered.
func answerHighToC1(c standin.OutboundCall) standin.CallOutcome {
	if c.DestinationPhoneNumber == "+15555550100" {
		return standin.AnsweredPressed1
	}
	return standin.NotAnswered
}

// sample is the alert sent to contactID for priority p.
func sample(contactID string, p alert.Priority, id string) alert.Alert {
	return alert.Alert{
		MessageID:   id,
		Type:        "blood_test_alert",
		PatientID:   "P-4F2A91",
		ContactID:   contactID,
		Description: "Potassium 6.9 mmol/L, please review",
		Priority:    p,
	}
}

func printUsage(env *sandbox.Sandbox) {
	fmt.Printf("\nPOST %s\nGET  %s/<message_id>\nAuthorization: %s   (client %q; generated for this run only)\n\n",
		env.URL, env.URL, env.Token, sandbox.ClientName)
	stamp := time.Now().Format("150405")
	type example struct {
		label string
		a     alert.Alert
	}
	var examples []example
	for _, p := range alert.Priorities {
		examples = append(examples, example{p.Label() + " priority", sample(contactOne, p, fmt.Sprintf("dev-%s-%s", stamp, p))})
	}
	examples = append(examples,
		example{"high priority to C-2, whose call fails: the SMS follows at once", sample(contactUnreachable, alert.PriorityHigh, "dev-"+stamp+"-fallback")},
		example{"high priority to C-3, whose call rings unanswered: 5 s later the SMS brings a link (open it in a browser)", sample(contactEscalating, alert.PriorityHigh, "dev-"+stamp+"-loop")})
	for _, ex := range examples {
		body, _ := json.Marshal(ex.a)
		fmt.Printf("# %s\ncurl -sS -X POST '%s' -H 'Authorization: %s' -H 'Content-Type: application/json' -d '%s'\n",
			ex.label, env.URL, env.Token, body)
		fmt.Printf("# ... and its record (status, attempts, audit trail)\ncurl -sS '%s/%s' -H 'Authorization: %s'\n\n",
			env.URL, ex.a.MessageID, env.Token)
	}
	async, _ := json.Marshal(sample(contactOne, alert.PriorityMedium, "dev-"+stamp+"-async"))
	fmt.Printf("# medium priority, answered 202 at once and delivered by the worker from the queue\n"+
		"curl -sS -i -X POST '%s' -H 'Authorization: %s' -H 'Prefer: respond-async' -H 'Content-Type: application/json' -d '%s'\n\n",
		env.URL, env.Token, async)
	fmt.Printf("# acknowledge one as the ward system (the SMS's link and the answered call's 1 are the clinician's ways)\n"+
		"curl -sS -X POST '%s/<message_id>/%s' -H 'Authorization: %s'\n\n", env.URL, names.AckPath, env.Token)
	fmt.Println("Each delivery is printed below as it happens. Ctrl-C stops the sandbox.")
}

func demo(ctx context.Context, env *sandbox.Sandbox) error {
	stamp := time.Now().Format("20060102-150405.000")
	client := env.HTTPClient()
	for _, p := range alert.Priorities {
		a := sample(contactOne, p, "demo-"+stamp+"-"+string(p))
		if err := demoPost(ctx, client, env, a, "POST priority "+string(p)); err != nil {
			return err
		}
	}
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	if _, err := env.Tap.WaitFor(wait, 2, nil); err != nil {
		return fmt.Errorf("waiting for the SMS and email deliveries: %w", err)
	}
	if _, err := env.Connect.WaitForCalls(wait, 1, nil); err != nil {
		return fmt.Errorf("waiting for the call: %w", err)
	}
	fmt.Println("\nAll three deliveries seen: call, SMS and email.")
	if err := demoFallback(ctx, client, env, stamp); err != nil {
		return err
	}
	if err := demoAsync(ctx, client, env, stamp); err != nil {
		return err
	}
	return demoLoop(ctx, client, env, stamp)
}

// demoAsync sends a medium-priority alert with Prefer: respond-async: the
// answer is 202 at once, the worker (fed by the sandbox's queue poller)
// delivers the SMS, and GET shows the alert sent.
func demoAsync(ctx context.Context, client *http.Client, env *sandbox.Sandbox, stamp string) error {
	fmt.Println("\nNow a medium-priority alert with Prefer: respond-async (answered at once, delivered from the queue):")
	a := sample(contactOne, alert.PriorityMedium, "demo-"+stamp+"-async")
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	status, answer, err := request(ctx, client, env, http.MethodPost, env.URL, body, names.HeaderPrefer, names.PreferRespondAsync)
	fmt.Printf("POST priority M, Prefer: respond-async -> %d %s\n", status, answer)
	if err != nil {
		return fmt.Errorf("async POST: %w", err)
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("async POST answered %d %s, want 202", status, answer)
	}
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	if _, err := env.Tap.WaitFor(wait, 1, func(d observe.Delivery) bool { return strings.HasSuffix(d.Message, "\nRef: "+a.MessageID) }); err != nil {
		return fmt.Errorf("waiting for the worker's SMS: %w", err)
	}
	status, answer, err = request(ctx, client, env, http.MethodGet, env.URL+"/"+a.MessageID, nil)
	var rec api.AlertRecord
	if err != nil {
		return fmt.Errorf("GET the record: %w", err)
	}
	if status != http.StatusOK || json.Unmarshal([]byte(answer), &rec) != nil || rec.Status != "sent" {
		return fmt.Errorf("the record answered %d, not sent: %s", status, answer)
	}
	fmt.Printf("GET %s/%s -> %d: status %s, accepted %s, sent %s by the worker\n", env.URL, a.MessageID, status, rec.Status, rec.AcceptedAt, rec.SentAt)
	return nil
}

// demoFallback sends a high-priority alert to C-2, whose call the Connect
// stub refuses: the processor falls back to the SMS in the same request.
// It waits for the SMS and prints the alert's record (GET).
func demoFallback(ctx context.Context, client *http.Client, env *sandbox.Sandbox, stamp string) error {
	fmt.Printf("\nNow a high-priority alert to %s, whose phone cannot be called:\n", contactUnreachable)
	a := sample(contactUnreachable, alert.PriorityHigh, "demo-"+stamp+"-fallback")
	if err := demoPost(ctx, client, env, a, "POST priority H to "+contactUnreachable); err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	if _, err := env.Tap.WaitFor(wait, 1, func(d observe.Delivery) bool { return strings.HasSuffix(d.Message, "\nRef: "+a.MessageID) }); err != nil {
		return fmt.Errorf("waiting for the fallback SMS: %w", err)
	}
	status, body, err := request(ctx, client, env, http.MethodGet, env.URL+"/"+a.MessageID, nil)
	if err != nil {
		return fmt.Errorf("GET the record: %w", err)
	}
	fmt.Printf("\nGET %s/%s -> %d\n", env.URL, a.MessageID, status)
	var rec api.AlertRecord
	if status != http.StatusOK || json.Unmarshal([]byte(body), &rec) != nil || !strings.Contains(body, `"type":"fallback"`) {
		return fmt.Errorf("the record answered %d without a fallback event: %s", status, body)
	}
	printRecord(rec)
	fmt.Println("\nThe call failed, the SMS followed in the same request, and the record shows both attempts.")
	status, body, err = request(ctx, client, env, http.MethodPost, env.URL+"/"+a.MessageID+"/"+names.AckPath, nil)
	fmt.Printf("The ward system acknowledges it: POST %s/%s/%s -> %d %s\n", env.URL, a.MessageID, names.AckPath, status, body)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("acknowledge %s: %d %w", a.MessageID, status, err)
	}
	return nil
}

// ackLink and pageTitle find an SMS's acknowledgment link and a page's
// heading.
var (
	ackLink   = regexp.MustCompile(`https?://\S+/` + names.AckPath + `/[A-Za-z0-9_-]+`)
	pageTitle = regexp.MustCompile(`<h1>([^<]*)</h1>`)
)

// demoLoop closes the loop: a high-priority alert to C-3, whose call rings
// unanswered; at stage 1 the sandbox fires the timer and the SMS brings a
// link; the demo presses the link's button (POST, as the page's form does)
// and prints the final record.
func demoLoop(ctx context.Context, client *http.Client, env *sandbox.Sandbox, stamp string) error {
	fmt.Printf("\nThe loop: a high-priority alert to %s, whose call rings unanswered; stage 1 is due 5 s after acceptance:\n", contactEscalating)
	a := sample(contactEscalating, alert.PriorityHigh, "demo-"+stamp+"-loop")
	if err := demoPost(ctx, client, env, a, "POST priority H to "+contactEscalating); err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	sms, err := env.Tap.WaitFor(wait, 1, func(d observe.Delivery) bool {
		return strings.HasSuffix(d.Message, "\nRef: "+a.MessageID) && ackLink.MatchString(d.Message)
	})
	if err != nil {
		return fmt.Errorf("waiting for the stage-1 SMS: %w", err)
	}
	link := ackLink.FindString(sms[0].Message)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, link, nil)
	if err != nil {
		return fmt.Errorf("POST the link: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST the link: %w", err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	title := append(pageTitle.FindStringSubmatch(string(page)), "", "")[1]
	fmt.Printf("\nThe clinician opens the link and presses Acknowledge: POST %s -> %d, the page says %q\n", link, resp.StatusCode, title)
	status, body, err := request(ctx, client, env, http.MethodGet, env.URL+"/"+a.MessageID, nil)
	if err != nil {
		return fmt.Errorf("GET the record: %w", err)
	}
	var rec api.AlertRecord
	if status != http.StatusOK || json.Unmarshal([]byte(body), &rec) != nil || rec.Status != api.StatusAcknowledged || rec.AckMethod != "link" {
		return fmt.Errorf("the record answered %d, not acknowledged by link: %s", status, body)
	}
	fmt.Printf("\nGET %s/%s -> %d\n", env.URL, a.MessageID, status)
	printRecord(rec)
	fmt.Printf("\nUnanswered call, SMS and repeat call at stage %d, acknowledged by link %d ms after acceptance: no later stage runs.\n",
		rec.Stage, rec.AcceptedToAcknowledgedMS)
	return nil
}

// printRecord shows an alert's record, one line per attempt and event.
func printRecord(rec api.AlertRecord) {
	fmt.Printf("  status %s, priority %s, channels %s, accepted %s, sent %s, stage %d\n",
		rec.Status, rec.Priority, strings.Join(rec.Channels, " then "), rec.AcceptedAt, rec.SentAt, rec.Stage)
	if rec.AcknowledgedAt != "" {
		fmt.Printf("  acknowledged %s by %s (%s), %d ms after acceptance\n", rec.AcknowledgedAt, rec.AcknowledgedBy, rec.AckMethod, rec.AcceptedToAcknowledgedMS)
	}
	for _, at := range rec.Attempts {
		fmt.Printf("  attempt %d  %-5s %-4s %-7s stage %d %s%s\n", at.Attempt, at.Channel, at.ContactID, at.Status, at.Stage, at.FailureClass, at.ProviderRef)
	}
	for _, e := range rec.Events {
		detail := e.Channel
		if e.FromChannel != "" {
			detail = e.FromChannel + " -> " + e.Channel
		}
		if e.Stage != 0 {
			detail = fmt.Sprintf("%s stage %d %s", detail, e.Stage, e.Method+e.Target)
		}
		fmt.Printf("  event %d  %-16s %-22s %-15s %s\n", e.Seq, e.Type, strings.TrimSpace(detail+" "+e.FailureClass), e.Actor, e.At)
	}
}

// demoPost sends a and requires 200.
func demoPost(ctx context.Context, client *http.Client, env *sandbox.Sandbox, a alert.Alert, label string) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("%s: encode alert: %w", label, err)
	}
	status, answer, err := request(ctx, client, env, http.MethodPost, env.URL, body)
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	fmt.Printf("%s -> %d %s\n", label, status, strings.TrimSpace(answer))
	if status != http.StatusOK {
		return fmt.Errorf("%s answered %d", label, status)
	}
	return nil
}

// request sends one request with the sandbox's token.
func request(ctx context.Context, client *http.Client, env *sandbox.Sandbox, method, url string, body []byte, header ...string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("request: %w", err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.Header.Set(names.HeaderAuthorization, env.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", method, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, string(b), nil
}

func printDelivery(d observe.Delivery) {
	kind := "SMS"
	if d.Subject != "" {
		kind = "email"
	}
	fmt.Printf("\n--- %s delivered (topic %s, SNS message %s)\n", kind, d.Topic, d.MessageID)
	if d.Subject != "" {
		fmt.Printf("Subject: %s\n", d.Subject)
	}
	fmt.Println(d.Message)
}

// printCallResults prints how each placed call went until ctx ends.
func printCallResults(ctx context.Context, env *sandbox.Sandbox) {
	for n := 1; ; n++ {
		res, err := env.Connect.WaitForResults(ctx, n, nil)
		if err != nil {
			return
		}
		r := res[n-1]
		fmt.Printf("\n--- call %s: %s", r.Call.ContactID, r.Outcome)
		if r.Answer != nil || r.Err != nil {
			fmt.Printf("; the flow's ack function answered %v %v", r.Answer, r.Err)
		}
		fmt.Println()
	}
}

// printCalls prints each call the Connect stub receives until ctx ends.
func printCalls(ctx context.Context, env *sandbox.Sandbox) {
	for n := 1; ; n++ {
		calls, err := env.Connect.WaitForCalls(ctx, n, nil)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				fmt.Fprintln(os.Stderr, "sandbox: watching calls:", err)
			}
			return
		}
		c := calls[n-1]
		if c.Fault != nil {
			fmt.Printf("\n--- call refused (Connect stub: %s for this destination)\n", c.Fault.Type)
			continue
		}
		fmt.Printf("\n--- call placed (Connect stub; contact %s, from %s, flow %s)\nSpoken (SSML-escaped): %s\n",
			c.ContactID, c.SourcePhoneNumber, c.ContactFlowID, c.Attributes[names.ConnectMessageAttribute])
	}
}
