package scan

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"sort"
	"strings"
	"time"
)

const (
	// gitTimeout bounds `git ls-files`; a work tree whose index takes
	// longer is scanned as if git were absent.
	gitTimeout = 10 * time.Second
	// maxGitOutput bounds the listing kept in memory (about a million paths).
	maxGitOutput = 128 << 20
)

// trackedSet is the sorted list of files git tracks under a scan root,
// relative to it. `git ls-files` already prints them in byte order, which
// is Go's string order, so lookups are binary searches on one buffer.
type trackedSet struct{ paths []string }

// gitTracked lists the files git tracks under dir (the scan root). It
// returns nil, silently, when git is missing, dir is not in a work tree,
// the repository is not trusted by git, or git takes too long: the walk
// then relies on .gitignore alone. Repository config that runs programs
// (core.fsmonitor, hooks) is switched off for this call: the tree being
// scanned is untrusted.
func gitTracked(ctx context.Context, dir string, log *slog.Logger) *trackedSet {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, git, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
		"-c", "core.untrackedCache=false", "ls-files", "-z", "--cached")
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0")
	var out limitedBuffer
	out.max = maxGitOutput
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil || out.over {
		log.Debug("git ls-files unavailable; .gitignore alone decides", "dir", dir, "error", err, "too_large", out.over)
		return nil
	}
	s := out.buf.String()
	paths := strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
	if len(paths) == 1 && paths[0] == "" {
		paths = nil
	}
	if !sort.StringsAreSorted(paths) {
		sort.Strings(paths)
	}
	return &trackedSet{paths: paths}
}

// has reports whether git tracks the file rel.
func (t *trackedSet) has(rel string) bool {
	if t == nil {
		return false
	}
	i := sort.SearchStrings(t.paths, rel)
	return i < len(t.paths) && t.paths[i] == rel
}

// hasUnder reports whether git tracks any file below directory rel.
func (t *trackedSet) hasUnder(rel string) bool {
	if t == nil {
		return false
	}
	pre := rel + "/"
	i := sort.SearchStrings(t.paths, pre)
	return i < len(t.paths) && strings.HasPrefix(t.paths[i], pre)
}

// limitedBuffer keeps at most max bytes and notes an overflow.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.over = true
		return len(p), nil
	}
	return b.buf.Write(p)
}
