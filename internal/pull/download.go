package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// remoteFile is one file of the version's listing.
type remoteFile struct {
	Rel  string // relative to the artifact root, validated
	Size int64  // as listed (0 when the store reports none)
	Dir  bool   // a directory outside the manifest, not walked
}

// transferErr classifies a listing or download failure: refused
// credentials are ErrAuth (exit 2); anything else, a 400 or 404 included,
// is a failure to pull (exit 3), never a usage error.
func transferErr(what string, err error) error {
	if errors.Is(err, mlflowapi.ErrAuth) {
		return fmt.Errorf("%s: %w: %w", what, ErrAuth, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ErrLimit: a size or count cap was reached; the pull fails (exit 3), it
// is not a judgement on the model.
var ErrLimit = errors.New("limit reached")

// list walks the artifact tree under root through the proxy. Every name
// is validated before it is joined; a bad one refuses the pull (MLG109).
// A directory that holds no file of the manifest (dirs) is not descended
// into: unless it is empty it is returned as an extra entry of its own, and
// walking it would only follow whatever was planted there.
func list(ctx context.Context, c *mlflowapi.Client, root string, dirs map[string]bool, maxFiles int) ([]remoteFile, error) {
	var out []remoteFile
	seen := map[string]bool{}
	type dir struct {
		rel   string
		depth int
	}
	queue := []dir{{"", 0}}
	entries := 0
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if d.depth > maxDepth {
			return nil, refuse("MLG109", d.rel, "artifact tree is more than %d directories deep", maxDepth)
		}
		ls, err := c.ListArtifacts(ctx, path.Join(root, d.rel), maxFiles-entries+1)
		if err != nil {
			if errors.Is(err, mlflowapi.ErrLimit) {
				return nil, fmt.Errorf("listing %s: %w: more than %d entries (raise --max-files)", d.rel, ErrLimit, maxFiles)
			}
			return nil, transferErr("listing artifacts", err)
		}
		entries += len(ls)
		if entries > maxFiles {
			return nil, fmt.Errorf("listing: %w: more than %d entries (raise --max-files)", ErrLimit, maxFiles)
		}
		for _, e := range ls {
			// The proxy lists base names; a server that lists anything
			// else is answered with a refusal, never a join.
			if err := ValidateName(e.Path); err != nil {
				return nil, refuse("MLG109", path.Join(d.rel, "?"), "artifact listing of %q holds an unsafe name: %v", "/"+d.rel, err)
			}
			rel := e.Path
			if d.rel != "" {
				rel = d.rel + "/" + e.Path
			}
			if err := ValidateRel(rel); err != nil {
				return nil, refuse("MLG109", d.rel, "artifact listing: %v", err)
			}
			if seen[rel] {
				return nil, refuse("MLG109", rel, "artifact listing names %q twice", rel)
			}
			seen[rel] = true
			if e.IsDir && dirs[rel] {
				queue = append(queue, dir{rel, d.depth + 1})
				continue
			}
			if e.IsDir {
				// An empty directory holds nothing to verify (the manifest
				// lists files only); anything else there, or a directory
				// the server will not list, is extra.
				sub, err := c.ListArtifacts(ctx, path.Join(root, rel), 1)
				if err != nil || len(sub) > 0 {
					out = append(out, remoteFile{Rel: rel + "/", Dir: true})
				}
				continue
			}
			out = append(out, remoteFile{Rel: rel, Size: int64(e.FileSize)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
}

// fetchAll downloads files into root (an os.Root over the private temp
// directory, so no name can resolve outside it, symlinks included),
// hashing each on the way. It returns the SHA-256 of every file.
func fetchAll(ctx context.Context, c *mlflowapi.Client, remote string, root *os.Root, files []remoteFile, budget int64, workers int) (map[string]string, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		sums  = make(map[string]string, len(files))
		total atomic.Int64
		first error
		wg    sync.WaitGroup
		next  = make(chan remoteFile)
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for range max(1, min(workers, len(files))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				sum, n, err := fetchOne(ctx, c, remote, root, f, budget-total.Load())
				total.Add(n)
				if err != nil {
					fail(err)
					continue
				}
				if total.Load() > budget {
					fail(fmt.Errorf("download: %w: more than %d bytes (raise --max-bytes)", ErrLimit, budget))
					continue
				}
				mu.Lock()
				sums[f.Rel] = sum
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		next <- f
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return sums, total.Load(), first
}

// fetchOne downloads one file, at most its listed size (or what is left
// of the budget when the store lists none).
func fetchOne(ctx context.Context, c *mlflowapi.Client, remote string, root *os.Root, f remoteFile, left int64) (string, int64, error) {
	if dir := path.Dir(f.Rel); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return "", 0, fmt.Errorf("%s: %w", f.Rel, err)
		}
	}
	// O_EXCL: a name seen twice, or a file planted in the private
	// directory, fails instead of being written through.
	out, err := root.OpenFile(f.Rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", f.Rel, err)
	}
	limit := f.Size
	if limit <= 0 {
		limit = max(0, left)
	}
	h := sha256.New()
	n, err := c.DownloadArtifact(ctx, path.Join(remote, f.Rel), io.MultiWriter(out, h), limit)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		switch {
		case errors.Is(err, mlflowapi.ErrLimit) && f.Size > 0:
			// Larger than listed: the file changed under the listing.
			return "", n, refuse("MLG110", f.Rel, "the download is larger than the %d bytes the artifact listing reports", limit)
		case errors.Is(err, mlflowapi.ErrLimit):
			return "", n, fmt.Errorf("downloading %s: %w: more than the %d bytes left of --max-bytes", f.Rel, ErrLimit, limit)
		}
		return "", n, transferErr("downloading "+f.Rel, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
