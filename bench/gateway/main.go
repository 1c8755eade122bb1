// Command gateway-bench measures what mlflow-guard serve adds in front of
// a real MLflow server, side by side with nginx (auth_basic) in front of
// the same server: request latency (p50, p99) on runs/get and
// runs/log-batch, the request policies' cost on a 1,000-entry log-batch
// against the bare gateway (--no-policy), artifact upload and download
// throughput, the gateway's peak RSS during a large upload, and a soak.
// Requests of the compared modes are interleaved one by one, in a rotating
// order, so load drift on a shared machine hits every mode alike. It
// prints Markdown; bench/gateway.sh starts the servers.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type mode struct {
	name string
	base string
	auth string
}

var cl = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}

func main() {
	direct := flag.String("direct", "", "MLflow URL")
	gw := flag.String("gateway", "", "gateway URL (policies on)")
	bare := flag.String("bare", "", "gateway URL with --no-policy")
	ngx := flag.String("nginx", "", "nginx (auth_basic) URL in front of the same MLflow")
	token := flag.String("token", "", "API token")
	user := flag.String("user", "", "Basic user (gateway and nginx)")
	pw := flag.String("password", "", "Basic password")
	n := flag.Int("n", 2000, "requests per mode and route")
	nPolicy := flag.Int("n-policy", 300, "1,000-entry log-batch requests per mode")
	mb := flag.Int("artifact-mb", 1024, "artifact size in MiB for the throughput runs")
	reps := flag.Int("reps", 3, "throughput repetitions per mode (median reported)")
	bigMB := flag.Int("big-mb", 5120, "upload size in MiB for the peak-RSS run")
	pid := flag.Int("gateway-pid", 0, "gateway process id (RSS)")
	soak := flag.Duration("soak", 10*time.Minute, "soak duration")
	soakWorkers := flag.Int("soak-workers", 4, "concurrent soak clients")
	phase := flag.String("phase", "all", "latency, policy, throughput, rss, soak or all")
	label := flag.String("upstream-label", "MLflow", "what the direct URL is, for the latency heading")
	canned := flag.String("canned", "", "serve a canned MLflow stand-in on this HOST:PORT instead of measuring")
	relayListen := flag.String("relay", "", "run a plain TCP relay on this HOST:PORT to -relay-to instead of measuring")
	relayTo := flag.String("relay-to", "", "the relay's upstream HOST:PORT")
	relayURL := flag.String("relay-url", "", "URL of a plain TCP relay in front of the same MLflow (throughput floor)")
	flag.Parse()
	if *canned != "" {
		serveCanned(*canned)
		return
	}
	if *relayListen != "" {
		serveRelay(*relayListen, *relayTo)
		return
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(*user+":"+*pw))
	dm := mode{"direct", *direct, ""}
	gt := mode{"gateway, token", *gw, "Bearer " + *token}
	gb := mode{"gateway, Basic (cached)", *gw, basic}
	nb := mode{"nginx auth_basic", *ngx, basic}
	bt := mode{"bare gateway (--no-policy), token", *bare, "Bearer " + *token}

	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	post(gt, "/api/2.0/mlflow/experiments/create", map[string]string{"name": fmt.Sprintf("bench-%d", time.Now().UnixNano())}, &exp)
	runID := newRun(gt, exp.ExperimentID)
	run := func(p string) bool { return *phase == "all" || *phase == p }

	if run("latency") {
		modes := []mode{dm, gt, gb}
		if *ngx != "" {
			modes = append(modes, nb)
		}
		fmt.Printf("### Latency added in front of %s (%d requests per route and mode)\n\n", *label, *n)
		latency(modes, []route{
			{"runs/get", "GET", "/api/2.0/mlflow/runs/get?run_id=" + runID, func(int) []byte { return nil }},
			{"runs/log-batch (10 metrics)", "POST", "/api/2.0/mlflow/runs/log-batch", func(i int) []byte { return logBatch(runID, 0, 0, 10, i) }},
		}, *n, dm.name)
	}
	if run("policy") && *bare != "" {
		// A run of its own: 1,000-entry batches make the first run heavy.
		pr := newRun(gt, exp.ExperimentID)
		fmt.Printf("\n### Request policies on a 1,000-entry log-batch (100 params, 100 tags, 800 metrics; %d requests per mode)\n\n", *nPolicy)
		latency([]mode{bt, gt}, []route{
			{"runs/log-batch (1,000 entries)", "POST", "/api/2.0/mlflow/runs/log-batch", func(i int) []byte { return logBatch(pr, 100, 100, 800, i) }},
		}, *nPolicy, bt.name)
	}
	if run("throughput") {
		modes := []mode{dm, gt}
		if *bare != "" {
			modes = append(modes, bt) // the same gateway's cost without upload scanning and policies
		}
		if *ngx != "" {
			modes = append(modes, nb)
		}
		if *relayURL != "" {
			modes = append(modes, mode{"TCP relay (no HTTP, no auth)", *relayURL, ""})
		}
		throughput(modes, exp.ExperimentID, int64(*mb)<<20, *reps)
	}
	if run("rss") && *pid != 0 {
		bigRSS(gt, exp.ExperimentID, int64(*bigMB)<<20, *pid)
	}
	if run("soak") {
		soakRun(gt, exp.ExperimentID, runID, *soak, *soakWorkers, *pid)
	}
}

// serveCanned answers the few MLflow routes the latency phase uses with
// constant bodies and no work, so that what a proxy in front of it adds
// is not buried in MLflow's own variance. Experiment ids are fresh per
// create, runs belong to the experiment named at creation.
func serveCanned(addr string) {
	var next atomic.Int64
	next.Store(time.Now().Unix())
	runs := sync.Map{}
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "OK") })
	mux.HandleFunc("POST /api/2.0/mlflow/experiments/create", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, map[string]string{"experiment_id": fmt.Sprint(next.Add(1))})
	})
	mux.HandleFunc("POST /api/2.0/mlflow/runs/create", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ExperimentID string `json:"experiment_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		id := fmt.Sprintf("%032x", next.Add(1))
		runs.Store(id, in.ExperimentID)
		writeJSON(w, map[string]any{"run": map[string]any{"info": map[string]any{"run_id": id, "run_uuid": id, "experiment_id": in.ExperimentID}, "data": map[string]any{}}})
	})
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("run_id")
		exp, ok := runs.Load(id)
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]string{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"})
			return
		}
		writeJSON(w, map[string]any{"run": map[string]any{"info": map[string]any{"run_id": id, "run_uuid": id, "experiment_id": exp, "status": "RUNNING"},
			"data": map[string]any{"metrics": []any{}, "params": []any{}, "tags": []any{}}}})
	})
	mux.HandleFunc("POST /api/2.0/mlflow/runs/log-batch", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, map[string]any{})
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fail("canned upstream: %v", srv.ListenAndServe())
}

// serveRelay copies bytes both ways between each client and a fresh
// connection to upstream, nothing else: TCP to TCP, which Go does with
// splice(2) on Linux, so no byte passes through user space. Its
// throughput is what any proxy in front of MLflow can reach on this
// machine: one more hop and its kernel work, no HTTP.
func serveRelay(addr, upstream string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail("relay: %v", err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fail("relay: %v", err)
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				return
			}
			defer u.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(u, c)
				u.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(c, u)
			c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

type route struct {
	name, method, path string
	body               func(i int) []byte
}

// latency runs n requests per route and mode, one mode after the other
// for each i, the order rotating with i, after a warm-up; base names the
// mode the others are compared with.
func latency(modes []mode, routes []route, n int, base string) {
	type key struct{ route, mode string }
	lat := map[key][]time.Duration{}
	for _, r := range routes {
		for _, m := range modes {
			for i := range 20 {
				call(m, r.method, r.path, r.body(i))
			}
		}
	}
	load0 := loadavg()
	for i := range n {
		for _, r := range routes {
			for j := range modes {
				m := modes[(i+j)%len(modes)]
				b := r.body(i)
				t0 := time.Now()
				call(m, r.method, r.path, b)
				lat[key{r.name, m.name}] = append(lat[key{r.name, m.name}], time.Since(t0))
			}
		}
	}
	fmt.Printf("| route | mode | p50 | p99 | added p50 | added p99 |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range routes {
		d := lat[key{r.name, base}]
		dp50, dp99 := pct(d, 50), pct(d, 99)
		for _, m := range modes {
			l := lat[key{r.name, m.name}]
			p50, p99 := pct(l, 50), pct(l, 99)
			add50, add99 := "", ""
			if m.name != base {
				add50, add99 = us(p50-dp50), us(p99-dp99)
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.name, m.name, us(p50), us(p99), add50, add99)
		}
	}
	// Requests i of two modes ran back to back (in rotating order), so
	// their difference is free of drift in the machine's load: its
	// percentiles are the added latency per request.
	for _, r := range routes {
		d := lat[key{r.name, base}]
		for _, m := range modes {
			l := lat[key{r.name, m.name}]
			if m.name == base || len(l) != len(d) || len(d) == 0 {
				continue
			}
			diff := make([]time.Duration, len(d))
			for i := range d {
				diff[i] = l[i] - d[i]
			}
			fmt.Printf("\n%s, %s minus %s, request by request (paired, back to back): p50 %s, p99 %s.", r.name, m.name, base, us(pct(diff, 50)), us(pct(diff, 99)))
		}
	}
	fmt.Printf("\n\nLoad average %s before, %s after.\n", load0, loadavg())
}

// logBatch builds a log-batch body. Params keep their values across
// requests (MLflow refuses a changed param); tags and metrics vary.
func logBatch(runID string, params, tags, metrics, i int) []byte {
	var ps, ts, ms []map[string]any
	for k := range params {
		ps = append(ps, map[string]any{"key": fmt.Sprintf("param_%d", k), "value": fmt.Sprintf("value-%d-%x", k, k*7919)})
	}
	for k := range tags {
		ts = append(ts, map[string]any{"key": fmt.Sprintf("tag.%d", k), "value": fmt.Sprintf("a tag value with some words in it %d", i)})
	}
	now := time.Now().UnixMilli()
	for k := range metrics {
		ms = append(ms, map[string]any{"key": fmt.Sprintf("metric_%d", k%40), "value": float64(i) + 0.5, "timestamp": now, "step": i*metrics + k})
	}
	body := map[string]any{"run_id": runID, "metrics": ms}
	if ps != nil {
		body["params"] = ps
	}
	if ts != nil {
		body["tags"] = ts
	}
	b, _ := json.Marshal(body)
	return b
}

func newRun(m mode, expID string) string {
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	post(m, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID, "start_time": time.Now().UnixMilli()}, &run)
	return run.Run.Info.RunID
}

func call(m mode, method, path string, body []byte) {
	if err := try(m, method, path, body); err != nil {
		fail("%v", err)
	}
}

func try(m mode, method, path string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, m.base+path, rd)
	if m.auth != "" {
		req.Header.Set("Authorization", m.auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", m.name, method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s %s: %d %.300s", m.name, method, path, resp.StatusCode, b)
	}
	return nil
}

func post(m mode, path string, in, out any) {
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

// transfer uploads size bytes (streamed, never held) and downloads them
// back; it returns MB/s for each direction.
func transfer(m mode, path string, size int64) (up, down float64) {
	t0 := time.Now()
	req, _ := http.NewRequest("PUT", m.base+path, io.LimitReader(zeros{}, size))
	req.ContentLength = size
	if m.auth != "" {
		req.Header.Set("Authorization", m.auth)
	}
	resp, err := cl.Do(req)
	if err != nil {
		fail("upload %s: %v", m.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fail("upload %s: %d", m.name, resp.StatusCode)
	}
	up = float64(size) / 1e6 / time.Since(t0).Seconds()
	t0 = time.Now()
	req, _ = http.NewRequest("GET", m.base+path, nil)
	if m.auth != "" {
		req.Header.Set("Authorization", m.auth)
	}
	resp, err = cl.Do(req)
	if err != nil {
		fail("download %s: %v", m.name, err)
	}
	got, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got != size {
		fail("download %s: %d bytes of %d", m.name, got, size)
	}
	return up, float64(size) / 1e6 / time.Since(t0).Seconds()
}

func throughput(modes []mode, expID string, size int64, reps int) {
	up := map[string][]float64{}
	down := map[string][]float64{}
	load0 := loadavg()
	for i := range reps {
		for j := range modes {
			m := modes[(i+j)%len(modes)]
			u, d := transfer(m, fmt.Sprintf("/api/2.0/mlflow-artifacts/artifacts/%s/bench/blob-%d", expID, j), size)
			up[m.name] = append(up[m.name], u)
			down[m.name] = append(down[m.name], d)
		}
	}
	fmt.Printf("\n### Artifact throughput (%d MiB, median of %d, modes interleaved)\n\n", size>>20, reps)
	fmt.Printf("| mode | upload MB/s | vs direct | download MB/s | vs direct | runs (up / down) |\n|---|---:|---:|---:|---:|---|\n")
	du, dd := median(up[modes[0].name]), median(down[modes[0].name])
	relay := false
	for _, m := range modes {
		u, d := median(up[m.name]), median(down[m.name])
		fmt.Printf("| %s | %.0f | %.0f%% | %.0f | %.0f%% | %s / %s |\n", m.name, u, 100*u/du, d, 100*d/dd, list(up[m.name]), list(down[m.name]))
		if strings.HasPrefix(m.name, "TCP relay") {
			relay = true
		}
	}
	if relay {
		fmt.Printf("\nThe TCP relay copies bytes between the client's and MLflow's sockets and does nothing else\n" +
			"(Go's io.Copy between TCP connections: splice(2), no byte in user space): what one more hop costs\n" +
			"on this machine, where MLflow, the client and the proxy share two cores.\n")
	}
	fmt.Printf("\nLoad average %s before, %s after.\n", load0, loadavg())
}

// bigRSS uploads size bytes through the gateway while sampling its RSS;
// the kernel's peak counter is reset first, so VmHWM is this upload's.
func bigRSS(m mode, expID string, size int64, pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	before := rssKB(pid, "VmRSS")
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v := rssKB(pid, "VmRSS"); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	t0 := time.Now()
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/2.0/mlflow-artifacts/artifacts/%s/bench/big", m.base, expID), io.LimitReader(zeros{}, size))
	req.ContentLength = size
	req.Header.Set("Authorization", m.auth)
	resp, err := cl.Do(req)
	if err != nil {
		fail("big upload: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fail("big upload: %d", resp.StatusCode)
	}
	secs := time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	fmt.Printf("\n### Gateway memory during a %d MiB upload\n\n", size>>20)
	fmt.Printf("| RSS before | peak RSS sampled every 50 ms | VmHWM (peak, reset before the upload) | upload MB/s |\n|---:|---:|---:|---:|\n")
	fmt.Printf("| %d MiB | %d MiB | %d MiB | %.0f |\n", before>>10, peak.Load()>>10, rssKB(pid, "VmHWM")>>10, float64(size)/1e6/secs)
}

// soakRun drives the gateway with a token for d: workers loop over
// runs/get, a 10-metric log-batch, and every 50th iteration a 1 MiB
// artifact upload and download. Every failed request is counted.
func soakRun(m mode, expID, runID string, d time.Duration, workers, pid int) {
	var reqs, errs atomic.Int64
	var firstErr atomic.Value
	rssStart := rssKB(pid, "VmRSS")
	load0 := loadavg()
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var mid []int64
	var midMu sync.Mutex
	stop := make(chan struct{})
	go func() { // RSS every 30 s
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				midMu.Lock()
				mid = append(mid, rssKB(pid, "VmRSS"))
				midMu.Unlock()
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				check := func(err error) {
					reqs.Add(1)
					if err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
				check(try(m, "GET", "/api/2.0/mlflow/runs/get?run_id="+runID, nil))
				check(try(m, "POST", "/api/2.0/mlflow/runs/log-batch", logBatch(runID, 0, 0, 10, w*1_000_000+i)))
				if i%50 == 0 {
					p := fmt.Sprintf("/api/2.0/mlflow-artifacts/artifacts/%s/soak/w%d", expID, w)
					check(tryPut(m, p, 1<<20))
					check(try(m, "GET", p, nil))
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rssEnd := rssKB(pid, "VmRSS")
	fmt.Printf("\n### Soak: %s, %d clients, token (runs/get, 10-metric log-batch, 1 MiB artifact up and down every 50th round)\n\n", d, workers)
	fmt.Printf("| requests | errors | req/s | gateway RSS at start | at end | every 30 s (MiB) |\n|---:|---:|---:|---:|---:|---|\n")
	var ms []string
	for _, v := range mid {
		ms = append(ms, fmt.Sprint(v>>10))
	}
	fmt.Printf("| %d | %d | %.0f | %d MiB | %d MiB | %s |\n", reqs.Load(), errs.Load(), float64(reqs.Load())/d.Seconds(), rssStart>>10, rssEnd>>10, strings.Join(ms, " "))
	if e := firstErr.Load(); e != nil {
		fmt.Printf("\nFirst error: %s\n", e)
	}
	fmt.Printf("\nLoad average %s before, %s after.\n", load0, loadavg())
}

func tryPut(m mode, path string, size int64) error {
	req, _ := http.NewRequest("PUT", m.base+path, io.LimitReader(zeros{}, size))
	req.ContentLength = size
	req.Header.Set("Authorization", m.auth)
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("PUT %s: %d", path, resp.StatusCode)
	}
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func rssKB(pid int, field string) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
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

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func list(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(s, ", ")
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

func fail(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gateway-bench: "+f+"\n", a...)
	os.Exit(1)
}
