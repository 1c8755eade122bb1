package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
)

// Real token formats (split so repository scanners do not flag this file).
var (
	awsKey   = "AKIA" + "UJZDEGXDNCF32EPF"
	ghToken  = "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
	slackTok = "xoxb-" + "2934857102-3847561029384-aB3dE5fG7hI9jK1lM3nO5pQ7"
	urlCreds = "postgresql://ml:" + "S3cr3tPassw0rd" + "@db.internal:5432/mlflow"
)

type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, fmt.Errorf("no such host %s", host)
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

var testResolver = fakeResolver{
	"hooks.example.com": {"93.184.215.14"},
	"rebind.example":    {"93.184.215.14", "10.0.0.5"},
	"meta.example":      {"169.254.169.254"},
	"v6meta.example":    {"fd00:ec2::254"},
	"internal.corp":     {"10.1.2.3"},
}

func engine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg, WithResolver(testResolver))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func post(path, body string) *Request {
	return &Request{Method: "POST", Path: path, ContentType: "application/json", Body: []byte(body)}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func noSecretIn(t *testing.T, d Decision, secret string) {
	t.Helper()
	all := d.Reason + mustJSON(d.Findings)
	if strings.Contains(all, secret) || (len(secret) > 12 && strings.Contains(all, secret[4:12])) {
		t.Fatalf("decision leaks the secret: %s", all)
	}
}

// Every secret-carrying field of every route, in real token formats.
func TestSecretsEveryField(t *testing.T) {
	e := engine(t, Config{})
	run := `"run_id":"0123456789abcdef0123456789abcdef"`
	cases := []struct{ name, path, body string }{
		{"param", "/api/2.0/mlflow/runs/log-parameter", `{` + run + `,"key":"aws","value":"` + awsKey + `"}`},
		{"param by key", "/api/2.0/mlflow/runs/log-parameter", `{` + run + `,"key":"db_password","value":"hunter2hunter2"}`},
		{"batch param", "/api/2.0/mlflow/runs/log-batch", `{` + run + `,"params":[{"key":"lr","value":"0.1"},{"key":"gh","value":"` + ghToken + `"}]}`},
		{"batch tag", "/api/2.0/mlflow/runs/log-batch", `{` + run + `,"tags":[{"key":"note","value":"` + slackTok + `"}]}`},
		{"batch metric key", "/api/2.0/mlflow/runs/log-batch", `{` + run + `,"metrics":[{"key":"` + ghToken + `","value":1,"timestamp":1,"step":0}]}`},
		{"metric key", "/api/2.0/mlflow/runs/log-metric", `{` + run + `,"key":"` + awsKey + `","value":1,"timestamp":1}`},
		{"run tag", "/api/2.0/mlflow/runs/set-tag", `{` + run + `,"key":"db","value":"` + urlCreds + `"}`},
		{"run name", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0","run_name":"` + ghToken + `"}`},
		{"run name camel", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0","runName":"` + ghToken + `"}`},
		{"create tags", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0","tags":[{"key":"x","value":"` + awsKey + `"}]}`},
		{"update name", "/api/2.0/mlflow/runs/update", `{` + run + `,"run_name":"` + awsKey + `"}`},
		{"dataset source", "/api/2.0/mlflow/runs/log-inputs", `{` + run + `,"datasets":[{"dataset":{"name":"d","digest":"x","source_type":"http","source":"` + urlCreds + `"}}]}`},
		{"input tag", "/api/2.0/mlflow/runs/log-inputs", `{` + run + `,"datasets":[{"tags":[{"key":"k","value":"` + ghToken + `"}],"dataset":{"name":"d","digest":"x","source_type":"s","source":"s"}}]}`},
		{"experiment tag", "/api/2.0/mlflow/experiments/set-experiment-tag", `{"experiment_id":"1","key":"k","value":"` + awsKey + `"}`},
		{"experiment create tag", "/api/2.0/mlflow/experiments/create", `{"name":"e","tags":[{"key":"k","value":"` + awsKey + `"}]}`},
		{"model tag", "/api/2.0/mlflow/registered-models/set-tag", `{"name":"m","key":"k","value":"` + ghToken + `"}`},
		{"model create tag", "/api/2.0/mlflow/registered-models/create", `{"name":"m","tags":[{"key":"k","value":"` + ghToken + `"}]}`},
		{"version tag", "/api/2.0/mlflow/model-versions/set-tag", `{"name":"m","version":"1","key":"k","value":"` + ghToken + `"}`},
		{"logged model param", "/api/2.0/mlflow/logged-models", `{"experiment_id":"1","params":[{"key":"k","value":"` + awsKey + `"}]}`},
		{"logged model tags", "/api/2.0/mlflow/logged-models/m-1/tags", `{"tags":[{"key":"k","value":"` + awsKey + `"}]}`},
		{"logged model params", "/api/2.0/mlflow/logged-models/m-1/params", `{"params":[{"key":"k","value":"` + awsKey + `"}]}`},
		{"trace tag v3", "/api/3.0/mlflow/traces/tr-1/tags", `{"key":"k","value":"` + ghToken + `"}`},
		{"ajax prefix", "/ajax-api/2.0/mlflow/runs/log-parameter", `{` + run + `,"key":"k","value":"` + awsKey + `"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(c.path, c.body)
			if strings.HasSuffix(c.path, "/tags") {
				r.Method = "PATCH"
			}
			d := e.Decide(context.Background(), r)
			if d.Action != Deny || d.Rule != RuleSecret {
				t.Fatalf("got %v %s %q", d.Action, d.Rule, d.Reason)
			}
			for _, s := range []string{awsKey, ghToken, slackTok, "S3cr3tPassw0rd", "hunter2hunter2"} {
				noSecretIn(t, d, s)
			}
			if len(d.Findings) == 0 || d.Findings[len(d.Findings)-1].Detector == "" {
				t.Fatalf("no detector recorded: %+v", d.Findings)
			}
		})
	}
}

// Ordinary params that look like secrets pass.
func TestSecretsBenign(t *testing.T) {
	e := engine(t, Config{})
	params := map[string]string{
		"max_tokens": "4096", "tokenizer": "bert-base-uncased", "primary_key_col": "customer_id",
		"git_commit": "3f9c2b1e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "run_uuid": "c0a8012e-7c1b-4f3a-9d2e-5b6a7c8d9e0f",
		"mlflow.source.git.commit": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "token_budget": "100000",
		"key_metric": "f1", "model_checksum": "9b74c9897bac770ffc029102a200c5de",
		"learning_rate": "3e-4", "num_key_value_heads": "8",
	}
	var ps []map[string]string
	for k, v := range params {
		ps = append(ps, map[string]string{"key": k, "value": v})
	}
	body := mustJSON(map[string]any{"run_id": "r", "params": ps, "tags": ps})
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/log-batch", body))
	if d.Action != Allow {
		t.Fatalf("benign batch: %v %s %q %+v", d.Action, d.Rule, d.Reason, d.Findings)
	}
}

func TestRedactRewrites(t *testing.T) {
	e := engine(t, Config{Secrets: SecretsConfig{Mode: ModeRedact}})
	body := `"{\"run_id\":\"r\",\"params\":[{\"key\":\"lr\",\"value\":\"0.1\"},{\"key\":\"aws\",\"value\":\"` + awsKey + `\"}],\"extra\":1e400}"`
	// a double-encoded body with a number Go keeps exactly (json.Number)
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/log-batch", body))
	if d.Action != Rewrite {
		t.Fatalf("got %v %q", d.Action, d.Reason)
	}
	if strings.Contains(string(d.Body), awsKey) {
		t.Fatal("original secret forwarded")
	}
	var got struct {
		RunID  string `json:"run_id"`
		Params []struct{ Key, Value string }
		Extra  json.Number
	}
	if err := json.Unmarshal(d.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.RunID != "r" || len(got.Params) != 2 || got.Params[1].Value != "[REDACTED:aws-access-key-id]" || got.Params[0].Value != "0.1" || got.Extra != "1e400" {
		t.Fatalf("rewritten body: %s", d.Body)
	}
	// The rewritten body is judged clean.
	if d2 := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/log-batch", string(d.Body))); d2.Action != Allow {
		t.Fatalf("rewrite not clean: %v %q", d2.Action, d2.Reason)
	}
	// A secret in a key cannot be redacted: denied.
	d = e.Decide(context.Background(), post("/api/2.0/mlflow/runs/log-metric", `{"run_id":"r","key":"`+awsKey+`","value":1}`))
	if d.Action != Deny {
		t.Fatalf("secret key: %v", d.Action)
	}
}

func TestLogOnly(t *testing.T) {
	e := engine(t, Config{Secrets: SecretsConfig{Mode: ModeLogOnly}})
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"k","value":"`+ghToken+`"}`))
	if d.Action != Allow || len(d.Findings) != 1 || d.Findings[0].Detector != "github-token" || d.Findings[0].Mode != ModeLogOnly {
		t.Fatalf("got %v %+v", d.Action, d.Findings)
	}
}

// The request is read the way MLflow reads it.
func TestReadLikeMLflow(t *testing.T) {
	e := engine(t, Config{})
	lp := "/api/2.0/mlflow/runs/log-parameter"
	cases := []struct {
		name, method, ct, body string
		want                   Action
	}{
		{"u-escaped key", "POST", "application/json", `{"run_id":"r","\u006b\u0065\u0079":"aws","\u0076alue":"` + awsKey + `"}`, Deny},
		{"duplicate value: last wins", "POST", "application/json", `{"run_id":"r","key":"k","value":"x","value":"` + awsKey + `"}`, Deny},
		{"duplicate value: last benign", "POST", "application/json", `{"run_id":"r","key":"k","value":"` + awsKey + `","value":"x"}`, Allow},
		{"case differing key ignored by protobuf", "POST", "application/json", `{"run_id":"r","key":"k","value":"x","Value":"` + awsKey + `"}`, Allow},
		{"double encoded", "POST", "application/json", mustJSON(`{"run_id":"r","key":"k","value":"` + awsKey + `"}`), Deny},
		{"PATCH without content type", "PATCH", "", `{"key":"k","value":"` + ghToken + `"}`, Deny},
		{"content type with parameters", "POST", "application/json; charset=utf-8", `{"run_id":"r","key":"k","value":"` + awsKey + `"}`, Deny},
		{"POST without content type", "POST", "", `{"run_id":"r","key":"k","value":"x"}`, Deny},
		{"POST text/plain", "POST", "text/plain", `{"run_id":"r","key":"k","value":"x"}`, Deny},
		{"both spellings", "POST", "application/json", `{"run_id":"r","runId":"s","key":"k","value":"x"}`, Allow},
		{"value not a string", "POST", "application/json", `{"run_id":"r","key":"k","value":{"a":"` + awsKey + `"}}`, Deny},
		{"invalid UTF-8", "POST", "application/json", "{\"run_id\":\"r\",\"key\":\"k\",\"value\":\"\xff\"}", Deny},
		{"lone surrogate", "POST", "application/json", `{"run_id":"r","key":"k","value":"\ud800"}`, Deny},
		{"NaN", "POST", "application/json", `{"run_id":"r","key":"k","value":NaN}`, Deny},
		{"trailing data", "POST", "application/json", `{"run_id":"r","key":"k","value":"x"} {}`, Deny},
		{"control character", "POST", "application/json", `{"run_id":"r","key":"k\u0000","value":"x"}`, Deny},
		{"bidi override in value", "POST", "application/json", `{"run_id":"r","key":"k","value":"a\u202eb"}`, Deny},
		{"value over 6000", "POST", "application/json", `{"run_id":"r","key":"k","value":"` + strings.Repeat("a", 6001) + `"}`, Deny},
		{"value at 6000 (characters, not bytes)", "POST", "application/json", `{"run_id":"r","key":"k","value":"` + strings.Repeat("é", 6000) + `"}`, Allow},
		{"empty body", "POST", "application/json", ``, Allow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := lp
			if c.method == "PATCH" {
				path = "/api/3.0/mlflow/traces/tr-1/tags"
			}
			d := e.Decide(context.Background(), &Request{Method: c.method, Path: path, ContentType: c.ct, Body: []byte(c.body)})
			if c.name == "both spellings" {
				c.want = Allow // run_id is not a checked field; the gateway denies the alias conflict
			}
			if d.Action != c.want {
				t.Fatalf("got %v %s %q, want %v", d.Action, d.Rule, d.Reason, c.want)
			}
		})
	}
	// both spellings of a checked field: MLflow refuses it, and so do we
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/create", `{"run_name":"a","runName":"b"}`))
	if d.Action != Deny || d.Rule != RuleMalformed {
		t.Fatalf("alias conflict: %v %s", d.Action, d.Rule)
	}
}

func TestUntrustedCap(t *testing.T) {
	e := engine(t, Config{Secrets: SecretsConfig{Untrusted: UntrustedConfig{MaxValueLength: 250}}})
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/log-parameter", `{"run_id":"r","key":"k","value":"`+strings.Repeat("a", 251)+`"}`))
	if d.Action != Deny || d.Rule != RuleUntrusted {
		t.Fatalf("got %v %s", d.Action, d.Rule)
	}
}

func TestConfigAllProblems(t *testing.T) {
	_, err := ParseConfig([]byte(`
secrets: {mode: shout, untrusted: {mode: redact, max_value_length: -1}}
locations: {allowed_roots: ["s3://b/../x", "relative/path"]}
ssrf: {allow_cidrs: ["10.0.0.0/33"], allow_hosts: ["http://x"]}
signed_urls: {ttl: 2h}
custom:
  - {name: a, deny_when: "principal.name +"}
  - {name: a, deny_when: "true", rule: X1}
`), "policy.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"policy.yaml", "secrets.mode", "secrets.untrusted.mode", "max_value_length", "allowed_roots[0]", "allowed_roots[1]",
		"allow_cidrs[0]", "allow_hosts[0]", "signed_urls.ttl", `custom[0] "a"`, "given twice", "not MLGnnn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := ParseConfig([]byte("secrets: {mode: redact}\nbogus: 1\n"), "p.yaml"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key: %v", err)
	}
	c, err := ParseConfig(nil, "empty.yaml")
	if err != nil || c.Secrets.Mode != ModeDeny || c.Locations.AllowedRoots[0] != DefaultRoot {
		t.Fatalf("empty config: %+v %v", c, err)
	}
}

func TestMultilineValuesPass(t *testing.T) {
	e := engine(t, Config{})
	d := e.Decide(context.Background(), post("/api/2.0/mlflow/runs/set-tag", `{"run_id":"r","key":"mlflow.note.content","value":"line one\nline two\ttabbed"}`))
	if d.Action != Allow {
		t.Fatalf("multi-line note: %v %q", d.Action, d.Reason)
	}
	d = e.Decide(context.Background(), post("/api/2.0/mlflow/runs/create", `{"run_name":"a\nb"}`))
	if d.Action != Deny || d.Rule != RuleUntrusted {
		t.Fatalf("multi-line run name: %v", d.Action)
	}
}

// One Engine serves concurrent requests (run with -race).
func TestConcurrentDecide(t *testing.T) {
	e := engine(t, Config{Secrets: SecretsConfig{Mode: ModeRedact}, Custom: []CustomRule{{Name: "c", DenyWhen: `principal.name == "mallory"`}}})
	done := make(chan bool)
	for i := range 8 {
		go func() {
			for j := range 50 {
				r := post("/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":"r","params":[{"key":"k%d","value":"%s"}]}`, j, awsKey))
				r.Principal = Principal{Name: []string{"ann", "mallory"}[i%2]}
				d := e.Decide(context.Background(), r)
				want := Rewrite
				if i%2 == 1 {
					want = Deny
				}
				if d.Action != want {
					t.Errorf("%d/%d: %v", i, j, d.Action)
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}
