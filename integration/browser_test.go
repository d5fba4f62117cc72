package integration

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/a2p-alerts/a2p-alerts/shared/alert"
)

// The acknowledgment page in a real browser: headless Chromium, driven
// through the DevTools protocol (chromedp), with a phone's viewport and
// the page's scripts switched off (the page needs none).
//
// Chromium is an optional system package: without it this test skips and
// says how to install it (.ci/run installs it). A2P_CHROMIUM names the
// browser's binary when it is not on PATH. A2P_ACK_SCREENSHOT=<file.png>
// also writes the open page, as a phone shows it, to that file: the
// README's docs/ack-page.png comes from
//
//	A2P_ACK_SCREENSHOT=$PWD/docs/ack-page.png go test -count=1 -run TestAckPageInABrowser ./integration/

// chromiumNames are the browser's names on PATH, in the order tried.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// chromium returns the browser's binary, or skips with how to install it.
func chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("A2P_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Skip("SKIPPED: headless Chromium is not installed, so the acknowledgment page was not tested in a browser. " +
		"Install it with `sudo apt-get install -y chromium` (Debian, Ubuntu) or your system's chromium package, " +
		"or set A2P_CHROMIUM to a Chromium or Chrome binary; .ci/run installs it")
	return ""
}

// browser starts headless Chromium with a fresh profile and no network
// of its own (no updates, sync, QUIC or first-run pages), and returns a
// tab emulating a phone, with scripts off.
func browser(tb testing.TB, path string) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 90*time.Second)
	tb.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	tb.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	tb.Cleanup(cancelTab)
	noScripts := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	if err := chromedp.Do(ctx, chromedp.Emulate(device.IPhone12), noScripts, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}

// pageText is what a page shows: its heading, its details and its
// status line.
type pageText struct{ heading, details, status string }

func readPage(tb testing.TB, ctx context.Context) pageText {
	tb.Helper()
	var p pageText
	var err error
	for sel, into := range map[string]*string{"h1": &p.heading, "main": &p.details, `[role="status"]`: &p.status} {
		if *into, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err != nil {
			tb.Fatalf("read %s: %v", sel, err)
		}
	}
	return p
}

// TestAckPageInABrowser: open the link, see the alert's priority, type
// and reference and a labelled button, on a phone-wide page without
// scripts; press the button, see the acknowledged time; open the link
// again, see that it was acknowledged already. Not parallel: the link is
// valid for the test stack's 12 s, so it runs before the parallel tests.
func TestAckPageInABrowser(t *testing.T) {
	path := chromium(t)
	tgt.needSandbox(t, "reading links")
	ctx := browser(t, path) // started before the alert: its link's window is seconds long
	a := newAlert(t, alert.PriorityMedium, "browser")
	tgt.postAlert(t, a).wantSent(t, a)
	link := ackOf(waitDeliveries(t, tgt.needTap(t), a.MessageID, 1)[0].Message).Link

	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("button"))); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	open := readPage(t, ctx)
	for _, want := range []string{"Priority", "medium", "Type", a.Type, "Reference", a.MessageID} {
		if !strings.Contains(open.details, want) {
			t.Errorf("the page lacks %q: %q", want, open.details)
		}
	}
	checkPhonePage(t, ctx)
	saveScreenshot(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button")), chromedp.WaitVisible(chromedp.CSS(`[role="status"].done`))); err != nil {
		t.Fatalf("press the button: %v", err)
	}
	rec := tgt.get(t, a.MessageID, tgt.token).record(t, a)
	at, err := time.Parse(time.RFC3339Nano, rec.AcknowledgedAt)
	if err != nil || rec.Status != "acknowledged" || rec.AckMethod != "link" {
		t.Fatalf("after the button: record %+v (%v)", rec, err)
	}
	done := readPage(t, ctx)
	if done.heading != "Acknowledged" || !strings.Contains(done.status, "Acknowledged at "+at.UTC().Format("2006-01-02 15:04:05 UTC")) {
		t.Errorf("after the button: %+v, want the time %s", done, rec.AcknowledgedAt)
	}

	again, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
	if err != nil {
		t.Fatalf("open the link again: %v", err)
	}
	if p := readPage(t, ctx); again.Status != http.StatusGone || p.heading != "Already acknowledged" || !strings.Contains(p.status, "by link") {
		t.Errorf("the link again: %d %+v", again.Status, p)
	}
}

// checkPhonePage checks what a phone needs: the page's language, a button
// labelled by its text and big enough to tap, nothing wider than the
// screen, and no script.
func checkPhonePage(t *testing.T, ctx context.Context) {
	t.Helper()
	var got struct {
		Lang, Label         string
		Height, Wide, Width float64
		Scripts             float64
	}
	js := `(() => { const b = document.querySelector("button"); return {Lang: document.documentElement.lang,
		Label: b.textContent.trim(), Height: b.getBoundingClientRect().height,
		Wide: document.documentElement.scrollWidth, Width: window.innerWidth, Scripts: document.scripts.length}; })()`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](js))
	if err != nil {
		t.Fatalf("inspect the page: %v", err)
	}
	got.Lang, _ = v["Lang"].(string)
	got.Label, _ = v["Label"].(string)
	got.Height, _ = v["Height"].(float64)
	got.Wide, _ = v["Wide"].(float64)
	got.Width, _ = v["Width"].(float64)
	got.Scripts, _ = v["Scripts"].(float64)
	if got.Lang != "en" || got.Label != "Acknowledge this alert" || got.Height < 44 || got.Wide > got.Width || got.Scripts != 0 {
		t.Errorf("on a phone: %+v, want lang en, the button labelled, 44 px high or more, nothing wider than the screen, no script", got)
	}
}

// saveScreenshot writes the page as the phone shows it to
// A2P_ACK_SCREENSHOT, when set.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	out := os.Getenv("A2P_ACK_SCREENSHOT")
	if out == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}
