package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// chromiumPath finds Debian's chromium (MLFLOW_GUARD_CHROMIUM overrides).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MLFLOW_GUARD_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	testenv.Require(t, "chromium (apt-get install chromium)")
	return ""
}

// oidcChromium: a real headless Chromium opens the UI through the gateway,
// is sent to the provider, signs in, lands on the UI and sees the
// experiment list; the UI's own ajax write works, and a write from
// another origin carrying the session cookie is refused.
func oidcChromium(t *testing.T, h *oidcHarness) {
	path := chromiumPath(t)
	// A page on another origin of the same site (same host, another port):
	// the browser sends the SameSite=Lax cookie to the gateway from it, so
	// only the gateway's own origin check stands in the way.
	partner := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><title>partner</title><p>partner page</p>"))
	})}
	ln, err := net.Listen("tcp", strings.TrimPrefix(h.partner, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = partner.ServeTLS(ln, h.cert, h.key) }()
	defer partner.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	start := time.Now()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.url+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
	); err != nil {
		t.Fatalf("open the UI: %v", err)
	}
	loginURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loginURL, h.issuer+"/login/") {
		t.Fatalf("not sent to the provider's login: %s %v", loginURL, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), opUser1),
		chromedp.SendKeys(chromedp.ID("password"), opPassword),
		chromedp.Submit(chromedp.ID("username")),
	); err != nil {
		t.Fatalf("sign in at the provider: %v", err)
	}
	if err := pollThroughNavigations(ctx, `location.origin === `+jsString(h.url)+` && document.getElementById("root") !== null`, 30*time.Second); err != nil {
		t.Fatalf("back from the provider: %v", err)
	}
	if landed, _ := chromedp.Run(ctx, chromedp.Location()); landed != h.url+"/" {
		t.Errorf("landed on %s", landed)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/#/experiments")); err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("oidc-visible-exp")`, chromedp.WithPollingTimeout(40*time.Second)))
	text, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatalf("experiment list: %v\npage text: %s", err, truncate(text, 2000))
	}
	if strings.Contains(text, "oidc-hidden-exp") {
		t.Errorf("the UI lists an experiment of another group")
	}

	// The UI's own kind of ajax write, from the page.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/ajax-api/2.0/mlflow/experiments/create", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({name: "created-in-chromium"})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || !upstreamHasExperiment(t, h, "created-in-chromium") {
		t.Errorf("same-origin ajax write from the UI page: %d", status)
	}

	// The same write from the partner page, cookie included, is refused.
	if err := chromedp.Do(ctx, chromedp.Navigate(h.partner+"/")); err != nil {
		t.Fatal(err)
	}
	status, err = chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(`+jsString(h.url+"/ajax-api/2.0/mlflow/experiments/create")+`, {method: "POST", credentials: "include",
		headers: {"Content-Type": "text/plain"}, body: JSON.stringify({name: "csrf-from-chromium"})}).then(r => r.status, e => -1)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden || upstreamHasExperiment(t, h, "csrf-from-chromium") {
		t.Errorf("cross-origin write with the cookie: status %d", status)
	}
	// The denial is on record for the OIDC user: the browser did send
	// the session cookie, and the origin check refused it.
	var audit bytes.Buffer
	if err := h.st.ExportAudit(context.Background(), &audit); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(audit.String(), "\n") {
		if strings.Contains(line, `"actor":"`+user1Name+`"`) && strings.Contains(line, `"decision":"deny"`) &&
			strings.Contains(line, "csrf-cross-origin") && strings.Contains(line, "https://127.0.0.1:") {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit row for the refused cross-origin write by %s", user1Name)
	}
	t.Logf("chromium part took %s", time.Since(start).Round(time.Millisecond))
}

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pollThroughNavigations waits until expr is true. The redirects back from
// the provider replace the page while it is evaluated, which chromedp's
// Poll reports as an error ("Inspected target navigated or closed"); such
// errors only mean "not yet" here.
func pollThroughNavigations(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	if last == nil {
		last = errors.New("condition never true")
	}
	return fmt.Errorf("after %s: %w", timeout, last)
}
