package python

import (
	"sort"
	"strings"
)

// call is one call expression with its evaluated callee and arguments.
type call struct {
	n        *node
	qual     string // resolved module function or class, normalised
	recv     *val   // receiver of a method call on a value
	recvText string
	method   string
	pos      []*val
	kw       map[string]*val
	splat    []*val
	star     bool
	callees  []string // the file's own functions a dispatch-table value may be
}

// arg returns the argument by keyword name or position (idx < 0: keyword
// only), looking into **kwargs dict literals too.
func (c *call) arg(name string, idx int) *val {
	if v, ok := c.kw[name]; ok {
		return v
	}
	if idx >= 0 && idx < len(c.pos) {
		return c.pos[idx]
	}
	for _, d := range c.splat {
		if d.dict != nil {
			if v, ok := d.dict.vals[name]; ok {
				return v
			}
		}
	}
	return nil
}

// qualAliases map re-exports onto one canonical name.
var qualAliases = map[string]string{
	"mlflow.tracking.MlflowClient":           "mlflow.MlflowClient",
	"mlflow.client.MlflowClient":             "mlflow.MlflowClient",
	"mlflow.tracking.client.MlflowClient":    "mlflow.MlflowClient",
	"mlflow.tracking.set_tracking_uri":       "mlflow.set_tracking_uri",
	"mlflow.tracking.set_registry_uri":       "mlflow.set_registry_uri",
	"torch.serialization.load":               "torch.load",
	"torch.serialization.save":               "torch.save",
	"numpy.lib.npyio.load":                   "numpy.load",
	"pandas.io.pickle.read_pickle":           "pandas.read_pickle",
	"sklearn.externals.joblib.load":          "joblib.load",
	"sklearn.externals.joblib.dump":          "joblib.dump",
	"os.path.expanduser":                     "os.path.expanduser",
	"io.open":                                "builtins.open",
	"codecs.open":                            "builtins.open",
	"pathlib.Path":                           "pathlib.Path",
	"pathlib.PurePath":                       "pathlib.Path",
	"pathlib.PosixPath":                      "pathlib.Path",
	"importlib.util.spec_from_file_location": "importlib.util.spec_from_file_location",
}

func normQual(q string) string {
	if strings.HasPrefix(q, "mlflow.tracking.fluent.") {
		q = "mlflow." + strings.TrimPrefix(q, "mlflow.tracking.fluent.")
	}
	for _, p := range []string{"_pickle.", "cPickle.", "pickle5."} {
		if strings.HasPrefix(q, p) {
			q = "pickle." + strings.TrimPrefix(q, p)
		}
	}
	if a, ok := qualAliases[q]; ok {
		return a
	}
	return q
}

// resolveQual resolves an identifier/attribute chain to a qualified name
// without evaluating anything.
func (s *scope) resolveQual(n *node) string {
	n = unparen(n)
	if n == nil {
		return ""
	}
	switch n.kind {
	case "identifier":
		name := s.f.s.text(n)
		if v := s.lookup(name); v != nil {
			return v.qual
		}
		if s.f.bound[name] {
			return ""
		}
		if builtinNames[name] {
			return "builtins." + name
		}
		if q, ok := databricksRuntime[name]; ok && s.f.notebook {
			return q
		}
		return wellKnownModules[name]
	case "attribute":
		b := s.resolveQual(n.child("object"))
		if b == "" || strings.HasPrefix(b, "local.") {
			return ""
		}
		return normQual(b + "." + s.f.s.text(n.child("attribute")))
	}
	return ""
}

func (s *scope) calleeQual(c *node) string { return s.resolveQual(c.child("function")) }

// calleeName is the last identifier of the callee ("validate_uri").
func (s *scope) calleeName(c *node) string {
	fn := unparen(c.child("function"))
	switch {
	case fn == nil:
		return ""
	case fn.kind == "identifier":
		return s.f.s.text(fn)
	case fn.kind == "attribute":
		return s.f.s.text(fn.child("attribute"))
	}
	return ""
}

// argNames lists the plain variable names passed to a call.
func (s *scope) argNames(c *node) []string {
	var out []*node
	if a := c.child("arguments"); a != nil {
		out = a.namedKids()
	}
	var names []string
	for _, a := range out {
		if a.kind == "keyword_argument" {
			a = a.child("value")
		}
		names = append(names, s.identsIn(a)...)
	}
	return names
}

// identsIn returns names read by an expression (not callee names).
func (s *scope) identsIn(n *node) []string {
	var out []string
	walk(n, func(x *node) bool {
		switch x.kind {
		case "identifier":
			if x.fieldName() == "attribute" {
				return false
			}
			out = appendUniq(out, s.f.s.text(x))
		case "attribute":
			if o := x.child("object"); o != nil && o.kind == "identifier" {
				out = appendUniq(out, s.f.s.text(o)+"."+s.f.s.text(x.child("attribute")))
			}
		case "call":
			// the callee is not a validated value; its receiver is
			fn := unparen(x.child("function"))
			if fn != nil && fn.kind == "attribute" {
				out = appendUniq(out, s.identsIn(fn.child("object"))...)
			}
			out = appendUniq(out, s.identsIn(x.child("arguments"))...)
			return false
		case "string":
			return true
		}
		return true
	})
	return out
}

// validatorPrefixes name functions whose job is to validate their argument.
// pathSanitizers return a plain file name, whatever they are given: no
// separator, no "..", no drive; joined under a fixed directory it stays there.
var pathSanitizers = map[string]bool{
	"werkzeug.utils.secure_filename": true, "werkzeug.secure_filename": true,
}

var validatorPrefixes = []string{"validate", "check", "is_valid", "is_safe", "is_allowed", "is_trusted", "sanitize",
	"sanitise", "ensure_safe", "ensure_valid", "ensure_allowed", "verify", "allowed", "is_approved", "assert_valid", "assert_safe"}

func isValidatorName(n string) bool {
	n = strings.ToLower(strings.TrimLeft(n, "_"))
	for _, p := range validatorPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

func (s *scope) evalCall(n *node) *val {
	fn := unparen(n.child("function"))
	c := &call{n: n, kw: map[string]*val{}}
	if fn != nil && fn.kind == "attribute" {
		obj := fn.child("object")
		rv := s.eval(obj)
		c.method = s.f.s.text(fn.child("attribute"))
		if rv.qual != "" && !strings.HasPrefix(rv.qual, "local.") {
			c.qual = normQual(rv.qual + "." + c.method)
		} else {
			c.recv, c.recvText = rv, s.f.s.text(obj)
		}
	} else if fn != nil {
		fv := s.eval(fn)
		c.qual, c.callees = fv.qual, fv.callees
	}
	if a := n.child("arguments"); a != nil {
		if a.kind == "generator_expression" {
			c.pos = append(c.pos, s.eval(a))
		}
		for _, k := range a.namedKids() {
			if a.kind == "generator_expression" {
				break
			}
			switch k.kind {
			case "keyword_argument":
				name := s.f.s.text(k.child("name"))
				c.kw[name] = s.eval(k.child("value"))
			case "list_splat":
				c.star = true
				s.eval(k)
			case "dictionary_splat":
				c.splat = append(c.splat, s.eval(k))
			default:
				c.pos = append(c.pos, s.eval(k))
			}
		}
	}
	s.checkCall(c)
	s.recordLocalCall(c)
	return s.result(c)
}

// allArgs is every argument value, for propagation.
func (c *call) allArgs() []*val {
	out := append([]*val(nil), c.pos...)
	for _, v := range c.kw {
		out = append(out, v)
	}
	return append(out, c.splat...)
}

// pureFuncs return something derived only from their arguments.
var pureFuncs = map[string]bool{
	"builtins.str": true, "builtins.repr": true, "builtins.format": true, "builtins.list": true, "builtins.tuple": true,
	"builtins.sorted": true, "builtins.set": true, "builtins.reversed": true, "builtins.dict": true, "os.fspath": true,
	"pathlib.Path": true, "os.path.join": true, "os.path.abspath": true, "os.path.realpath": true, "os.path.normpath": true,
	"os.path.basename": true, "os.path.dirname": true, "os.path.expanduser": true, "os.path.splitext": true,
	"posixpath.join": true, "json.loads": true, "json.dumps": true, "builtins.min": true, "builtins.max": true,
	"urllib.parse.quote": true, "urllib.parse.unquote": true, "urllib.parse.urljoin": true, "shlex.quote": true,
	"builtins.enumerate": true, "builtins.zip": true, "builtins.iter": true, "builtins.next": true, "yaml.safe_load": true,
}

// numFuncs return numbers or booleans: no path or text survives them.
var numFuncs = map[string]bool{
	"builtins.len": true, "builtins.int": true, "builtins.float": true, "builtins.bool": true, "builtins.hash": true,
	"builtins.isinstance": true, "builtins.id": true, "builtins.abs": true, "builtins.round": true, "builtins.callable": true,
	"os.path.exists": true, "os.path.isfile": true, "os.path.isdir": true, "builtins.hasattr": true, "builtins.print": true,
}

// result computes what a call returns.
func (s *scope) result(c *call) *val {
	args := c.allArgs()
	if v, ok := notebookSource(c); ok && s.f.notebook {
		return v
	}
	if ownModelCall(c.qual) {
		return &val{t: tComp}
	}
	if strings.HasPrefix(c.qual, "mlflow.") && strings.Count(c.qual, ".") == 1 && registryLookups[lastPart(c.qual)] {
		return &val{t: tComp, src: "a registry record"} // mlflow.get_run, mlflow.search_runs
	}
	switch c.qual {
	case "mlflow.MlflowClient":
		return &val{inst: "mlflow.MlflowClient"}
	case "boto3.client", "boto3.session.Session.client":
		return &val{inst: "boto3.client"}
	case "builtins.open", "gzip.open", "bz2.open", "lzma.open":
		p := c.arg("file", 0)
		out := derive(0, p)
		out.inst, out.file = "file", p
		return out
	case "builtins.input", "getpass.getpass":
		return &val{t: tUser, src: "input()"}
	case "os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop":
		out := &val{t: tEnv, src: "the environment"}
		if k := c.arg("key", 0); k.known() {
			out.envKey, out.src = k.tmpl, "environment variable "+k.tmpl
		}
		if d := c.arg("default", 1); d != nil && c.qual != "os.environ.setdefault" {
			out = join(out, d)
		}
		return out
	case "os.environ.copy", "os.environ.items", "os.environ.keys", "os.environ.values", "builtins.vars":
		if c.qual == "builtins.vars" {
			if a := c.arg("object", 0); a != nil && (a.t&tCLI != 0 || parsedArgsName(a.from)) && !s.f.cliDump {
				return derive(0, a) // the options, none of them secret
			}
			return &val{objDump: true, t: tComp}
		}
		return &val{envMap: true, t: tEnv, src: "the environment"}
	case "mlflow.artifacts.download_artifacts", "mlflow.artifacts.load_text":
		return &val{t: tDown, src: "a downloaded artifact"}
	case "pathlib.Path.home", "pathlib.Path.cwd", "os.getcwd", "os.getcwdb":
		if c.qual == "pathlib.Path.home" {
			return &val{home: true, inst: "path", tmpl: "~", hasStr: true}
		}
		// The working directory, as "." would name it: uploading it
		// uploads everything in it (MLG204).
		return &val{inst: "path", tmpl: ".", hasStr: true}
	case "os.path.expanduser":
		p := c.arg("path", 0)
		out := derive(0, p)
		out.inst = "path"
		if p != nil && (strings.HasPrefix(p.prefix(), "~") || p.home) {
			out.home = true
			out.tmpl, out.hasStr = p.tmpl, p.hasStr
		}
		return out
	case "os.path.join", "posixpath.join", "pathlib.Path":
		out := derive(0, args...)
		out.inst = "path"
		var parts []string
		ok := len(c.pos) > 0
		for _, p := range c.pos {
			if p.hasStr {
				parts = append(parts, p.tmpl)
			} else {
				ok = false
			}
			if p.home {
				out.home = true
			}
		}
		if ok {
			j := strings.Join(parts, "/")
			if c.qual == "pathlib.Path" && len(parts) == 1 {
				j = parts[0]
			}
			out.tmpl, out.hasStr = j, true
		}
		return out
	case "builtins.str", "builtins.repr", "builtins.format", "os.fspath":
		if len(c.pos) == 1 {
			v := *c.pos[0]
			if !v.hasStr {
				if s2, ok := v.asString(); ok {
					v.tmpl, v.hasStr = s2, true
				}
			}
			v.dict, v.isList, v.list = nil, false, nil
			return &v
		}
	case "io.BytesIO", "io.StringIO":
		// an in-memory buffer: as trusted as what it was created from
		out := derive(0, args...)
		out.inst = "buffer"
		return out
	case "pickle.dumps", "cloudpickle.dumps", "dill.dumps":
		// bytes this code just produced from its own objects (round trips)
		return &val{}
	case "textwrap.shorten":
		out := derive(0, args...)
		out.bounded = true
		return out
	case "datetime.timedelta":
		return timedelta(c)
	case "builtins.dict":
		if len(c.pos) == 1 && len(c.kw) == 0 {
			return c.pos[0]
		}
		if len(c.pos) == 0 && len(c.splat) == 0 {
			// dict(a=1, b=x): keys are the keyword names
			d := &dictv{vals: map[string]*val{}}
			out := derive(0, args...)
			for k, v := range c.kw {
				d.keys = append(d.keys, k)
				d.vals[k] = v
			}
			sort.Strings(d.keys)
			out.dict = d
			return out
		}
	}
	if strings.HasPrefix(c.qual, "flask.request.") || strings.HasPrefix(c.qual, "bottle.request.") {
		return &val{t: tUser, src: "request data (" + c.qual + ")"}
	}
	if numFuncs[c.qual] {
		return &val{}
	}
	if pathSanitizers[c.qual] {
		return cleaned(derive(0, args...))
	}
	if isValidatorName(c.method) {
		return cleaned(derive(0, append(args, c.recv)...))
	}
	if c.qual != "" && isValidatorName(lastPart(c.qual)) {
		return cleaned(derive(0, args...))
	}
	if pureFuncs[c.qual] {
		return derive(0, args...)
	}
	if v, ok := s.f.formInstance(c.qual); ok {
		return v
	}
	if strings.HasPrefix(c.qual, "local.class.") {
		// an instance of a class defined here: its methods are not MLflow's
		return &val{t: tComp, inst: c.qual}
	}
	if strings.HasPrefix(c.qual, "pandas.") {
		out := derive(tComp, args...)
		out.inst = "pandas"
		return out
	}
	if c.qual != "" {
		return derive(tComp, args...)
	}
	// method call on a value
	r := c.recv
	if r == nil {
		return derive(tComp, args...)
	}
	if p, ok := strings.CutPrefix(r.inst, modPrefix); ok && s.f.helper != nil && s.f.helper(p, c.method) {
		return &val{t: tComp, src: "a registry record"}
	}
	if r.inst == "pandas" {
		// a frame's methods return frames, series or their data
		// (to_dict included: table contents, not an object's attributes)
		out := derive(tComp, append(args, r)...)
		out.inst = "pandas"
		return out
	}
	if out, ok := s.f.schemaLoad(c, r, args); ok {
		return out
	}
	if fns := localTable(r); fns != nil && c.method == "get" {
		return &val{t: tComp, callees: fns}
	}
	if c.method == "get" && len(c.pos) > 0 && registryStateKey(c.pos[0]) {
		out := derive(tComp, r)
		out.copied = true
		return out
	}
	if registryLookups[c.method] && s.isClient(c) {
		return &val{t: tComp, src: "a registry record"}
	}
	switch c.method {
	case "download_artifacts":
		if s.isClient(c) {
			return &val{t: tDown, src: "a downloaded artifact"}
		}
	case "parse_args", "parse_known_args":
		return &val{t: tCLI, src: "command-line arguments"}
	case "copy":
		if r.envMap || r.dict != nil {
			return r
		}
	case "dict", "model_dump", "to_dict", "_asdict", "asdict":
		if s.f.dumpIsMasked(r.inst) {
			// a model of this file whose secret-named fields are all
			// SecretStr/SecretBytes dumps them masked
			return derive(0, r)
		}
		if r.dict == nil && !r.hasStr {
			out := derive(0, r)
			out.objDump = true
			return out
		}
	case "home":
		return &val{home: true, inst: "path"}
	case "expanduser":
		if strings.HasPrefix(r.prefix(), "~") {
			out := derive(0, r)
			out.home, out.inst, out.tmpl, out.hasStr = true, "path", r.tmpl, true
			return out
		}
	case "format":
		if r.hasStr {
			out := derive(0, append(args, r)...)
			out.tmpl, out.hasStr = formatHoles(r.tmpl), true
			return out
		}
	case "read", "read_text", "read_bytes", "readlines", "readline", "decode", "encode", "strip", "lower", "upper",
		"replace", "lstrip", "rstrip", "split", "resolve", "absolute", "as_posix", "joinpath", "with_suffix", "with_name",
		"get", "items", "values", "keys", "getlist", "get_json", "get_data", "json", "form", "body":
		out := derive(0, append(args, r)...)
		if r.inst == "request" {
			out.t |= tUser
			if out.src == "" {
				out.src = "request data"
			}
		}
		if r.file != nil {
			out = derive(0, r, r.file)
		}
		switch c.method {
		case "resolve", "absolute", "joinpath", "with_suffix", "with_name":
			out.inst = "path"
			if c.method != "joinpath" {
				out.tmpl, out.hasStr = r.tmpl, r.hasStr
			}
		case "strip", "lower", "upper", "lstrip", "rstrip":
			out.tmpl, out.hasStr = r.tmpl, r.hasStr
			out.bounded = r.bounded
		}
		return out
	}
	if r.hasStr || r.inst == "path" || r.inst == "buffer" || r.file != nil {
		return derive(0, append(args, r)...)
	}
	return derive(tComp, append(args, r)...)
}

func lastPart(q string) string {
	if i := strings.LastIndexByte(q, '.'); i >= 0 {
		return q[i+1:]
	}
	return q
}

// formatHoles turns "{...}" placeholders of str.format into holes.
func formatHoles(t string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(t); i++ {
		ch := t[i]
		switch {
		case ch == '{' && i+1 < len(t) && t[i+1] == '{' && depth == 0:
			b.WriteByte('{')
			i++
		case ch == '}' && i+1 < len(t) && t[i+1] == '}' && depth == 0:
			b.WriteByte('}')
			i++
		case ch == '{':
			if depth == 0 {
				b.WriteString(hole)
			}
			depth++
		case ch == '}' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// timedelta evaluates datetime.timedelta(...) to seconds when constant.
func timedelta(c *call) *val {
	units := []struct {
		name string
		secs float64
	}{{"days", 86400}, {"seconds", 1}, {"microseconds", 1e-6}, {"milliseconds", 1e-3}, {"minutes", 60}, {"hours", 3600}, {"weeks", 604800}}
	total := 0.0
	for i, u := range units {
		v := c.arg(u.name, i)
		if v == nil {
			continue
		}
		if !v.hasNum {
			return &val{inst: "timedelta"}
		}
		total += v.num * u.secs
	}
	return &val{num: total, hasNum: true, inst: "timedelta"}
}
