// Command gateway-bench measures what mlflow-guard serve adds: request
// latency (p50, p99) on runs/get and runs/log-batch, direct to MLflow and
// through the gateway with a token and with (cached) Basic credentials, in
// interleaved rounds so load drift hits every mode alike; artifact upload
// and download throughput; and the gateway's peak RSS during the upload.
// It prints one Markdown section. bench/gateway.sh starts the servers.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

type mode struct {
	name string
	base string
	auth string
}

func main() {
	direct := flag.String("direct", "", "MLflow URL")
	gw := flag.String("gateway", "", "gateway URL")
	token := flag.String("token", "", "API token")
	user := flag.String("user", "", "Basic user")
	pw := flag.String("password", "", "Basic password")
	n := flag.Int("n", 1000, "requests per mode and route")
	mb := flag.Int("artifact-mb", 256, "artifact size in MiB")
	pid := flag.Int("gateway-pid", 0, "gateway process id (for RSS)")
	flag.Parse()
	basic := "Basic " + b64(*user+":"+*pw)
	modes := []mode{{"direct", *direct, ""}, {"gateway, token", *gw, "Bearer " + *token}, {"gateway, Basic (cached)", *gw, basic}}
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(m mode, method, path string, body []byte) {
		req, _ := http.NewRequest(method, m.base+path, bytes.NewReader(body))
		if m.auth != "" {
			req.Header.Set("Authorization", m.auth)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := cl.Do(req)
		if err != nil {
			fail("%s %s %s: %v", m.name, method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail("%s %s %s: %d %s", m.name, method, path, resp.StatusCode, b)
		}
	}
	post := func(m mode, path string, in any, out any) {
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", m.base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", m.auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := cl.Do(req)
		if err != nil {
			fail("%v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			fail("%s: %d %s", path, resp.StatusCode, b)
		}
		_ = json.Unmarshal(b, out)
	}
	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	post(modes[1], "/api/2.0/mlflow/experiments/create", map[string]string{"name": fmt.Sprintf("bench-%d", time.Now().UnixNano())}, &exp)
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	post(modes[1], "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp.ExperimentID, "start_time": time.Now().UnixMilli()}, &run)
	runID := run.Run.Info.RunID

	type key struct{ route, mode string }
	lat := map[key][]time.Duration{}
	routes := []struct {
		name, method, path string
		body               func(i int) []byte
	}{
		{"runs/get", "GET", "/api/2.0/mlflow/runs/get?run_id=" + runID, func(int) []byte { return nil }},
		{"runs/log-batch (10 metrics)", "POST", "/api/2.0/mlflow/runs/log-batch", func(i int) []byte {
			var ms []map[string]any
			for k := range 10 {
				ms = append(ms, map[string]any{"key": fmt.Sprintf("m%d", k), "value": float64(i), "timestamp": time.Now().UnixMilli(), "step": i})
			}
			b, _ := json.Marshal(map[string]any{"run_id": runID, "metrics": ms})
			return b
		}},
	}
	// Warm-up: caches, connections, lazy imports in MLflow.
	for _, r := range routes {
		for _, m := range modes {
			for i := range 20 {
				call(m, r.method, r.path, r.body(i))
			}
		}
	}
	const round = 25
	for done := 0; done < *n; done += round {
		for _, r := range routes {
			for _, m := range modes {
				for i := range round {
					b := r.body(done + i)
					t0 := time.Now()
					call(m, r.method, r.path, b)
					lat[key{r.name, m.name}] = append(lat[key{r.name, m.name}], time.Since(t0))
				}
			}
		}
	}
	fmt.Printf("| route | mode | p50 | p99 | added p50 | added p99 |\n|---|---|---|---|---|---|\n")
	for _, r := range routes {
		d := lat[key{r.name, "direct"}]
		dp50, dp99 := pct(d, 50), pct(d, 99)
		for _, m := range modes {
			l := lat[key{r.name, m.name}]
			p50, p99 := pct(l, 50), pct(l, 99)
			add50, add99 := "", ""
			if m.name != "direct" {
				add50, add99 = us(p50-dp50), us(p99-dp99)
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.name, m.name, us(p50), us(p99), add50, add99)
		}
	}

	// Artifacts: upload and download of one blob, streamed from memory.
	size := int64(*mb) << 20
	rssStart := rss(*pid, "VmRSS")
	fmt.Printf("\n| artifact transfer (%d MiB) | direct MB/s | gateway MB/s | gateway / direct |\n|---|---|---|---|\n", *mb)
	var up, down [2]float64
	for i, m := range modes[:2] {
		path := fmt.Sprintf("/api/2.0/mlflow-artifacts/artifacts/%s/bench/blob-%d", exp.ExperimentID, i)
		t0 := time.Now()
		req, _ := http.NewRequest("PUT", m.base+path, io.LimitReader(zeros{}, size))
		req.ContentLength = size
		if m.auth != "" {
			req.Header.Set("Authorization", m.auth)
		}
		resp, err := cl.Do(req)
		if err != nil {
			fail("upload: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail("upload %s: %d", m.name, resp.StatusCode)
		}
		up[i] = float64(size) / 1e6 / time.Since(t0).Seconds()
		t0 = time.Now()
		req, _ = http.NewRequest("GET", m.base+path, nil)
		if m.auth != "" {
			req.Header.Set("Authorization", m.auth)
		}
		resp, err = cl.Do(req)
		if err != nil {
			fail("download: %v", err)
		}
		got, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got != size {
			fail("download %s: %d bytes", m.name, got)
		}
		down[i] = float64(size) / 1e6 / time.Since(t0).Seconds()
	}
	fmt.Printf("| upload (PUT) | %.0f | %.0f | %.0f%% |\n", up[0], up[1], 100*up[1]/up[0])
	fmt.Printf("| download (GET) | %.0f | %.0f | %.0f%% |\n", down[0], down[1], 100*down[1]/down[0])
	if *pid != 0 {
		fmt.Printf("\nGateway RSS: %s before the transfers, peak (VmHWM) %s after a %d MiB upload and download.\n",
			rssStart, rss(*pid, "VmHWM"), *mb)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func rss(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(l, field+":"))
		}
	}
	return "?"
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func fail(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gateway-bench: "+f+"\n", a...)
	os.Exit(1)
}
