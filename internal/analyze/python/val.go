package python

import (
	"strconv"
	"strings"
)

// taint bits say where a value may come from. Zero means "built only from
// literals and constants of this file".
type taint uint16

const (
	tUser  taint = 1 << iota // request data, web handler parameters, input()
	tCLI                     // sys.argv, argparse, CLI command parameters: the operator's input
	tEnv                     // environment variables
	tParam                   // parameter of a public function: the caller decides
	tFree                    // a name bound nowhere in the file (snippet input)
	tDown                    // a downloaded artifact (its path or its content)
	tComp                    // computed by code the analyzer does not model
)

// untrusted is what a validation guard removes.
const untrusted = tUser | tCLI | tEnv | tParam | tFree

// hole marks an unknown part inside a string template.
const hole = "\x00"

// val is the abstract value of an expression.
type val struct {
	t       taint
	src     string // where the untrusted part comes from, for messages
	tmpl    string // string value; unknown parts are hole
	hasStr  bool
	num     float64
	hasNum  bool
	boolv   bool
	hasBool bool
	none    bool
	qual    string // module, function or class ("mlflow.pyfunc.load_model")
	inst    string // instance type ("mlflow.MlflowClient", "file")
	dict    *dictv
	list    []*val
	isList  bool
	envKey  string // os.environ key this value was read from
	envMap  bool   // the whole environment
	objDump bool   // vars(obj), obj.__dict__, settings.dict()
	file    *val   // path of an opened file
	bounded bool   // length-capped (x[:250])
	home    bool   // the user's home directory
	pinned  bool   // every branch joined here fixed a model location (ownvalues.go)
	copied  bool   // a stage or alias read from another model version (ownvalues.go)
	own     bool   // derived from the model's own packaged context, nothing untrusted (ownvalues.go)
	from    []string
	callees []string // a value picked from a table of the file's own functions (callers.go)
}

type dictv struct {
	keys    []string
	vals    map[string]*val
	unknown taint // taint of entries with computed keys
	hasComp bool  // some keys are not literal
}

var unknownVal = &val{t: tComp}

func strVal(s string) *val { return &val{tmpl: s, hasStr: true} }

// known reports whether v is a fully known string.
func (v *val) known() bool { return v != nil && v.hasStr && !strings.Contains(v.tmpl, hole) }

// prefix is the known leading part of a string value.
func (v *val) prefix() string {
	if v == nil || !v.hasStr {
		return ""
	}
	if i := strings.Index(v.tmpl, hole); i >= 0 {
		return v.tmpl[:i]
	}
	return v.tmpl
}

// literalText is the string with holes shown as "{}"; for pattern checks.
func (v *val) literalText() string {
	if v == nil || !v.hasStr {
		return ""
	}
	return strings.ReplaceAll(v.tmpl, hole, "{}")
}

func (v *val) isTrue() bool { return v != nil && v.hasBool && v.boolv }

// asString renders scalar constants as Python would for f-strings.
func (v *val) asString() (string, bool) {
	switch {
	case v == nil:
		return "", false
	case v.hasStr:
		return v.tmpl, true
	case v.hasNum:
		return strconv.FormatFloat(v.num, 'f', -1, 64), true
	case v.hasBool:
		if v.boolv {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// derive makes a value that depends on the given ones: taint, source and
// origins carry over, everything else is unknown.
func derive(extra taint, vs ...*val) *val {
	out := &val{t: extra}
	allCopied, some, anyOwn := true, false, false
	for _, v := range vs {
		if v == nil {
			continue
		}
		some, allCopied, anyOwn = true, allCopied && v.copied, anyOwn || v.own
		out.t |= v.t
		if out.src == "" && v.t&(untrusted|tDown) != 0 {
			out.src = v.src
		}
		out.from = appendUniq(out.from, v.from...)
		if v.envMap {
			out.envMap = true
		}
		if v.objDump {
			out.objDump = true
		}
		if v.home {
			out.home = true
		}
	}
	out.copied = some && allCopied
	out.own = anyOwn && out.t&(untrusted|tDown) == 0
	return out
}

// join merges two possible values of one variable (after a branch).
func join(a, b *val) *val {
	if a == b || b == nil {
		return a
	}
	if a == nil {
		return b
	}
	out := *a
	out.t |= b.t
	if out.src == "" {
		out.src = b.src
	}
	out.from = appendUniq(append([]string(nil), a.from...), b.from...)
	out.callees = appendUniq(append([]string(nil), a.callees...), b.callees...)
	out.pinned = pinnedLocation(a) && pinnedLocation(b)
	out.copied = a.copied && b.copied
	out.own = a.own && b.own
	if a.tmpl != b.tmpl || a.hasStr != b.hasStr {
		out.hasStr, out.tmpl = false, ""
		if a.hasStr && b.hasStr {
			// both branches fix the same start ("models:/" in
			// f"models:/{n}@{alias}" and f"models:/{n}/{v}"): keep it
			if p := commonPrefix(a.prefix(), b.prefix()); p != "" {
				out.hasStr, out.tmpl = true, p+hole
			}
		}
	}
	out.bounded = a.bounded && b.bounded
	return &out
}

// Caps on what one abstract value holds, so that no value grows with the
// file: a longer template ends in a hole, further origins are dropped (which
// only keeps a guard from clearing them), further list elements and dict
// keys are folded into the container's unknown part.
const (
	maxTmpl  = 8 << 10
	maxFrom  = 64
	maxElems = 1024
)

// capTmpl is a+b, cut at maxTmpl with a hole at the cut.
func capTmpl(a, b string) string {
	if len(a)+len(b) <= maxTmpl {
		return a + b
	}
	if len(a) >= maxTmpl {
		if strings.HasSuffix(a, hole) {
			return a
		}
		return a[:maxTmpl] + hole
	}
	return a + b[:maxTmpl-len(a)] + hole
}

func appendUniq(dst []string, xs ...string) []string {
outer:
	for _, x := range xs {
		if len(dst) >= maxFrom {
			return dst
		}
		for _, d := range dst {
			if d == x {
				continue outer
			}
		}
		dst = append(dst, x)
	}
	return dst
}

// concat joins two string values (a + b, adjacent literals, f-string parts).
func concat(a, b *val) *val {
	out := derive(0, a, b)
	as, aok := a.asString()
	bs, bok := b.asString()
	if !aok {
		as = hole
	}
	if !bok {
		bs = hole
	}
	out.tmpl, out.hasStr = capTmpl(as, bs), true
	return out
}

// cleaned is v after a validation guard: caller-controlled taint is gone;
// a downloaded value is still not known safe.
func cleaned(v *val) *val {
	if v == nil || v.t&(untrusted|tDown) == 0 {
		return v
	}
	out := *v
	if out.t&tDown != 0 {
		out.t = out.t&^tDown | tComp
	}
	out.t &^= untrusted
	out.src = ""
	return &out
}
