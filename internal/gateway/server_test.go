package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string, der []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile+".tmp", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(certFile+".tmp", certFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

func newTestGateway(t *testing.T, tlsOn bool) *Gateway {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	up, _ := url.Parse("http://127.0.0.1:9") // discard port: nothing answers
	g, err := New(Config{Upstream: up, TLS: tlsOn}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	g := newTestGateway(t, false)
	err := g.Serve(context.Background(), ServerOptions{Listen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("plain HTTP on 0.0.0.0: %v", err)
	}
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "localhost:1": true, "0.0.0.0:1": false, "10.0.0.1:1": false, ":80": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%s) != %v", addr, want)
		}
	}
}

func TestTLSListenerReloadsAndSendsHSTS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, der1 := writeCert(t, dir, "first")
	g := newTestGateway(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.Serve(ctx, ServerOptions{Listen: "0.0.0.0:0", CertFile: certFile, KeyFile: keyFile,
			CertCheckEvery: time.Millisecond, MetricsListen: "127.0.0.1:0", Ready: func(a, m string) { ready <- a + " " + m }})
	}()
	var addr, maddr string
	select {
	case a := <-ready:
		addr, maddr, _ = strings.Cut(a, " ")
	case err := <-done:
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	_, port, _ := net.SplitHostPort(addr)
	get := func(minV, maxV uint16) (*http.Response, []byte, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: minV, MaxVersion: maxV}} //nolint:gosec // test checks the served cert itself
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("https://127.0.0.1:" + port + "/healthz")
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		return resp, resp.TLS.PeerCertificates[0].Raw, nil
	}
	resp, raw, err := get(tls.VersionTLS12, tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") || string(raw) != string(der1) {
		t.Fatalf("status %d hsts %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if _, _, err := get(tls.VersionTLS10, tls.VersionTLS11); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	// Replace the certificate: the next handshake serves the new one.
	time.Sleep(20 * time.Millisecond)
	_, _, der2 := writeCert(t, dir, "second")
	now := time.Now().Add(time.Second)
	_ = os.Chtimes(certFile, now, now)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, raw, err = get(tls.VersionTLS12, tls.VersionTLS13)
		if err == nil && string(raw) == string(der2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate not reloaded (err %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Metrics on their own listener, in Prometheus text format.
	mresp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mb), `mlflow_guard_requests_total{decision="allow",status="2xx"}`) {
		t.Fatalf("metrics:\n%s", mb)
	}
}

func TestLoginThrottle(t *testing.T) {
	g := newTestGateway(t, false)
	g.throttle = newThrottle(3, time.Minute, time.Minute)
	ctx := context.Background()
	if err := g.store.CreateUser(ctx, "t", "carol", "carol password 1", false); err != nil {
		t.Fatal(err)
	}
	basic := func(u, p string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return req.Header.Get("Authorization")
	}
	for i := range 3 {
		if _, err := g.authenticate(ctx, basic("carol", "wrong"), "10.0.0.1"); err != store.ErrBadCredentials {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Locked now, even with the right password, from this IP...
	if _, err := g.authenticate(ctx, basic("carol", "carol password 1"), "10.0.0.1"); err != errLocked {
		t.Fatalf("after 3 failures: %v", err)
	}
	// ...and for this user from anywhere.
	if _, err := g.authenticate(ctx, basic("carol", "carol password 1"), "10.0.0.2"); err != errLocked {
		t.Fatalf("user lockout: %v", err)
	}
	// An unknown user is throttled the same way (no enumeration).
	for range 3 {
		_, _ = g.authenticate(ctx, basic("nobody", "x"), "10.0.0.3")
	}
	if _, err := g.authenticate(ctx, basic("nobody", "x"), "10.0.0.4"); err != errLocked {
		t.Fatalf("unknown user not throttled: %v", err)
	}
	// A good login is cached under a keyed hash, so the next request
	// skips argon2id; a disabled user is refused even from the cache.
	g.throttle = newThrottle(3, time.Minute, time.Minute)
	if id, err := g.authenticate(ctx, basic("carol", "carol password 1"), "10.0.0.9"); err != nil || id.User.Name != "carol" {
		t.Fatalf("good login: %v", err)
	}
	if u, hit := g.creds.get(g.creds.keyOf("carol", "carol password 1"), time.Now()); !hit || u != "carol" {
		t.Fatal("login not cached")
	}
	if err := g.store.SetDisabled(ctx, "t", "carol", true); err != nil {
		t.Fatal(err)
	}
	if _, err := g.authenticate(ctx, basic("carol", "carol password 1"), "10.0.0.9"); err != store.ErrBadCredentials {
		t.Fatalf("disabled user from cache: %v", err)
	}
}

func TestTrustedProxyClientIP(t *testing.T) {
	g := newTestGateway(t, false)
	_, n, _ := net.ParseCIDR("10.1.0.0/16")
	g.cfg.TrustedProxies = []*net.IPNet{n}
	cases := []struct{ remote, xff, want string }{
		{"192.0.2.1:5", "1.2.3.4", "192.0.2.1"},        // untrusted peer: header ignored
		{"10.1.0.5:5", "1.2.3.4", "1.2.3.4"},           // trusted proxy
		{"10.1.0.5:5", "6.6.6.6, 1.2.3.4", "1.2.3.4"},  // right-most untrusted
		{"10.1.0.5:5", "1.2.3.4, 10.1.0.7", "1.2.3.4"}, // chain of trusted proxies
		{"10.1.0.5:5", "garbage", "10.1.0.5"},          // unparsable: the peer
		{"10.1.0.5:5", "", "10.1.0.5"},                 // no header
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := g.clientIP(r); got != c.want {
			t.Errorf("%s %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// A client that sends headers and part of a body, then stalls, is cut off
// after the body idle timeout instead of holding the connection forever.
func TestSlowDripBodyIsCut(t *testing.T) {
	g := newTestGateway(t, false)
	g.cfg.BodyIdleTimeout = 300 * time.Millisecond
	ctx := context.Background()
	if err := g.store.CreateUser(ctx, "t", "drip", "drip password 12", false); err != nil {
		t.Fatal(err)
	}
	tok, _, err := g.store.CreateToken(ctx, "t", "drip", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.Serve(sctx, ServerOptions{Listen: "127.0.0.1:0", Ready: func(a, _ string) { ready <- a }})
	}()
	addr := <-ready
	defer func() { cancel(); <-done }()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":")
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(conn)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("stalled body held the connection %s", el)
	}
	if !strings.Contains(string(b), "body-unreadable") && len(b) != 0 {
		t.Fatalf("answer: %s", b)
	}
}
