package deploy

import (
	"os"
	"path/filepath"
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
