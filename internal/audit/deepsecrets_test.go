package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

func newTestAuditor(t testing.TB) *Auditor {
	t.Helper()
	c, err := mlflowapi.New("http://127.0.0.1:1", mlflowapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func writeFiles(t *testing.T, files map[string][]byte) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return dir, names
}

// TestSecretsInArtifacts: credentials in a model's text files are MLG204
// with their line, never with their value; the files MLflow itself writes,
// binary files and documentation example keys are not.
func TestSecretsInArtifacts(t *testing.T) {
	const awsID, ghTok = "AKIA4QZR7TXMB2KWLN6D", "ghp_R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe2Ku"
	files := map[string][]byte{
		"artifacts/.env":             []byte("# keys\nAWS_ACCESS_KEY_ID=" + awsID + "\nexport DB_PASSWORD='hunter2-Prod-77'\nLOG_LEVEL=info\n"),
		"artifacts/credentials.json": []byte(`{"type": "service_account", "token": "` + ghTok + `", "name": "x"}`),
		"artifacts/minified.json":    []byte(`{"a":"b","api_key":"zQ8rT2vX9mK4pL7nW3bY6cH1"}`),
		"MLmodel":                    []byte("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\nmodel_uuid: 5be7cd8840ba4f96b885cca3782b3370\nsignature:\n  inputs: '[{\"type\": \"double\", \"name\": \"x\"}]'\n"),
		"requirements.txt":           []byte("mlflow==3.17.2\ncloudpickle==3.1.2\n"),
		"conda.yaml":                 []byte("channels:\n- conda-forge\ndependencies:\n- python=3.11.7\n- pip:\n  - mlflow==3.17.2\nname: mlflow-env\n"),
		"README.md":                  []byte("Use AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE and ${GITHUB_TOKEN}.\npassword: <from-secrets-manager>\n"),
		"python_model.pkl":           append([]byte("\x80\x05\x95\x00\x00"), []byte("token="+ghTok)...),
	}
	dir, names := writeFiles(t, files)
	a := newTestAuditor(t)
	a.secretsInArtifacts("registered-models/m/versions/1/artifacts", dir, names)
	got := map[string]int{}
	for _, f := range a.res.Findings {
		if f.RuleID != "MLG204" {
			t.Errorf("rule %s", f.RuleID)
		}
		got[fmt.Sprintf("%s:%d", strings.TrimPrefix(f.Path, "registered-models/m/versions/1/artifacts/"), f.Line)]++
		for _, s := range []string{awsID, ghTok, "hunter2-Prod-77", "zQ8rT2vX9mK4pL7nW3bY6cH1"} {
			if strings.Contains(f.Message, s) {
				t.Errorf("message prints a secret: %s", f.Message)
			}
		}
	}
	want := map[string]int{"artifacts/.env:2": 1, "artifacts/.env:3": 1, "artifacts/credentials.json:1": 1, "artifacts/minified.json:1": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if a.res.Incomplete || len(a.res.Errors) > 0 {
		t.Errorf("errors: %v", a.res.Errors)
	}
}

// TestSecretsInArtifactsCaps: a text file over the size cap and text files
// past the count cap are not read, and the audit says it is partial.
func TestSecretsInArtifactsCaps(t *testing.T) {
	big := []byte(strings.Repeat("x = 1\n", maxSecretFileBytes/6+1))
	files := map[string][]byte{"big.txt": big}
	for i := 0; i <= maxSecretFiles; i++ {
		files[fmt.Sprintf("t/%04d.txt", i)] = []byte("ok\n")
	}
	dir, names := writeFiles(t, files)
	a := newTestAuditor(t)
	a.secretsInArtifacts("p", dir, names)
	kinds := map[string]int{}
	for _, e := range a.res.Errors {
		kinds[string(e.Kind)]++
	}
	if !a.res.Incomplete || kinds["limit"] != 2 {
		t.Errorf("incomplete=%v errors %v, want 2 limit errors (size and count)", a.res.Incomplete, a.res.Errors)
	}
}

// TestSecretsPerFileCap: a file full of credentials gives a bounded number
// of findings and a count of the rest.
func TestSecretsPerFileCap(t *testing.T) {
	var b strings.Builder
	for i := range maxSecretsPerFile + 5 {
		fmt.Fprintf(&b, "GITHUB_TOKEN_%d=ghp_R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe%03d\n", i, i)
	}
	dir, names := writeFiles(t, map[string][]byte{".env": []byte(b.String())})
	a := newTestAuditor(t)
	a.secretsInArtifacts("p", dir, names)
	if n := len(a.res.Findings); n != maxSecretsPerFile+1 || !strings.Contains(a.res.Findings[n-1].Message, "5 more") {
		t.Errorf("%d findings, last %q; want %d and a count of 5 more", n, a.res.Findings[len(a.res.Findings)-1].Message, maxSecretsPerFile+1)
	}
}

// FuzzLineSecrets: any line is judged without a panic, and no reason
// quotes the value of a pair it judged.
func FuzzLineSecrets(f *testing.F) {
	for _, s := range []string{
		"AWS_SECRET_ACCESS_KEY=q8Vn3LrT0xZc5WbY7uHs2JkPd9FgAe4MiQo1NtRv\n",
		`{"token": "ghp_R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe2Ku", "a": "b\"c"}`,
		"export PASSWORD='x'", "  password: \"hunter2-Prod-77\"\r\n", "http://u:Passw0rdInUrl99@h/x", "\"\":\"\"", "=",
	} {
		f.Add(s)
	}
	a := &Auditor{det: newTestAuditor(f).det}
	f.Fuzz(func(t *testing.T, s string) {
		reasons := a.lineSecrets(s)
		var pairs [][2]string
		for _, m := range jsonPair.FindAllStringSubmatch(s, 64) {
			pairs = append(pairs, [2]string{m[1], m[2]})
		}
		if m := linePair.FindStringSubmatch(strings.TrimRight(s, "\r\n")); m != nil {
			pairs = append(pairs, [2]string{m[1], unquote(m[2])})
		}
		for _, r := range reasons {
			for _, p := range pairs {
				// a reason may name the key, so a value inside its key is no leak
				if len(p[1]) >= 12 && strings.Contains(r, p[1]) && !strings.Contains(p[0], p[1]) {
					t.Errorf("reason %q quotes the value %q", r, p[1])
				}
			}
		}
	})
}
