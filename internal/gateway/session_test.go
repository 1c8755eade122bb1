package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

var testServerKey = bytes.Repeat([]byte{7}, 32)

func TestSessionIDCodec(t *testing.T) {
	id := bytes.Repeat([]byte{0xfb}, 32)
	v := encodeSessionID(id)
	got, err := decodeSessionID(v)
	if err != nil || !bytes.Equal(got, id) {
		t.Fatalf("round trip: %x %v", got, err)
	}
	for _, bad := range []string{"", "v1.", v + "A", v[:len(v)-1], "v2." + v[3:], strings.Replace(v, "-", "+", 1),
		v[:len(v)-1] + "=", " " + v[1:], v[:len(v)-1] + "9"} {
		if _, err := decodeSessionID(bad); err == nil && bad != v {
			// The last character of 43 base64url characters carries 2
			// spare bits: a strict decoder must refuse them non-zero.
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestFlowSealing(t *testing.T) {
	s, err := newSealer(testServerKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	f := flowState{State: randomString(32), Nonce: randomString(32), Verifier: strings.Repeat("v", 43), ReturnTo: "/#/experiments", Expires: now.Add(time.Minute).Unix()}
	v, err := s.seal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(v, now)
	if err != nil || *got != f {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := s.open(v, now.Add(time.Minute)); err == nil {
		t.Error("expired flow accepted")
	}
	other, _ := newSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.open(v, now); err == nil {
		t.Error("flow opened under another server key")
	}
	raw := []byte(v)
	for i := len(cookieVersion); i < len(raw); i += 7 {
		c := append([]byte{}, raw...)
		c[i] ^= 0x01
		if _, err := s.open(string(c), now); err == nil {
			t.Errorf("flipped byte %d accepted", i)
		}
	}
	for _, bad := range []flowState{
		{State: "short", Nonce: f.Nonce, Verifier: f.Verifier, ReturnTo: "/", Expires: f.Expires},
		{State: f.State, Nonce: f.Nonce, Verifier: "", ReturnTo: "/", Expires: f.Expires},
		{State: f.State, Nonce: "", Verifier: f.Verifier, ReturnTo: "/", Expires: f.Expires},
		{State: f.State, Nonce: f.Nonce, Verifier: f.Verifier, ReturnTo: "//evil.example", Expires: f.Expires},
	} {
		v, _ := s.seal(bad)
		if _, err := s.open(v, now); err == nil {
			t.Errorf("incomplete flow accepted: %+v", bad)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/#/experiments/1": true, "/static-files/x.js?v=1": true,
		"": false, "https://evil.example/": false, "//evil.example": false, "/\\evil.example": false,
		"evil": false, "/a\\b": false, "/a\nb": false, "/\x7f": false,
	} {
		if localPath(p) != want {
			t.Errorf("localPath(%q) != %t", p, want)
		}
	}
}

func TestIsNavigation(t *testing.T) {
	for _, c := range []struct {
		method string
		hdr    map[string]string
		want   bool
	}{
		{"GET", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, true},
		{"GET", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, false},
		{"GET", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, false},
		{"GET", map[string]string{"Accept": "text/html,application/xhtml+xml"}, true},
		{"GET", map[string]string{"Accept": "application/json"}, false},
		{"GET", nil, false},
		{"POST", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, false},
	} {
		r := httptest.NewRequest(c.method, "/", nil)
		for k, v := range c.hdr {
			r.Header.Set(k, v)
		}
		if got := isNavigation(r); got != c.want {
			t.Errorf("%s %v: %t", c.method, c.hdr, got)
		}
	}
}

func TestClaims(t *testing.T) {
	if n, d := usernameFrom(map[string]any{"email": "a@b.c", "email_verified": true}, "email"); d != nil || n != "a@b.c" {
		t.Errorf("verified email: %q %v", n, d)
	}
	for _, c := range []map[string]any{
		{"email": "a@b.c"}, {"email": "a@b.c", "email_verified": "true"}, {"email": "a@b.c", "email_verified": false},
		{"email": "has space@b.c", "email_verified": true}, {"email": "a:b@c", "email_verified": true}, {},
	} {
		if _, d := usernameFrom(c, "email"); d == nil {
			t.Errorf("accepted %v", c)
		}
	}
	if n, d := usernameFrom(map[string]any{"sub": "248289761001"}, "sub"); d != nil || n != "248289761001" {
		t.Errorf("sub: %q %v", n, d)
	}
	g, dropped := groupsFrom(map[string]any{"groups": []any{"ml-team", "ml-team", "bad name", 3, "ops"}}, "groups")
	if !slices.Equal(g, []string{"ml-team", "ops"}) || !slices.Equal(dropped, []string{"ml-team", "bad name"}) {
		t.Errorf("groups %v dropped %v", g, dropped)
	}
	if g, _ := groupsFrom(map[string]any{"roles": "admins"}, "roles"); !slices.Equal(g, []string{"admins"}) {
		t.Errorf("single-string claim: %v", g)
	}
	if g, _ := groupsFrom(map[string]any{"groups": []any{"a"}}, "-"); g != nil {
		t.Errorf("claim off: %v", g)
	}
}

func TestValidateOIDC(t *testing.T) {
	good := OIDCConfig{Issuer: "https://idp.example", ClientID: "c", RedirectURL: "https://mlflow.example/mlflow-guard/oidc/callback"}
	if cb, err := validateOIDC(&good); err != nil || cb != "/mlflow-guard/oidc/callback" || good.UsernameClaim != "email" || good.SessionTTL != 8*time.Hour {
		t.Fatalf("good config: %q %v %+v", cb, err, good)
	}
	loop := good
	loop.Issuer = "http://127.0.0.1:5556"
	if _, err := validateOIDC(&loop); err != nil {
		t.Errorf("loopback http issuer: %v", err)
	}
	for name, edit := range map[string]func(*OIDCConfig){
		"http issuer":        func(c *OIDCConfig) { c.Issuer = "http://idp.example" },
		"no client":          func(c *OIDCConfig) { c.ClientID = "" },
		"http redirect":      func(c *OIDCConfig) { c.RedirectURL = "http://mlflow.example/mlflow-guard/oidc/callback" },
		"redirect elsewhere": func(c *OIDCConfig) { c.RedirectURL = "https://mlflow.example/callback" },
		"redirect on login":  func(c *OIDCConfig) { c.RedirectURL = "https://mlflow.example/mlflow-guard/oidc/login" },
		"no openid scope":    func(c *OIDCConfig) { c.Scopes = []string{"email"} },
		"bad admin group":    func(c *OIDCConfig) { c.AdminGroups = []string{"a b"} },
		"session too long":   func(c *OIDCConfig) { c.SessionTTL = 1000 * time.Hour },
	} {
		c := good
		c.Scopes, c.SessionTTL = nil, 0
		edit(&c)
		if _, err := validateOIDC(&c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckSessionOrigin(t *testing.T) {
	g := &Gateway{oidc: &oidcAuth{csrf: http.NewCrossOriginProtection()}}
	for _, c := range []struct {
		method string
		hdr    map[string]string
		ok     bool
	}{
		{"GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true}, // reads: SameSite and CORS govern them
		{"POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"POST", map[string]string{"Origin": "https://gw.example"}, true},
		{"DELETE", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://a.gw.example"}, false},
		{"POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"PATCH", map[string]string{"Origin": "https://evil.example"}, false},
		{"POST", map[string]string{"Origin": "null"}, false},
		{"POST", nil, false},
	} {
		r := httptest.NewRequest(c.method, "https://gw.example/ajax-api/2.0/mlflow/experiments/create", nil)
		for k, v := range c.hdr {
			r.Header.Set(k, v)
		}
		if d := g.checkSessionOrigin(r); (d == nil) != c.ok {
			t.Errorf("%s %v: %+v", c.method, c.hdr, d)
		}
	}
}

// FuzzSessionCookie: any cookie value either decodes to exactly 32 bytes
// that encode back to the same value, or is refused; never a panic.
func FuzzSessionCookie(f *testing.F) {
	f.Add(encodeSessionID(bytes.Repeat([]byte{1}, 32)))
	f.Add("v1.")
	f.Add("v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")
	f.Fuzz(func(t *testing.T, v string) {
		id, err := decodeSessionID(v)
		if err != nil {
			return
		}
		if len(id) != 32 || encodeSessionID(id) != v {
			t.Fatalf("%q decoded to %x", v, id)
		}
	})
}

// FuzzFlowCookie: a forged or mangled flow cookie never opens; a sealed
// one with fuzzed fields opens only when complete and local.
func FuzzFlowCookie(f *testing.F) {
	s, err := newSealer(testServerKey)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	// Sealed once under testServerKey (fixed, so every fuzz worker agrees).
	const good = "v1.yDXFTERcj6PSvPo1PdIcWGwL1n7F4L7sjaHe4QEUFkRiAjqH-lQWt9sH5mErQOCqpqJKL0hS27sUrhYAyiwkeSAYZEMNxjmlkPbWv62FM-MIVkXtxcHIcTzthh7vbBBgFuV0Tpj3NbhKSNqzMEiDORUjC1tCwJkKwVy4xJgou4qzxgQdAfYcj4oYZ47IwE2huOC7ZioPxl_6gTUxzpVI-E2NzhinVoVbPllGDsKhHfL0dpU9lzEUegrYNIGBJHXyfvTL4--6FfNwyw"
	if fs, err := s.open(good, now); err != nil || fs.ReturnTo != "/" {
		f.Fatalf("the fixed sealed seed no longer opens: %v", err)
	}
	f.Add(good, "", "/", int64(60))
	f.Add("v1.", "x", "//evil", int64(-1))
	f.Add("v1."+strings.Repeat("A", 60), strings.Repeat("v", 128), "/\\x", int64(0))
	f.Fuzz(func(t *testing.T, cookie, verifier, ret string, ttl int64) {
		// Arbitrary bytes: nothing but the one value sealed here opens
		// (AES-GCM under the server key).
		if fs, err := s.open(cookie, now); err == nil && cookie != good {
			t.Fatalf("a value not sealed here opened: %q -> %+v", cookie, fs)
		}
		// Sealed with fuzzed fields: the checks hold.
		fl := flowState{State: strings.Repeat("s", 43), Nonce: strings.Repeat("n", 43), Verifier: verifier, ReturnTo: ret, Expires: now.Unix() + ttl}
		v, err := s.seal(fl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.open(v, now)
		if err != nil {
			return
		}
		if !localPath(got.ReturnTo) || len(got.Verifier) < 43 || got.Expires <= now.Unix() || *got != fl {
			t.Fatalf("accepted %+v", got)
		}
	})
}
