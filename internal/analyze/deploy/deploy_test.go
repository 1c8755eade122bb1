package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

func newTest() *Analyzer { return New(analyze.Options{Policy: config.DefaultPolicy()}) }

// TestFixtures runs each fixture directory as its own scan: cross-file
// judgements (a proxy in front of a server) stay inside one directory.
func TestFixtures(t *testing.T) {
	dirs, err := os.ReadDir("testdata/src")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			analyzetest.Run(t, newTest(), filepath.Join("testdata/src", d.Name()), false)
		})
	}
}

// TestEveryDeployRuleCovered: each rule enforced in deploy has a positive
// fixture, and the fixtures hold hard negatives (files with no want).
func TestEveryDeployRuleCovered(t *testing.T) {
	seen := map[string]bool{}
	_ = filepath.WalkDir("testdata/src", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, ids := range analyzetest.Wants(b) {
			for _, id := range ids {
				seen[id] = true
			}
		}
		return nil
	})
	for _, r := range rules.Catalog() {
		for _, where := range r.EnforcedIn {
			if where == rules.InDeploy && !seen[r.ID] {
				t.Errorf("%s is enforced in deploy but no fixture expects it", r.ID)
			}
		}
	}
}

// TestMalformedInputs: broken YAML, Dockerfile, shell and nginx each give an
// error naming file and line, and the rest of the scan goes on.
func TestMalformedInputs(t *testing.T) {
	fs, errs := analyzetest.Scan(t, newTest(), "testdata/errors")
	want := map[string]int{"docker-compose.yml": 4, "Dockerfile": 2, "broken.sh": 2, "nginx.conf": 2}
	got := map[string]int{}
	for _, e := range errs {
		got[e.Path] = e.Line
		if e.Kind != "parse" || e.Message == "" {
			t.Errorf("error %v: want kind parse with a message", e)
		}
	}
	for p, line := range want {
		if l, ok := got[p]; !ok {
			t.Errorf("%s: no error reported", p)
		} else if p == "docker-compose.yml" && (l < 1 || l > line) {
			// go-yaml names the line of the construct it was inside
			t.Errorf("%s: error at line %d, want 1..%d", p, l, line)
		} else if p != "docker-compose.yml" && l != line {
			t.Errorf("%s: error at line %d, want %d", p, l, line)
		}
	}
	var sawGood, sawDocker bool
	for _, f := range fs {
		if f.Path == "good.sh" && f.RuleID == "MLG402" {
			sawGood = true
		}
		if f.Path == "Dockerfile" && f.RuleID == "MLG402" {
			sawDocker = true
		}
	}
	if !sawGood || !sawDocker {
		t.Errorf("scan did not go on past broken files: good.sh=%v Dockerfile=%v (findings %v)", sawGood, sawDocker, fs)
	}
}

// TestNoSecretInMessages: no finding message repeats a secret value.
func TestNoSecretInMessages(t *testing.T) {
	secretsInFixtures := []string{"Zq3v9Lr2Xw8Tn5Bc7Md1Fk4Hs6Jp0Ga2Ye9Ru3Wi", "S3cr3tPassw0rd", "hunter2hunter2", "password1234", "s3cr3t!"}
	for _, dir := range []string{"testdata/src/shell", "testdata/src/env", "testdata/src/compose", "testdata/src/k8s", "testdata/src/ini", "testdata/src/units"} {
		fs, _ := analyzetest.Scan(t, newTest(), dir)
		if len(fs) == 0 {
			t.Errorf("%s: no findings", dir)
		}
		for _, f := range fs {
			for _, s := range secretsInFixtures {
				if strings.Contains(f.Message, s) {
					t.Errorf("%s:%d %s message leaks a secret: %q", f.Path, f.Line, f.RuleID, f.Message)
				}
			}
		}
	}
}

// TestMLG401SaysHowToSatisfy: every MLG401 message states the finding
// (where the server is reachable, which proxy forwards without
// authentication) in a few words; the remedies are the rule's fix, a short
// list printed under it.
func TestMLG401SaysHowToSatisfy(t *testing.T) {
	fs, _ := analyzetest.Scan(t, newTest(), "testdata/src/nginx")
	n := 0
	for _, f := range fs {
		if f.RuleID != "MLG401" {
			continue
		}
		n++
		for _, w := range []string{"0.0.0.0:5000", "no authentication", "nginx.conf:6"} {
			if !strings.Contains(f.Message, w) {
				t.Errorf("MLG401 message lacks %q: %s", w, f.Message)
			}
		}
		if len(f.Message) > 200 {
			t.Errorf("MLG401 message is %d characters; the options belong in the fix: %s", len(f.Message), f.Message)
		}
	}
	if n != 1 {
		t.Fatalf("want one MLG401 in the nginx fixture, got %d", n)
	}
	r, _ := rules.NewIndex().Lookup("MLG401")
	for _, w := range []string{"--app-name basic-auth", "auth_basic", "127.0.0.1", "mlflow-guard serve"} {
		if !strings.Contains(r.Fix, w) {
			t.Errorf("MLG401 fix lacks %q: %s", w, r.Fix)
		}
	}
	// the Ingress annotation is Kubernetes advice, shown for manifests only
	if k := r.FixIn(rules.CtxKubernetes, ""); !strings.Contains(k, "auth-url") {
		t.Errorf("MLG401 Kubernetes fix lacks auth-url: %s", k)
	}
}

func TestRelevant(t *testing.T) {
	cases := map[string]struct {
		head string
		want kind
	}{
		"Dockerfile":              {"FROM x", kDockerfile},
		"build/api.dockerfile":    {"FROM x", kDockerfile},
		"docker-compose.prod.yml": {"", kYAML},
		"k8s/deploy.yaml":         {"apiVersion: v1", kYAML},
		"data/config.yaml":        {"lr: 0.1", kNone},
		"chart/templates/d.yaml":  {"apiVersion: {{ .Values.v }}", kNone},
		"run.sh":                  {"", kShell},
		"bin/serve":               {"#!/usr/bin/env bash\n", kShell},
		"bin/tool":                {"#!/usr/bin/env python3\n", kNone},
		"mlflow.service":          {"", kSystemd},
		"Procfile":                {"", kProcfile},
		"Makefile":                {"", kMakefile},
		".env":                    {"", kDotenv},
		".env.production":         {"", kDotenv},
		"nginx/mlflow.conf":       {"server {", kNginx},
		"setup.cfg.conf":          {"a = b", kNone},
		"basic_auth.ini":          {"", kIni},
		"tox.ini":                 {"[tox]", kNone},
		"model.pkl":               {"\x80\x04", kNone},
	}
	for p, c := range cases {
		if got := detect(p, []byte(c.head)); got != c.want {
			t.Errorf("detect(%q) = %v, want %v", p, got, c.want)
		}
	}
}

// TestMLG404Context: default_permission and admin-password findings carry
// the context that picks their fix.
func TestMLG404Context(t *testing.T) {
	seen := map[string]int{}
	for _, dir := range []string{"testdata/src/ini", "testdata/src/units", "testdata/src/env", "testdata/src/compose"} {
		fs, _ := analyzetest.Scan(t, newTest(), dir)
		for _, f := range fs {
			if f.RuleID != "MLG404" {
				continue
			}
			want := rules.CtxAdminPassword
			if strings.Contains(f.Message, "default_permission") {
				want = rules.CtxDefaultPermission
			}
			if f.Context != want {
				t.Errorf("%s:%d MLG404 context %q, want %q: %s", f.Path, f.Line, f.Context, want, f.Message)
			}
			seen[f.Context]++
		}
	}
	if seen[rules.CtxAdminPassword] == 0 || seen[rules.CtxDefaultPermission] == 0 {
		t.Errorf("fixtures should hold both kinds of MLG404, got %v", seen)
	}
}

// TestPlainHTTPLevels: a plain-http tracking URI or S3 endpoint to a name
// only a local network resolves (a compose service) is advisory; to any
// other host beyond loopback it keeps the rule's level, in compose, .env
// and shell alike.
func TestPlainHTTPLevels(t *testing.T) {
	fs, _ := analyzetest.Scan(t, newTest(), "testdata/src/plainhttp")
	n := 0
	for _, f := range fs {
		if f.RuleID != "MLG407" && f.RuleID != "MLG304" {
			continue
		}
		n++
		local := strings.Contains(f.Message, "http:// to mlflow,") || strings.Contains(f.Message, "store minio,")
		if local && f.Level != finding.Advisory {
			t.Errorf("%s:%d %s: a local service name should be advisory, got %v: %s", f.Path, f.Line, f.RuleID, f.Level, f.Message)
		}
		if !local && f.Level != finding.LevelNone {
			t.Errorf("%s:%d %s: should keep the rule's level, got %v: %s", f.Path, f.Line, f.RuleID, f.Level, f.Message)
		}
	}
	if n != 7 {
		t.Errorf("want 7 plain-http findings in the fixture, got %d", n)
	}
}

// TestMLG410Context: container findings say whether they are in a
// Dockerfile, a compose file or a Kubernetes manifest, so the fix fits.
func TestMLG410Context(t *testing.T) {
	seen := map[string]int{}
	for _, dir := range []string{"testdata/src/docker", "testdata/src/compose", "testdata/src/k8s"} {
		fs, _ := analyzetest.Scan(t, newTest(), dir)
		want := map[string]string{"testdata/src/docker": rules.CtxDockerfile, "testdata/src/compose": rules.CtxCompose, "testdata/src/k8s": rules.CtxKubernetes}[dir]
		for _, f := range fs {
			if f.RuleID != "MLG410" {
				continue
			}
			if f.Context != want {
				t.Errorf("%s:%d MLG410 context %q, want %q: %s", f.Path, f.Line, f.Context, want, f.Message)
			}
			seen[f.Context]++
		}
	}
	if len(seen) != 3 {
		t.Errorf("fixtures should hold MLG410 in all three kinds of file, got %v", seen)
	}
}
