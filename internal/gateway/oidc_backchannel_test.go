package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// signLogoutToken signs claims as a compact JWS with key under kid.
func signLogoutToken(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// opKey is the example provider's signing key, the one its JWKS publishes.
func opKey(t testing.TB, st *groupsStorage) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.Key().(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("provider key is %T", k.Key())
	}
	return priv, k.ID()
}

// logoutClaimsFor is a valid logout token's claim set.
func logoutClaimsFor(issuer, sub, sid string) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": issuer, "aud": opClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": randomString(16), "events": map[string]any{backchannelEvent: map[string]any{}}}
	if sub != "" {
		c["sub"] = sub
	}
	if sid != "" {
		c["sid"] = sid
	}
	return c
}

func postLogout(g *Gateway, ctype, body, query string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "https://gw.example"+backchannelPath+query, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

func logoutForm(tok string) string { return url.Values{"logout_token": {tok}}.Encode() }

// The back-channel logout endpoint against the real example provider's
// discovery and keys: every validation failure answers 400 with a JSON
// error, writes a denial to the audit log and leaves every session alone;
// valid tokens end the sessions they name and nothing else.
func TestBackchannelLogoutValidation(t *testing.T) {
	issuer, ops := startOPStorage(t, "https://gw.example/mlflow-guard/oidc/callback")
	key, kid := opKey(t, ops)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	up, _ := url.Parse("http://127.0.0.1:9") // never reached
	g, err := New(Config{Upstream: up, AllowedHosts: []string{"gw.example"}, OIDC: &OIDCConfig{Issuer: issuer, ClientID: opClientID, ClientSecret: opClientSecret,
		RedirectURL: "https://gw.example/mlflow-guard/oidc/callback"}}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Sessions: ann has two (provider sessions sid-1 and sid-2), bob one.
	sessions := map[string]string{}
	for i, s := range []struct{ name, sub, sid string }{
		{"ann@example.com", "ann-sub", "sid-1"}, {"ann@example.com", "ann-sub", "sid-2"}, {"bob@example.com", "bob-sub", "sid-3"},
	} {
		id := []byte(strings.Repeat(string(rune('a'+i)), 32))
		h := keyedHash(st.Key(), "session", id)
		if err := st.CreateOIDCSession(ctx, store.OIDCLogin{Name: s.name, Subject: issuer + " " + s.sub, SID: issuer + " " + s.sid,
			IDHash: h, FlowHash: "flow" + h, Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		sessions[s.sid] = h
	}
	alive := func() string {
		var out []string
		for _, sid := range []string{"sid-1", "sid-2", "sid-3"} {
			if _, _, err := st.LoadSession(ctx, sessions[sid]); err == nil {
				out = append(out, sid)
			}
		}
		return strings.Join(out, ",")
	}
	deny := func(what string, rec *httptest.ResponseRecorder, reason, inMsg string) {
		t.Helper()
		var e struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" ||
			!strings.Contains(e.Desc, inMsg) || rec.Header().Get("Cache-Control") != "no-store" ||
			rec.Header().Get("X-Mlflow-Guard-Decision") != "deny; rule=MLG401; reason=oidc-backchannel-"+reason {
			t.Errorf("%s: want 400 %s %q, got %d %q %q %s", what, reason, inMsg, rec.Code, rec.Header().Get("X-Mlflow-Guard-Decision"),
				rec.Header().Get("Cache-Control"), rec.Body)
		}
		if a := alive(); a != "sid-1,sid-2,sid-3" {
			t.Fatalf("%s: sessions changed by a refused token: alive %s", what, a)
		}
	}
	token := func(edit func(map[string]any)) string {
		c := logoutClaimsFor(issuer, "ann-sub", "sid-1")
		if edit != nil {
			edit(c)
		}
		return signLogoutToken(t, jose.RS256, key, kid, c)
	}
	send := func(tok string) *httptest.ResponseRecorder {
		return postLogout(g, "application/x-www-form-urlencoded", logoutForm(tok), "")
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := logoutClaimsFor(issuer, "ann-sub", "sid-1")
	deny("bad signature (another key, the provider's kid)", send(signLogoutToken(t, jose.RS256, other, kid, c)), "bad-token", "signature")
	deny("bad signature (unknown kid)", send(signLogoutToken(t, jose.RS256, other, "not-the-kid", c)), "bad-token", "")
	deny("HS256 keyed with the public key", send(signLogoutToken(t, jose.HS256, []byte("any shared secret at all, 32 bytes+"), kid, c)), "bad-token", "")
	goodTok := token(nil)
	parts := strings.Split(goodTok, ".")
	deny("payload swapped under a valid signature", send(parts[0]+"."+strings.Split(token(func(m map[string]any) { m["sub"] = "bob-sub" }), ".")[1]+"."+parts[2]), "bad-token", "")
	deny("wrong aud", send(token(func(m map[string]any) { m["aud"] = "another-client" })), "bad-token", "audience")
	deny("wrong iss", send(token(func(m map[string]any) { m["iss"] = "https://evil.example" })), "bad-token", "issued by a different provider")
	deny("no events", send(token(func(m map[string]any) { delete(m, "events") })), "bad-token", "no events")
	deny("events without the logout event", send(token(func(m map[string]any) {
		m["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
	})), "bad-token", "events lacks")
	deny("logout event not an object", send(token(func(m map[string]any) { m["events"] = map[string]any{backchannelEvent: "yes"} })), "bad-token", "events lacks")
	deny("nonce present", send(token(func(m map[string]any) { m["nonce"] = "n" })), "bad-token", "nonce")
	deny("empty nonce present", send(token(func(m map[string]any) { m["nonce"] = "" })), "bad-token", "nonce")
	deny("iat too old", send(token(func(m map[string]any) { m["iat"] = time.Now().Add(-10 * time.Minute).Unix() })), "bad-token", "more than the 5m0s")
	deny("iat missing", send(token(func(m map[string]any) { delete(m, "iat") })), "bad-token", "no numeric iat")
	deny("iat a string", send(token(func(m map[string]any) { m["iat"] = "1700000000" })), "bad-token", "no numeric iat")
	deny("iat in the future", send(token(func(m map[string]any) { m["iat"] = time.Now().Add(10 * time.Minute).Unix() })), "bad-token", "future")
	deny("expired", send(token(func(m map[string]any) { m["exp"] = time.Now().Add(-time.Second).Unix() })), "bad-token", "expired")
	deny("no exp", send(token(func(m map[string]any) { delete(m, "exp") })), "bad-token", "expired")
	deny("neither sub nor sid", send(token(func(m map[string]any) { delete(m, "sub"); delete(m, "sid") })), "bad-token", "neither sub nor sid")
	deny("empty sub, no sid", send(token(func(m map[string]any) { m["sub"] = ""; delete(m, "sid") })), "bad-token", "sub must be")
	deny("sid not a string", send(token(func(m map[string]any) { m["sid"] = 7 })), "bad-token", "sid must be")
	deny("no jti", send(token(func(m map[string]any) { delete(m, "jti") })), "bad-token", "no jti")
	deny("an ID token's shape (nonce, no events)", send(token(func(m map[string]any) { delete(m, "events"); m["nonce"] = "x" })), "bad-token", "nonce")

	// Request shape: refused before any signature work.
	good := token(nil)
	deny("GET", func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "https://gw.example"+backchannelPath+"?logout_token="+good, nil)
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		return rec
	}(), "bad-request", "POST")
	deny("token in the query", postLogout(g, "application/x-www-form-urlencoded", "", "?"+logoutForm(good)), "bad-request", "query")
	deny("JSON body", postLogout(g, "application/json", `{"logout_token":"`+good+`"}`, ""), "bad-request", "Content-Type")
	deny("no Content-Type", postLogout(g, "", logoutForm(good), ""), "bad-request", "Content-Type")
	deny("two tokens", postLogout(g, "application/x-www-form-urlencoded", logoutForm(good)+"&"+logoutForm(good), ""), "bad-request", "exactly one")
	deny("no token", postLogout(g, "application/x-www-form-urlencoded", "state=x", ""), "bad-request", "exactly one")
	deny("not a JWS", send("a.b"), "bad-request", "three")
	deny("body too large", postLogout(g, "application/x-www-form-urlencoded", logoutForm(strings.Repeat("a", maxLogoutForm)), ""), "bad-request", "over")

	// Valid: by sid only that session ends; the same token again is a replay.
	rec := send(good)
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("valid logout by sid: %d %q %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
	}
	if a := alive(); a != "sid-2,sid-3" {
		t.Fatalf("after logout by sid+sub: alive %s", a)
	}
	rec = send(good)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "already used") {
		t.Errorf("replayed jti: %d %s", rec.Code, rec.Body)
	}
	// The same jti in a new token (signed again) is a replay too.
	jti := randomString(16)
	if rec = send(token(func(m map[string]any) { m["jti"] = jti; m["sub"] = "nobody" })); rec.Code != 200 {
		t.Fatalf("logout of nobody: %d %s", rec.Code, rec.Body)
	}
	rec = send(token(func(m map[string]any) { m["jti"] = jti; delete(m, "sid") }))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "already used") || alive() != "sid-2,sid-3" {
		t.Errorf("jti reused in another token: %d %s alive %s", rec.Code, rec.Body, alive())
	}
	// By sub only: every session of ann, not bob's.
	if rec = send(token(func(m map[string]any) { delete(m, "sid") })); rec.Code != 200 {
		t.Fatalf("valid logout by sub: %d %s", rec.Code, rec.Body)
	}
	if a := alive(); a != "sid-3" {
		t.Fatalf("after logout by sub: alive %s", a)
	}
	// By sid only.
	if rec = send(token(func(m map[string]any) { delete(m, "sub"); m["sid"] = "sid-3" })); rec.Code != 200 || alive() != "" {
		t.Fatalf("valid logout by sid alone: %d %s alive %s", rec.Code, rec.Body, alive())
	}

	// Audit: one row per user logged out, with the rule; a denial row for
	// every refused request; the chain holds.
	var logouts, denials []string
	var buf strings.Builder
	if err := st.ExportAudit(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e store.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Action == "sessions.backchannel_logout":
			logouts = append(logouts, e.Resource+" "+strings.Fields(e.Detail[strings.Index(e.Detail, "rule="):])[0])
		case e.Action == "deny" && strings.HasPrefix(e.Detail, "oidc-backchannel-"):
			denials = append(denials, e.Detail)
			if strings.Contains(e.Detail, good[:40]) {
				t.Errorf("a logout token in the audit log: %s", e.Detail)
			}
		}
	}
	if want := "user:ann@example.com rule=sid| rule=sid|user:ann@example.com rule=sub|user:bob@example.com rule=sid"; strings.Join(logouts, "|") != want {
		t.Errorf("logout audit rows %q, want %q", logouts, want)
	}
	if len(denials) < 30 {
		t.Errorf("%d denial rows for the refused requests", len(denials))
	}
	if n, probs, err := st.VerifyAudit(ctx); err != nil || len(probs) > 0 || n == 0 {
		t.Errorf("audit chain: %d %v %v", n, probs, err)
	}

	// Rate limited per address, before any parsing.
	limited := false
	for range 150 {
		if rec = postLogout(g, "text/plain", "x", ""); rec.Code == http.StatusTooManyRequests {
			limited = strings.Contains(rec.Header().Get("X-Mlflow-Guard-Decision"), "oidc-backchannel-rate-limited")
			break
		}
	}
	if !limited {
		t.Errorf("no rate limit on back-channel logout: last %d %q", rec.Code, rec.Header().Get("X-Mlflow-Guard-Decision"))
	}
}
