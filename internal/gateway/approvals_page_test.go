package gateway

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// pageBrowser is one headless Chromium for the page test.
type pageBrowser struct {
	alloc context.Context
	mu    sync.Mutex
	logs  []string // console and CSP messages from every tab
}

func startBrowser(t *testing.T) *pageBrowser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return &pageBrowser{alloc: alloc}
}

// tab opens a tab that sends user's Basic credentials with every request.
func (b *pageBrowser) tab(t *testing.T, user, password string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.alloc)
	t.Cleanup(cancel)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, user+": "+m.String())
			b.mu.Unlock()
		}
	}()
	return ctx
}

func inBrowser(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// pageScenario drives the approvals page: alice asks, bob reviews and
// approves in the browser (re-entering his password), alice's promotion
// then goes through at the real MLflow.
func pageScenario(t *testing.T, h *harness, mdl string) {
	br := startBrowser(t)
	code, req, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "3", "target": "alias:production"})
	if code != 200 {
		t.Fatalf("request: %d %s", code, body)
	}
	link := "/mlflow-guard/approvals/" + req.ID

	// alice sees her own request but gets no form.
	alice := br.tab(t, "alice", h.creds["alice"])
	var whyNot string
	inBrowser(t, alice, "alice opens the page",
		chromedp.Navigate(h.url+"/mlflow-guard/approvals"),
		chromedp.WaitVisible(chromedp.CSS(`#pending`)),
		chromedp.Click(chromedp.CSS(`#pending a[href="`+link+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#why-not`)))
	whyNot = textOf(t, alice, "#why-not")
	if !strings.Contains(whyNot, "second person") {
		t.Errorf("alice's view: %q", whyNot)
	}

	// bob opens it, sees what changed since Production, mistypes his
	// password, then approves.
	bob := br.tab(t, "bob", h.creds["bob"])
	var facts, diff, errText, done, status string
	inBrowser(t, bob, "bob opens the request",
		chromedp.Navigate(h.url+"/mlflow-guard/approvals"),
		chromedp.WaitVisible(chromedp.CSS(`#pending`)),
		chromedp.Click(chromedp.CSS(`#pending a[href="`+link+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#decide`)))
	facts, diff = textOf(t, bob, "#facts"), textOf(t, bob, "#diff")
	for _, want := range []string{"alice", "pass", req.Digest, "alias:production"} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts lack %q:\n%s", want, facts)
		}
	}
	if !strings.Contains(diff, "extra.py") || !strings.Contains(diff, "weights.bin") || !strings.Contains(diff, "1 removed, 1 changed") {
		t.Errorf("diff:\n%s", diff)
	}
	inBrowser(t, bob, "bob mistypes his password",
		chromedp.SendKeys(chromedp.CSS(`#password`), "not bob's password"),
		chromedp.Click(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#error`)))
	errText, status = textOf(t, bob, "#error"), textOf(t, bob, "#status")
	if !strings.Contains(errText, "did not match") || status != "pending" {
		t.Errorf("wrong password: %q status %q", errText, status)
	}
	inBrowser(t, bob, "bob approves",
		chromedp.SendKeys(chromedp.CSS(`#reason`), "diff reviewed"),
		chromedp.SendKeys(chromedp.CSS(`#password`), h.creds["bob"]),
		chromedp.Click(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)))
	done, status = textOf(t, bob, "#done"), textOf(t, bob, "#status")
	if !strings.Contains(done, "approved") || status != "approved" {
		t.Errorf("after approving: %q status %q", done, status)
	}

	// The promotion goes through at the real MLflow.
	if rs := runClient(t, h, "alice", step("set_alias", mdl, "production", "3")); !rs[0].OK {
		t.Fatalf("promotion after the page's approval: %+v", rs[0])
	}
	if mv := upstreamVersion(t, h, mdl, "3"); !strings.Contains(strings.Join(mv.Aliases, ","), "production") {
		t.Errorf("alias not set at MLflow: %v", mv.Aliases)
	}
	var recent string
	inBrowser(t, bob, "bob sees the decision",
		chromedp.Navigate(h.url+"/mlflow-guard/approvals"),
		chromedp.WaitVisible(chromedp.CSS(`#recent`)))
	recent = textOf(t, bob, "#recent")
	if !strings.Contains(recent, req.ID) || !strings.Contains(recent, "consumed") {
		t.Errorf("recent decisions:\n%s", recent)
	}
	br.mu.Lock()
	for _, l := range br.logs {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused") {
			t.Errorf("CSP violation in the browser: %s", l)
		}
	}
	br.mu.Unlock()

	// Forged form posts: no token, a foreign Origin, no Origin at all.
	_, req2, _ := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "2", "target": "alias:prod-eu"})
	form := url.Values{"decision": {"approve"}, "password": {h.creds["bob"]}, "csrf": {"00"}}.Encode()
	for name, hdr := range map[string]map[string]string{
		"no token":       {"Origin": h.url, "Content-Type": "application/x-www-form-urlencoded"},
		"foreign origin": {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
		"no origin":      {"Content-Type": "application/x-www-form-urlencoded"},
	} {
		resp, body := h.do(t, "POST", "/mlflow-guard/approvals/"+req2.ID, "bob", form, hdr)
		if resp.StatusCode != 403 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if _, a, _ := apiCall(t, h, "GET", "/"+req2.ID, "bob", nil); a == nil || a.Status != "pending" {
		t.Errorf("forged posts changed the request: %+v", a)
	}
}
