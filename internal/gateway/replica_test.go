package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// Two gateway replicas on one real PostgreSQL in front of one MLflow: they
// share users, tokens and grants; concurrent writes through both keep one
// valid audit chain with a row for every forwarded write; killing the
// database makes both deny, and they recover when it returns.
func TestTwoReplicasOnPostgres(t *testing.T) {
	ml := testenv.LaunchMLflow(t, testenv.MLflowOptions{})
	pg := testenv.StartPostgres(t)
	// synchronous_commit on for the gateway's sessions: a commit it
	// acknowledged must survive the kill below.
	dsn := pg.CreateDB(t, "guard") + "&synchronous_commit=on"
	ml.Wait(t)
	up, _ := url.Parse(ml.URL)
	ctx := context.Background()
	var urls []string
	var stores []*store.Store
	for i := range 2 {
		st, err := store.Open(ctx, store.Options{DatabaseURL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
		g, err := New(Config{Upstream: up, StateCacheTTL: 200 * time.Millisecond}, st, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- g.Serve(sctx, ServerOptions{Listen: "127.0.0.1:0", Ready: func(a, _ string) { ready <- a }})
		}()
		urls = append(urls, "http://"+<-ready)
		t.Cleanup(func() { cancel(); <-done })
		_ = i
	}
	// Users through replica 0's store, a token through replica 1's.
	if err := stores[0].CreateUser(ctx, "test", "erin", "erin password 12", false); err != nil {
		t.Fatal(err)
	}
	tok, _, err := stores[1].CreateToken(ctx, "test", "erin", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	call := func(i int, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, urls[i]+path, strings.NewReader(body))
		if i == 0 {
			req.SetBasicAuth("erin", "erin password 12")
		} else {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b) + " " + resp.Header.Get("X-Mlflow-Guard-Decision")
	}
	// Created through replica 0; the creator grant is seen by replica 1.
	code, body := call(0, "POST", "/api/2.0/mlflow/experiments/create", `{"name":"shared"}`)
	if code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	var created struct {
		ExperimentID string `json:"experiment_id"`
	}
	_ = json.Unmarshal([]byte(body[:strings.LastIndex(body, "}")+1]), &created)
	if code, body = call(1, "GET", "/api/2.0/mlflow/experiments/get?experiment_id="+created.ExperimentID, ""); code != 200 {
		t.Fatalf("read through replica 1: %d %s", code, body)
	}
	// Concurrent writes through both replicas.
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, b := call(i%2, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag",
				fmt.Sprintf(`{"experiment_id":%q,"key":"k%d","value":"v"}`, created.ExperimentID, i))
			if c == 200 {
				ok.Add(1)
			} else {
				t.Errorf("write %d: %d %s", i, c, b)
			}
		}()
	}
	wg.Wait()
	countForwards := func() int {
		var buf strings.Builder
		if err := stores[0].ExportAudit(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		return strings.Count(buf.String(), `"route":"POST /api/2.0/mlflow/experiments/set-experiment-tag"`)
	}
	if n := countForwards(); int64(n) != ok.Load() {
		t.Fatalf("%d forward rows for %d writes", n, ok.Load())
	}
	if _, probs, err := stores[1].VerifyAudit(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("chain after concurrent writes: %v %v", probs, err)
	}
	// Database gone: both replicas deny, Basic (cached) and token alike.
	pg.Kill(t)
	time.Sleep(300 * time.Millisecond) // past the state cache's TTL
	for i := range 2 {
		c, b := call(i, "GET", "/api/2.0/mlflow/experiments/get?experiment_id="+created.ExperimentID, "")
		if c != http.StatusServiceUnavailable || !strings.Contains(b, "store-unavailable") {
			t.Errorf("replica %d with the database down: %d %s", i, c, b)
		}
		c, b = call(i, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", fmt.Sprintf(`{"experiment_id":%q,"key":"down","value":"v"}`, created.ExperimentID))
		if c != http.StatusServiceUnavailable {
			t.Errorf("replica %d write with the database down: %d %s", i, c, b)
		}
	}
	pg.Restart(t)
	deadline := time.Now().Add(30 * time.Second)
	for i := range 2 {
		for {
			c, b := call(i, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", fmt.Sprintf(`{"experiment_id":%q,"key":"back%d","value":"v"}`, created.ExperimentID, i))
			if c == 200 {
				ok.Add(1)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d did not recover: %d %s", i, c, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// No acknowledged write lost its audit row, and the chain is intact.
	if n := countForwards(); int64(n) != ok.Load() {
		t.Fatalf("after restart: %d forward rows for %d acknowledged writes", n, ok.Load())
	}
	if _, probs, err := stores[0].VerifyAudit(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("chain after restart: %v %v", probs, err)
	}
}
