package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

// skops (.skops) is a zip whose schema.json describes the object tree; each
// node names a loader and a (module, class) pair that skops.io.load imports
// with importlib.import_module + getattr. skops refuses types outside its
// default-trusted set unless the caller lists them, but its documented
// pattern is trusted=get_untrusted_types(file=...), which trusts whatever
// the file names. So every pair is judged as a pickle import would be:
// ConstructorFromReduceNode calls it with arguments from the file, the
// container nodes call it with none, FunctionNode and TypeNode hand it to the
// estimator, which calls it at predict time.

// skopsLoaders are the node loaders of skops.io (protocols 0-2, skops 0.16, with the quantile-forest extension)
// and what each does with its (module, class) pair.
var skopsLoaders = map[string]string{
	"DictNode": "calls", "DefaultDictNode": "calls", "ListNode": "calls", "SetNode": "calls",
	"TupleNode": "calls", "ConstructorFromReduceNode": "calls", "ObjectNode": "instantiates",
	"FunctionNode": "imports", "TypeNode": "imports", "MethodNode": "imports", "PartialNode": "imports",
	"OperatorFuncNode": "imports", "SliceNode": "builds", "JsonNode": "builds", "BytesNode": "builds",
	"BytearrayNode": "builds", "NdArrayNode": "builds", "MaskedArrayNode": "builds", "DTypeNode": "builds",
	"RandomStateNode": "instantiates", "RandomGeneratorNode": "instantiates", "SparseMatrixNode": "builds",
	"LossNode": "instantiates", "TreeNode": "instantiates", "_DictWithDeprecatedKeysNode": "instantiates",
	"CachedNode": "refers", "QuantileForestNode": "instantiates",
}

// maxSkopsDepth bounds the node nesting followed (skops itself recurses).
const maxSkopsDepth = 2000

// isSkopsSchema tells a skops schema.json from any other schema.json: its
// root is an object with __loader__ and protocol.
func isSkopsSchema(b []byte) bool {
	head := b[:min(len(b), 4096)]
	return bytes.Contains(head, []byte(`"__loader__"`)) && bytes.Contains(b, []byte(`"protocol"`))
}

func (s *scan) skopsSchema(r *io.SectionReader, e *zipEntry, member string) {
	stream, _, err := s.openMember(r, e)
	if err != nil {
		s.fail("unchecked", member, "skops schema not readable: %v", err)
		return
	}
	b, err := io.ReadAll(io.LimitReader(stream, maxBufferMember+1))
	if err != nil {
		s.fail("unchecked", member, "skops schema not readable: %v", err)
		return
	}
	if len(b) > maxBufferMember {
		s.fail("size", member, "skops schema larger than %d MiB not checked", maxBufferMember>>20)
		return
	}
	if !isSkopsSchema(b) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		s.fail("parse", member, "skops schema is not JSON: %v", err)
		return
	}
	seen := map[string]bool{}
	var loaders []string
	type item struct {
		v     any
		depth int
	}
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxSkopsDepth {
			s.fail("limit", member, "skops schema nested deeper than %d levels not checked", maxSkopsDepth)
			return
		}
		switch v := it.v.(type) {
		case []any:
			for _, x := range v {
				stack = append(stack, item{x, it.depth + 1})
			}
		case map[string]any:
			for _, x := range v {
				stack = append(stack, item{x, it.depth + 1})
			}
			ld, isNode := v["__loader__"]
			if !isNode {
				continue
			}
			loader, _ := ld.(string)
			mod, _ := v["__module__"].(string)
			cls, _ := v["__class__"].(string)
			what, known := skopsLoaders[loader]
			if !known {
				if !seen["loader\x00"+loader] {
					seen["loader\x00"+loader] = true
					loaders = append(loaders, fmt.Sprintf("%q", loader))
				}
				continue
			}
			if what == "refers" || mod == "" && cls == "" {
				continue
			}
			if loader == "OperatorFuncNode" {
				mod = "operator" // skops reads getattr(operator, __class__)
			}
			key := mod + "\x00" + cls
			if seen[key] {
				continue
			}
			seen[key] = true
			s.skopsImport(mod, cls, loader, what, member)
		}
	}
	if len(loaders) > 0 {
		s.fail("unsupported", member, "skops schema uses loaders this scanner does not know: %s", strings.Join(loaders, ", "))
	}
}

func (s *scan) skopsImport(mod, cls, loader, what, member string) {
	v := pickle.Classify(pickle.Import{Module: mod, Name: cls})
	switch v.Kind {
	case pickle.Dangerous:
		s.add("MLG106", member, fmt.Sprintf("skops %s %s %s (%s); skops.io.load runs it once the type is trusted, as trusted=get_untrusted_types(...) does", loader, what, v.Resolved, v.Reason))
	case pickle.Unknown:
		s.add("MLG107", member, fmt.Sprintf("skops %s %s unknown type %s (%s)", loader, what, v.Resolved, v.Reason))
	}
}
