package gateway

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// csp fits MLflow's single-page UI: its own scripts and styles (it injects
// inline styles), data: and blob: images for plots, no framing, no
// plugins, no cross-origin fetches.
const csp = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"

// securityOwned are set by the gateway; the upstream's copies are dropped.
var securityOwned = []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	"Strict-Transport-Security", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"}

func (g *Gateway) securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if g.cfg.TLS {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// hostAllowed checks the Host header's name (not port) against the
// allowlist. An empty allowlist allows loopback names only.
func (g *Gateway) hostAllowed(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	allowed := g.cfg.AllowedHosts
	if len(allowed) == 0 {
		allowed = []string{"localhost", "127.0.0.1", "::1"}
	}
	for _, a := range allowed {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// cors allows cross-origin calls only from listed origins. A same-origin
// Origin header (its host equals Host) passes.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) *Denial {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if r.Method == http.MethodOptions {
			return denyForbidden("unknown-route", "OPTIONS without Origin")
		}
		return nil
	}
	scheme := "http://"
	if g.cfg.TLS {
		scheme = "https://"
	}
	if strings.EqualFold(origin, scheme+r.Host) && r.Method != http.MethodOptions {
		return nil
	}
	for _, o := range g.cfg.CORSOrigins {
		if o == origin {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Mlflow-Workspace")
				h.Set("Access-Control-Max-Age", "600")
			}
			return nil
		}
	}
	return denyHygiene(http.StatusForbidden, "origin-not-allowed", fmt.Sprintf("origin %q is not allowed", origin))
}

// limiter is a token bucket per key with bounded memory.
type limiter struct {
	mu    sync.Mutex
	rate  float64
	burst float64
	max   int
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: 100000, m: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.max {
			for k, v := range l.m {
				if now.Sub(v.last) > time.Minute {
					delete(l.m, k)
				}
			}
			if len(l.m) >= l.max {
				return false // fail closed under a key flood
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
