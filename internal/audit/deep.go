package audit

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// maxListDepth bounds the artifact tree walk.
const maxListDepth = 8

// maxDeepEntries caps the listing entries (files and directories) one
// version's artifact tree may have: a model is a handful of files, and a
// listing that never ends must not grow memory without bound.
const maxDeepEntries = 100000

// deepScan downloads a version's files through the artifact proxy, within
// the shared byte budget, and runs the model analyzer over them. Anything
// not downloaded or not walked makes the result incomplete.
//
// judged holds the rule and message of each problem the version's MLmodel
// check already reported at .../MLmodel: the same file is downloaded again
// here (as .../artifacts/MLmodel) and is not reported twice.
func (a *Auditor) deepScan(ctx context.Context, mv mlflowapi.ModelVersion, judged map[string]bool) {
	c := a.opts.Client
	vpath := versionPath(mv)
	uri, err := c.ModelVersionDownloadURI(ctx, mv.Name, mv.Version)
	if err != nil {
		a.readFailed(vpath, fmt.Errorf("deep: download URI: %w", err))
		return
	}
	root, ok := mlflowapi.ProxyPath(uri)
	if !ok {
		a.fail(finding.Error{Path: vpath, Kind: finding.ErrUnchecked,
			Message: fmt.Sprintf("deep: files live at %s, outside the server's artifact proxy; not downloaded", a.det.RedactAll(uri))}, true)
		return
	}
	dir, err := os.MkdirTemp("", "mlflow-guard-deep-")
	if err != nil {
		a.readFailed(vpath, err)
		return
	}
	defer os.RemoveAll(dir)
	var files []string
	entries := 0
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		if depth > maxListDepth {
			return fmt.Errorf("%w: artifact tree deeper than %d levels at %s", mlflowapi.ErrLimit, maxListDepth, rel)
		}
		list, err := c.ListArtifacts(ctx, path.Join(root, rel), maxDeepEntries-entries)
		if err != nil {
			return err
		}
		entries += len(list)
		for _, e := range list {
			name := path.Base(e.Path)
			// A listing that names parents or absolute paths is not followed.
			if name == ".." || name == "." || name == "" || name == "/" || strings.ContainsAny(name, "\\\x00") {
				a.fail(finding.Error{Path: vpath, Kind: finding.ErrSkipped, Message: fmt.Sprintf("deep: odd artifact name %q not followed", clip(a.det.RedactAll(e.Path), 200))}, true)
				continue
			}
			child := path.Join(rel, name)
			if e.IsDir {
				if err := walk(child, depth+1); err != nil {
					return err
				}
				continue
			}
			size := int64(e.FileSize) // ListArtifacts rejects negative and absurd sizes
			if a.stats.deepBytes.Add(size) > a.opts.DeepBudget {
				a.stats.deepBytes.Add(-size)
				a.fail(finding.Error{Path: vpath + "/artifacts/" + child, Kind: finding.ErrLimit,
					Message: fmt.Sprintf("deep: byte budget of %d bytes reached; file of %d bytes not downloaded (raise --deep-budget)", a.opts.DeepBudget, size)}, true)
				continue
			}
			if err := a.download(ctx, path.Join(root, child), filepath.Join(dir, filepath.FromSlash(child)), size); err != nil {
				a.readFailed(vpath+"/artifacts/"+child, err)
				continue
			}
			files = append(files, child)
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		a.readFailed(vpath+"/artifacts", fmt.Errorf("deep: %w", err))
	}
	a.analyzeDir(ctx, vpath+"/artifacts", dir, files, judged)
	a.secretsInArtifacts(vpath+"/artifacts", dir, files)
}

// problemKey identifies an MLmodel problem across the two reads of it.
func problemKey(rule, msg string) string { return rule + "\x00" + msg }

// download fetches one file; the listing's size (plus slack for servers
// that report none) bounds it.
func (a *Auditor) download(ctx context.Context, src, dst string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	limit := size
	if limit <= 0 {
		limit = max(0, a.opts.DeepBudget-a.stats.deepBytes.Load())
	}
	n, err := a.opts.Client.DownloadArtifact(ctx, src, f, limit)
	if size <= 0 {
		a.stats.deepBytes.Add(n)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// analyzeDir runs the model analyzer over downloaded files as a scan would.
func (a *Auditor) analyzeDir(ctx context.Context, prefix, dir string, files []string, judged map[string]bool) {
	an := a.newAnalyzer(analyze.Options{Policy: a.opts.Policy, Logger: a.log})
	report := func(r analyze.Result, fallback string) {
		for _, f := range r.Findings {
			p := f.Path
			if p == "" {
				p = fallback
			}
			// The MLmodel check already reported these at .../MLmodel.
			if p == "MLmodel" && judged[problemKey(f.RuleID, f.Message)] {
				continue
			}
			f.Path = prefix + "/" + strings.TrimPrefix(p, "/")
			f.Line, f.Column, f.EndLine, f.EndColumn = 0, 0, 0, 0
			a.add(f)
		}
		for _, e := range r.Errors {
			p := e.Path
			if p == "" {
				p = fallback
			}
			e.Path = prefix
			if p = strings.TrimPrefix(p, "/"); p != "" {
				e.Path += "/" + p
			}
			// The artifact was not fully judged: the audit is partial.
			a.fail(e, true)
		}
	}
	for _, rel := range files {
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(abs)
		if err != nil {
			continue
		}
		head, err := analyze.ReadHead(abs)
		if err != nil {
			a.readFailed(prefix+"/"+rel, err)
			continue
		}
		f := &analyze.File{Path: rel, Abs: abs, Size: st.Size(), Head: head, Root: dir}
		if an.Relevant(f) {
			report(a.redactPanics(analyze.Run(ctx, an, f)), rel)
		}
	}
	report(a.redactPanics(analyze.Finish(ctx, an)), "")
}

// redactPanics applies to the one shared driver's panic errors what every
// audit message gets: a recovered panic value may quote the artifact's
// bytes, so it is redacted and clipped before it is logged or reported.
func (a *Auditor) redactPanics(r analyze.Result) analyze.Result {
	for i := range r.Errors {
		if e := &r.Errors[i]; e.Kind == finding.ErrPanic {
			e.Message = clip(a.det.RedactAll(e.Message), 4096)
			a.log.Error("analyzer panic", "path", e.Path, "error", e.Message)
		}
	}
	return r
}
