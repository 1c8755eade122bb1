package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// BenchmarkSessionIdentity: what resolving a UI session cookie costs, from
// the cache (the usual case) and from the SQLite store (a miss, or the
// first request after StateCacheTTL).
func BenchmarkSessionIdentity(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"store", -1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			up, _ := url.Parse("http://127.0.0.1:9")
			g, err := New(Config{Upstream: up, StateCacheTTL: c.ttl, OIDC: &OIDCConfig{Issuer: "https://idp.example", ClientID: "c",
				RedirectURL: "https://gw.example/mlflow-guard/oidc/callback"}}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			sid := make([]byte, 32)
			sid[0] = 1
			if err := st.CreateOIDCSession(ctx, store.OIDCLogin{Name: "ann@example.com", Subject: "https://idp.example s1", Groups: []string{"ml-team"},
				IDHash: keyedHash(st.Key(), "session", sid), FlowHash: "f", Expires: time.Now().Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "https://gw.example/ajax-api/2.0/mlflow/experiments/get?experiment_id=1", nil)
			r.Header.Set("Cookie", sessionCookie+"="+encodeSessionID(sid))
			b.ReportAllocs()
			for b.Loop() {
				if id, _, err := g.sessionIdentity(ctx, r); err != nil || id.User.Name != "ann@example.com" {
					b.Fatal(id, err)
				}
			}
		})
	}
}
