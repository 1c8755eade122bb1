package gateway

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	cases := []struct {
		name, method, query, body string
		fields                    []string
		want                      string
		found                     bool
		amb                       bool
	}{
		{"query", "GET", "run_id=abc", "", []string{"run_id", "run_uuid"}, "abc", true, false},
		{"query alias", "GET", "run_uuid=abc", "", []string{"run_id", "run_uuid"}, "abc", true, false},
		{"query twice", "GET", "run_id=a&run_id=b", "", []string{"run_id"}, "", false, true},
		{"query camel ignored", "GET", "runId=a", "", []string{"run_id"}, "", false, false},
		{"query bad escape", "GET", "run_id=%zz", "", []string{"run_id"}, "", false, true},
		{"query invalid utf8", "GET", "name=a%FF", "", []string{"name"}, "", false, true},
		{"query semicolon", "GET", "run_id=a;run_id=b", "", []string{"run_id"}, "", false, true},
		{"GET without query reads the body", "GET", "", `{"run_id":"b"}`, []string{"run_id"}, "b", true, false},
		{"HEAD reads the body", "HEAD", "run_id=a", `{"run_id":"b"}`, []string{"run_id"}, "b", true, false},
		{"POST ignores query", "POST", "run_id=a", `{"run_id":"b"}`, []string{"run_id"}, "b", true, false},
		{"camelCase", "POST", "", `{"runId":"b"}`, []string{"run_id"}, "b", true, false},
		{"both spellings", "POST", "", `{"runId":"b","run_id":"b"}`, []string{"run_id"}, "", false, true},
		{"duplicate key", "POST", "", `{"run_id":"a","run_id":"b"}`, []string{"run_id"}, "", false, true},
		{"case twin", "POST", "", `{"run_id":"a","RUN_ID":"b"}`, []string{"run_id"}, "", false, true},
		{"nested duplicate", "POST", "", `{"run_id":"a","tags":[{"key":"x","key":"y"}]}`, []string{"run_id"}, "", false, true},
		{"aliases disagree", "POST", "", `{"run_id":"a","run_uuid":"b"}`, []string{"run_id", "run_uuid"}, "", false, true},
		{"aliases agree", "POST", "", `{"run_id":"a","run_uuid":"a"}`, []string{"run_id", "run_uuid"}, "a", true, false},
		{"double encoded", "POST", "", `"{\"run_id\":\"a\"}"`, []string{"run_id"}, "a", true, false},
		{"triple encoded", "POST", "", `"\"{}\""`, []string{"run_id"}, "", false, true},
		{"number id", "POST", "", `{"run_id":5}`, []string{"run_id"}, "", false, true},
		{"null body", "POST", "", `null`, []string{"run_id"}, "", false, false},
		{"empty body", "DELETE", "", ``, []string{"run_id"}, "", false, false},
		{"array body", "POST", "", `[1]`, []string{"run_id"}, "", false, true},
		{"trailing data", "POST", "", `{"run_id":"a"} {"run_id":"b"}`, []string{"run_id"}, "", false, true},
		{"invalid utf8", "POST", "", "{\"run_id\":\"a\xff\"}", []string{"run_id"}, "", false, true},
		{"lone surrogate", "POST", "", `{"run_id":"\ud800"}`, []string{"run_id"}, "", false, true},
		{"BOM", "POST", "", "\ufeff{\"run_id\":\"a\"}", []string{"run_id"}, "", false, true},
		{"NaN", "POST", "", `{"run_id":"a","value":NaN}`, []string{"run_id"}, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMessage(c.method, c.query, []byte(c.body))
			var v string
			var found bool
			if err == nil {
				v, found, err = m.Value(c.fields)
			}
			if c.amb {
				if !errors.Is(err, ErrAmbiguous) {
					t.Fatalf("want ErrAmbiguous, got %q %v %v", v, found, err)
				}
				return
			}
			if err != nil || v != c.want || found != c.found {
				t.Fatalf("got %q %v %v, want %q %v", v, found, err, c.want, c.found)
			}
		})
	}
}

func TestExperimentOfArtifactPath(t *testing.T) {
	good := map[string]string{"1/abc/artifacts/x.txt": "1", "0/models/m-1/artifacts/": "0", "12": "12"}
	for p, want := range good {
		if got, err := experimentOfArtifactPath(p); err != nil || got != want {
			t.Errorf("%q: %q %v", p, got, err)
		}
	}
	for _, p := range []string{"", "/1/x", "1/../2/x", "1/./x", "1//x", "a/x", "1\\..\\2", "../1", "01a/x", "99999999999999999999/x"} {
		if got, err := experimentOfArtifactPath(p); err == nil {
			t.Errorf("%q accepted as %q", p, got)
		}
	}
}

func TestJSONName(t *testing.T) {
	for in, want := range map[string]string{"run_id": "runId", "experiment_ids": "experimentIds", "name": "name", "a_b_c": "aBC"} {
		if got := jsonName(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

// FuzzParseMessage: the parser never panics, and whatever it accepts has
// no field spelt two ways.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`{"run_id":"a"}`, `{"runId":"a","run_id":"b"}`, `"{\"run_id\":\"a\"}"`, `{"a":{"b":[1,2,{"c":null}]}}`, `null`, ``, `{"run_id":"a","RUN_ID":"b"}`} {
		f.Add("POST", "", []byte(s))
	}
	f.Add("GET", "run_id=a&run_uuid=b", []byte(nil))
	f.Add("POST", "", []byte(`{"trace":{"trace_info":{"trace_location":{"mlflow_experiment":{"experiment_id":"1"}}}}}`))
	f.Add("POST", "", []byte(`{"locations":[{"mlflow_experiment":{"experimentId":"1"}},{"uc_schema":{}}]}`))
	f.Fuzz(func(t *testing.T, method, query string, body []byte) {
		m, err := ParseMessage(method, query, body)
		if err != nil {
			if !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("error not ErrAmbiguous: %v", err)
			}
			return
		}
		if m.Body != nil {
			seen := map[string]bool{}
			for k := range m.Body {
				if seen[jsonName(k)] && jsonName(k) != k {
					t.Fatalf("two spellings accepted: %v", m.Body)
				}
				seen[k] = true
			}
		}
		_, _, _ = m.Value([]string{"run_id", "run_uuid"})
		_, _ = m.Values("experiment_ids", true)
		_, _ = startTraceExperiment(m)
		_, _ = searchTraceExperiments(m)
	})
}

func FuzzArtifactPath(f *testing.F) {
	for _, s := range []string{"1/a", "1/../2", "a", "", "1//", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		exp, err := experimentOfArtifactPath(p)
		if err != nil {
			return
		}
		for _, seg := range []string{"/../", "/./", "//"} {
			if len(p) > 0 && (containsSeg(p, seg)) {
				t.Fatalf("accepted %q as experiment %q", p, exp)
			}
		}
	})
}

func containsSeg(p, seg string) bool {
	return strings.Contains("/"+strings.TrimSuffix(p, "/")+"/", seg)
}
