package model_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

// codeObject is base64 of bytes shaped like marshal.dumps of a code object
// whose names are the given ones (short interned strings with FLAG_REF).
func codeObject(names ...string) string {
	raw := []byte{0xe3, 1, 0, 0, 0, 0, 0, 0, 0}
	for _, n := range names {
		raw = append(raw, 0xda, byte(len(n)))
		raw = append(raw, n...)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func kerasRules(t *testing.T, files map[string][]byte) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	for _, e := range es {
		t.Errorf("error: %s", e)
	}
	got := map[string][]string{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.RuleID)
	}
	out := map[string]string{}
	for p, rs := range got {
		sort.Strings(rs)
		out[p] = strings.Join(rs, " ")
	}
	return out
}

func kerasZip(config string, withMetadata bool) []byte {
	ms := []gen.ZipMember{{Name: "config.json", Data: []byte(config), Deflate: true},
		{Name: "model.weights.h5", Data: []byte("\x89HDF\r\n\x1a\n")}}
	if withMetadata {
		ms = append(ms, gen.ZipMember{Name: "metadata.json", Data: []byte(`{"keras_version": "3.15.1"}`)})
	}
	return gen.Zip(ms...)
}

func TestKerasConfigs(t *testing.T) {
	dense := `{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 2, "activation": {"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": null}}}`
	lambda := `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "` + codeObject("x") + `", "defaults": null, "closure": null}}}}`
	wrap := func(layers ...string) string {
		return `{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [` + strings.Join(layers, ", ") + `]}}`
	}
	nest := func(inner string, depth int) string {
		head, tail, _ := strings.Cut(wrap("\x00"), "\x00")
		return strings.Repeat(head, depth) + inner + strings.Repeat(tail, depth)
	}
	cases := []struct {
		name, config string
		meta         bool
		want         string
	}{
		{"clean", wrap(dense), true, ""},
		{"clean without metadata", wrap(dense), false, ""},
		{"lambda without metadata.json", wrap(lambda), false, "MLG108"},
		// Python's json reads NaN and Infinity; a Lambda after one is still found.
		{"NaN", strings.Replace(wrap(`{"class_name": "Dense", "config": {"l1": NaN, "l2": -Infinity, "max": Infinity}}`, lambda), "", "", 1), true, "MLG108"},
		// Nesting deeper than the old silent limit of 200.
		{"deep lambda", nest(lambda, 400), true, "MLG108"},
		// Deeper than Python's json goes (it raises RecursionError, Keras
		// cannot load it): still walked, still reported.
		{"too deep", nest(lambda, 20000), true, "MLG108"},
		{"lambda activation (Keras 3)", wrap(`{"class_name": "Dense", "config": {"activation": {"class_name": "__lambda__", "config": {"value": "` + codeObject("x") + `"}}}}`), true, "MLG108"},
		{"lambda activation (Keras 3.15 list form)", wrap(`{"class_name": "Dense", "config": {"activation": {"value": ["` + codeObject("x") + `", null, null]}}}`), true, "MLG108"},
		{"Keras 2 lambda", wrap(`{"class_name": "Lambda", "config": {"name": "l", "function": ["` + codeObject("x") + `", null, null], "function_type": "lambda"}}`), true, "MLG108"},
		{"dangerous bytecode", wrap(`{"class_name": "Dense", "config": {"activation": {"class_name": "__lambda__", "config": {"value": "` + codeObject("os", "system") + `"}}}}`), true, "MLG106"},
		{"dangerous lambda layer", wrap(`{"class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "` + codeObject("__import__", "x") + `"}}}}`), true, "MLG106 MLG108"},
		{"function from os", wrap(`{"class_name": "Dense", "config": {"activation": {"module": "os", "class_name": "function", "config": "system"}}}`), true, "MLG106"},
		{"class from subprocess", wrap(`{"module": "subprocess", "class_name": "Popen", "config": {"args": "id"}}`), true, "MLG106"},
		{"custom registered layer", wrap(`{"module": "my_project.layers", "class_name": "MyDense", "config": {}, "registered_name": "my_project>MyDense"}`), true, ""},
		{"bytecode that does not decode", wrap(`{"class_name": "Dense", "config": {"activation": {"value": "4wEAAAAA!!!!AAAAAAAAAAAAAAA"}}}`), true, "MLG111"},
		{"not JSON", `{"class_name": "Lambda", `, true, "MLG111"},
		{"duplicate class_name, last wins", `{"class_name": "Dense", "class_name": "Lambda", "config": {"name": "x"}}`, true, "MLG108"},
	}
	files := map[string][]byte{}
	want := map[string]string{}
	for i, c := range cases {
		name := fmt.Sprintf("c%02d.keras", i)
		files[name] = kerasZip(c.config, c.meta)
		want[name] = c.want
	}
	got := kerasRules(t, files)
	for i, c := range cases {
		name := fmt.Sprintf("c%02d.keras", i)
		if got[name] != want[name] {
			t.Errorf("%s: got %q, want %q", c.name, got[name], want[name])
		}
	}
}

// TestKerasH5 covers the legacy H5 model_config as Keras 3 writes it
// (module before class_name) and NaN in it.
func TestKerasH5(t *testing.T) {
	h5 := func(config string) []byte {
		out := []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00")
		out = append(out, make([]byte, 300)...)
		out = append(out, "model_config\x00\x00\x00\x00"...)
		out = append(out, config...)
		return append(append(out, 0), make([]byte, 100)...)
	}
	got := kerasRules(t, map[string][]byte{
		"k3.h5":     h5(`{"module": "keras", "class_name": "Functional", "config": {"layers": [{"class_name": "Dense", "config": {"x": NaN}}]}}`),
		"k3lam.h5":  h5(`{"module": "keras", "class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "l", "x": Infinity}}]}}`),
		"k2lam.h5":  h5(`{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "l"}}]}}`),
		"hidden.h5": []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00model_config\x00\x00\x00\x00\x78\x9c\x01\x02"),
	})
	want := map[string]string{"k3lam.h5": "MLG108", "k2lam.h5": "MLG108", "hidden.h5": "MLG111"}
	for _, f := range []string{"k3.h5", "k3lam.h5", "k2lam.h5", "hidden.h5"} {
		if got[f] != want[f] {
			t.Errorf("%s: got %q, want %q", f, got[f], want[f])
		}
	}
}

// TestKerasDirectoryConfig: keras.saving.load_model(dir) reads a model
// directory's config.json, so one that is a Keras config is judged; any
// other config.json is not a model file.
func TestKerasDirectoryConfig(t *testing.T) {
	lambda := `{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "` + codeObject("x") + `", "defaults": null, "closure": null}}}}]}}`
	dir := t.TempDir()
	for name, body := range map[string]string{"model/config.json": lambda, "tool/config.json": `{"name": "x", "config": [1, 2], // not JSON`} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	var got []string
	for _, f := range fs {
		got = append(got, f.Path+" "+f.RuleID)
	}
	if strings.Join(got, ",") != "model/config.json MLG108" || len(es) != 0 {
		t.Fatalf("got %v errors %v", got, es)
	}
}
