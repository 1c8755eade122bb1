package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFrom adds every fixture file of the given kind as a fuzz seed.
func seedFrom(f *testing.F, k kind) {
	_ = filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && detect(p, b) == k {
			f.Add(b)
		}
		return nil
	})
}

// fuzzKind feeds arbitrary bytes to one parser entry point through the
// same path a scan takes, and then through Finish: nothing may panic, and
// every finding and error must carry a location.
func fuzzKind(f *testing.F, k kind, name string) {
	seedFrom(f, k)
	a := newTest()
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := a.analyzeBytes(name, k, data)
		for _, e := range fs.errs {
			if e.Path == "" || e.Message == "" {
				t.Fatalf("error without path or message: %+v", e)
			}
		}
		a.mu.Lock()
		a.facts = append(a.facts, fs)
		a.mu.Unlock()
		r := a.Finish(t.Context())
		for _, x := range r.Findings {
			if x.Path == "" || x.RuleID == "" || x.Message == "" {
				t.Fatalf("incomplete finding: %+v", x)
			}
		}
	})
}

func FuzzShell(f *testing.F)      { fuzzKind(f, kShell, "run.sh") }
func FuzzDockerfile(f *testing.F) { fuzzKind(f, kDockerfile, "Dockerfile") }
func FuzzYAML(f *testing.F)       { fuzzKind(f, kYAML, "docker-compose.yml") }
func FuzzNginx(f *testing.F)      { fuzzKind(f, kNginx, "nginx.conf") }
func FuzzIni(f *testing.F)        { fuzzKind(f, kIni, "basic_auth.ini") }
func FuzzDotenv(f *testing.F)     { fuzzKind(f, kDotenv, ".env") }
func FuzzSystemd(f *testing.F)    { fuzzKind(f, kSystemd, "mlflow.service") }
func FuzzMakefile(f *testing.F)   { fuzzKind(f, kMakefile, "Makefile") }
func FuzzProcfile(f *testing.F)   { fuzzKind(f, kProcfile, "Procfile") }

// FuzzEntrypointScript: arbitrary script text followed from a compose
// service through its Dockerfile's ENTRYPOINT, with the CMD as "$@".
func FuzzEntrypointScript(f *testing.F) {
	seedFrom(f, kShell)
	f.Add([]byte("#!/bin/sh\nexec mlflow server \"$@\" $1 ${2} \"$*\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := newTest()
		for _, in := range []struct {
			p    string
			k    kind
			data []byte
		}{
			{"compose.yaml", kYAML, []byte("services:\n  mlflow:\n    build: ./img\n    ports: [\"5000:5000\"]\n")},
			{"img/Dockerfile", kDockerfile, []byte("FROM x\nENTRYPOINT [\"/start.sh\"]\nCMD [\"--host\", \"0.0.0.0\", \"start.sh\"]\n")},
			{"img/start.sh", kShell, data},
		} {
			a.facts = append(a.facts, a.analyzeBytes(in.p, in.k, in.data))
		}
		r := a.Finish(t.Context())
		for _, x := range r.Findings {
			if x.Path == "" || x.RuleID == "" || x.Message == "" {
				t.Fatalf("incomplete finding: %+v", x)
			}
		}
	})
}

// FuzzKustomization: arbitrary kustomization text is checked before any
// build: nothing panics, and a reference that is not a local path inside
// the tree is refused.
func FuzzKustomization(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && kustNames[filepath.Base(p)] {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	f.Add([]byte("resources:\n  - github.com/x/y//z?ref=v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "kustomization.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tree := &kustTree{}
		if why := checkLocal(root, root, 0, tree, map[string]bool{}); why == "" {
			for _, m := range tree.missing {
				if rel, err := filepath.Rel(root, m); err != nil || strings.HasPrefix(rel, "..") {
					t.Fatalf("missing input %s outside the root passed the check", m)
				}
			}
		}
	})
}
