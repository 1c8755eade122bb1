package model

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestMLmodelNodeCap: a document of many small nodes is refused before
// go-yaml builds its tree; a big quoted signature is not.
func TestMLmodelNodeCap(t *testing.T) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for _, doc := range []string{
		"flavors:\n  a: [" + strings.Repeat("1,", 1<<20) + "1]\n",
		"flavors:\n" + strings.Repeat("  - a\n", 1<<20),
	} {
		_, err := JudgeMLmodel([]byte(doc))
		var me *MLmodelError
		if !errors.As(err, &me) || me.Cause != "limit" {
			t.Errorf("%d-byte document: got %v, want a limit error", len(doc), err)
		}
	}
	runtime.ReadMemStats(&m1)
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 64<<20 {
		t.Errorf("refusing two 2 MB documents allocated %d MB", a>>20)
	}
	sig := `'[{"type": "double", "name": "x", "required": true}` + strings.Repeat(`, {"type": "double", "name": "x", "required": true}`, 50_000) + `]'`
	doc := "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\nsignature:\n  inputs: " + sig + "\n"
	if _, err := JudgeMLmodel([]byte(doc)); err != nil {
		t.Errorf("MLmodel with a %d-byte signature: %v", len(doc), err)
	}
}
