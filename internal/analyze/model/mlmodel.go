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
	problems, err := JudgeMLmodel(b)
	if err != nil {
		s.fail("parse", member, "%v", err)
		return
	}
	for _, p := range problems {
		s.addAt(p.RuleID, member, p.Line, p.Message)
	}
}

// MLmodelProblem is one rule violation in an MLmodel file.
type MLmodelProblem struct {
	RuleID  string
	Line    int
	Message string
}

// pickleFormats are serialization_format values that mean pickle on load.
var pickleFormats = map[string]bool{"pickle": true, "cloudpickle": true, "joblib": true, "dill": true}

// JudgeMLmodel judges an MLmodel file's flavors: pickle-based serialization
// (MLG101), code that runs on load (MLG108) and paths that leave the model
// directory (MLG109). The scan and the auditor (which downloads only the
// MLmodel of each registered version) share it. The error says why the file
// could not be judged.
func JudgeMLmodel(b []byte) ([]MLmodelProblem, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("MLmodel is not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("MLmodel is not a YAML mapping")
	}
	flavors := mapGet(doc.Content[0], "flavors")
	if flavors == nil || flavors.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("MLmodel has no flavors mapping")
	}
	var out []MLmodelProblem
	add := func(rule string, line int, msg string, args ...any) {
		out = append(out, MLmodelProblem{RuleID: rule, Line: line, Message: fmt.Sprintf(msg, args...)})
	}
	for i := 0; i+1 < len(flavors.Content); i += 2 {
		name, fl := flavors.Content[i].Value, flavors.Content[i+1]
		if fl.Kind != yaml.MappingNode {
			continue
		}
		sf := mapGet(fl, "serialization_format")
		switch {
		case sf != nil && pickleFormats[strings.ToLower(sf.Value)]:
			add("MLG101", sf.Line, "flavor %s is serialized with %s; loading it runs pickle", name, sf.Value)
		case sf == nil:
			if pm := mapGet(fl, "pickled_model"); pm != nil && hasPickleExt(pm.Value) {
				add("MLG101", pm.Line, "flavor %s loads the pickle %q; loading it runs pickle", name, pm.Value)
			}
		}
		if pm := mapGet(fl, "pickle_module_name"); pm != nil && pm.Value != "" {
			add("MLG101", pm.Line, "flavor %s saves the whole model with pickle module %s; loading it runs pickle", name, pm.Value)
		}
		if lm := mapGet(fl, "loader_module"); lm != nil && lm.Value != "" && lm.Value != "mlflow" && !strings.HasPrefix(lm.Value, "mlflow.") {
			add("MLG108", lm.Line, "flavor %s loads through loader_module %q, code outside MLflow that runs on load", name, lm.Value)
		}
		if pm := mapGet(fl, "python_model"); pm != nil && pm.Value != "" {
			add("MLG108", pm.Line, "flavor %s has a cloudpickled python_model %q that runs on load", name, pm.Value)
		}
		for _, key := range []string{"code", "code_paths"} {
			if c := mapGet(fl, key); c != nil && !(c.Kind == yaml.ScalarNode && (c.Value == "" || c.Tag == "!!null")) && !(c.Kind != yaml.ScalarNode && len(c.Content) == 0) {
				add("MLG108", c.Line, "flavor %s ships code (%s) that is imported on load", name, key)
			}
		}
		escapingPaths(fl, "", 0, func(key string, n *yaml.Node) {
			add("MLG109", n.Line, "MLmodel %s %q resolves outside the model directory", key, n.Value)
		})
	}
	return out, nil
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

// escapingPaths calls report for every path value under n that leaves the
// model directory.
func escapingPaths(n *yaml.Node, key string, depth int, report func(key string, n *yaml.Node)) {
	if depth > 16 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if pathKeys[k] || pathKeys[key] {
				escapingPaths(n.Content[i+1], k, depth+1, report)
			} else if n.Content[i+1].Kind != yaml.ScalarNode {
				escapingPaths(n.Content[i+1], k, depth+1, report)
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			escapingPaths(c, key, depth+1, report)
		}
	case yaml.ScalarNode:
		if pathKeys[key] && n.Tag != "!!null" && escapes(n.Value) {
			report(key, n)
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
