package model

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// pathKeys name files or directories inside the model directory.
// model_code_path is not one: MLflow records the source path it was saved
// from (often absolute) and loads os.path.basename of it from the model
// directory.
var pathKeys = map[string]bool{
	"model_path": true, "pickled_model": true, "data": true, "python_model": true, "code": true,
	"code_paths": true, "model_data": true, "artifacts": true, "path": true,
	"saved_model_dir": true, "keras_model_path": true,
}

func (s *scan) mlmodel(r *io.SectionReader, member string) {
	b, err := io.ReadAll(io.LimitReader(r, maxMLmodelBytes+1))
	if err != nil {
		s.fail("read", member, "MLmodel: %v", err)
		return
	}
	if len(b) > maxMLmodelBytes {
		s.fail("size", member, "MLmodel larger than %d MiB not checked", maxMLmodelBytes>>20)
		return
	}
	problems, err := JudgeMLmodel(b)
	if err != nil {
		cause := "parse"
		var me *MLmodelError
		if errors.As(err, &me) {
			cause = me.Cause
		}
		s.fail(cause, member, "%v", err)
		return
	}
	for _, p := range problems {
		s.addAt(p.RuleID, member, p.Line, p.Message)
	}
}

const maxMLmodelBytes = 16 << 20

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
	root, err := resolveYAML(b)
	if err != nil {
		return nil, err
	}
	if root.kind != yMap {
		return nil, yerr("parse", "MLmodel is not a YAML mapping")
	}
	flavors := root.get("flavors")
	if flavors == nil || flavors.kind != yMap {
		return nil, yerr("parse", "MLmodel has no flavors mapping")
	}
	var out []MLmodelProblem
	add := func(rule string, line int, msg string, args ...any) {
		out = append(out, MLmodelProblem{RuleID: rule, Line: line, Message: fmt.Sprintf(msg, args...)})
	}
	for i, key := range flavors.keys {
		name, fl := bare(key), flavors.vals[i]
		if fl.kind != yMap {
			continue
		}
		sf := fl.get("serialization_format")
		switch {
		case sf != nil && sf.kind == yStr && pickleFormats[strings.ToLower(sf.str)]:
			add("MLG101", sf.line, "flavor %s is serialized with %s; loading it runs pickle", name, bare(sf))
		case sf == nil:
			if pm := fl.get("pickled_model"); pm != nil && pm.kind == yStr && hasPickleExt(pm.str) {
				add("MLG101", pm.line, "flavor %s loads the pickle %s; loading it runs pickle", name, show(pm))
			}
		}
		if pm := fl.get("pickle_module_name"); pm.truthy() {
			add("MLG101", pm.line, "flavor %s saves the whole model with pickle module %s; loading it runs pickle", name, bare(pm))
		}
		// importlib.import_module(conf["loader_module"]): only a str loads.
		if lm := fl.get("loader_module"); lm != nil && lm.kind == yStr && lm.str != "" && lm.str != "mlflow" && !strings.HasPrefix(lm.str, "mlflow.") {
			add("MLG108", lm.line, "flavor %s loads through loader_module %s, code outside MLflow that runs on load", name, show(lm))
		}
		if pm := fl.get("python_model"); pm.truthy() {
			add("MLG108", pm.line, "flavor %s has a cloudpickled python_model %s that runs on load", name, show(pm))
		}
		if mc := fl.get("model_code_path"); mc.truthy() {
			add("MLG108", mc.line, "flavor %s is a model from code: %s is executed on load; review it", name, codeFile(mc))
		}
		for _, key := range []string{"code", "code_paths"} {
			// MLflow tests `if conf[code_key]`: only a truthy value adds code.
			if c := fl.get(key); c.truthy() {
				add("MLG108", c.line, "flavor %s ships code (%s) that is imported on load", name, key)
			}
		}
		if err := escapingPaths(fl, func(key string, n *yval) {
			add("MLG109", n.line, "MLmodel %s %s resolves outside the model directory", key, show(n))
		}); err != nil {
			return nil, err
		}
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

// maxPathVisits bounds the walk over a flavor's values: aliases make the
// tree a DAG whose unfolding can be exponential (billion laughs).
const maxPathVisits = 100_000

// escapingPaths calls report for every path value under n that leaves the
// model directory. It walks with an explicit stack and visits each shared
// value once per key, so alias bombs and cycles stay linear; a cap still
// bounds the walk.
func escapingPaths(n *yval, report func(key string, n *yval)) error {
	type item struct {
		v   *yval
		key string
	}
	stack := []item{{n, ""}}
	// Aliases share values and may form cycles: each (value, key) once.
	seen := map[item]bool{}
	visits := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[it] {
			continue
		}
		seen[it] = true
		visits++
		if visits > maxPathVisits {
			return yerr("limit", "MLmodel flavor expands to more than %d values (alias bomb)", maxPathVisits)
		}
		switch it.v.kind {
		case yMap:
			for i := len(it.v.keys) - 1; i >= 0; i-- {
				k, v := it.v.keys[i], it.v.vals[i]
				if k.kind != yStr {
					continue
				}
				if pathKeys[k.str] || pathKeys[it.key] || v.kind == yMap || v.kind == ySeq {
					stack = append(stack, item{v, k.str})
				}
			}
		case ySeq:
			for i := len(it.v.items) - 1; i >= 0; i-- {
				stack = append(stack, item{it.v.items[i], it.key})
			}
		case yStr:
			if pathKeys[it.key] && escapes(it.v.str) {
				report(it.key, it.v)
			}
		}
	}
	return nil
}

// codeFile names the file a models-from-code pyfunc runs: MLflow records
// the path the model was saved from and loads os.path.basename of it from
// the model directory, so the recorded path is shown as provenance only.
func codeFile(v *yval) string {
	if v.kind != yStr {
		return show(v)
	}
	base := v.str[strings.LastIndexByte(v.str, '/')+1:]
	if base == v.str {
		return show(v)
	}
	return fmt.Sprintf("%s in the model directory (saved from %s)", show(&yval{kind: yStr, str: base}), show(v))
}

// maxShown caps a value quoted in a message.
const maxShown = 200

var detector = sync.OnceValue(secrets.New)

// show quotes a value for a message. The MLmodel is attacker-written and
// may carry credentials: what the secrets detectors flag is masked, and
// long values are cut.
func show(v *yval) string {
	if v.kind != yStr {
		return "<" + v.kind.String() + ">"
	}
	s := detector().RedactAll(v.str)
	if len(s) > maxShown {
		s = strings.ToValidUTF8(s[:maxShown], "") + "..."
	}
	return strconv.Quote(s)
}

// bare is show without the quotes where they are not needed: a value of
// plain printable characters only.
func bare(v *yval) string {
	q := show(v)
	if u, err := strconv.Unquote(q); err == nil && strconv.Quote(u) == q && !strings.ContainsAny(u, " \"") && u != "" {
		return u
	}
	return q
}
