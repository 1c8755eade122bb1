package gateway

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

func TestReservedKey(t *testing.T) {
	for _, c := range []struct {
		path, body string
		vars       map[string]string
		want       bool
	}{
		{"/x", `{"key":"mlflow-guard.approval","value":"v"}`, nil, true},
		{"/x", `{"key":"MLFLOW-GUARD.Digest"}`, nil, true},
		{"/x", `{"key":"\u006dlflow-guard.verdict"}`, nil, true},
		{"/x", `"{\"key\":\"mlflow-guard.verdict\"}"`, nil, true}, // JSON-string body
		{"/x", `{"tags":[{"key":"a","value":"b"},{"key":"mlflow-guard.x","value":"b"}]}`, nil, true},
		{"/x", `{"trace":{"trace_info":{"tags":{"mlflow-guard.approval":"x"}}}}`, nil, true},
		{"/x", `{"tags":"{\"mlflow-guard.approval\":\"x\"}"}`, nil, true},
		{"/x", `{"tags":"[{\"key\":\"mlflow-guard.approval\"}]"}`, nil, true},
		{"/x", `{}`, map[string]string{"tag_key": "mlflow-guard.approval"}, true},
		{"/x?key=mlflow-guard.approval", `{}`, nil, true},
		{"/x", `{"key":"mlflow.user","value":"mlflow-guard.approval"}`, nil, false}, // a value, not a key
		{"/x", `{"key":"team"}`, nil, false},
		{"/x", `{"key":"mlflow-guard"}`, nil, false}, // no dot: not the namespace
		{"/x", `{}`, map[string]string{"model_id": "mlflow-guard.x"}, false},
	} {
		msg, err := ParseMessage("POST", "", []byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		r := httptest.NewRequest("POST", c.path, nil)
		if _, got := reservedKey(r, c.vars, msg); got != c.want {
			t.Errorf("%s %s %v: got %v", c.path, c.body, c.vars, got)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"alias:champion": "alias:champion", "stage:production": "stage:Production", "stage:STAGING": "stage:Staging",
		"delete-model": "delete-model", "rename:new": "rename:new", "delete-alias:prod": "delete-alias:prod", "delete-version": "delete-version",
	} {
		if got, err := parseTarget(in); err != nil || got.String() != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "alias:", "stage:", "delete-model:x", "promote:x", "Alias:champion"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseManifestTag(t *testing.T) {
	h := strings.Repeat("ab", 32)
	m, ok := parseManifestTag("# mlflow-guard manifest\n" + h + "  MLmodel\n" + h + "  *data/w.bin\n")
	if !ok || len(m) != 2 || m["data/w.bin"] != h {
		t.Fatalf("%v %v", m, ok)
	}
	for _, bad := range []string{"", "xyz  a", h + " a", h[:63] + "g  a"} {
		if _, ok := parseManifestTag(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzReservedKey(f *testing.F) {
	for _, s := range []string{`{"key":"mlflow-guard.a"}`, `{"tags":"{\"mlflow-guard.a\":1}"}`, `"{\"a\":[{\"key\":\"x\"}]}"`, `{"a":{"b":["c"]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		msg, err := ParseMessage("POST", "", []byte(body))
		if err != nil {
			return
		}
		r := httptest.NewRequest("POST", "/x", nil)
		k, found := reservedKey(r, nil, msg)
		if found && !approval.IsReserved(k) {
			t.Fatalf("found %q, not reserved", k)
		}
		// A top-level reserved key is always found.
		if v, ok := msg.Body["key"].(string); ok && approval.IsReserved(v) && !found {
			t.Fatalf("missed %q", v)
		}
	})
}

func FuzzParseManifestTag(f *testing.F) {
	f.Add(strings.Repeat("0", 64) + "  a\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseManifestTag(s)
		if ok {
			for p, sum := range m {
				if len(sum) != 64 || p == "" {
					t.Fatalf("bad entry %q %q", p, sum)
				}
			}
		}
	})
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"alias:champion", "stage:production", "rename:x", "delete-model"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseTarget(s)
		if err != nil {
			return
		}
		again, err := parseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("%q -> %q -> %q %v", s, tg, again, err)
		}
	})
}
