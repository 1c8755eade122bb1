package model

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
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
	}
}

// npyInfo is what numpy.load would do with an npy file's header.
type npyInfo struct {
	loads   bool // numpy accepts the header and reads the data
	verdict dtypeVerdict
	dataOff int64
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
	return npyInfo{loads: ok, verdict: verdict, dataOff: start + hlen}, nil
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
			s.pickleText(io.NewSectionReader(r, 0, r.Size()), member)
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
		// before unpickling anything. Judge the raw bytes as a pickle instead.
		s.pickleText(io.NewSectionReader(r, 0, r.Size()), member)
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
	b, err := io.ReadAll(io.LimitReader(stream, maxBufferMember))
	if err != nil {
		s.fail("unchecked", member, "keras config not readable: %v", err)
		return
	}
	s.kerasJSON(b, member)
}

func (s *scan) kerasJSON(b []byte, member string) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		s.fail("parse", member, "keras config is not JSON: %v", err)
		return
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 200 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if cn, _ := t["class_name"].(string); cn == "Lambda" {
				name := ""
				if cfg, ok := t["config"].(map[string]any); ok {
					name, _ = cfg["name"].(string)
				}
				s.add("MLG108", member, fmt.Sprintf("Keras Lambda layer %q runs shipped Python code when the model loads", name))
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(t[k], depth+1)
			}
		case []any:
			for _, x := range t {
				walk(x, depth+1)
			}
		}
	}
	walk(v, 0)
}

// hdf5: Keras H5 keeps the model JSON in the root group's model_config
// attribute. Without libhdf5 the file is searched for that attribute's
// JSON; if it is not found the file is reported unchecked.
var (
	h5ConfigKey = []byte("model_config")
	h5JSONStart = []byte(`{"class_name"`)
)

func (s *scan) hdf5(r *io.SectionReader, member string) {
	found := false
	var names []string
	eachWindow(r, 1<<20, 4096, func(window []byte) {
		if bytes.Contains(window, h5ConfigKey) {
			found = true
		}
		for i := 0; ; {
			j := bytes.Index(window[i:], h5JSONStart)
			if j < 0 {
				break
			}
			start := i + j
			end := jsonEnd(window[start:])
			if end > 0 {
				var probe map[string]any
				if json.Unmarshal(window[start:start+end], &probe) == nil {
					if _, ok := probe["config"]; ok {
						s.kerasJSON(window[start:start+end], member)
						names = append(names, "model_config")
					}
				}
				i = start + end
				continue
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
