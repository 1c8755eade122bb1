package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// BenchmarkOverhead isolates what the gateway itself costs per request:
// the upstream is a canned in-process answer (not MLflow), so the
// difference between "direct" and "gateway" is the gateway's work (token
// check, route match, parse, permission, proxying). bench/gateway.sh
// measures the same against the real MLflow server.
func BenchmarkOverhead(b *testing.B) {
	runJSON := `{"run":{"info":{"run_id":"r1","experiment_id":"1"},"data":{}}}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "{}")
			return
		}
		_, _ = io.WriteString(w, runJSON)
	}))
	defer up.Close()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateUser(ctx, "t", "u", "bench password 12", false); err != nil {
		b.Fatal(err)
	}
	tok, _, _ := st.CreateToken(ctx, "t", "u", "", time.Hour)
	if err := st.AddGrant(ctx, "t", store.Grant{Principal: store.Principal{Kind: "user", Name: "u"}, ResourceKind: "experiment", ResourceID: "1", Permission: store.Edit}, nil); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	g, err := New(Config{Upstream: u, RatePerSecond: 1e9, RateBurst: 1e9}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	gw := httptest.NewServer(g)
	defer gw.Close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(b *testing.B, base, method, path, body string, auth bool) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Host = "127.0.0.1"
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := cl.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"))
		}
	}
	logBatch := `{"run_id":"r1","metrics":[{"key":"m","value":1,"timestamp":1,"step":1}]}`
	for _, c := range []struct{ name, method, path, body string }{
		{"runs-get", "GET", "/api/2.0/mlflow/runs/get?run_id=r1", ""},
		{"log-batch", "POST", "/api/2.0/mlflow/runs/log-batch", logBatch},
	} {
		b.Run(c.name+"/direct", func(b *testing.B) {
			var q quantiles
			c0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				do(b, up.URL, c.method, c.path, c.body, false)
				q.add(time.Since(t0))
			}
			q.report(b)
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
		b.Run(c.name+"/gateway-token", func(b *testing.B) {
			var q quantiles
			c0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				do(b, gw.URL, c.method, c.path, c.body, true)
				q.add(time.Since(t0))
			}
			q.report(b)
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// quantiles collects round-trip times so a benchmark can report the p50
// and p99 the targets are stated in (ns/op is the mean, which a
// few scheduling stalls on a shared machine move a lot). cpu-µs/op is the
// process's CPU (client, gateway and upstream): gateway minus direct is
// the gateway's own CPU, which the machine's load moves far less.
type quantiles []time.Duration

func (q *quantiles) add(d time.Duration) { *q = append(*q, d) }

func (q quantiles) report(b *testing.B) {
	if len(q) == 0 {
		return
	}
	slices.Sort(q)
	at := func(p float64) float64 { return float64(q[int(p*float64(len(q)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkArtifactStream is the gateway's cost per byte on the artifact
// proxy, against a canned upstream that discards uploads and serves
// zeros: b.SetBytes makes the MB/s of direct and gateway comparable.
func BenchmarkArtifactStream(b *testing.B) {
	const size = 64 << 20
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "{}")
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = io.Copy(w, io.LimitReader(zeroReader{}, size))
	}))
	defer up.Close()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateUser(ctx, "t", "u", "bench password 12", false); err != nil {
		b.Fatal(err)
	}
	tok, _, _ := st.CreateToken(ctx, "t", "u", "", time.Hour)
	if err := st.AddGrant(ctx, "t", store.Grant{Principal: store.Principal{Kind: "user", Name: "u"}, ResourceKind: "experiment", ResourceID: "1", Permission: store.Edit}, nil); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	g, err := New(Config{Upstream: u, RatePerSecond: 1e9, RateBurst: 1e9}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	gw := httptest.NewServer(g)
	defer gw.Close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	path := "/api/2.0/mlflow-artifacts/artifacts/1/bench/blob"
	for _, m := range []struct {
		name, base string
		auth       bool
	}{{"direct", up.URL, false}, {"gateway", gw.URL, true}} {
		for _, method := range []string{"PUT", "GET"} {
			b.Run(method+"/"+m.name, func(b *testing.B) {
				b.SetBytes(size)
				c0 := cpuTime()
				defer func() { b.ReportMetric(float64((cpuTime()-c0).Milliseconds())/float64(b.N)/(size>>20), "cpu-ms/MiB") }()
				for b.Loop() {
					var body io.Reader
					if method == "PUT" {
						body = io.LimitReader(zeroReader{}, size)
					}
					req, _ := http.NewRequest(method, m.base+path, body)
					if method == "PUT" {
						req.ContentLength = size
					}
					req.Host = "127.0.0.1"
					if m.auth {
						req.Header.Set("Authorization", "Bearer "+tok)
					}
					resp, err := cl.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || (method == "GET" && n != size) {
						b.Fatalf("%s: %d, %d bytes", method, resp.StatusCode, n)
					}
				}
			})
		}
	}
}

// cpuTime is the process's user and system CPU time (client, gateway and
// upstream together: their difference between modes is the gateway's).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
