package python

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

// FuzzNotebook: no input may panic the notebook reader or the analysis
// behind it, and every finding and error must point at a line of the
// .ipynb itself. Interesting inputs are kept in testdata/fuzz/FuzzNotebook.
func FuzzNotebook(f *testing.F) {
	files, _ := filepath.Glob("testdata/notebooks/*.ipynb")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"cells":[{"cell_type":"code","source":"%%bash\nls"}],"nbformat":4}`))
	f.Add([]byte(`{"worksheets":[{"cells":[{"cell_type":"code","input":["import pickle\n","pickle.loads(x)"]}]}]}`))
	nb := NewNotebooks(New(analyze.Options{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res := nb.analyzeBytes(ctx, "f.ipynb", b)
		lines := bytes.Count(b, []byte("\n")) + 1
		for _, e := range res.Errors {
			if strings.Contains(e.Message, "internal error") {
				t.Fatalf("panic: %s", e.Message)
			}
			if e.Line < 0 || e.Line > lines {
				t.Fatalf("error at line %d of a %d-line file: %s", e.Line, lines, e.Message)
			}
		}
		for _, fd := range res.Findings {
			if fd.Line < 1 || fd.Line > lines || fd.EndLine < fd.Line || fd.EndLine > lines || fd.Cell < 1 {
				t.Fatalf("%s at line %d-%d (cell %d) of a %d-line file", fd.RuleID, fd.Line, fd.EndLine, fd.Cell, lines)
			}
		}
	})
}
