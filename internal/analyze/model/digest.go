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

// Finish checks --verify: every scan root that is a directory (or, with
// none, the manifest's own directory) against the manifest.
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
	a.mu.Lock()
	var roots []string
	prefixes := map[string]string{}
	for r, pre := range a.roots {
		prefixes[r] = pre
		if st, err := os.Stat(r); err == nil && st.IsDir() {
			roots = append(roots, r)
		}
	}
	a.mu.Unlock()
	sort.Strings(roots)
	if len(roots) == 0 {
		roots = []string{filepath.Dir(a.opts.VerifyManifest)}
	}
	for _, root := range roots {
		got, err := Digest(ctx, root, a.opts.VerifyManifest)
		if err != nil {
			res.Fail(finding.Error{Path: root, Kind: "read", Message: err.Error()})
			continue
		}
		for _, m := range Compare(want, got) {
			msg := map[string]string{
				"changed": "SHA-256 differs from the manifest %s",
				"missing": "listed in the manifest %s but missing",
				"extra":   "not listed in the manifest %s",
			}[m.Kind]
			res.Add(finding.Finding{RuleID: "MLG110", Path: prefixes[root] + m.Path, Message: fmt.Sprintf(msg, filepath.Base(a.opts.VerifyManifest))})
		}
	}
	return res
}
