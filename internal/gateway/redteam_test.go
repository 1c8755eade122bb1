package gateway

import (
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Unit-level cases for the request shapes the red-team pass found; the
// end-to-end proof against the real MLflow is redteam_e2e_test.go.

func TestCheckCanonical(t *testing.T) {
	cases := []struct {
		method, target, body string
		te                   bool
		deny                 bool
	}{
		{"POST", "/api/2.0/mlflow/runs/set-tag", "{}", false, false},
		{"POST", "/api/2.0/mlflow/runs/set%2Dtag", "{}", false, true},
		{"POST", "/api/2.0/mlflow/runs/set%2dtag", "{}", false, true},
		{"POST", "/api/2.0/mlflow/%72uns/set-tag", "{}", false, true},
		{"POST", "/ajax-api/2.0/mlflow/runs/log%5Fbatch", "{}", false, true},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%7Eb", "", false, true},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%30", "", false, true},
		// Escapes of reserved or non-ASCII characters are how clients send them.
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%20b", "", false, false},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/%C3%A9t%C3%A9", "", false, false},
		{"GET", "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a%40b%2Bc", "", false, false},
		{"HEAD", "/api/2.0/mlflow/runs/get?run_id=a", "", false, false},
		{"HEAD", "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=b", `{"run_id":["a"]}`, false, true},
		{"HEAD", "/api/2.0/mlflow/runs/get?run_id=b", "", true, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.te {
			r.ContentLength = -1
			r.TransferEncoding = []string{"chunked"}
		}
		d := checkRawPath(r)
		if (d != nil) != c.deny {
			t.Errorf("%s %s body=%q: deny=%v, want %v", c.method, c.target, c.body, d != nil, c.deny)
		}
	}
}

func TestVersionSourceChecks(t *testing.T) {
	cases := []struct {
		source string
		want   map[string][]string // sourcePart kind -> ids
		amb    bool
	}{
		{"runs:/r1/model", map[string][]string{"runs": {"r1"}}, false},
		{"RUNS:/r1/model", map[string][]string{"runs": {"r1"}}, false},
		{"models:/m-abc", map[string][]string{"logged-model": {"m-abc"}}, false},
		{"models:/prod/3", map[string][]string{"registered-model": {"prod"}}, false},
		{"models:/prod@champion", map[string][]string{"registered-model": {"prod"}}, false},
		{"mlflow-artifacts:/2/models/m-x/artifacts", map[string][]string{"mlflow-artifacts": {"2"}}, false},
		{"mlflow-artifacts://host:5000/7/r/artifacts/m", map[string][]string{"mlflow-artifacts": {"7"}}, false},
		{"Mlflow-Artifacts:/2/r/artifacts", map[string][]string{"mlflow-artifacts": {"2"}}, false},
		{"mlflow-artifacts:/1/r/../../2/x", nil, true},
		{"mlflow-artifacts:/%32/x", nil, true},
		{"runs:/", nil, true},
		{"models:/", nil, true},
		{"s3://bucket/x", map[string][]string{}, false},
		{"dummy-source", map[string][]string{}, false},
	}
	kinds := []string{"runs", "logged-model", "registered-model", "mlflow-artifacts"}
	for _, c := range cases {
		m := &Message{Body: map[string]any{"source": c.source}}
		gotAmb := false
		for _, k := range kinds {
			ids, err := sourcePart(k)(m)
			if err != nil {
				if !errors.Is(err, ErrAmbiguous) {
					t.Errorf("%s %s: %v", c.source, k, err)
				}
				gotAmb = true
				continue
			}
			if !c.amb && !slices.Equal(ids, c.want[k]) {
				t.Errorf("%s as %s: %v, want %v", c.source, k, ids, c.want[k])
			}
		}
		if gotAmb != c.amb {
			t.Errorf("%s: ambiguous=%v, want %v", c.source, gotAmb, c.amb)
		}
	}
}

// FuzzEncodedUnreserved: a path the check lets through escapes no
// unreserved character, so the escaped and decoded forms route alike.
func FuzzEncodedUnreserved(f *testing.F) {
	for _, s := range []string{"/api/2.0/mlflow/runs/set%2Dtag", "/a%20b", "/%C3%A9", "/%", "/%2", "/%zz%41", "/runs/%7e", "/%252e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if _, bad := encodedUnreserved(p); bad {
			return
		}
		for i := 0; i+2 < len(p); i++ {
			if p[i] != '%' || unhex(p[i+1]) < 0 || unhex(p[i+2]) < 0 {
				continue
			}
			c := byte(unhex(p[i+1])<<4 | unhex(p[i+2]))
			if strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", c) >= 0 {
				t.Fatalf("%q escapes %q and passed", p, c)
			}
		}
	})
}

// FuzzVersionSource: reading a version source never panics, and an
// mlflow-artifacts source that names an experiment has no dot segment.
func FuzzVersionSource(f *testing.F) {
	for _, s := range []string{"runs:/r/m", "models:/m-1", "models:/n/2", "models:/n@a", "mlflow-artifacts:/2/x", "mlflow-artifacts:/1/../2", "MLFLOW-ARTIFACTS://h:1/3/x", "runs:", "models:/@", "s3://b/k", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		m := &Message{Body: map[string]any{"source": src}}
		for _, k := range []string{"runs", "logged-model", "registered-model", "mlflow-artifacts"} {
			ids, err := sourcePart(k)(m)
			if err != nil && !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("%q: %v", src, err)
			}
			if k == "mlflow-artifacts" && len(ids) > 0 && (strings.Contains(src, "/../") || strings.HasSuffix(src, "/..")) {
				t.Fatalf("%q named experiment %v", src, ids)
			}
			for _, id := range ids {
				if id == "" {
					t.Fatalf("%q: empty id as %s", src, k)
				}
			}
		}
	})
}

func TestGuardUserTag(t *testing.T) {
	rt, err := NewRouter(Table())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, body string
		deny       bool
	}{
		{"/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"mlflow.user","value":"root"}`, true},
		{"/ajax-api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"mlflow.user","value":"root"}`, true},
		{"/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"mlflow.user","value":"bob"}`, false},
		{"/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"mlflow.source.name","value":"x"}`, false},
		{"/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","\u006bey":"mlflow.user","value":"root"}`, true},
		{"/api/2.0/mlflow/runs/delete-tag", `{"run_id":"r","key":"mlflow.user"}`, true},
		{"/api/2.0/mlflow/runs/delete-tag", `{"run_id":"r","key":"note"}`, false},
		{"/api/2.0/mlflow/runs/log-batch", `{"run_id":"r","tags":[{"key":"a","value":"b"},{"key":"mlflow.user","value":"root"}]}`, true},
		{"/api/2.0/mlflow/runs/log-batch", `{"run_id":"r","tags":[{"key":"mlflow.user","value":"bob"}],"params":[{"key":"mlflow.user","value":"x"}]}`, false},
	}
	for _, c := range cases {
		method := "POST"
		route, _ := rt.Match(method, c.path)
		if route == nil {
			t.Fatalf("no route for %s", c.path)
		}
		msg, err := ParseMessage(method, "", []byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if d := guardUserTag(route, msg, "bob"); (d != nil) != c.deny {
			t.Errorf("%s %s: deny=%v, want %v", c.path, c.body, d != nil, c.deny)
		}
	}
}
