package model

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pierrec/lz4/v4"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

// npy: magic, version, a header that is a Python dict literal, then raw
// data; when the dtype has an object anywhere, numpy.load unpickles the
// data (format.read_array), so it is walked as a pickle.
func (s *scan) npy(r *io.SectionReader, member string) {
	h, err := readNpyHeader(r)
	if err != nil {
		s.fail(h.cause, member, "%v", err)
		return
	}
	if !h.loads {
		return
	}
	data := io.NewSectionReader(r, h.dataOff, r.Size()-h.dataOff)
	switch h.verdict {
	case dtObject:
		s.pickle(data, joinMember(member, "object array"))
	case dtUnknown:
		// A dtype this scanner does not know: if numpy finds an object in
		// it, the data is a pickle; judge it as one that must do harm.
		s.pickleText(data, joinMember(member, "array data"))
	case dtPlain:
		s.npyTail(r, h, member)
	}
}

// maxNpyChain bounds the arrays followed in one file written by repeated
// numpy.save calls on one handle.
const maxNpyChain = 64

// npyTail judges the bytes after a plain array. numpy.load reads only the
// first array, but a loader that goes on reading the same handle (pickle.load
// after numpy.load, or numpy.load again for arrays saved one after another)
// sees what follows: further arrays are judged as arrays, anything else as a
// possible pickle that must not import or call anything harmful.
func (s *scan) npyTail(r *io.SectionReader, h npyInfo, member string) {
	for i := 1; h.size >= 0 && i <= maxNpyChain; i++ {
		end := h.dataOff + h.size
		if end >= r.Size() || end < h.dataOff {
			return
		}
		tail := io.NewSectionReader(r, end, r.Size()-end)
		where := joinMember(member, fmt.Sprintf("data after array %d", i))
		magic := make([]byte, 6)
		if n, _ := tail.ReadAt(magic, 0); n < 6 || string(magic) != "\x93NUMPY" {
			s.pickleText(tail, where)
			return
		}
		next, err := readNpyHeader(tail)
		if err != nil {
			s.fail(next.cause, where, "%v", err)
			return
		}
		if !next.loads {
			return
		}
		if next.verdict != dtPlain {
			s.npy(tail, where)
			return
		}
		r, h = tail, next
	}
	if h.size >= 0 {
		s.fail("limit", member, "more than %d arrays saved one after another; the rest is unchecked", maxNpyChain)
	}
}

// npyInfo is what numpy.load would do with an npy file's header.
type npyInfo struct {
	loads   bool // numpy accepts the header and reads the data
	verdict dtypeVerdict
	dataOff int64
	size    int64  // bytes of array data for simple dtypes, -1 when not computed
	cause   string // for an error: the MLG111 cause
}

// readNpyHeader reads the preamble and header as format.read_magic and
// _read_array_header do. An error means this scanner could not judge it.
func readNpyHeader(r *io.SectionReader) (npyInfo, error) {
	pre := make([]byte, 12)
	if n, _ := r.ReadAt(pre, 0); n < 10 {
		return npyInfo{}, nil // numpy fails reading the preamble
	}
	var hlen, start int64
	switch [2]byte{pre[6], pre[7]} {
	case [2]byte{1, 0}:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:])), 10
	case [2]byte{2, 0}, [2]byte{3, 0}:
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:])), 12
	default:
		return npyInfo{}, nil // numpy refuses other versions before reading anything
	}
	if hlen > 16<<20 {
		return npyInfo{cause: "size"}, fmt.Errorf("numpy header of %d bytes not parsed", hlen)
	}
	if start+hlen > r.Size() {
		return npyInfo{}, nil // numpy fails reading the header
	}
	hdr := make([]byte, hlen)
	if _, err := r.ReadAt(hdr, start); err != nil {
		return npyInfo{cause: "read"}, fmt.Errorf("numpy header unreadable: %w", err)
	}
	var text string
	if pre[6] == 3 {
		if !utf8.Valid(hdr) {
			return npyInfo{}, nil
		}
		text = string(hdr)
	} else {
		rs := make([]rune, len(hdr)) // latin1
		for i, c := range hdr {
			rs[i] = rune(c)
		}
		text = string(rs)
	}
	verdict, ok, err := npyHeader(text)
	if err != nil {
		return npyInfo{cause: "parse"}, fmt.Errorf("numpy header is not a literal this scanner reads: %w", err)
	}
	return npyInfo{loads: ok, verdict: verdict, dataOff: start + hlen, size: npyDataSize(text)}, nil
}

// compressed streams the decompressed bytes: pickles are walked as they
// inflate; anything needing random access is spooled. Every byte comes out
// of the file's one decompression budget, whatever the nesting.
func (s *scan) compressed(r *io.SectionReader, f format, member, name string, depth int) {
	var zr io.Reader
	var err error
	switch f {
	case fmtGzip:
		var g *gzip.Reader
		g, err = gzip.NewReader(r)
		if err == nil {
			g.Multistream(true)
			defer g.Close()
			zr = g
		}
	case fmtBzip2:
		zr = bzip2.NewReader(r)
	case fmtXz:
		// Filters other than LZMA2 alone (BCJ, delta) fail here: MLG111 below.
		var z *xzReader
		z, err = newXZReader(r)
		zr = &drained{r: z}
	case fmtZlib:
		var z io.ReadCloser
		z, err = zlib.NewReader(r)
		if err == nil {
			defer z.Close()
			zr = z
		}
	case fmtZF:
		// joblib < 0.9.3: "ZF", a 19-character hex length, an optional
		// space, then a zlib stream (numpy_pickle_compat.read_zfile).
		off := int64(zfHeaderLen)
		var sp [1]byte
		if _, e := r.ReadAt(sp[:], off); e == nil && sp[0] == ' ' {
			off++
		}
		var z io.ReadCloser
		z, err = zlib.NewReader(io.NewSectionReader(r, off, r.Size()-off))
		if err == nil {
			defer z.Close()
			zr = z
		}
	case fmtLzma:
		// Dictionaries over the cap are refused before allocation (MLG111).
		zr, err = newLZMAAuto(r)
	case fmtLz4:
		zr = lz4.NewReader(r)
	}
	if err != nil {
		if pythonRejectsToo(f) {
			// The loader's own decoder refuses this header before it yields a
			// byte, so nothing can be unpickled from it: it is not a stream
			// of that format ("x = 1" is a valid zlib header with FDICT set).
			// any() still tries the raw bytes as a pickle.
			return
		}
		s.fail("unchecked", member, "%s stream could not be decompressed: %v", f, err)
		return
	}
	inner := joinMember(member, strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(lastName(name), ".gz"), ".bz2"), ".xz"), ".lzma")+" (decompressed)")
	br := bufio.NewReaderSize(s.charge(zr, inner), 64<<10)
	head, perr := br.Peek(analyze.HeadSize)
	if perr != nil && perr != io.EOF && !errors.Is(perr, errBudget) && len(head) == 0 && pythonRejectsToo(f) {
		// Nothing decoded before the error: the loader fails the same way
		// before unpickling anything. any() judges the raw bytes as a pickle.
		return
	}
	if perr != nil && perr != io.EOF && !errors.Is(perr, errBudget) && len(head) < analyze.HeadSize {
		// A stream the loader cannot decompress either; what inflated is
		// still judged below, and the failure itself is unverified.
		s.fail("unchecked", inner, "%s stream: %v", f, perr)
	}
	g := sniff(head, "")
	switch {
	case g == fmtNone && !(len(head) > 0 && pickleStart[head[0]]):
		return
	case g == fmtPickle && head[0] == 0x80:
		s.pickle(br, inner)
		return
	case g == fmtNone || g == fmtPickle:
		s.pickleText(br, inner)
		return
	}
	if depth >= maxDepth {
		s.capReached("depth", inner, "archive nesting deeper than %d; %s content not checked", maxDepth, g)
		return
	}
	sr, done, err := s.spool(br, inner)
	if err != nil {
		if !errors.Is(err, errBudget) {
			s.fail("unchecked", inner, "%s stream: %v", f, err)
		}
		return
	}
	defer done()
	s.any(sr, inner, "", depth+1)
}

// pythonRejectsToo: formats whose decoders (Go's and CPython's alike) are
// fixed by their RFCs and have no option the loader could set that ours
// lacks, so a stream ours cannot start is one the loader cannot start
// either. xz and lzma are absent: there our refusals include caps and
// filters that Python would accept.
func pythonRejectsToo(f format) bool {
	return f == fmtZlib || f == fmtZF || f == fmtGzip || f == fmtBzip2
}

func lastName(p string) string {
	if i := strings.LastIndexAny(p, "/!"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// safetensors: 8-byte header length, a JSON header whose data_offsets must
// tile the data section. No code runs on load; only validity is checked.
func (s *scan) safetensors(r *io.SectionReader, member string) {
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		s.fail("parse", member, "safetensors: truncated header length")
		return
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > 100<<20 || int64(n)+8 > r.Size() {
		s.fail("parse", member, "safetensors: header length %d exceeds the file", n)
		return
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		s.fail("parse", member, "safetensors: header truncated")
		return
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &meta); err != nil {
		s.fail("parse", member, "safetensors: header is not a JSON object: %v", err)
		return
	}
	type span struct{ a, b uint64 }
	var spans []span
	dataLen := uint64(r.Size()) - 8 - n
	for k, v := range meta {
		if k == "__metadata__" {
			continue
		}
		var t struct {
			Dtype   string   `json:"dtype"`
			Shape   []uint64 `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(v, &t); err != nil || len(t.Offsets) != 2 || t.Dtype == "" {
			s.fail("parse", member, "safetensors: tensor %q has an invalid entry", k)
			return
		}
		if t.Offsets[0] > t.Offsets[1] || t.Offsets[1] > dataLen {
			s.fail("parse", member, "safetensors: tensor %q data_offsets [%d,%d] outside the %d-byte data section", k, t.Offsets[0], t.Offsets[1], dataLen)
			return
		}
		spans = append(spans, span{t.Offsets[0], t.Offsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	for i := 1; i < len(spans); i++ {
		if spans[i].a < spans[i-1].b {
			s.fail("parse", member, "safetensors: overlapping tensor data")
			return
		}
	}
}

// Keras v3: config.json holds the layer graph; Lambda layers carry
// marshalled Python bytecode that runs on load.
func (s *scan) kerasConfig(r *io.SectionReader, e *zipEntry, member string) {
	stream, _, err := s.openMember(r, e)
	if err != nil {
		s.fail("unchecked", member, "keras config not readable: %v", err)
		return
	}
	b, err := io.ReadAll(io.LimitReader(stream, maxBufferMember+1))
	if err != nil {
		s.fail("unchecked", member, "keras config not readable: %v", err)
		return
	}
	if len(b) > maxBufferMember {
		s.fail("size", member, "keras config larger than %d MiB not checked", maxBufferMember>>20)
		return
	}
	s.kerasJSON(b, member)
}

// pyJSON makes b, in place, what encoding/json accepts where Python's json
// module (which Keras uses) is more lenient: the constants NaN, Infinity and
// -Infinity outside strings become numbers of the same length, and a UTF-8
// BOM (json.loads on bytes decodes with utf-8-sig) is blanked.
func pyJSON(b []byte) []byte {
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		copy(b, "   ")
	}
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == 'N' && bytes.HasPrefix(b[i:], []byte("NaN")):
			copy(b[i:], "0e0")
			i += 2
		case c == 'I' && bytes.HasPrefix(b[i:], []byte("Infinity")):
			copy(b[i:], "0e000000")
			i += 7
		}
	}
	return b
}

// kerasFrame is one open JSON object or array of a Keras config.
type kerasFrame struct {
	obj       bool
	key       string // object: the key whose value comes next
	parentKey string // the key this container is the value of
	inLambda  bool   // inside a Lambda layer

	className, module, configStr, name string
	config                             *kerasFrame
}

// keras modules whose functions Keras resolves itself.
func kerasModule(m string) bool {
	for _, p := range []string{"keras", "tf_keras", "tensorflow", "keras_hub", "keras_cv", "keras_nlp", "builtins"} {
		if m == p || strings.HasPrefix(m, p+".") {
			return true
		}
	}
	return false
}

// maxKerasTokens bounds the walk (a 64 MiB config has a few million).
const maxKerasTokens = 50_000_000

// kerasJSON walks a Keras model config token by token: no tree is built
// and nesting is an explicit stack, so depth costs no Go stack. It reports
// Lambda layers and lambdas serialized as bytecode anywhere (activations,
// losses), which run with safe_mode=False, and functions imported from
// modules outside Keras (older Keras imports them even in safe mode).
func (s *scan) kerasJSON(b []byte, member string) {
	dec := json.NewDecoder(bytes.NewReader(pyJSON(b)))
	dec.UseNumber()
	var stack []*kerasFrame
	tokens := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				s.fail("parse", member, "keras config is truncated JSON")
			}
			break
		}
		if err != nil {
			s.fail("parse", member, "keras config is not JSON Python would read the same way: %v", err)
			return
		}
		if tokens++; tokens > maxKerasTokens {
			s.fail("limit", member, "keras config has more than %d JSON tokens; the rest is unchecked", maxKerasTokens)
			return
		}
		var top *kerasFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		// An object key: remember it, the value follows.
		if top != nil && top.obj && top.key == "" {
			if k, ok := tok.(string); ok {
				top.key = k
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				f := &kerasFrame{obj: t == '{'}
				if top != nil {
					f.parentKey = top.key
					f.inLambda = top.inLambda || top.className == "Lambda"
					top.key = ""
				}
				stack = append(stack, f)
				continue
			}
			stack = stack[:len(stack)-1]
			if top.obj {
				s.kerasObject(top, member)
			}
			if len(stack) > 0 && top.obj && top.parentKey == "config" {
				stack[len(stack)-1].config = top
			}
		case string:
			if top == nil {
				continue
			}
			// Keras serializes a lambda, wherever it is used (a Lambda
			// layer's function, an activation, a loss, an output_shape),
			// as base64 of its marshalled code object, under keys that
			// changed across versions: any string value is checked.
			if isBytecode(t) {
				s.kerasBytecode(t, top.inLambda || top.className == "Lambda", member)
			}
			if top.obj {
				switch top.key {
				case "class_name":
					top.className = t
				case "module":
					top.module = t
				case "config":
					top.configStr = t
				case "name":
					top.name = t
				}
				top.key = ""
			}
		default:
			if top != nil && top.obj {
				top.key = ""
			}
		}
	}
}

// kerasObject judges one closed JSON object of a Keras config.
func (s *scan) kerasObject(f *kerasFrame, member string) {
	switch f.className {
	case "Lambda":
		name := ""
		if f.config != nil {
			name = f.config.name
		}
		s.add("MLG108", member, fmt.Sprintf("Keras Lambda layer %s runs shipped Python code when the model loads", shown(name)))
	}
	// Keras before 3.9 imports module and takes class_name (or, for a
	// function, config) from it, whatever the module.
	if f.module != "" && f.className != "" && !kerasModule(f.module) {
		name := f.className
		if name == "function" {
			name = f.configStr
		}
		v := pickle.Classify(pickle.Import{Module: f.module, Name: name, Opcode: "GLOBAL"})
		if v.Kind == pickle.Dangerous {
			s.add("MLG106", member, fmt.Sprintf("Keras config imports %s (%s); Keras before 3.9 imports it on load", shown(v.Resolved), v.Reason))
		}
	}
}

// isBytecode reports whether a config string is base64 of a marshalled
// code object (type byte 'c', with or without FLAG_REF).
func isBytecode(v string) bool {
	if len(v) < 16 || (v[0] != '4' && v[0] != 'Y') {
		return false
	}
	var head [3]byte
	n, err := base64.StdEncoding.Decode(head[:], []byte(v[:4]))
	return err == nil && n == 3 && (head[0] == 0xe3 || head[0] == 0x63)
}

// dangerousCodeNames are names whose presence in a lambda's bytecode means
// it reaches processes, files, the network or dynamic code.
var dangerousCodeNames = map[string]bool{
	"os": true, "posix": true, "nt": true, "subprocess": true, "system": true, "popen": true, "Popen": true,
	"exec": true, "eval": true, "compile": true, "__import__": true, "importlib": true, "import_module": true,
	"builtins": true, "__builtins__": true, "open": true, "socket": true, "pty": true, "spawn": true,
	"execv": true, "execve": true, "execl": true, "spawnv": true, "check_output": true, "run": true,
	"shutil": true, "ctypes": true, "marshal": true, "pickle": true, "loads": true, "runpy": true,
	"run_path": true, "urllib": true, "requests": true, "http": true, "webbrowser": true, "getattr": true,
	"globals": true, "__globals__": true, "__subclasses__": true, "setattr": true, "sys": true,
}

// kerasBytecode reports a serialized lambda: MLG106 when its bytecode names
// something dangerous, else MLG108 (unless the enclosing Lambda layer is
// reported already).
func (s *scan) kerasBytecode(b64 string, inLambda bool, member string) {
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, b64))
	if err != nil {
		s.fail("parse", member, "keras config holds a lambda whose base64 bytecode does not decode: %v", err)
		return
	}
	var bad []string
	for _, n := range marshalNames(raw) {
		if dangerousCodeNames[n] {
			bad = append(bad, n)
		}
	}
	switch {
	case len(bad) > 0:
		s.add("MLG106", member, fmt.Sprintf("Keras config holds a lambda as marshalled bytecode naming %s; it runs when the model loads with safe_mode=False", strings.Join(bad, ", ")))
	case !inLambda:
		s.add("MLG108", member, "Keras config holds a lambda as marshalled bytecode (an activation, loss or other function); it runs when the model loads with safe_mode=False")
	}
}

// marshalNames lists, in order and once each, the short strings a marshal
// dump of a code object carries (its names, variable names and constants):
// type codes z/Z (1-byte length) and a/A/u/t (4-byte length), with or
// without FLAG_REF. A byte scan, not a full unmarshal: it can only add
// names, so it may over-report, never hide one the record format holds.
func marshalNames(raw []byte) []string {
	seen := map[string]bool{}
	var out []string
	for i := 0; i < len(raw); i++ {
		var n, off int
		switch raw[i] &^ 0x80 {
		case 'z', 'Z':
			if i+1 >= len(raw) {
				continue
			}
			n, off = int(raw[i+1]), i+2
		case 'a', 'A', 'u', 't':
			if i+4 >= len(raw) {
				continue
			}
			n, off = int(binary.LittleEndian.Uint32(raw[i+1:])), i+5
		default:
			continue
		}
		if n == 0 || n > 64 || off+n > len(raw) {
			continue
		}
		name := string(raw[off : off+n])
		if !isIdent(name) || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// shown quotes a value from a model file for a message: what the secrets
// detectors flag is masked, and long values are cut.
func shown(v string) string {
	return show(&yval{kind: yStr, str: v})
}

// hdf5: Keras H5 keeps the model JSON in the root group's model_config
// attribute. Without libhdf5 the file is searched for that attribute's
// JSON; if it is not found the file is reported unchecked.
var (
	h5ConfigKey = []byte("model_config")
	// Keras 2 writes class_name first, Keras 3 module first.
	h5JSONStarts = [][]byte{[]byte(`{"class_name"`), []byte(`{"module"`)}
)

func (s *scan) hdf5(r *io.SectionReader, member string) {
	found := false
	var names []string
	eachWindow(r, 1<<20, 4096, func(window []byte) {
		if bytes.Contains(window, h5ConfigKey) {
			found = true
		}
		// The earliest candidate first; a walked object's inner objects
		// are skipped, not walked again.
		for i := 0; ; {
			start := -1
			for _, p := range h5JSONStarts {
				if j := bytes.Index(window[i:], p); j >= 0 && (start < 0 || i+j < start) {
					start = i + j
				}
			}
			if start < 0 {
				break
			}
			end := jsonEnd(window[start:])
			if end > 0 {
				cand := pyJSON(bytes.Clone(window[start : start+end]))
				var probe map[string]json.RawMessage
				if json.Unmarshal(cand, &probe) == nil {
					if _, ok := probe["config"]; ok {
						s.kerasJSON(cand, member)
						names = append(names, "model_config")
						i = start + end
						continue
					}
				}
			}
			i = start + 1
		}
	})
	// No attribute named model_config: a weights-only file, which loads
	// arrays and no code. Named but unreadable: say so.
	if found && len(names) == 0 {
		s.fail("unchecked", member, "HDF5 file: the Keras model_config attribute could not be read without libhdf5 (stored outside the object header or compressed); not checked for Lambda layers")
	}
}

// jsonEnd returns the length of the balanced JSON object at b[0], or -1.
func jsonEnd(b []byte) int {
	depth, inStr, esc := 0, false, false
	for i, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// SavedModel: py_func ops call back into Python the process defines; file
// ops read or write the host's files when the graph runs (the checkpoint
// ops SaveV2/RestoreV2 every SavedModel has are not listed).
var pyFuncOps = [][]byte{[]byte("EagerPyFunc"), []byte("PyFuncStateless"), []byte("PyFunc"),
	[]byte("ReadFile"), []byte("WriteFile"), []byte("MatchingFiles")}

var savedModelWhy = map[string]string{
	"ReadFile": "reads host files when the graph runs", "WriteFile": "writes host files when the graph runs",
	"MatchingFiles": "lists host files when the graph runs",
}

func (s *scan) savedModel(r *io.SectionReader, member string) {
	seen := map[string]bool{}
	eachWindow(r, 1<<20, 64, func(window []byte) {
		for _, op := range pyFuncOps {
			// op names are length-prefixed protobuf strings: match the prefix too
			pat := append([]byte{byte(len(op))}, op...)
			if bytes.Contains(window, pat) && !seen[string(op)] {
				seen[string(op)] = true
				why := savedModelWhy[string(op)]
				if why == "" {
					why = "calls Python code of the loading process"
				}
				s.add("MLG108", member, fmt.Sprintf("TF SavedModel graph uses the %s op, which %s", op, why))
			}
		}
	})
}

// eachWindow streams r through fn in windows of about chunk bytes. Each
// window begins with the last overlap bytes of the one before, so a pattern
// up to overlap bytes long is never split between two windows; memory stays
// at one window whatever the file's size.
func eachWindow(r *io.SectionReader, chunk, overlap int, fn func(window []byte)) {
	buf := make([]byte, chunk+overlap)
	carry := 0
	for off := int64(0); off < r.Size(); {
		n, err := r.ReadAt(buf[carry:], off)
		if n == 0 && err != nil {
			return
		}
		window := buf[:carry+n]
		fn(window)
		off += int64(n)
		keep := min(overlap, len(window))
		copy(buf, window[len(window)-keep:])
		carry = keep
		if err != nil {
			return
		}
	}
}
