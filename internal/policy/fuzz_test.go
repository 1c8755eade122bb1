package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecide feeds arbitrary bodies, paths and queries to the request
// reading and every check. Invariants: no panic; a rewrite is valid JSON
// that the engine itself then allows; no decision text carries the test
// secret.
func FuzzDecide(f *testing.F) {
	f.Add("POST", "/api/2.0/mlflow/runs/log-batch", "", "application/json", `{"run_id":"r","params":[{"key":"k","value":"`+awsKey+`"}]}`)
	f.Add("POST", "/api/2.0/mlflow/runs/log-parameter", "", "application/json", `"{\"key\":\"k\",\"value\":\"v\"}"`)
	f.Add("PATCH", "/api/3.0/mlflow/traces/t/tags", "", "", `{"key":"k","value":"v","Value":"x"}`)
	f.Add("GET", "/get-artifact", "path=%252e%252e%252f&run_uuid=r", "", ``)
	f.Add("POST", "/api/2.0/mlflow/model-versions/create", "", "application/json; charset=utf-8", `{"name":"m","source":"runs:/r/../x"}`)
	f.Add("POST", "/api/2.0/mlflow/experiments/create", "", "application/json", `{"name":"e","artifactLocation":"http:///#/../etc"}`)
	f.Add("POST", "/api/2.0/mlflow/runs/log-inputs", "", "application/json", `{"datasets":[{"dataset":{"name":"d","source":"x"},"tags":[]}]}`)
	f.Add("DELETE", "/api/2.0/mlflow-artifacts/artifacts/%252e%252e/x", "", "", ``)
	f.Add("POST", "/api/2.0/mlflow-artifacts/mpu/create/1/m", "", "application/json", `{"path":"a/b","num_parts":1}`)
	f.Add("POST", "/api/2.0/mlflow/webhooks", "", "application/json", `{"url":"http://0x7f.1/"}`)
	e, err := New(Config{Secrets: SecretsConfig{Mode: ModeRedact}}, WithResolver(testResolver))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, query, ct, body string) {
		r := &Request{Method: method, Path: path, RawQuery: query, ContentType: ct, Body: []byte(body)}
		d := e.Decide(context.Background(), r)
		if strings.Contains(d.Reason+mustJSON(d.Findings), awsKey) {
			t.Fatalf("decision leaks the secret")
		}
		if d.Action == Rewrite {
			if !json.Valid(d.Body) {
				t.Fatalf("rewrite is not JSON: %q", d.Body)
			}
			r2 := *r
			r2.Body = d.Body
			if d2 := e.Decide(context.Background(), &r2); d2.Action != Allow {
				t.Fatalf("rewritten body not clean: %v %q\n%s", d2.Action, d2.Reason, d.Body)
			}
		}
	})
}

// FuzzForms: decoding terminates and the relative-path check never lets
// a '..' segment through in any decoding stage.
func FuzzCheckRelPath(f *testing.F) {
	for _, c := range climbs {
		f.Add(c + "x")
	}
	f.Fuzz(func(t *testing.T, p string) {
		d := checkRelPath(p, FieldPath)
		if d.Action != Deny {
			cur := p
			for range maxDecode + 1 {
				for _, seg := range strings.Split(strings.ReplaceAll(cur, `\`, "/"), "/") {
					if seg == ".." {
						t.Fatalf("allowed %q with a '..' stage %q", p, cur)
					}
				}
				cur = unquote(cur, true)
			}
		}
	})
}
