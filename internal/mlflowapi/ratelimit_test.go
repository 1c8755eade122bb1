package mlflowapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestDownloadWaitsOutRateLimit: a 429 before the body is retried after a
// backoff; one that persists ends as a server error.
func TestDownloadWaitsOutRateLimit(t *testing.T) {
	var calls atomic.Int32
	var limitFor atomic.Int32
	limitFor.Store(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= limitFor.Load() {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error_code":"REQUEST_LIMIT_EXCEEDED"}`)
			return
		}
		_, _ = io.WriteString(w, "payload")
	}))
	defer srv.Close()
	c, err := New(srv.URL, Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if n, err := c.DownloadArtifact(context.Background(), "1/r/artifacts/f", &b, 100); err != nil || n != 7 || b.String() != "payload" || calls.Load() != 4 {
		t.Fatalf("download: %d %v %q after %d calls", n, err, b.String(), calls.Load())
	}
	calls.Store(0)
	limitFor.Store(1000)
	b.Reset()
	_, err = c.DownloadArtifact(context.Background(), "1/r/artifacts/f", &b, 100)
	if !errors.Is(err, ErrServer) || calls.Load() != maxRateLimitedTries || b.Len() != 0 {
		t.Fatalf("persistent 429: %v after %d calls, %d bytes written", err, calls.Load(), b.Len())
	}
}
