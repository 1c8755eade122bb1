package audit

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MLmodel is the part of an MLflow MLmodel file the audit judges: each
// flavor's settings as loose YAML values.
type MLmodel struct {
	Flavors map[string]map[string]any
}

// ParseMLmodel reads an MLmodel YAML document. The error names the line.
func ParseMLmodel(b []byte) (*MLmodel, error) {
	var doc struct {
		Flavors map[string]any `yaml:"flavors"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("MLmodel: %w", err)
	}
	m := &MLmodel{Flavors: map[string]map[string]any{}}
	for name, v := range doc.Flavors {
		switch fv := v.(type) {
		case map[string]any:
			m.Flavors[name] = fv
		case nil:
			m.Flavors[name] = map[string]any{}
		default:
			return nil, fmt.Errorf("MLmodel: flavor %q is a %T, want a mapping", name, v)
		}
	}
	if len(m.Flavors) == 0 {
		return nil, fmt.Errorf("MLmodel: no flavors")
	}
	return m, nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// nonEmpty reports whether a YAML value is set (not null, "", [] or {}).
func nonEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pickleFormats are serialization_format values that mean pickle on load.
var pickleFormats = map[string]bool{"pickle": true, "cloudpickle": true, "joblib": true, "dill": true}

// Problems lists the MLG101 (pickle-based format) and MLG108 (runs code on
// load) problems, one per flavor setting, in a stable order.
func (m *MLmodel) Problems() []problem {
	names := make([]string, 0, len(m.Flavors))
	for n := range m.Flavors {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []problem
	for _, name := range names {
		f := m.Flavors[name]
		if sf := strings.ToLower(str(f["serialization_format"])); pickleFormats[sf] {
			out = append(out, problem{"MLG101", fmt.Sprintf("flavor %s is serialized with %s (%s): loading it runs pickle; log it with skops or ONNX instead", name, sf, str(f["pickled_model"]))})
		} else if pm := str(f["pickled_model"]); sf == "" && hasPickleExt(pm) {
			out = append(out, problem{"MLG101", fmt.Sprintf("flavor %s loads the pickle %s", name, pm)})
		}
		if pm := str(f["pickle_module_name"]); pm != "" {
			out = append(out, problem{"MLG101", fmt.Sprintf("flavor %s saves the whole model with pickle module %s: loading it runs pickle", name, pm)})
		}
		if name == "python_function" {
			if lm := str(f["loader_module"]); lm != "" && lm != "mlflow" && !strings.HasPrefix(lm, "mlflow.") {
				out = append(out, problem{"MLG108", fmt.Sprintf("python_function loader_module %s is not part of MLflow: loading the model imports and runs it", lm)})
			}
			if pm := str(f["python_model"]); pm != "" {
				out = append(out, problem{"MLG108", fmt.Sprintf("python_function python_model %s is a cloudpickled PythonModel: loading it runs its code", pm)})
			}
		}
		for _, k := range []string{"code", "code_paths"} {
			if nonEmpty(f[k]) {
				out = append(out, problem{"MLG108", fmt.Sprintf("flavor %s ships code (%s: %s) that is put on sys.path when the model loads", name, k, clip(str(f[k]), 100))})
			}
		}
	}
	return out
}

func hasPickleExt(p string) bool {
	p = strings.ToLower(p)
	for _, e := range []string{".pkl", ".pickle", ".joblib", ".dill", ".cloudpickle"} {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}
