package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// BenchmarkPolicyLogBatch1000 is the wall-clock cost of the request
// policies on a 1,000-entry log-batch (MLflow's maximum: 100 params, 100
// tags, 800 metrics), as the issue states its target: two gateways in
// front of one canned in-process upstream, one with the default policies
// and one with --no-policy, sent the same body one after the other in
// alternating order. Each iteration gives one paired difference, so drift
// in the machine's load moves both sides alike; p50 and p99 of those
// differences are reported (diff-p50-µs, diff-p99-µs), and each side's
// own p50.
func BenchmarkPolicyLogBatch1000(b *testing.B) {
	// run r1 belongs to experiment 1: the permission check resolves it.
	runJSON := `{"run":{"info":{"run_id":"r1","experiment_id":"1"},"data":{}}}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, runJSON)
			return
		}
		_, _ = io.WriteString(w, "{}")
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
	start := func(noPolicy bool) string {
		g, err := New(Config{Upstream: u, RatePerSecond: 1e9, RateBurst: 1e9, NoPolicy: noPolicy}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		s := httptest.NewServer(g)
		b.Cleanup(s.Close)
		return s.URL
	}
	withPolicy, bare := start(false), start(true)
	var params, tags, metrics []map[string]any
	for i := range 100 {
		params = append(params, map[string]any{"key": fmt.Sprintf("param_%d", i), "value": fmt.Sprintf("value-%d-%x", i, i*7919)})
		tags = append(tags, map[string]any{"key": fmt.Sprintf("tag.%d", i), "value": "a tag value with some words in it"})
	}
	for i := range 800 {
		metrics = append(metrics, map[string]any{"key": fmt.Sprintf("metric_%d", i%40), "value": 0.5, "timestamp": 1700000000000 + i, "step": i})
	}
	body, _ := json.Marshal(map[string]any{"run_id": "r1", "params": params, "tags": tags, "metrics": metrics})
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(base string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/2.0/mlflow/runs/log-batch", strings.NewReader(string(body)))
		req.Host = "127.0.0.1"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := cl.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != 200 {
			b.Fatalf("log-batch: %d %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"))
		}
		return d
	}
	for range 20 { // warm connections and caches on both
		do(withPolicy)
		do(bare)
	}
	var on, off, diff []time.Duration
	i := 0
	for b.Loop() {
		var a, z time.Duration
		if i%2 == 0 {
			a = do(withPolicy)
			z = do(bare)
		} else {
			z = do(bare)
			a = do(withPolicy)
		}
		i++
		on, off, diff = append(on, a), append(off, z), append(diff, a-z)
	}
	at := func(q []time.Duration, p float64) float64 {
		slices.Sort(q)
		return float64(q[int(p*float64(len(q)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(diff, 0.50), "diff-p50-µs")
	b.ReportMetric(at(diff, 0.99), "diff-p99-µs")
	b.ReportMetric(at(on, 0.50), "policy-p50-µs")
	b.ReportMetric(at(off, 0.50), "bare-p50-µs")
}
