package pickle_test

import (
	"bytes"
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
	lim := pickle.DefaultLimits
	lim.MaxOps = 100000
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
	})
}
