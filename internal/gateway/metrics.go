package gateway

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Metrics are hand-written Prometheus counters.
type Metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // decision, status class
	durSum   float64
	durCount uint64
	buckets  []float64
	durBkt   []uint64
}

func newMetrics() *Metrics {
	b := []float64{0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30}
	return &Metrics{requests: map[[2]string]uint64{}, buckets: b, durBkt: make([]uint64, len(b))}
}

func (m *Metrics) observe(decision string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{decision, statusClass(status)}]++
	s := d.Seconds()
	m.durSum += s
	m.durCount++
	for i, b := range m.buckets {
		if s <= b {
			m.durBkt[i]++
		}
	}
}

// ServeHTTP writes the text exposition format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write(w)
}

func (m *Metrics) write(w io.Writer) {
	fmt.Fprintln(w, "# HELP mlflow_guard_requests_total Requests by gateway decision and response status class.")
	fmt.Fprintln(w, "# TYPE mlflow_guard_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "mlflow_guard_requests_total{decision=%q,status=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP mlflow_guard_request_duration_seconds Time from request to the end of the response.")
	fmt.Fprintln(w, "# TYPE mlflow_guard_request_duration_seconds histogram")
	for i, b := range m.buckets {
		fmt.Fprintf(w, "mlflow_guard_request_duration_seconds_bucket{le=\"%g\"} %d\n", b, m.durBkt[i])
	}
	fmt.Fprintf(w, "mlflow_guard_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.durCount)
	fmt.Fprintf(w, "mlflow_guard_request_duration_seconds_sum %g\n", m.durSum)
	fmt.Fprintf(w, "mlflow_guard_request_duration_seconds_count %d\n", m.durCount)
}
