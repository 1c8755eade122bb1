package python

import (
	"fmt"
	"strconv"
	"strings"
)

// Parameters of an ordinary library function are the caller's to choose:
// they are not untrusted input by themselves (callerInput excludes tParam).
// What makes them untrusted is a caller in the same file that passes
// operator or request input (a click command, argparse values, a web
// handler). Calls of the file's own module-level functions are recorded
// per argument, and the file is walked again with those facts until they
// stop changing (a chain main -> score -> load is a few passes).

// callerInput is the taint a sink on the caller's own inputs judges.
const callerInput = untrusted &^ tParam

// maxCallerPasses bounds the re-walks; real chains are short.
const maxCallerPasses = 4

// callInKey names one argument slot of a local function: position or keyword.
func callInKey(fn string, pos int, kw string) string {
	if kw != "" {
		return fn + "=" + kw
	}
	return fn + "#" + strconv.Itoa(pos)
}

// recordLocalCall notes what untrusted input a call of one of the file's
// own functions passes in.
func (s *scope) recordLocalCall(c *call) {
	if len(c.callees) > 0 {
		for _, q := range c.callees {
			s.recordLocalCallOf(c, q)
		}
		return
	}
	s.recordLocalCallOf(c, c.qual)
}

// localTable: a dict literal whose values are all the file's own functions
// (a dispatch table: {"onnx": onnx_predict, ...}); nil otherwise.
func localTable(d *val) []string {
	if d == nil || d.dict == nil || len(d.dict.vals) == 0 {
		return nil
	}
	var out []string
	for _, k := range d.dict.keys {
		v := d.dict.vals[k]
		if v == nil || !strings.HasPrefix(v.qual, "local.") || strings.HasPrefix(v.qual, "local.class.") {
			return nil
		}
		out = append(out, v.qual)
	}
	return out
}

func (s *scope) recordLocalCallOf(c *call, qual string) {
	if !strings.HasPrefix(qual, "local.") || strings.HasPrefix(qual, "local.class.") {
		return
	}
	fn := strings.TrimPrefix(qual, "local.")
	line, _ := s.f.s.pos(c.n.start)
	note := func(key string, v *val) {
		if v == nil || v.t&callerInput == 0 {
			return
		}
		if s.f.callOut == nil {
			s.f.callOut = map[string]*val{}
		}
		if old := s.f.callOut[key]; old != nil && old.t&callerInput == v.t&callerInput {
			return
		}
		// a copy keeps what the value is (a pinned runs:/ template stays pinned)
		nv := *v
		nv.t = v.t & callerInput
		nv.src = fmt.Sprintf("%s (passed by the call on line %d)", srcOf(v, "untrusted input"), line)
		s.f.callOut[key] = &nv
	}
	for i, v := range c.pos {
		note(callInKey(fn, i, ""), v)
	}
	for k, v := range c.kw {
		note(callInKey(fn, 0, k), v)
	}
}

// callerTaint is what the file's own callers pass into parameter pn
// (position idx, not counting self) of function fn, or nil.
func (f *fileCtx) callerTaint(fn string, idx int, pn string) *val {
	if v := f.callIn[callInKey(fn, 0, pn)]; v != nil {
		return v
	}
	return f.callIn[callInKey(fn, idx, "")]
}

// sameCallFacts reports whether a pass learned nothing new.
func sameCallFacts(a, b map[string]*val) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w := b[k]; w == nil || w.t != v.t {
			return false
		}
	}
	return true
}
