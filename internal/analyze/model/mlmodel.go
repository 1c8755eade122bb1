package model

import (
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pathKeys name files or directories inside the model directory.
var pathKeys = map[string]bool{
	"model_path": true, "pickled_model": true, "data": true, "python_model": true, "code": true,
	"code_paths": true, "model_data": true, "artifacts": true, "path": true, "model_code_path": true,
	"saved_model_dir": true, "keras_model_path": true,
}

func (s *scan) mlmodel(r *io.SectionReader, member string) {
	b, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		s.fail("read", member, "MLmodel: %v", err)
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		s.fail("parse", member, "MLmodel is not valid YAML: %v", err)
		return
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		s.fail("parse", member, "MLmodel is not a YAML mapping")
		return
	}
	flavors := mapGet(doc.Content[0], "flavors")
	if flavors == nil || flavors.Kind != yaml.MappingNode {
		s.fail("parse", member, "MLmodel has no flavors mapping")
		return
	}
	for i := 0; i+1 < len(flavors.Content); i += 2 {
		name, fl := flavors.Content[i].Value, flavors.Content[i+1]
		if fl.Kind != yaml.MappingNode {
			continue
		}
		if sf := mapGet(fl, "serialization_format"); sf != nil {
			switch strings.ToLower(sf.Value) {
			case "pickle", "cloudpickle", "joblib", "dill":
				s.addAt("MLG101", member, sf.Line, fmt.Sprintf("flavor %s is serialized with %s; loading it runs pickle", name, sf.Value))
			}
		}
		if lm := mapGet(fl, "loader_module"); lm != nil && lm.Value != "" && !strings.HasPrefix(lm.Value, "mlflow.") {
			s.addAt("MLG108", member, lm.Line, fmt.Sprintf("flavor %s loads through loader_module %q, code outside MLflow that runs on load", name, lm.Value))
		}
		if pm := mapGet(fl, "python_model"); pm != nil && pm.Value != "" {
			s.addAt("MLG108", member, pm.Line, fmt.Sprintf("flavor %s has a cloudpickled python_model %q that runs on load", name, pm.Value))
		}
		for _, key := range []string{"code", "code_paths"} {
			if c := mapGet(fl, key); c != nil && !(c.Kind == yaml.ScalarNode && (c.Value == "" || c.Tag == "!!null")) {
				s.addAt("MLG108", member, c.Line, fmt.Sprintf("flavor %s ships code (%s) that is imported on load", name, key))
			}
		}
		s.paths(fl, member, "", 0)
	}
}

// paths reports path values that leave the model directory.
func (s *scan) paths(n *yaml.Node, member, key string, depth int) {
	if depth > 16 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if pathKeys[k] || pathKeys[key] {
				s.paths(n.Content[i+1], member, k, depth+1)
			} else if n.Content[i+1].Kind != yaml.ScalarNode {
				s.paths(n.Content[i+1], member, k, depth+1)
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s.paths(c, member, key, depth+1)
		}
	case yaml.ScalarNode:
		if pathKeys[key] && n.Tag != "!!null" && escapes(n.Value) {
			s.addAt("MLG109", member, n.Line, fmt.Sprintf("MLmodel %s %q resolves outside the model directory", key, n.Value))
		}
	}
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
