package gateway

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// sendLogoutToken posts a logout token to a gateway as a provider does:
// no cookie, no Origin, no credentials.
func sendLogoutToken(t *testing.T, gatewayURL, tok string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", gatewayURL+backchannelPath, strings.NewReader(logoutForm(tok)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, &http.Client{Transport: insecureTransport()}, req)
}

// providerLogoutToken is a logout token signed with the example
// provider's own key, as its JWKS publishes it.
func (h *oidcHarness) providerLogoutToken(t *testing.T, sub, sid string) string {
	t.Helper()
	key, kid := opKey(t, h.op)
	return signLogoutToken(t, jose.RS256, key, kid, logoutClaimsFor(h.issuer, sub, sid))
}

// works says whether the browser's session cookie still authenticates.
func (b *browser) works(t *testing.T, expID string) bool {
	t.Helper()
	resp, body := b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+expID, "", nil)
	switch {
	case resp.StatusCode == 200:
		return true
	case resp.StatusCode == 401 && strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "reason=unauthenticated"):
		return false
	}
	t.Fatalf("session check: %d %q %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	return false
}

// oidcLogoutFlows: users log in through the real provider; a logout token
// the provider's key signed ends exactly the sessions it names (by sid,
// then by sub), a replay of it is refused; RP-initiated logout ends the
// session and sends the browser to the provider's end_session_endpoint.
func oidcLogoutFlows(t *testing.T, h *oidcHarness) {
	b1, b2, b3 := h.newBrowser(), h.newBrowser(), h.newBrowser()
	b1.login(t, opUser1)
	sid1 := h.op.lastSID("id1")
	b2.login(t, opUser1)
	sid2 := h.op.lastSID("id1")
	b3.login(t, opUser1)
	if sid1 == "" || sid1 == sid2 {
		t.Fatalf("the provider's sids: %q %q", sid1, sid2)
	}
	for i, b := range []*browser{b1, b2, b3} {
		if !b.works(t, h.visible) {
			t.Fatalf("session %d does not work after login", i+1)
		}
	}

	// By sid (with sub): only the first browser's session ends.
	tok := h.providerLogoutToken(t, "id1", sid1)
	resp, body := sendLogoutToken(t, h.url, tok)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("back-channel logout: %d %q %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	if b1.works(t, h.visible) {
		t.Errorf("session 1 still works after a back-channel logout of its sid")
	}
	if !b2.works(t, h.visible) || !b3.works(t, h.visible) {
		t.Errorf("a back-channel logout by sid ended other sessions")
	}
	// Replayed: refused, nothing changes.
	resp, body = sendLogoutToken(t, h.url, tok)
	if resp.StatusCode != 400 || !strings.Contains(body, "already used") || !b2.works(t, h.visible) {
		t.Errorf("replayed logout token: %d %s", resp.StatusCode, body)
	}
	// A token from another key with the provider's kid: refused.
	forged := signLogoutToken(t, jose.HS256, []byte("not the provider's key, 32 bytes or more"), "x", logoutClaimsFor(h.issuer, "id1", ""))
	if resp, body = sendLogoutToken(t, h.url, forged); resp.StatusCode != 400 || !b2.works(t, h.visible) {
		t.Errorf("forged logout token: %d %s", resp.StatusCode, body)
	}

	// RP-initiated logout of the third browser: a page load of the short
	// path revokes the session, clears the cookie and goes on to the
	// provider's end_session_endpoint.
	req := b3.nav("GET", h.url+"/mlflow-guard/logout")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	dead := b3.cookie(sessionCookie)
	resp, _ = send(t, b3.raw, req)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), h.issuer+"/end_session?") ||
		loc.Query().Get("client_id") != opClientID {
		t.Fatalf("RP-initiated logout: %d %v %v", resp.StatusCode, loc, err)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), sessionCookie+"=; Path=/; Max-Age=0") {
		t.Errorf("logout did not clear the cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	// The provider accepts the end-session request.
	if resp, body = send(t, b3.raw, b3.nav("GET", loc.String())); resp.StatusCode >= 400 {
		t.Errorf("provider's end_session: %d %s", resp.StatusCode, body)
	}
	b3.setCookie(sessionCookie, dead)
	if b3.works(t, h.visible) {
		t.Errorf("session 3 works after RP-initiated logout")
	}
	// A cross-site page cannot log the user out (logout CSRF).
	req = b2.nav("GET", h.url+"/mlflow-guard/logout")
	resp, body = send(t, b2.raw, req)
	wantDenied(t, "cross-site logout navigation", resp, body, 403, "csrf-cross-origin")
	if !b2.works(t, h.visible) {
		t.Fatalf("a cross-site logout ended the session")
	}

	// By sub only: every remaining session of that user ends.
	if resp, body = sendLogoutToken(t, h.url, h.providerLogoutToken(t, "id1", "")); resp.StatusCode != 200 {
		t.Fatalf("back-channel logout by sub: %d %s", resp.StatusCode, body)
	}
	if b2.works(t, h.visible) {
		t.Errorf("session 2 still works after a back-channel logout of its subject")
	}

	// On record: who was logged out, by which rule.
	var audit bytes.Buffer
	if err := h.st.ExportAudit(context.Background(), &audit); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"resource":"user:` + user1Name + `"`, "rule=sid", "rule=sub"} {
		if !strings.Contains(audit.String(), want) || !strings.Contains(audit.String(), "sessions.backchannel_logout") {
			t.Errorf("audit log lacks %s for the back-channel logouts", want)
		}
	}
}
