package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// climbs are "../" in the spellings that reach a store as "../" after one
// or more decodings (the server decodes the URL once, stores may again).
var climbs = []string{
	"../", "..%2f", "..%2F", "%2e%2e/", "%2e%2e%2f", "%2E%2E%2F", ".%2e/", "%252e%252e%252f",
	"%25252e%25252e%25252f", "..\\", "..%5c", "..%255c", "..;/", "..%00/", "..%23/",
}

// cveCase is one CVE-derived request shape (mlflow-http-surface.md §4)
// with the traversal part as a parameter.
type cveCase struct {
	name string
	req  func(climb string) *Request
}

func jsonPost(path string, v any) *Request { return post(path, mustJSON(v)) }

func get(path string, q url.Values) *Request {
	return &Request{Method: "GET", Path: path, RawQuery: q.Encode()}
}

var cveCases = []cveCase{
	{"CVE-2023-1177 file source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "file:///etc/" + c + c + "etc"})
	}},
	{"CVE-2023-1177 FILE: scheme case", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "FILE:///etc/" + c})
	}},
	{"CVE-2023-2356 http source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "http://h:5000/api/2.0/mlflow-artifacts/artifacts/" + c + c + c})
	}},
	{"CVE-2023-2356 mlflow-artifacts source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "mlflow-artifacts://h:5000/" + c + c + c})
	}},
	{"CVE-2023-2356 s3 source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "s3:/b/models/" + c + c + "other"})
	}},
	{"CVE-2023-2780 backslash file source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": `file:///tmp/\..\..\` + c + "etc"})
	}},
	{"issue-7166 get-artifact path", func(c string) *Request {
		return get("/get-artifact", url.Values{"path": {c + c + c + "etc/passwd"}, "run_uuid": {"r"}})
	}},
	{"CVE-2023-1177 model-versions/get-artifact", func(c string) *Request {
		return get("/model-versions/get-artifact", url.Values{"path": {c + c + "etc/passwd"}, "name": {"m"}, "version": {"1"}})
	}},
	{"CVE-2023-6977 //proc source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "//proc/self/root/" + c})
	}},
	{"CVE-2024-1560 artifact DELETE double-encoded", func(c string) *Request {
		return &Request{Method: "DELETE", Path: "/api/2.0/mlflow-artifacts/artifacts/" + strings.ReplaceAll(url.PathEscape(c), "%25", "%25") + "x"}
	}},
	{"CVE-2023-6831 artifact GET", func(c string) *Request {
		return &Request{Method: "GET", Path: "/api/2.0/mlflow-artifacts/artifacts/0/" + c + c + "etc/passwd"}
	}},
	{"artifact PUT ajax", func(c string) *Request {
		return &Request{Method: "PUT", Path: "/ajax-api/2.0/mlflow-artifacts/artifacts/1/" + c + "x", ContentType: "application/octet-stream"}
	}},
	{"mpu create path in body", func(c string) *Request {
		r := jsonPost("/api/2.0/mlflow-artifacts/mpu/create/1/model", map[string]any{"path": c + c + "x", "num_parts": 1})
		return r
	}},
	{"artifact listing path", func(c string) *Request {
		return get("/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {c + c}})
	}},
	{"artifacts/list path", func(c string) *Request {
		return get("/api/2.0/mlflow/artifacts/list", url.Values{"run_id": {"r"}, "path": {c + c}})
	}},
	{"artifacts/list path in GET body", func(c string) *Request {
		return &Request{Method: "GET", Path: "/api/2.0/mlflow/artifacts/list", Body: []byte(mustJSON(map[string]any{"run_id": "r", "path": c + c}))}
	}},
	{"logged-model artifact files", func(c string) *Request {
		return get("/ajax-api/2.0/mlflow/logged-models/m-1/artifacts/files", url.Values{"artifact_file_path": {c + c + "x"}})
	}},
	{"ajax upload-artifact path", func(c string) *Request {
		r := post("/ajax-api/2.0/mlflow/upload-artifact", "raw bytes")
		r.RawQuery = url.Values{"run_uuid": {"r"}, "path": {c + c + "x"}}.Encode()
		r.ContentType = "application/octet-stream"
		return r
	}},
	{"presigned-download path", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/artifacts/presigned-download-url", map[string]any{"run_id": "r", "path": c + "x"})
	}},
	{"CVE-2024-1483/3848 fragment location", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "http:///#/" + c + c + c + "etc/"})
	}},
	{"CVE-2024-1594 fragment camelCase", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifactLocation": "mlflow-artifacts:/x#/" + c})
	}},
	{"CVE-2024-1593 params location", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "mlflow-artifacts:/x;/" + c + "etc"})
	}},
	{"location climbing out of the root", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "mlflow-artifacts:/exp/" + c + c + "other"})
	}},
	{"workspace default_artifact_root", func(c string) *Request {
		return jsonPost("/api/3.0/mlflow/workspaces", map[string]any{"name": "w", "default_artifact_root": "file:///srv/" + c + c + "etc"})
	}},
	{"CVE-2026-2614 prompt source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "p", "source": "file:///etc/" + strings.TrimSuffix(c, "/"),
			"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}})
	}},
	{"run-relative source climbing out", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "runs:/0123/model/" + c + c + c + "x", "run_id": "0123"})
	}},
	{"CVE-2025-11201 source", func(c string) *Request {
		return jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "mlflow-artifacts:/1/" + c + c + c + "tmp"})
	}},
	{"CVE-2025-52967 gateway-proxy path", func(c string) *Request {
		return jsonPost("/ajax-api/2.0/mlflow/gateway-proxy", map[string]any{"gateway_path": "api/2.0/" + c + c + "x"})
	}},
}

// Every CVE shape with every encoding of the climb is denied.
func TestCVEShapesDenied(t *testing.T) {
	e := engine(t, Config{Locations: LocationsConfig{AllowedRoots: []string{"mlflow-artifacts:/", "s3://b/models"}}})
	n := 0
	for _, c := range cveCases {
		for _, climb := range climbs {
			r := c.req(climb)
			d := e.Decide(context.Background(), r)
			n++
			if d.Action != Deny {
				t.Errorf("%s with %q: %v (%s %s?%s %s)", c.name, climb, d.Action, r.Method, r.Path, r.RawQuery, r.Body)
			}
		}
	}
	t.Logf("%d CVE-shaped requests denied", n)
}

// Shapes with no climb in them, from the same CVEs.
func TestCVEOtherShapes(t *testing.T) {
	e := engine(t, Config{})
	cases := []*Request{
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "file:///etc/"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "/etc"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "file:/etc"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "//proc/self/root"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "http://h/api/2.0/mlflow-artifacts/artifacts%00"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "dbfs:/"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "file:///etc/"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "FILE:///tmp"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "http://169.254.169.254/latest/meta-data"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "runs:/abc/x"}),
		jsonPost("/api/2.0/mlflow/webhooks", map[string]any{"name": "w", "url": "http://169.254.169.254/latest/meta-data/", "events": []any{}}),
		jsonPost("/api/3.0/mlflow/gateway/secrets/create", map[string]any{"secret_name": "s", "provider": "openai", "auth_config": map[string]string{"api_base": "http://127.0.0.1:8080/v1"}}),
		jsonPost("/ajax-api/2.0/mlflow/gateway-proxy", map[string]any{"gateway_path": "http://169.254.169.254/"}),
		jsonPost("/ajax-api/2.0/mlflow/gateway-proxy", map[string]any{"gateway_path": "//evil.example/x"}),
		get("/get-artifact", url.Values{"path": {"/etc/passwd"}, "run_uuid": {"r"}}),
		get("/get-artifact", url.Values{"path": {"C:/Windows/win.ini"}, "run_uuid": {"r"}}),
		get("/get-artifact", url.Values{"path": {"file:///etc/passwd"}, "run_uuid": {"r"}}),
		get("/get-artifact", url.Values{"path": {"a%00b"}, "run_uuid": {"r"}}),
		{Method: "GET", Path: "/get-artifact", RawQuery: "path=..;x&run_uuid=r"},
		// Only the exact placeholders: MLflow refuses any other prompt source.
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "p", "source": "dummy-source/../../etc",
			"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "p", "source": "Dummy-Source",
			"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}}),
	}
	for _, r := range cases {
		if d := e.Decide(context.Background(), r); d.Action != Deny {
			t.Errorf("%s %s?%s %s: %v", r.Method, r.Path, r.RawQuery, r.Body, d.Action)
		}
	}
	// and the benign ones pass
	ok := []*Request{
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "models:/m-0123456789abcdef", "model_id": "m-0123456789abcdef"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "runs:/0123/model", "run_id": "0123"}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "mlflow-artifacts:/1/0123/artifacts/model"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e"}),
		jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": "mlflow-artifacts:/team-a"}),
		jsonPost("/api/2.0/mlflow/webhooks", map[string]any{"name": "w", "url": "https://hooks.example.com/x", "events": []any{}}),
		get("/get-artifact", url.Values{"path": {"model/MLmodel"}, "run_uuid": {"r"}}),
		{Method: "GET", Path: "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/model.pkl"},
		jsonPost("/ajax-api/2.0/mlflow/gateway-proxy", map[string]any{"gateway_path": "api/2.0/endpoints/"}),
		// MLflow's own prompt registration: the client's and the store's placeholder sources.
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "p", "source": "dummy-source",
			"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}}),
		jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "p", "source": "prompt-template",
			"tags": []map[string]string{{"key": "mlflow.prompt.is_prompt", "value": "true"}}}),
	}
	for _, r := range ok {
		if d := e.Decide(context.Background(), r); d.Action != Allow {
			t.Errorf("benign %s %s %s: %v %q", r.Method, r.Path, r.Body, d.Action, d.Reason)
		}
	}
}

// The allowlist is exactly as loose as stated: a location passes only if
// it lies under a configured root at a segment boundary.
func TestAllowlistNotLooser(t *testing.T) {
	e := engine(t, Config{Locations: LocationsConfig{AllowedRoots: []string{"s3://bucket/mlflow", "file:///srv/mlflow"}}})
	cases := map[string]bool{
		"s3://bucket/mlflow":          true,
		"s3://bucket/mlflow/exp1":     true,
		"S3://bucket/mlflow/exp1":     true,
		"s3://bucket/mlflow-evil":     false,
		"s3://bucket-evil/mlflow":     false,
		"s3://bucket/other":           false,
		"s3://bucket/mlflow/../x":     false,
		"s3://bucket/mlflow/%2e%2e/x": false,
		"s3://bucket/mlflow/x?y=..":   false,
		"gs://bucket/mlflow":          false,
		"file:///srv/mlflow/e":        true,
		"/srv/mlflow/e":               true,
		"file://localhost/srv/mlflow": false,
		"file:///srv/mlflowx":         false,
		"file:///srv":                 false,
		"mlflow-artifacts:/":          false,
	}
	for loc, want := range cases {
		d := e.Decide(context.Background(), jsonPost("/api/2.0/mlflow/experiments/create", map[string]any{"name": "e", "artifact_location": loc}))
		if (d.Action == Allow) != want {
			t.Errorf("%q: %v %q, want allowed=%v", loc, d.Action, d.Reason, want)
		}
	}
}

// Differential test: MLflow's own validators (one venv process) judge
// every generated path, source and location; whatever MLflow refuses, we
// deny.
func TestDifferentialMLflowValidators(t *testing.T) {
	py := testenv.Python(t)
	e := engine(t, Config{Locations: LocationsConfig{AllowedRoots: []string{"mlflow-artifacts:/", "s3://b"}}})
	type q struct{ Kind, Value string }
	var qs []q
	bases := []string{"", "a/", "model/", "/", "file://", "FILE:///", "s3://b/", "mlflow-artifacts:/", "mlflow-artifacts://h:5000/",
		"http://h/api/2.0/mlflow-artifacts/artifacts/", "runs:/r/", "models:/m/", "//", "C:", "\\\\srv\\", "dbfs:/", "http:///#/"}
	tails := []string{"", "x", "x/y", "etc/passwd", "a#b", "a;b", "a?b=..", "a%00", "a\x00b", "a\\b", "a b", "a+b", "%zz", "~", "."}
	for _, b := range bases {
		for _, c := range append(climbs, "", "./") {
			for _, tl := range tails {
				v := b + c + tl
				qs = append(qs, q{"path", v}, q{"source", v}, q{"location", v})
			}
		}
	}
	var in strings.Builder
	for _, x := range qs {
		in.WriteString(mustJSON(map[string]string{"kind": x.Kind, "value": x.Value}) + "\n")
	}
	cmd := exec.Command(py, filepath.Join("testdata", "oracle.py"))
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Env = append(os.Environ(), "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i, mlflowRejects, weDenyMore := 0, 0, 0
	for sc.Scan() {
		var res struct{ Rejected bool }
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("oracle line %d: %v", i, err)
		}
		x := qs[i]
		i++
		var d Decision
		switch x.Kind {
		case "path":
			d = checkRelPath(x.Value, FieldPath)
		case "source":
			d = e.checkSource(context.Background(), x.Value, false)
		case "location":
			if x.Value == "" {
				continue // empty: MLflow uses its default root
			}
			d = e.checkLocation(context.Background(), x.Value)
		}
		if res.Rejected {
			mlflowRejects++
			if d.Action != Deny {
				t.Errorf("MLflow rejects %s %q but we allow it", x.Kind, x.Value)
			}
		} else if d.Action == Deny {
			weDenyMore++
		}
	}
	if i != len(qs) {
		t.Fatalf("oracle answered %d of %d", i, len(qs))
	}
	t.Logf("%d inputs: MLflow rejects %d (all denied by us); we deny %d more", len(qs), mlflowRejects, weDenyMore)
}
