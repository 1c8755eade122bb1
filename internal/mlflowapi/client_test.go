package mlflowapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests inject HTTP faults that a real MLflow server cannot be made
// to produce on demand; the client against a real server is covered by the
// audit package's live tests.

func newTest(t *testing.T, h http.HandlerFunc, opts Options) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	c, err := New(srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetriesThen5xx(t *testing.T) {
	var calls atomic.Int32
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"experiments":[{"experiment_id":"1","name":"a","artifact_location":"s3://b"}]}`)
	}, Options{Retries: 3})
	var got []Experiment
	err := c.SearchExperiments(context.Background(), func(es []Experiment) error { got = append(got, es...); return nil })
	if err != nil || len(got) != 1 || got[0].ArtifactLocation != "s3://b" || calls.Load() != 3 {
		t.Fatalf("err=%v got=%v calls=%d", err, got, calls.Load())
	}

	calls.Store(-100)
	err = c.SearchExperiments(context.Background(), func([]Experiment) error { return nil })
	if !errors.Is(err, ErrServer) {
		t.Fatalf("persistent 503: %v, want ErrServer", err)
	}
	if n := calls.Load() + 100; n != 4 {
		t.Errorf("persistent 503: %d attempts, want 1+3 retries", n)
	}
}

func TestErrorKinds(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   error
	}{
		{401, "You are not authenticated.", ErrAuth},
		{403, `{"error_code":"PERMISSION_DENIED","message":"no"}`, ErrAuth},
		{404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone"}`, ErrNotFound},
		{404, "<html>Not Found</html>", ErrUnsupported},
		{200, "<html>a proxy login page</html>", ErrMalformed},
		{200, `{"experiments": "nope"}`, ErrMalformed},
	}
	for _, c := range cases {
		var calls atomic.Int32
		cl := newTest(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(c.status)
			fmt.Fprint(w, c.body)
		}, Options{Retries: 2})
		err := cl.SearchExperiments(context.Background(), func([]Experiment) error { return nil })
		if !errors.Is(err, c.want) {
			t.Errorf("HTTP %d %q: err %v, want %v", c.status, c.body, err, c.want)
		}
		if calls.Load() != 1 {
			t.Errorf("HTTP %d: %d attempts; client errors must not be retried", c.status, calls.Load())
		}
	}
}

func TestPagingAndAuth(t *testing.T) {
	var auth atomic.Value
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		var req searchRunsRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
			return
		}
		switch req.PageToken {
		case "":
			fmt.Fprint(w, `{"runs":[{"info":{"run_id":"a"}}],"next_page_token":"p2"}`)
		case "p2":
			fmt.Fprint(w, `{"runs":[{"info":{"run_id":"b"},"data":{"params":[{"key":"k","value":"v"}]}}]}`)
		}
	}, Options{Credentials: Credentials{Token: "tok-123"}})
	var ids []string
	err := c.SearchRuns(context.Background(), []string{"1"}, func(rs []Run) error {
		for _, r := range rs {
			ids = append(ids, r.Info.RunID)
		}
		return nil
	})
	if err != nil || strings.Join(ids, ",") != "a,b" {
		t.Fatalf("err=%v ids=%v", err, ids)
	}
	if auth.Load() != "Bearer tok-123" {
		t.Errorf("Authorization = %v", auth.Load())
	}

	loop := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"experiments":[],"next_page_token":"same"}`)
	}, Options{})
	if err := loop.SearchExperiments(context.Background(), func([]Experiment) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("repeating page token: %v, want ErrMalformed", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, u := range []string{"ftp://x", "localhost:5000", "http://user:pw@host", "http://"} {
		if _, err := New(u, Options{}); err == nil {
			t.Errorf("New(%q): no error", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("New(%q) error leaks the password: %v", u, err)
		}
	}
	if _, err := New("https://h", Options{Credentials: Credentials{ServerCertPath: "/nonexistent/ca.pem"}}); err == nil {
		t.Error("missing CA file: no error")
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p", "MLFLOW_TRACKING_INSECURE_TLS": "true"}
	c := CredentialsFromEnv(func(k string) string { return env[k] })
	if c.Username != "u" || c.Password != "p" || !c.InsecureTLS || !c.HasAuth() {
		t.Errorf("%+v", c)
	}
}

func TestInt64(t *testing.T) {
	var fs listArtifactsResponse
	if err := json.Unmarshal([]byte(`{"files":[{"path":"a","file_size":12},{"path":"b","file_size":"34"},{"path":"c","is_dir":true}]}`), &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Files[0].FileSize != 12 || fs.Files[1].FileSize != 34 || !fs.Files[2].IsDir {
		t.Errorf("%+v", fs.Files)
	}
	if err := json.Unmarshal([]byte(`{"files":[{"file_size":"x"}]}`), &fs); err == nil {
		t.Error("non-numeric file_size accepted")
	}
}

func TestProxyPath(t *testing.T) {
	if p, ok := ProxyPath("mlflow-artifacts:/1/models/m-1/artifacts"); !ok || p != "1/models/m-1/artifacts" {
		t.Errorf("got %q %v", p, ok)
	}
	if _, ok := ProxyPath("s3://b/x"); ok {
		t.Error("s3 accepted as proxy path")
	}
}
