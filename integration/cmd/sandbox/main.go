// Command sandbox runs a2p-alerts offline on the embedded emulator: the
// real infra program deployed from Pulumi.local.yaml, the real authorizer
// and processor binaries, an SNS tap and a Connect stub.
//
//	-mode dev   serve on 127.0.0.1:4566, print the invoke URL, a fresh token
//	            and a curl command per priority, then every delivery until
//	            Ctrl-C (make dev)
//	-mode demo  send one alert per priority, show the three deliveries and
//	            exit 0 only if all three arrived (make demo)
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
	"strings"
	"syscall"
	"time"

	"github.com/a2p-alerts/a2p-alerts/integration/sandbox"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/emulator"
	"github.com/a2p-alerts/a2p-alerts/integration/sandbox/observe"
	"github.com/a2p-alerts/a2p-alerts/shared/alert"
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
	env, err := sandbox.Start(ctx, sandbox.Options{Port: port, Output: output, OnDelivery: printDelivery})
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
	go printCalls(ctx, env)

	if mode == "demo" {
		return demo(ctx, env)
	}
	printUsage(env)
	<-ctx.Done()
	fmt.Println()
	return nil
}

// sample is the alert sent for priority p.
func sample(p alert.Priority, id string) alert.Alert {
	return alert.Alert{
		MessageID:   id,
		Type:        "blood_test_alert",
		PatientID:   "P-4F2A91",
		ContactID:   "C-1",
		Description: "Potassium 6.9 mmol/L, please review",
		Priority:    p,
	}
}

func printUsage(env *sandbox.Sandbox) {
	fmt.Printf("\nPOST %s\nAuthorization: %s   (client %q; generated for this run only)\n\n", env.URL, env.Token, sandbox.ClientName)
	stamp := time.Now().Format("150405")
	for _, p := range alert.Priorities {
		body, _ := json.Marshal(sample(p, fmt.Sprintf("dev-%s-%s", stamp, p)))
		fmt.Printf("# %s priority\ncurl -sS -X POST '%s' -H 'Authorization: %s' -H 'Content-Type: application/json' -d '%s'\n\n",
			p.Label(), env.URL, env.Token, body)
	}
	fmt.Println("Each delivery is printed below as it happens. Ctrl-C stops the sandbox.")
}

func demo(ctx context.Context, env *sandbox.Sandbox) error {
	stamp := time.Now().Format("20060102-150405.000")
	client := env.HTTPClient()
	for _, p := range alert.Priorities {
		a := sample(p, "demo-"+stamp+"-"+string(p))
		status, body, err := post(ctx, client, env, a)
		if err != nil {
			return fmt.Errorf("%s priority: %w", p.Label(), err)
		}
		fmt.Printf("POST priority %s -> %d %s\n", p, status, strings.TrimSpace(body))
		if status != http.StatusOK {
			return fmt.Errorf("%s priority answered %d", p.Label(), status)
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
	return nil
}

func post(ctx context.Context, client *http.Client, env *sandbox.Sandbox, a alert.Alert) (int, string, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return 0, "", fmt.Errorf("encode alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("request: %w", err)
	}
	req.Header.Set(names.HeaderAuthorization, env.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post: %w", err)
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
		fmt.Printf("\n--- call placed (Connect stub; contact %s, from %s, flow %s)\nSpoken (SSML-escaped): %s\n",
			c.ContactID, c.SourcePhoneNumber, c.ContactFlowID, c.Attributes[names.ConnectMessageAttribute])
	}
}
