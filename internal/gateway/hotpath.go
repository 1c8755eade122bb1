package gateway

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"time"
)

// Small pieces of the per-request path, written to allocate little.

// newRequestID is 96 random bits in hex. The runtime's ChaCha8 generator
// (math/rand/v2, seeded from the OS) is enough: the id names a request in
// logs, the audit log and upstream, it is no credential; crypto/rand cost a
// system call per request.
func newRequestID() string {
	var b [12]byte
	u, v := rand.Uint64(), rand.Uint32()
	for i := range 8 {
		b[i] = byte(u >> (8 * i))
	}
	for i := range 4 {
		b[8+i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// logRequest is the per-request log line, built only when the logger
// takes Info records and with typed attributes (no boxing).
func (g *Gateway) logRequest(r *http.Request, st *reqState, status int, n int64, took time.Duration, user string) {
	ctx := context.Background()
	if !g.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	g.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", st.id), slog.String("ip", st.ip),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.Int64("bytes", n), slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("user", user), slog.String("decision", st.decision), slog.String("rule", st.rule))
}

var statusClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is "2xx" for 200..299 (the metrics label).
func statusClass(status int) string {
	if c := status / 100; c >= 0 && c < len(statusClasses) {
		return statusClasses[c]
	}
	return fmt.Sprintf("%dxx", status/100)
}

// readAllSized reads at most limit bytes of body. A declared length within
// the limit sizes the buffer at once instead of growing it from 512 bytes.
func readAllSized(body io.Reader, declared, limit int64) ([]byte, error) {
	if declared <= 0 || declared >= limit {
		return io.ReadAll(io.LimitReader(body, limit))
	}
	// One spare byte: a body longer than declared is read (and refused by
	// the caller's limit check or by net/http) rather than cut.
	b := make([]byte, 0, declared+1)
	lr := io.LimitReader(body, limit)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// indexStatic maps the rows without variables by method and path. Their
// regexp is the quoted pattern between ^ and $, so an equal path is a
// match and any other path is not; static rows are tried first anyway.
func indexStatic(rt *Router) *Router {
	rt.static = map[string]map[string]*compiled{}
	for i := range rt.routes {
		c := &rt.routes[i]
		if c.vars != 0 {
			continue
		}
		if rt.static[c.Method] == nil {
			rt.static[c.Method] = map[string]*compiled{}
		}
		if _, dup := rt.static[c.Method][c.Pattern]; !dup {
			rt.static[c.Method][c.Pattern] = c
		}
	}
	return rt
}

// bufferedBody hands the transport the buffered body as a bytes.Reader
// again. ReverseProxy wraps every outbound body in a reader of its own,
// which the transport does not know to be in memory: it then writes the
// headers and the body in two system calls (two packets) instead of one.
func bufferedBody(pr *httputil.ProxyRequest, st *reqState) {
	if st.buffered && len(st.body) > 0 && pr.Out.Body != nil && pr.Out.ContentLength == int64(len(st.body)) {
		pr.Out.Body = io.NopCloser(bytes.NewReader(st.body))
	}
}
