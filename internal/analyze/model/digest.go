package model

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// ManifestHeader opens every manifest; the body is sha256sum-compatible
// ("<hex>  <path>"), so `sha256sum -c` can check it too.
const ManifestHeader = "# mlflow-guard digest v1 (sha256)"

// Digest hashes every regular file under dir (sorted, slash paths relative
// to dir), skipping the file at skip (the manifest itself) if inside.
func Digest(ctx context.Context, dir, skip string) (map[string]string, error) {
	skipAbs, _ := filepath.Abs(skip)
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if abs, _ := filepath.Abs(p); skip != "" && abs == skipAbs {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = sum
		return nil
	})
	return out, err
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteManifest writes sums in path order.
func WriteManifest(w io.Writer, sums map[string]string) error {
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, ManifestHeader)
	for _, k := range keys {
		fmt.Fprintf(bw, "%s  %s\n", sums[k], k)
	}
	return bw.Flush()
}

// ReadManifest parses a manifest; errors name the file and line.
func ReadManifest(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", p, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("manifest %s:%d: want \"<sha256>  <path>\"", p, ln)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("manifest %s:%d: digest is not hex", p, ln)
		}
		out[strings.TrimPrefix(name, "*")] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", p, err)
	}
	return out, nil
}

// Mismatch is one difference between a directory and its manifest.
type Mismatch struct {
	Path, Kind string // Kind: "changed", "missing", "extra"
}

// Compare lists every changed, missing and extra file, sorted by path.
func Compare(want, got map[string]string) []Mismatch {
	var out []Mismatch
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			out = append(out, Mismatch{p, "missing"})
		case g != w:
			out = append(out, Mismatch{p, "changed"})
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			out = append(out, Mismatch{p, "extra"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Finish checks --verify. A manifest inside the scanned tree (or above a
// scanned path) describes its own directory: that directory, and only it,
// is compared, whatever paths the scan was given, so the rest of a
// repository is never "not listed in the manifest". A manifest kept apart
// from the scanned paths (written with digest -o elsewhere) describes the
// scan roots: each directory root is compared, as "scan --verify FILE DIR"
// says.
func (a *Analyzer) Finish(ctx context.Context) analyze.Result {
	var res analyze.Result
	if a.opts.VerifyManifest == "" {
		return res
	}
	want, err := ReadManifest(a.opts.VerifyManifest)
	if err != nil {
		res.Fail(finding.Error{Path: a.opts.VerifyManifest, Kind: "config", Message: err.Error()})
		return res
	}
	mdir := filepath.Dir(a.opts.VerifyManifest)
	a.mu.Lock()
	roots := map[string]string{}
	for r, pre := range a.roots {
		roots[r] = pre
	}
	a.mu.Unlock()
	dirs := map[string]string{} // directory compared -> path prefix in findings
	if pre, ok := verifyPrefix(mdir, roots); ok || len(roots) == 0 {
		dirs[mdir] = pre
	} else {
		for r, pre := range roots {
			if st, err := os.Stat(r); err == nil && st.IsDir() {
				dirs[r] = pre
			}
		}
	}
	order := make([]string, 0, len(dirs))
	for d := range dirs {
		order = append(order, d)
	}
	sort.Strings(order)
	for _, dir := range order {
		got, err := Digest(ctx, dir, a.opts.VerifyManifest)
		if err != nil {
			res.Fail(finding.Error{Path: dir, Kind: "read", Message: err.Error()})
			continue
		}
		for _, m := range Compare(want, got) {
			msg := map[string]string{
				"changed": "SHA-256 differs from the manifest %s",
				"missing": "listed in the manifest %s but missing",
				"extra":   "not listed in the manifest %s",
			}[m.Kind]
			res.Add(finding.Finding{RuleID: "MLG110", Path: dirs[dir] + m.Path, Message: fmt.Sprintf(msg, filepath.Base(a.opts.VerifyManifest))})
		}
	}
	return res
}

// verifyPrefix is how the scan's report names files of the manifest's
// directory dir: relative to the deepest scan root that holds it (with that
// root's prefix). ok is false when no root holds dir; a root inside dir
// (scan --verify model/MANIFEST model/sub) still ties dir to the scan, and
// its files are named as dir was given.
func verifyPrefix(dir string, roots map[string]string) (prefix string, ok bool) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return filepath.ToSlash(dir) + "/", false
	}
	within := func(parent, child string) (string, bool) {
		rel, err := filepath.Rel(parent, child)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", false
		}
		return rel, true
	}
	bestLen, below := -1, false
	for r, pre := range roots {
		absRoot, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if rel, in := within(absRoot, absDir); in && len(absRoot) > bestLen {
			prefix, bestLen = pre, len(absRoot)
			if rel != "." {
				prefix += filepath.ToSlash(rel) + "/"
			}
		} else if _, in := within(absDir, absRoot); in {
			below = true
		}
	}
	if bestLen >= 0 {
		return prefix, true
	}
	return filepath.ToSlash(dir) + "/", below
}

// ManifestDigest names a whole manifest: "sha256:" and the SHA-256 of its
// WriteManifest text. The registration gate records it (tag
// mlflow-guard.digest) and approvals are bound to it, so it must stay a pure
// function of the sums.
func ManifestDigest(sums map[string]string) string {
	h := sha256.New()
	_ = WriteManifest(h, sums) // a hash never fails to write
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
