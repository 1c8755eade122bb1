package secrets

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestCorpusFalsePositives runs FindInValue over every line of MLflow's and
// scikit-learn's own sources from the pinned venv: real code full of the words
// token, key, password and secret, but with no real secret in it. Every hit
// is a false positive; the test bounds them and logs each one.
func TestCorpusFalsePositives(t *testing.T) {
	testenv.Python(t)
	if testing.Short() {
		t.Skip("reads a few thousand files")
	}
	sp, _ := filepath.Glob(filepath.Join(testenv.Venv(), "lib", "python3*", "site-packages"))
	if len(sp) == 0 {
		t.Fatalf("no site-packages under %s", testenv.Venv())
	}
	d := New()
	lines, files := 0, 0
	hits := map[string][]string{}
	for _, pkg := range []string{"mlflow", "sklearn"} {
		root := filepath.Join(sp[0], pkg)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".py") {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			files++
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			n := 0
			for sc.Scan() {
				n++
				lines++
				line := sc.Text()
				for _, m := range d.FindInValue(line) {
					rel, _ := filepath.Rel(sp[0], p)
					hits[m.Kind] = append(hits[m.Kind], rel+":"+itoa(n)+": "+strings.TrimSpace(line))
				}
			}
			return sc.Err()
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	kinds := make([]string, 0, len(hits))
	total := 0
	for k, v := range hits {
		kinds = append(kinds, k)
		total += len(v)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("%s: %d", k, len(hits[k]))
		for _, h := range hits[k] {
			t.Logf("  %s", h)
		}
	}
	t.Logf("%d files, %d lines, %d hits", files, lines, total)
	if files < 500 {
		t.Fatalf("only %d files read: is the venv complete?", files)
	}
	// Bound: fewer than one hit per 20,000 lines of secret-free code.
	if limit := lines / 20000; total > limit {
		t.Errorf("%d false positives in %d lines (limit %d)", total, lines, limit)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
