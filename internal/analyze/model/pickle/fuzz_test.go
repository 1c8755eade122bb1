package pickle_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

func FuzzWalk(f *testing.F) {
	for _, proto := range []byte{0, 1, 2, 3, 4, 5} {
		f.Add(gen.CallGlobal(proto, "os", "system", "id"))
	}
	f.Add((&gen.P{}).Proto(4).Frame(3).Unicode("os").Unicode("system").StackGlobal().Stop().B)
	f.Add((&gen.P{}).Mark().String("id").Inst("os", "system").Stop().B)
	f.Add((&gen.P{}).Proto(2).Ext2(300).Mark().TextUnicode("x").TextPut(1).TextGet(1).Tuple().Stop().B)
	f.Add(fill((&gen.P{}).Proto(4), 40).BinUnicode("os").Memoize().Pop().Get(80).BinUnicode("system").StackGlobal().Stop().B)
	f.Add(fill((&gen.P{}).Proto(4), 40).BinUnicode("os").Memoize().BinUnicode("system").StackGlobal().Get(80).BinUnicode("getcwd").StackGlobal().Stop().B)
	lim := pickle.DefaultLimits
	lim.MaxOps = 100000
	tiny := lim
	tiny.MaxHeld = 4 << 10
	f.Fuzz(func(t *testing.T, b []byte) {
		var r pickle.Result
		done := make(chan struct{})
		go func() { r = pickle.Walk(bytes.NewReader(b), lim); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("walk of %d bytes did not finish in 5 s", len(b))
		}
		if r.Ops > lim.MaxOps {
			t.Fatalf("ops %d over cap", r.Ops)
		}
		for _, imp := range r.Imports {
			_ = pickle.Classify(imp)
		}
		// With a tiny budget for kept values the walk forgets memoized
		// values early. It may then stop unverified (a limit, or data it
		// cannot size), but when it does not, it saw exactly what the
		// full walk saw: forgetting never makes a verdict weaker.
		s := pickle.Walk(bytes.NewReader(b), tiny)
		if s.Limit != "" || s.Embedded != "" {
			return
		}
		if fmt.Sprint(s.Break) != fmt.Sprint(r.Break) || s.Complete != r.Complete || s.Ops != r.Ops ||
			!reflect.DeepEqual(s.Imports, r.Imports) {
			t.Fatalf("tiny budget walked differently without a stop:\n  full: break %v complete %d ops %d imports %+v\n  tiny: break %v complete %d ops %d imports %+v",
				r.Break, r.Complete, r.Ops, r.Imports, s.Break, s.Complete, s.Ops, s.Imports)
		}
	})
}
