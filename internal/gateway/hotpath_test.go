package gateway

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The static index answers as the regexp scan it short-cuts.
func TestRouterStaticIndex(t *testing.T) {
	rt, err := NewRouter(Table())
	if err != nil {
		t.Fatal(err)
	}
	scan := &Router{routes: rt.routes}
	paths := []string{"/", "/api/2.0/mlflow/runs/log-batch/", "/api/2.0/mlflow/runs/log-batchx", "/API/2.0/mlflow/runs/get"}
	for _, c := range rt.routes {
		p := varRE.ReplaceAllString(c.Pattern, "x")
		paths = append(paths, p, p+"/", strings.ToUpper(p), strings.TrimSuffix(p, "/"))
	}
	n := 0
	for _, p := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"} {
			gc, gv := rt.Match(m, p)
			wc, wv := scan.Match(m, p)
			if gc != wc || len(gv) != len(wv) || len(gv) > 0 && !reflect.DeepEqual(gv, wv) {
				t.Fatalf("%s %s: index %v %v, scan %v %v", m, p, gc, gv, wc, wv)
			}
			if gc != nil && gc.vars == 0 {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no static row matched")
	}
}

func TestReadAllSized(t *testing.T) {
	body := bytes.Repeat([]byte("abc"), 1000)
	for _, declared := range []int64{-1, 0, 10, 2999, 3000, 3001, 5000} {
		for _, limit := range []int64{1, 100, 3000, 3001, 10000} {
			for _, half := range []bool{false, true} {
				var r io.Reader = bytes.NewReader(body)
				if half {
					r = iotest.HalfReader(r)
				}
				got, err := readAllSized(r, declared, limit)
				want, _ := io.ReadAll(io.LimitReader(bytes.NewReader(body), limit))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("declared %d limit %d: %d bytes, %v; want %d", declared, limit, len(got), err, len(want))
				}
			}
		}
	}
	if _, err := readAllSized(iotest.ErrReader(io.ErrUnexpectedEOF), 10, 100); err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
}

func TestRequestIDAndStatusClass(t *testing.T) {
	a, b := newRequestID(), newRequestID()
	if len(a) != 24 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("%q %q", a, b)
	}
	for s, want := range map[int]string{0: "0xx", 200: "2xx", 404: "4xx", 503: "5xx", 600: "6xx"} {
		if got := statusClass(s); got != want {
			t.Errorf("%d: %s", s, got)
		}
	}
}

// rewrite deletes identity headers by their canonical key.
func TestIdentityHeadersCanonical(t *testing.T) {
	for _, h := range identityHeaders {
		if http.CanonicalHeaderKey(h) != h {
			t.Errorf("%q is not canonical", h)
		}
	}
}
