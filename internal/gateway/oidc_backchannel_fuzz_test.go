package gateway

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzLogoutForm: whatever the body, a token comes out only from a form
// body with exactly one logout_token shaped as a compact JWS, within the
// size limits.
func FuzzLogoutForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "logout_token=eyJh.eyJi.c2ln")
	f.Add("application/x-www-form-urlencoded; charset=UTF-8", "logout_token=a.b.c&state=1")
	f.Add("application/x-www-form-urlencoded", "logout_token=a.b.c&logout_token=a.b.c")
	f.Add("application/x-www-form-urlencoded", "logout_token=a.b.c;x=1")
	f.Add("application/x-www-form-urlencoded", "logout_token=a%2Eb.c")
	f.Add("application/x-www-form-urlencoded", "logout_token=a..c")
	f.Add("application/json", `{"logout_token":"a.b.c"}`)
	f.Add("application/x-www-form-urlencoded; charset=latin1", "logout_token=a.b.c")
	f.Add("multipart/form-data; boundary=x", "--x\r\n")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		tok, err := parseLogoutForm(ctype, []byte(body))
		if err != nil {
			if tok != "" {
				t.Fatalf("a token with an error: %q", tok)
			}
			return
		}
		if len(body) > maxLogoutForm || tok == "" || len(tok) > maxLogoutToken {
			t.Fatalf("sizes: body %d token %d", len(body), len(tok))
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("not three parts: %q", tok)
		}
		for _, p := range parts {
			if p == "" || strings.IndexFunc(p, notBase64URL) >= 0 {
				t.Fatalf("part %q of %q", p, tok)
			}
		}
		form, err := url.ParseQuery(body)
		if err != nil || len(form["logout_token"]) != 1 || form.Get("logout_token") != tok {
			t.Fatalf("token %q not the form's only logout_token: %v %v", tok, form, err)
		}
	})
}

// FuzzLogoutClaims: claims pass only with the logout event, no nonce, a
// recent iat, a jti, and sub or sid; the jti is never kept longer than the
// token could be accepted.
func FuzzLogoutClaims(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	good := `{"iss":"https://idp","aud":"c","iat":1800000000,"exp":1800000120,"jti":"j","sub":"s","events":{"` + backchannelEvent + `":{}}}`
	f.Add(good)
	f.Add(strings.Replace(good, `"sub":"s"`, `"sid":"x"`, 1))
	f.Add(strings.Replace(good, `"sub":"s"`, `"nonce":"n","sub":"s"`, 1))
	f.Add(strings.Replace(good, `"sub":"s"`, `"sub":""`, 1))
	f.Add(strings.Replace(good, `1800000000`, `1.8e9`, 1))
	f.Add(strings.Replace(good, `1800000000`, `"1800000000"`, 1))
	f.Add(strings.Replace(good, `{}}}`, `true}}`, 1))
	f.Add(`{"events":null,"sub":"s","sub":"t"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := checkLogoutClaims([]byte(payload), now, 5*time.Minute)
		if err != nil {
			if c != nil {
				t.Fatal("claims with an error")
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(payload), &m) != nil {
			t.Fatalf("accepted claims that are no JSON object: %q", payload)
		}
		if _, has := m["nonce"]; has {
			t.Fatalf("accepted a nonce: %q", payload)
		}
		var ev map[string]map[string]any
		if json.Unmarshal(m["events"], &ev) != nil || ev[backchannelEvent] == nil {
			t.Fatalf("accepted without the logout event: %q", payload)
		}
		if c.Jti == "" || (c.Sub == "" && c.Sid == "") {
			t.Fatalf("accepted without jti or without sub and sid: %+v", c)
		}
		if c.RetainUntil.After(now.Add(5*time.Minute + logoutSkew)) {
			t.Fatalf("jti kept until %v", c.RetainUntil)
		}
	})
}
