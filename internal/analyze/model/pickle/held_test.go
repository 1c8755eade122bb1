package pickle_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// makeData writes a benign data pickle with the venv's Python (see
// testdata/make_data.py for the kinds).
func makeData(t *testing.T, kind string, rows int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), kind+".pkl")
	cmd := exec.Command(testenv.Python(t), filepath.Join("testdata", "make_data.py"), kind, itoa(rows), out)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_data.py %s: %v\n%s", kind, err, b)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// Ordinary data pickles larger than the walker's budget for kept values
// (lists of tuples and records, a DataFrame, joblib data next to a model)
// walk to their STOP: what the walk forgets past the budget is never used
// where it matters in them. The heap stays bounded whatever the size.
func TestBenignDataPastTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and walks pickles of 10 to 60 MB")
	}
	cases := []struct {
		kind    string
		rows    int
		imports []string // each must be seen
		joblib  bool
	}{
		{kind: "tuples", rows: 340_000},   // about 10 MB
		{kind: "tuples", rows: 1_000_000}, // about 30 MB
		{kind: "tuples2", rows: 1_000_000},
		{kind: "records", rows: 500_000, imports: []string{"datetime.datetime"}},
		{kind: "frame", rows: 1_000_000, imports: []string{"pandas.DataFrame"}},
		{kind: "joblib", rows: 400_000, joblib: true,
			imports: []string{"sklearn.pipeline.Pipeline", "sklearn.linear_model._logistic.LogisticRegression", "numpy.dtype"}},
	}
	for _, c := range cases {
		t.Run(c.kind+"-"+itoa(c.rows), func(t *testing.T) {
			path := makeData(t, c.kind, c.rows)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := pickle.Walk(f, pickle.DefaultLimits)
			runtime.ReadMemStats(&after)
			grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("%d MB: %d ops, %d imports, heap after walk +%d MiB", st.Size()>>20, r.Ops, len(r.Imports), grew>>20)
			if r.Limit != "" || r.Break != nil || r.Embedded != "" || r.Complete != 1 {
				t.Fatalf("limit %q, break %v, embedded %q, complete %d", r.Limit, r.Break, r.Embedded, r.Complete)
			}
			if r.Joblib != c.joblib {
				t.Errorf("joblib reading %v, want %v", r.Joblib, c.joblib)
			}
			got := verdicts(r)
			for _, name := range c.imports {
				if _, ok := got[name]; !ok {
					t.Errorf("import %s not seen in %v", name, got)
				}
			}
			// The walker's state is still reachable here (Result aside, it is
			// garbage): the live heap it leaves must be far below the file.
			if grew > 160<<20 {
				t.Errorf("heap grew %d MiB", grew>>20)
			}
		})
	}
}

// small makes the budget for kept values tiny so a few thousand memoized
// tuples pass it; fill memoizes n distinct (int, str, int) tuples.
var small = func() pickle.Limits { l := pickle.DefaultLimits; l.MaxHeld = 256 << 10; return l }()

func fill(p *gen.P, n int) *gen.P {
	for i := 0; i < n; i++ {
		p.Int(i).BinUnicode("row " + itoa(i)).Memoize().Int(i).Raw(0x87).Memoize().Pop()
	}
	return p
}

const filled = 4000 // tuples of fill: more than small's budget holds (2 memo entries each)

func walkSmall(b []byte) pickle.Result { return pickle.Walk(bytes.NewReader(b), small) }

func wantForgot(t *testing.T, r pickle.Result) {
	t.Helper()
	if !strings.Contains(r.Limit, "dropped from memory") {
		t.Fatalf("want the forgotten value reported unverified, got limit %q break %v embedded %q imports %v",
			r.Limit, r.Break, r.Embedded, verdicts(r))
	}
}

// A value memoized past the budget loses its content. Used where the
// verdict needs the content, the walk stops unverified (MLG111), never
// reads it as something else; elsewhere it is harmless and the walk goes on.
func TestForgottenValues(t *testing.T) {
	base := 2 * filled // memo index after fill
	t.Run("payload-after-forgotten-is-found", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(4), filled)
		p.Mark().Int(1).BinUnicode("x").Raw(0x86).Memoize().Get(base).Tuple().Pop() // a forgotten tuple used as data
		p.Global("os", "system").BinUnicode("id").Tuple1().Reduce().Stop()
		r := walkSmall(p.B)
		if r.Limit != "" || r.Break != nil || verdicts(r)["os.system"] != pickle.Dangerous {
			t.Fatalf("limit %q break %v imports %v", r.Limit, r.Break, verdicts(r))
		}
	})
	t.Run("string-forgotten-then-global", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(4), filled)
		p.BinUnicode("os").Memoize().Pop().Get(base).BinUnicode("system").StackGlobal().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	t.Run("string-revived-by-its-use", func(t *testing.T) {
		// The pickler's pattern: a module name memoized, used at once, and
		// fetched again for the next global from that module.
		p := fill((&gen.P{}).Proto(4), filled)
		p.BinUnicode("collections").Memoize().BinUnicode("OrderedDict").Memoize().StackGlobal().Memoize().Pop()
		p.Get(base).BinUnicode("Counter").Memoize().StackGlobal().Stop()
		r := walkSmall(p.B)
		if r.Limit != "" || r.Break != nil || verdicts(r)["collections.Counter"] != pickle.Safe {
			t.Fatalf("limit %q break %v imports %v", r.Limit, r.Break, verdicts(r))
		}
	})
	t.Run("string-overwritten-is-not-revived", func(t *testing.T) {
		// The slot a forgotten name sat in now holds another forgotten
		// string: using the name must not bring it back there.
		p := fill((&gen.P{}).Proto(4), filled)
		p.BinUnicode("collections").Put(base).Pop().BinUnicode("os").Put(base).Pop()
		p.BinUnicode("collections").BinUnicode("OrderedDict").StackGlobal().Pop()
		p.Get(base).BinUnicode("system").StackGlobal().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	t.Run("tuple-as-dtype-args", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(4), filled)
		p.BinUnicode("<f8").Raw(0x89, 0x88, 0x87).Memoize().Pop()
		p.Global("numpy", "dtype").Get(base).Reduce().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	t.Run("string-as-dtype", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(4), filled)
		p.BinUnicode("O").Memoize().Pop()
		p.Global("numpy", "dtype").Get(base).Raw(0x89, 0x88, 0x87).Reduce().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	t.Run("tuple-as-reconstructor-args", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(2), filled)
		p.Global("builtins", "object").Global("builtins", "object").None().Raw(0x87).Memoize().Pop()
		p.Global("copyreg", "_reconstructor").Get(base).Reduce().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	t.Run("tuple-as-dtype-state", func(t *testing.T) {
		p := fill((&gen.P{}).Proto(4), filled)
		p.Mark().Int(3).BinUnicode("|").None().Mark().BinUnicode("f0").Tuple().None().Int(8).Int(1).Int(0).Tuple().Memoize().Pop()
		p.Global("numpy", "dtype").BinUnicode("V8").Raw(0x89, 0x88, 0x87).Reduce().Get(base).Build().Stop()
		wantForgot(t, walkSmall(p.B))
	})
	for _, c := range []struct {
		name  string
		shape func(p *gen.P)
	}{
		// A shape tuple memoized past the budget, fetched back as the
		// joblib wrapper's shape: its size is unknown, so is the data.
		{"joblib-shape", func(p *gen.P) {
			fill(p, filled)
			p.Int(3).Tuple1().Memoize().Pop().Get(base)
		}},
		// A shape entry forgotten (an int memoized past the budget).
		{"joblib-shape-entry", func(p *gen.P) {
			fill(p, filled)
			p.Int(3).Memoize().Pop().Get(base).Tuple1()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := gen.Joblib(gen.JoblibOpts{Shape: c.shape, Dtype: "<f8", Align: -1, Data: make([]byte, 24), Proto: 4,
				AfterData: func(p *gen.P) { p.Pop().Global("os", "system").Unicode("id").Tuple1().Reduce() }})
			wantForgot(t, walkSmall(b))
			// The same stream under the default budget is followed to os.system.
			if r := walk(b); r.Limit != "" || r.Embedded != "" || verdicts(r)["os.system"] != pickle.Dangerous {
				t.Fatalf("default limits: limit %q embedded %q imports %v", r.Limit, r.Embedded, verdicts(r))
			}
		})
	}
	t.Run("joblib-key-forgotten", func(t *testing.T) {
		// "shape" memoized past the budget and fetched as a key: it may be
		// any key, so the wrapper's state is unknown.
		b := gen.Joblib(gen.JoblibOpts{Shape: func(p *gen.P) {
			p.Int(3).Tuple1()
			fill(p, filled)
			p.BinUnicode("shape").Memoize().Pop().Get(base).Int(3).Tuple1()
		}, Dtype: "<f8", Align: -1, Data: make([]byte, 24), Proto: 4})
		wantForgot(t, walkSmall(b))
	})
}
