// Package pull is `mlflow-guard pull`: the deploy side of the four-eyes
// promotion. It downloads a registered model version only when a record
// signed by the gateway's key approves exactly these bytes, the bytes
// match the approved manifest, and the model scan finds nothing that would
// run code on load. The download goes to a private directory next to the
// destination and is renamed into place only after every check passed, so
// the destination holds either nothing new or the whole verified model.
package pull

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// Options configure one pull.
type Options struct {
	Client *mlflowapi.Client
	URI    string // models:/name/N or models:/name@alias
	Dest   string // DIR: must not exist, or be an empty directory
	// Keys are the trusted approval keys (the gateway's, several during a
	// rotation). Empty is an error: nothing can be verified without them.
	Keys []ed25519.PublicKey
	// AllowUnpinned lets models:/name/latest and stage URIs through.
	AllowUnpinned bool
	// MaxBytes caps the whole download (default 64 GiB); MaxFiles the
	// listing entries (default 100000).
	MaxBytes int64
	MaxFiles int
	// FailOn is the lowest finding level that refuses the model (default
	// Strict). MLG107 and MLG111 refuse at any setting: a file that cannot
	// be shown safe is not deployed.
	FailOn  finding.Level
	Workers int // parallel downloads (default 4)
	Policy  config.Policy
	Logger  *slog.Logger
	Now     func() time.Time
}

// Result describes a pull that succeeded.
type Result struct {
	Ref      Ref
	Version  mlflowapi.ModelVersion
	Record   approval.Record
	Dir      string
	Files    int
	Bytes    int64
	Warnings []finding.Finding // findings below FailOn (kept, not refusing)
}

// Pull resolves, verifies, downloads, checks and installs one version.
// Errors: *Refusal (exit 1), ErrUsage or ErrAuth wrapped (exit 2), any
// other (exit 3). Whatever the error, Dest is as it was before the call.
func Pull(ctx context.Context, o Options) (Result, error) {
	var res Result
	if o.Client == nil {
		return res, usageErr("no tracking server")
	}
	if len(o.Keys) == 0 {
		return res, usageErr("no trusted approval key")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 30
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 100000
	}
	if o.FailOn == finding.LevelNone {
		o.FailOn = finding.Strict
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Policy.ProtectedStages == nil {
		o.Policy = config.DefaultPolicy()
	}
	ref, err := ParseURI(o.URI)
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	res.Ref = ref
	if !ref.Pinned() && !o.AllowUnpinned {
		return res, refuse("MLG104", ref.String(), "%s resolves to whatever was registered or staged last, not to an approved decision; pull a version (models:/%s/N) or an alias (models:/%s@ALIAS), or pass --allow-unpinned", ref, ref.Name, ref.Name)
	}
	dest, err := checkDest(o.Dest)
	if err != nil {
		return res, err
	}
	res.Dir = dest

	mv, err := resolve(ctx, o.Client, ref)
	if err != nil {
		return res, err
	}
	res.Version = mv
	o.Logger.Info("resolved", "uri", ref.String(), "version", mv.Version)
	ap, rf := VerifyApproval(mv, o.Keys, o.Now())
	if rf != nil {
		return res, rf
	}
	res.Record = ap.Record
	remote, err := ArtifactRoot(ctx, o.Client, mv)
	if err != nil {
		return res, err
	}
	files, err := list(ctx, o.Client, remote, manifestDirs(ap.Manifest), o.MaxFiles)
	if err != nil {
		return res, err
	}
	// The listing is compared with the manifest before a byte is
	// downloaded: a missing or extra file refuses at once.
	listed := make(map[string]string, len(files))
	var want int64
	for _, f := range files {
		listed[f.Rel] = ap.Manifest[f.Rel]
		want += f.Size
	}
	if rf := mismatch(ap.Manifest, listed, true); rf != nil {
		return res, rf
	}
	if want > o.MaxBytes {
		return res, fmt.Errorf("%w: the version lists %d bytes, more than --max-bytes %d", ErrLimit, want, o.MaxBytes)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".mlflow-guard-pull-")
	if err != nil {
		return res, fmt.Errorf("temporary directory next to %s: %w", dest, err)
	}
	installed := false
	defer func() {
		if !installed {
			if err := os.RemoveAll(tmp); err != nil {
				o.Logger.Warn("removing the temporary directory", "dir", tmp, "err", err)
			}
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return res, err
	}
	defer root.Close()
	start := time.Now()
	sums, n, err := fetchAll(ctx, o.Client, remote, root, files, o.MaxBytes, o.Workers)
	if err != nil {
		return res, err
	}
	res.Files, res.Bytes = len(sums), n
	o.Logger.Info("downloaded", "files", len(sums), "bytes", n, "elapsed", time.Since(start))
	if rf := mismatch(ap.Manifest, sums, false); rf != nil {
		return res, rf
	}
	warn, err := scanTree(ctx, tmp, sums, o)
	if err != nil {
		return res, err
	}
	res.Warnings = warn
	if err := seal(root, tmp); err != nil {
		return res, err
	}
	if err := install(tmp, dest); err != nil {
		return res, err
	}
	installed = true
	return res, nil
}

// manifestDirs is every directory that holds a manifest file.
func manifestDirs(m map[string]string) map[string]bool {
	dirs := map[string]bool{}
	for p := range m {
		for i := strings.IndexByte(p, '/'); i >= 0; i = next(p, i) {
			dirs[p[:i]] = true
		}
	}
	return dirs
}

// next is the index of the '/' after i in p, or -1.
func next(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// mismatch refuses (MLG110) when got differs from the manifest: files
// missing, extra or, unless namesOnly, with another SHA-256.
func mismatch(want, got map[string]string, namesOnly bool) *Refusal {
	var lines []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			lines = append(lines, p+": listed in the approved manifest but missing")
		case !namesOnly && g != w:
			lines = append(lines, p+": SHA-256 "+g+" differs from the approved "+w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, p+": not in the approved manifest")
		}
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	rf := refuse("MLG110", "", "%d file(s) differ from the approved manifest: the artifacts changed after approval", len(lines))
	for _, l := range lines {
		rf.More = append(rf.More, "MLG110 "+l)
	}
	return rf
}

// scanTree runs the model analyzer over the downloaded files. Findings at
// or above FailOn, MLG107 and MLG111 refuse; so does any file the analyzer
// could not fully judge. Lower findings are returned as warnings.
func scanTree(ctx context.Context, dir string, sums map[string]string, o Options) ([]finding.Finding, error) {
	an := model.New(analyze.Options{Policy: o.Policy, Logger: o.Logger})
	var fds []finding.Finding
	var errs []finding.Error
	collect := func(r analyze.Result, fallback string) {
		for _, f := range r.Findings {
			if f.Path == "" {
				f.Path = fallback
			}
			fds = append(fds, f)
		}
		for _, e := range r.Errors {
			if e.Path == "" {
				e.Path = fallback
			}
			errs = append(errs, e)
		}
	}
	rels := make([]string, 0, len(sums))
	for r := range sums {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Lstat(abs)
		if err != nil {
			return nil, err
		}
		head, err := analyze.ReadHead(abs)
		if err != nil {
			return nil, err
		}
		f := &analyze.File{Path: rel, Abs: abs, Size: st.Size(), Head: head, Root: dir}
		if an.Relevant(f) {
			collect(analyze.Run(ctx, an, f), rel)
		}
	}
	collect(analyze.Finish(ctx, an), "")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix := rules.NewIndex()
	var refusing, below []finding.Finding
	for _, f := range fds {
		if r, ok := ix.Lookup(f.RuleID); ok {
			f.Level, f.Rule = r.Level, r.Name
		}
		if f.Level >= o.FailOn || f.RuleID == "MLG107" || f.RuleID == "MLG111" || f.Level == finding.LevelNone {
			refusing = append(refusing, f)
		} else {
			below = append(below, f)
		}
	}
	for _, e := range errs {
		if e.Kind.Incomplete() {
			refusing = append(refusing, finding.Finding{RuleID: "MLG111", Level: finding.Strict, Path: e.Path,
				Message: fmt.Sprintf("could not be fully judged (%s): %s", e.Kind, e.Message)})
		}
	}
	if len(refusing) == 0 {
		return below, nil
	}
	sort.SliceStable(refusing, func(i, j int) bool { return refusing[i].Level > refusing[j].Level })
	first := refusing[0]
	rf := refuse(first.RuleID, first.Path, "%s", first.Message)
	for _, f := range refusing[1:] {
		rf.More = append(rf.More, fmt.Sprintf("%s %s: %s", f.RuleID, f.Path, f.Message))
	}
	return nil, rf
}

// seal clears every executable bit and checks that the tree holds only
// regular files and directories (nothing else is ever created, so anything
// else was planted in the private directory: refused).
func seal(root *os.Root, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return root.Chmod(rel, 0o755)
		case d.Type().IsRegular():
			return root.Chmod(rel, 0o644)
		}
		return refuse("MLG109", filepath.ToSlash(rel), "the download holds a %s, not a regular file", d.Type())
	})
}

// checkDest validates DIR: it may not exist (its parent must), or be an
// empty directory; a symlink, a file or a non-empty directory is refused
// (exit 2), so a pull never mixes with or replaces existing files.
func checkDest(dest string) (string, error) {
	if dest == "" {
		return "", usageErr("--to DIR is required")
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return "", usageErr("--to %s: %v", dest, err)
	}
	st, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		pst, perr := os.Stat(filepath.Dir(abs))
		if perr != nil || !pst.IsDir() {
			return "", usageErr("--to %s: the parent directory %s does not exist", dest, filepath.Dir(abs))
		}
		return abs, nil
	case err != nil:
		return "", usageErr("--to %s: %v", dest, err)
	case st.Mode()&fs.ModeSymlink != 0:
		return "", usageErr("--to %s is a symlink; give the real directory", dest)
	case !st.IsDir():
		return "", usageErr("--to %s exists and is not a directory", dest)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return "", usageErr("--to %s: %v", dest, err)
	}
	if len(ents) > 0 {
		return "", usageErr("--to %s is not empty; pull writes only into a new or empty directory", dest)
	}
	return abs, nil
}

// ErrDestChanged: DIR changed while the pull ran.
var ErrDestChanged = errors.New("the destination changed during the pull")

// install renames the verified tree onto dest in one step.
func install(tmp, dest string) error {
	if err := renameDir(tmp, dest); err != nil {
		return fmt.Errorf("installing into %s: %w (%w)", dest, ErrDestChanged, err)
	}
	return nil
}

// Describe is a one-line summary of a successful pull.
func (r Result) Describe() string {
	rec := r.Record
	var b strings.Builder
	fmt.Fprintf(&b, "pulled %s (model %q version %s, %s) into %s: %d files, %d bytes; approved by %s for %s (requested by %s)",
		r.Ref, r.Version.Name, r.Version.Version, rec.Digest, r.Dir, r.Files, r.Bytes, rec.Approver, rec.Target, rec.Requester)
	return b.String()
}
