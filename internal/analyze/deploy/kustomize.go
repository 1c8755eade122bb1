package deploy

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// A Kustomize overlay is judged as it would be applied: built with
// Kustomize's own library (krusty, offline, plugins and Helm inflation off),
// and the built manifests judged by a fresh analyzer, like a rendered Helm
// chart. Only top-level kustomizations are built (one that another
// kustomization of the scan uses as a base is judged through it); the
// base's own files are still judged as plain manifests, so a rendered
// finding is kept only where it adds something: a rule at a place the
// plain files did not show it.
//
// Building must not reach the network or run programs: Kustomize fetches
// remote bases with `git clone` and remote files over HTTP. Every path a
// kustomization names is therefore checked first, recursively: it must be
// an existing file or folder inside the scan root. A kustomization naming
// anything else (a URL, a git repository, a path outside the tree) is not
// built and is reported as unchecked.

// kustRef is one kustomization file seen in the scan.
type kustRef struct {
	rel, abs string // the kustomization file, relative to the scan root and on disk
	root     string // the scan root on disk
}

// maxKustDepth bounds the base-of-base chain the pre-check follows.
const maxKustDepth = 16

var kustNames = map[string]bool{"kustomization.yaml": true, "kustomization.yml": true}

// noteKustomization records a kustomization file.
func (a *Analyzer) noteKustomization(rel, abs string) {
	if !kustNames[path.Base(rel)] || abs == "" {
		return
	}
	if strings.Contains("/"+rel, "/tests/") || strings.Contains("/"+rel, "/testdata/") {
		return
	}
	root := strings.TrimSuffix(filepath.ToSlash(abs), rel)
	if root == filepath.ToSlash(abs) {
		return // the relative path is not a suffix: no root to confine to
	}
	a.mu.Lock()
	a.kusts = append(a.kusts, kustRef{rel: rel, abs: abs, root: filepath.FromSlash(strings.TrimSuffix(root, "/"))})
	a.mu.Unlock()
}

// kustFields are the kustomization fields that name files or folders.
var kustListFields = []string{"resources", "bases", "components", "crds", "configurations", "generators", "transformers", "validators"}

// kustRefs lists the local paths a kustomization names and whether each
// is a string field that may be inline content (patchesStrategicMerge).
func kustRefs(doc *yaml.Node) (paths, gen, bad []string) {
	for _, f := range kustListFields {
		if n := get(doc, f); n != nil && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if c.Kind == yaml.ScalarNode {
					paths = append(paths, c.Value)
				} else {
					bad = append(bad, f+": not a path")
				}
			}
		}
	}
	if n := get(doc, "patchesStrategicMerge"); n != nil && n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode && !strings.Contains(c.Value, "\n") && !strings.Contains(c.Value, ": ") {
				paths = append(paths, c.Value)
			}
		}
	}
	for _, f := range []string{"patches", "patchesJson6902", "replacements"} {
		if n := get(doc, f); n != nil && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if p := scalar(get(c, "path")); p != "" {
					paths = append(paths, p)
				}
			}
		}
	}
	if p := scalar(get(get(doc, "openapi"), "path")); p != "" {
		paths = append(paths, p)
	}
	for _, f := range []string{"configMapGenerator", "secretGenerator"} {
		if n := get(doc, f); n != nil && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				for _, k := range []string{"files", "envs"} {
					if fs := get(c, k); fs != nil && fs.Kind == yaml.SequenceNode {
						for _, x := range fs.Content {
							v := x.Value
							if _, after, ok := strings.Cut(v, "="); ok && k == "files" {
								v = after
							}
							gen = append(gen, v)
						}
					}
				}
				if e := scalar(get(c, "env")); e != "" {
					gen = append(gen, e)
				}
			}
		}
	}
	if n := get(doc, "helmCharts"); n != nil {
		bad = append(bad, "helmCharts (Helm inflation is off)")
	}
	return paths, gen, bad
}

// kustTree is what a kustomization and its bases read from the tree.
type kustTree struct {
	dirs    []string // the kustomization folders, the overlay first
	missing []string // generator inputs that are not in the tree (made at deploy time)
}

// checkLocal walks a kustomization and the bases it names: every path must
// be inside root and exist there, except generator inputs (a secret's
// files), which a deployment often makes at deploy time: those are
// recorded as missing and built empty (their contents are not judged). It
// returns a reason when the build must not run.
func checkLocal(root, dir string, depth int, t *kustTree, seen map[string]bool) (reason string) {
	if depth > maxKustDepth {
		return fmt.Sprintf("bases nested deeper than %d levels", maxKustDepth)
	}
	if seen[dir] {
		return ""
	}
	seen[dir] = true
	var file string
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if st, err := os.Lstat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			file = filepath.Join(dir, n)
			break
		}
	}
	if file == "" {
		return fmt.Sprintf("%s has no kustomization file", dir)
	}
	t.dirs = append(t.dirs, dir)
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Sprintf("%s: %v", file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return ""
	}
	paths, gen, bad := kustRefs(doc.Content[0])
	if len(bad) > 0 {
		return bad[0]
	}
	for i, p := range append(paths, gen...) {
		if strings.Contains(p, "://") || strings.HasPrefix(p, "git@") || strings.Contains(p, "?ref=") || filepath.IsAbs(p) {
			return fmt.Sprintf("it names %q, which is not a local path", cut(p))
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		rel, err := filepath.Rel(root, full)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Sprintf("it names %q, outside the scanned tree", cut(p))
		}
		st, err := os.Lstat(full)
		switch {
		case err != nil && i >= len(paths):
			t.missing = append(t.missing, full)
			continue
		case err != nil:
			// Kustomize would take a missing path for a remote one
			return fmt.Sprintf("it names %q, which does not exist in the tree", cut(p))
		case st.Mode()&os.ModeSymlink != 0:
			return fmt.Sprintf("it names %q, a symbolic link", cut(p))
		case st.IsDir():
			if why := checkLocal(root, full, depth+1, t, seen); why != "" {
				return why
			}
		}
	}
	return ""
}

// memTree copies the kustomization folders (files only, bounded) into an
// in-memory file system at the same paths, with empty stand-ins for the
// missing generator inputs: the build reads nothing else.
func memTree(t *kustTree) (filesys.FileSystem, error) {
	fs := filesys.MakeFsInMemory()
	total := 0
	for _, d := range t.dirs {
		err := filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if p != d && (e.Name() == ".git" || e.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.Type().IsRegular() {
				return nil
			}
			info, err := e.Info()
			if err != nil || info.Size() > maxFileSize {
				return err
			}
			if total += int(info.Size()); total > maxKustBytes {
				return fmt.Errorf("over %d MiB of files under %s", maxKustBytes>>20, d)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return fs.WriteFile(p, b)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, m := range t.missing {
		if err := fs.WriteFile(m, nil); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// maxKustBytes bounds what one build copies into memory.
const maxKustBytes = 64 << 20

func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// renderKustomizations judges every top-level kustomization as built. raw
// are the findings of the plain files; rendered ones at the same place and
// rule are dropped.
func (a *Analyzer) renderKustomizations(ctx context.Context, raw []finding.Finding) ([]finding.Finding, []finding.Error) {
	a.mu.Lock()
	ks := a.kusts
	a.kusts = nil
	a.mu.Unlock()
	sort.Slice(ks, func(i, k int) bool { return ks[i].rel < ks[k].rel })
	type checked struct {
		k   kustRef
		t   *kustTree
		why string
	}
	var cs []checked
	used := map[string]bool{} // folders another kustomization uses as a base
	for _, k := range ks {
		t := &kustTree{}
		why := checkLocal(k.root, filepath.Dir(k.abs), 0, t, map[string]bool{})
		if why == "" {
			for _, b := range t.dirs[1:] {
				used[b] = true
			}
		}
		cs = append(cs, checked{k, t, why})
	}
	have := map[string]bool{}
	for _, f := range raw {
		have[fmt.Sprintf("%s|%s|%d", f.RuleID, f.Path, f.Line)] = true
	}
	var out []finding.Finding
	var errs []finding.Error
	for _, c := range cs {
		if used[filepath.Dir(c.k.abs)] {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, finding.Error{Path: c.k.rel, Kind: "unchecked", Message: fmt.Sprintf("kustomize: build cancelled: %v", ctx.Err())})
			break
		}
		if c.why != "" {
			errs = append(errs, finding.Error{Path: c.k.rel, Kind: "unchecked", Message: "kustomize: not built: " + c.why + "; the overlay was not judged as built"})
			continue
		}
		if len(c.t.missing) > 0 {
			a.log.Info("kustomize: generator inputs not in the tree are built empty", "kustomization", c.k.rel, "missing", len(c.t.missing))
		}
		fs, err := a.buildKustomization(ctx, c.k, c.t)
		if err != nil {
			errs = append(errs, finding.Error{Path: c.k.rel, Kind: "unchecked", Message: fmt.Sprintf("kustomize: building %s: %v; it was not judged as built", path.Dir(c.k.rel), err)})
			continue
		}
		for _, f := range fs {
			if !have[fmt.Sprintf("%s|%s|%d", f.RuleID, f.Path, f.Line)] {
				out = append(out, f)
			}
		}
	}
	return out, errs
}

// buildKustomization builds one overlay and judges the result; findings
// are placed at the overlay's or a base's source line with the same text.
func (a *Analyzer) buildKustomization(ctx context.Context, k kustRef, t *kustTree) ([]finding.Finding, error) {
	dir := filepath.Dir(k.abs)
	mem, err := memTree(t)
	if err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, dir)
	if err != nil {
		return nil, err
	}
	built, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	relDir := path.Dir(k.rel)
	p := path.Join(relDir, "(built)")
	sub := &Analyzer{opts: a.opts, log: a.log, det: a.det}
	sub.facts = append(sub.facts, sub.analyzeCtx(ctx, p, kYAML, built))
	res := sub.Finish(ctx)
	lines := strings.Split(string(built), "\n")
	// the source files to place findings in: the overlay's, then its bases'
	var srcs []string
	for _, d := range t.dirs {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			n := e.Name()
			if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				srcs = append(srcs, filepath.Join(d, n))
			}
		}
	}
	var out []finding.Finding
	for _, f := range res.Findings {
		want := ""
		if f.Line >= 1 && f.Line <= len(lines) {
			want = strings.TrimSpace(lines[f.Line-1])
		}
		f.Path, f.Line, f.Column, f.EndLine, f.EndColumn, f.Snippet = k.rel, 1, 1, 0, 0, ""
		for _, s := range srcs {
			if line := lineWith(s, want); line > 0 {
				if r, err := filepath.Rel(k.root, s); err == nil {
					f.Path, f.Line = filepath.ToSlash(r), line
				}
				break
			}
		}
		f.Message += fmt.Sprintf(" (kustomize build %s)", relDir)
		out = append(out, f)
	}
	return out, nil
}

// lineWith finds the first line of file p whose trimmed text is want.
func lineWith(p, want string) int {
	if want == "" {
		return 0
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if c := strings.Index(t, " #"); c >= 0 {
			t = strings.TrimSpace(t[:c])
		}
		if t == want {
			return i + 1
		}
	}
	return 0
}
