package python

import (
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
)

func TestDbgScanDir(t *testing.T) {
	dir := os.Getenv("DBGDIR")
	if dir == "" {
		t.Skip()
	}
	got, errs := analyzetest.Scan(t, New(analyze.Options{}), dir)
	by := map[string]int{}
	for _, f := range got {
		by[f.RuleID]++
	}
	keys := []string{}
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Println(k, by[k])
	}
	for _, f := range got {
		if os.Getenv("RULE") == f.RuleID {
			fmt.Printf("%s:%d %s | %s\n", f.Path, f.Line, f.Message, f.Snippet)
		}
	}
	fmt.Println("errors", len(errs))
	for i, e := range errs {
		if i < 5 {
			fmt.Println(e)
		}
	}
}
