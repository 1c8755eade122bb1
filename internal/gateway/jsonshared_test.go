package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// parseJSONBodyStd is parseJSONBody as it was before the shared parse:
// encoding/json's token reader (strictJSONStd) on each layer.
func parseJSONBodyStd(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	v, err := strictJSONStd(body)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if v, err = strictJSONStd([]byte(s)); err != nil {
			return nil, err
		}
	}
	switch t := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return t, nil
	}
	return nil, fmt.Errorf("%w: JSON body is not an object", ErrAmbiguous)
}

func nest(open, close string, n int, inner string) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

var strictSeeds = []string{
	``, ` `, "\f", "\v{}", "\u00a0", `null`, `true`, `0`, `-0`, `01`, `1.`, `1e+`, `-12.5e+3`, `"a"`, `"\u00e9\n\"\\\/"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\u12"`, `"\x"`, "\"a\x01\"", "\"a\xff\"", `"unterminated`,
	`{}`, `[]`, `{ }`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"K":1,"k":2}`, "{\"\u212a\":1,\"k\":2}", `{"ſ":1,"s":2}`,
	`{"run_id":"a","runId":"b"}`, `{"runId":"a","run_id":"b"}`, `{"a_b":1,"aB":2}`, `{"a_b":1,"A_B":2}`, `{"a__b":1,"aB":2}`,
	`{"_a":1,"A":2}`, `{"a_":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":{"a":1}}`, `[{"k":1},{"k":2}]`, `{"a":[{"b":1,"B":2}]}`,
	`[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{1:2}`, `{"a":1}x`, `{"a":1} `, `{"a":1}{}`, `[1 2]`, `"x" "y"`, `1 2`, `[`, `{"a":`,
	`{"a":NaN}`, `[Infinity]`, "\ufeff{}", `[,1]`, `{,}`, `{"a":1 "b":2}`, `{"a"::1}`, `[}`, `{]`,
	`"{\"run_id\":\"a\"}"`, `"{\"run_id\":\"a\",\"RUN_ID\":\"b\"}"`, `"\"{}\""`, `"null"`, `"[1]"`, `" {} "`, `"{\"a\":\"\\ud800\"}"`,
	`{"run_id":"r","params":[{"key":"k","value":"v"}],"metrics":[{"key":"m","value":0.5,"timestamp":1,"step":2}]}`,
	nest("[", "]", 64, ""), nest("[", "]", 65, ""), nest("[", "]", 64, "1"), nest("[", "]", 65, "1"), nest("[", "]", 66, ""),
	nest(`{"a":`, "}", 63, "{}"), nest(`{"a":`, "}", 64, "{}"), nest(`{"a":`, "}", 64, "1"), nest(`{"a":`, "}", 65, "{}"),
	nest(`{"a":`, "}", 64, `{"b":1}`), nest("[", "]", 65, "x"), nest("[", "]", 65, "}"), nest(`{"a":`, "}", 64, `{"b":1,"b":2}`),
	`"` + strings.ReplaceAll(nest("[", "]", 65, ""), `"`, `\"`) + `"`,
}

func manyKeys(n int, dup string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"` + dup + `":0}`)
	return b.String()
}

func init() {
	// Objects past the linear scan (maps) must refuse the same twins.
	strictSeeds = append(strictSeeds, manyKeys(40, "k3"), manyKeys(40, "K39"), manyKeys(40, "x"), manyKeys(16, "k0"), manyKeys(15, "K14"),
		strings.Replace(manyKeys(40, "x_y"), `"k1"`, `"xY"`, 1))
}

// checkStrict: the shared reader accepts exactly what the encoding/json
// reader accepted, builds the same tree, and so does the body parse on top.
func checkStrict(t *testing.T, b []byte) {
	t.Helper()
	want, werr := strictJSONStd(b)
	got, gerr := strictJSON(b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json err=%v, shared err=%v", b, werr, gerr)
	}
	if gerr != nil && !errors.Is(gerr, ErrAmbiguous) {
		t.Fatalf("%q: error not ErrAmbiguous: %v", b, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: shared %#v, encoding/json %#v", b, got, want)
	}
	wm, werr := parseJSONBodyStd(b)
	gm, parsed, gerr := parseJSONBodyShared(b)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(gm, wm) {
		t.Fatalf("%q: body: encoding/json %#v %v, shared %#v %v", b, wm, werr, gm, gerr)
	}
	if gerr == nil && parsed == nil && len(bytes.TrimSpace(b)) != 0 {
		t.Fatalf("%q: parsed body not described", b)
	}
}

func TestStrictJSONMatchesStd(t *testing.T) {
	for _, s := range strictSeeds {
		checkStrict(t, []byte(s))
	}
}

func FuzzStrictJSON(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkStrict(t, b) })
}

// sharedEngines are the policy configurations whose reading differs: the
// default (deny) reads the gateway's tree, redact reads its own copy.
func sharedEngines(t testing.TB) []*policy.Engine {
	var out []*policy.Engine
	for _, cfg := range []policy.Config{{}, {Secrets: policy.SecretsConfig{Mode: policy.ModeRedact}}} {
		e, err := policy.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// checkSharedDecision: Decide gives the same decision with the gateway's
// parsed body as without it, and leaves the gateway's tree as it was.
func checkSharedDecision(t *testing.T, engines []*policy.Engine, method, path, ctype string, body []byte) {
	t.Helper()
	msg, parsed, err := parseMessageShared(method, "", body)
	if err != nil {
		return // denied by authorization before the policies run
	}
	before := fmt.Sprintf("%#v", msg.Body)
	for _, e := range engines {
		req := policy.Request{Method: method, Path: path, ContentType: ctype, Body: body, Principal: policy.Principal{Name: "u"}}
		want := e.Decide(context.Background(), &req)
		req.Parsed = parsed
		got := e.Decide(context.Background(), &req)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %s %q %q: shared %+v, own parse %+v", method, path, ctype, body, got, want)
		}
	}
	if after := fmt.Sprintf("%#v", msg.Body); after != before {
		t.Fatalf("%q: the policies changed the gateway's tree: %s -> %s", body, before, after)
	}
}

var sharedRequests = []struct{ method, path, ctype, body string }{
	{"POST", "/api/2.0/mlflow/runs/log-batch", "application/json", `{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":1,"step":1}]}`},
	{"POST", "/api/2.0/mlflow/runs/log-batch", "application/json", `{"run_id":"r","params":[{"key":"k","value":"AKIAIOSFODNN7EXAMPLE"}]}`},
	{"POST", "/api/2.0/mlflow/runs/log-batch", "application/json", `{"run_id":"r","params":[{"key":"k","value":"` + "AKIA" + `IOSFODNN7EXAMPLE","value":"x"}]}`},
	{"POST", "/api/2.0/mlflow/runs/log-parameter", "application/json", `"{\"run_id\":\"r\",\"key\":\"k\",\"value\":\"v\"}"`},
	{"POST", "/api/2.0/mlflow/runs/log-parameter", "text/plain", `{"run_id":"r","key":"k","value":"v"}`},
	{"PATCH", "/api/2.0/mlflow/runs/update", "", `{"run_id":"r","run_name":"n"}`},
	{"POST", "/api/2.0/mlflow/experiments/create", "application/json", `{"name":"e","artifact_location":"file:///etc"}`},
	{"POST", "/api/2.0/mlflow/model-versions/create", "application/json", `{"name":"m","source":"s3://b/../x"}`},
	{"POST", "/api/2.0/mlflow/runs/log-batch", "application/json", nest(`{"a":`, "}", 64, "{}")},
	{"POST", "/api/2.0/mlflow/runs/log-batch", "application/json", "\f"},
	{"POST", "/api/2.0/mlflow/runs/set-tag", "application/json; charset=utf-8", `{"run_id":"r","key":"k","value":"ghp_` + strings.Repeat("a", 36) + `"}`},
}

func TestSharedParseSameDecision(t *testing.T) {
	engines := sharedEngines(t)
	for _, c := range sharedRequests {
		checkSharedDecision(t, engines, c.method, c.path, c.ctype, []byte(c.body))
	}
	for _, s := range strictSeeds {
		checkSharedDecision(t, engines, "POST", "/api/2.0/mlflow/runs/log-batch", "application/json", []byte(s))
	}
}

func FuzzSharedParseDecision(f *testing.F) {
	for _, c := range sharedRequests {
		f.Add(c.method, c.path, c.ctype, []byte(c.body))
	}
	engines := sharedEngines(f)
	f.Fuzz(func(t *testing.T, method, path, ctype string, body []byte) {
		checkSharedDecision(t, engines, method, path, ctype, body)
	})
}
