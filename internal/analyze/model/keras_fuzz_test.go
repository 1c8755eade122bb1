package model_test

import (
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

// FuzzKerasConfig feeds config.json of a .keras zip: no panic, bounded.
func FuzzKerasConfig(f *testing.F) {
	f.Add(gen.KerasConfig(true))
	f.Add(gen.KerasConfig(false))
	f.Add([]byte(`{"class_name": "Dense", "config": {"x": NaN, "y": -Infinity, "activation": {"value": ["` + codeObject("os", "system") + `", null]}}}`))
	f.Add([]byte(`{"class_name": "Lambda", "config": {"function": ["` + codeObject("x") + `"], "function_type": "lambda"}}`))
	f.Add([]byte(strings.Repeat(`{"config": [`, 3000)))
	f.Add([]byte(`{"module": "os", "class_name": "function", "config": "system"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzOne(t, "m.keras", gen.Zip(gen.ZipMember{Name: "config.json", Data: b}))
	})
}
