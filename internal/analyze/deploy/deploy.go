// Package deploy finds MLflow server starts and their surroundings in
// deployment configuration (shell, Dockerfile, compose, Kubernetes, Helm
// values, systemd, Procfile, Makefile, .env, nginx, basic_auth.ini), builds
// one model of each server's effective configuration from flags and the
// environment variables MLflow reads, and judges the model. Cross-file
// questions (is this server behind an authenticating proxy?) are answered in
// Finish, so every finding is emitted there.
package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// maxFileSize: deployment files are small; a 4 MiB "Dockerfile" is not one.
const maxFileSize = 4 << 20

// Analyzer is the deploy analyzer. Build one per scan with New.
type Analyzer struct {
	opts analyze.Options
	log  *slog.Logger
	det  *secrets.Detector

	mu     sync.Mutex
	facts  []*facts
	charts []chartRef // Helm charts seen (helm.go)
	kusts  []kustRef  // kustomization files seen (kustomize.go)
}

// New builds the analyzer for one scan.
func New(opts analyze.Options) *Analyzer {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Analyzer{opts: opts, log: log, det: secrets.New()}
}

var (
	_ analyze.Analyzer    = (*Analyzer)(nil)
	_ analyze.Finisher    = (*Analyzer)(nil)
	_ analyze.SizeLimiter = (*Analyzer)(nil)
)

// Name implements analyze.Analyzer.
func (a *Analyzer) Name() string { return "deploy" }

// MaxFileSize implements analyze.SizeLimiter.
func (a *Analyzer) MaxFileSize() int64 { return maxFileSize }

// kind is the file format, decided from the name and leading bytes only.
type kind int

const (
	kNone kind = iota
	kShell
	kDockerfile
	kYAML
	kSystemd
	kProcfile
	kMakefile
	kDotenv
	kNginx
	kIni
)

// Relevant implements analyze.Analyzer: name first, then a cheap look at
// the head for the ambiguous extensions.
func (a *Analyzer) Relevant(f *analyze.File) bool { return detect(f.Path, f.Head) != kNone }

func detect(p string, head []byte) kind {
	b := path.Base(p)
	lb := strings.ToLower(b)
	ext := path.Ext(lb)
	switch {
	case strings.HasSuffix(lb, ".dockerignore"):
		return kNone // a build-context ignore list, not a Dockerfile
	case lb == "dockerfile" || strings.HasPrefix(lb, "dockerfile.") || strings.HasPrefix(lb, "dockerfile-") || ext == ".dockerfile" || lb == "containerfile":
		return kDockerfile
	case ext == ".yaml" || ext == ".yml":
		if strings.HasPrefix(lb, "docker-compose") || strings.HasPrefix(lb, "compose") || kustNames[lb] {
			return kYAML
		}
		if strings.Contains(p, "templates/") && bytes.Contains(head, []byte("{{")) {
			return kNone // an unrendered Helm template is not YAML
		}
		if bytes.Contains(head, []byte("apiVersion")) || bytes.Contains(head, []byte("kind:")) || bytes.Contains(head, []byte("services:")) || bytes.Contains(bytes.ToLower(head), []byte("mlflow")) {
			return kYAML
		}
		return kNone
	case ext == ".sh" || ext == ".bash":
		return kShell
	case ext == ".service":
		return kSystemd
	case lb == "procfile" || strings.HasPrefix(lb, "procfile."):
		return kProcfile
	case lb == "makefile" || lb == "gnumakefile" || ext == ".mk":
		return kMakefile
	case lb == ".env" || ext == ".env" || strings.HasPrefix(lb, ".env."):
		return kDotenv
	case ext == ".ini":
		if lb == "basic_auth.ini" || bytes.Contains(head, []byte("[mlflow]")) {
			return kIni
		}
		return kNone
	case ext == ".conf" || strings.Contains(p, "nginx/") || strings.Contains(p, "sites-available/") || strings.Contains(p, "sites-enabled/"):
		if (bytes.Contains(head, []byte("server")) && bytes.Contains(head, []byte("{"))) || bytes.Contains(head, []byte("location")) || bytes.Contains(head, []byte("proxy_pass")) {
			return kNginx
		}
		return kNone
	case ext == "" && bytes.HasPrefix(head, []byte("#!")):
		first, _, _ := bytes.Cut(head, []byte("\n"))
		for _, sh := range []string{"sh", "bash", "dash", "zsh", "ash", "ksh"} {
			if bytes.HasSuffix(bytes.TrimSpace(first), []byte("/"+sh)) || bytes.HasSuffix(bytes.TrimSpace(first), []byte(" "+sh)) || bytes.Contains(first, []byte("/"+sh+" ")) {
				return kShell
			}
		}
	}
	return kNone
}

// Analyze implements analyze.Analyzer. It records the file's facts; the
// findings come out of Finish. Input errors are returned at once.
func (a *Analyzer) Analyze(ctx context.Context, f *analyze.File) analyze.Result {
	k := detect(f.Path, f.Head)
	if k == kNone {
		return analyze.Result{}
	}
	a.noteChart(f.Path, f.Abs)
	a.noteKustomization(f.Path, f.Abs)
	data, err := f.ReadAll()
	if err != nil {
		return analyze.Result{Errors: []finding.Error{{Path: f.Path, Kind: "read", Message: fmt.Sprintf("reading %s: %v", f.Path, err)}}}
	}
	fs := a.analyzeCtx(ctx, f.Path, k, data)
	a.mu.Lock()
	a.facts = append(a.facts, fs)
	a.mu.Unlock()
	return analyze.Result{Errors: fs.errs}
}

// analyzeBytes is analyzeCtx without cancellation (tests).
func (a *Analyzer) analyzeBytes(p string, k kind, data []byte) *facts {
	return a.analyzeCtx(context.Background(), p, k, data)
}

// analyzeCtx parses one file of a known kind into facts. It never panics
// on bad input (the fuzz tests hold it to that), and its work is bounded
// by the file's budget and ctx.
func (a *Analyzer) analyzeCtx(ctx context.Context, p string, k kind, data []byte) *facts {
	fs := &facts{envFiles: map[string]env{}, configMaps: map[string]env{}}
	j := &judge{path: p, det: a.det, f: fs, b: newBudget(ctx), ctx: fileContext(p, "")}
	if k == kDockerfile {
		j.ctx = rules.CtxDockerfile // named or not, it was read as one
	}
	src := string(data)
	switch k {
	case kShell:
		if len(src) <= maxScriptBytes {
			fs.scripts = map[string]string{p: src}
		}
		c := &shellCtx{j: j, vars: env{}, line0: 1, col0: 1, judgeAssign: true}
		if e := c.run(src); e != nil {
			fs.errs = append(fs.errs, *e)
		}
	case kDockerfile:
		j.dockerfile(src)
	case kYAML:
		j.yamlFile(data)
	case kSystemd:
		j.systemd(src)
	case kProcfile:
		j.procfile(src)
	case kMakefile:
		j.makefile(src)
	case kDotenv:
		e := j.dotenv(src)
		fs.envFiles[p] = e
	case kNginx:
		j.nginx(src)
	case kIni:
		j.ini(src)
	}
	return fs
}
