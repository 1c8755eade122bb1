package pickle

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// lenArg reads an n-byte little-endian length argument.
func (w *walker) lenArg(n int) (uint64, error) {
	b, err := w.readN(n)
	if err != nil {
		return 0, err
	}
	return le(b), nil
}

// pushString reads a counted string; long ones are skipped, never buffered.
func (w *walker) pushCounted(lenBytes int, k kind) error {
	var n uint64
	if lenBytes == 1 {
		c, err := w.readByte()
		if err != nil {
			return err
		}
		n = uint64(c)
	} else {
		var err error
		if n, err = w.lenArg(lenBytes); err != nil {
			return err
		}
	}
	if n > uint64(w.lim.MaxNameSize) {
		if err := w.skip(n); err != nil {
			return err
		}
		return w.push(value{k: k, big: true})
	}
	b, err := w.readN(int(n))
	if err != nil {
		return err
	}
	return w.push(w.strValue(b, k))
}

// quoted decodes a protocol-0 STRING argument ('...' or "...") well enough to
// recover names: Python requires matching quotes.
func quoted(line []byte) (string, bool) {
	if len(line) >= 2 && (line[0] == '\'' || line[0] == '"') && line[len(line)-1] == line[0] {
		s := string(line[1 : len(line)-1])
		if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
			return u, true
		}
		return s, true
	}
	return "", false
}

// unicodeLine decodes a protocol-0 UNICODE argument (raw-unicode-escape).
func unicodeLine(line []byte) string {
	if !bytes.Contains(line, []byte(`\u`)) && !bytes.Contains(line, []byte(`\U`)) {
		return string(line)
	}
	var out []rune
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) && (line[i+1] == 'u' || line[i+1] == 'U') {
			n := 4
			if line[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(line) {
				if x, err := strconv.ParseUint(string(line[i+2:i+2+n]), 16, 32); err == nil {
					out = append(out, rune(x))
					i += 1 + n
					continue
				}
			}
		}
		out = append(out, rune(line[i]))
	}
	return string(out)
}

func (w *walker) markOp() error {
	if len(w.meta)+w.metaSize+len(w.stack) >= w.lim.MaxStack {
		return fmt.Errorf("%w: stack deeper than %d", ErrLimit, w.lim.MaxStack)
	}
	w.meta = append(w.meta, w.stack)
	w.metaSize += len(w.stack)
	w.stack = nil
	if n := len(w.spares); n > 0 {
		w.stack, w.spares = w.spares[n-1], w.spares[:n-1]
	}
	return nil
}

// step executes one opcode on the model. stop reports STOP.
func (w *walker) step(op byte, at int64) (stop bool, err error) {
	switch op {
	case '.': // STOP
		if _, err := w.pop(); err != nil {
			return false, err
		}
		return true, nil
	case '(': // MARK
		return false, w.markOp()
	case 0x80: // PROTO
		b, err := w.readByte()
		if err != nil {
			return false, err
		}
		if b > 5 {
			return false, w.brk("unsupported pickle protocol %d", b)
		}
		w.proto = int(b)
		if int(b) > w.res.Protocol {
			w.res.Protocol = int(b)
		}
	case 0x95: // FRAME
		n, err := w.lenArg(8)
		if err != nil {
			return false, err
		}
		if w.frameEnd >= 0 && w.r.off() < w.frameEnd {
			w.res.Anomalies = append(w.res.Anomalies, fmt.Sprintf("FRAME at offset %d inside the previous frame", at))
		}
		w.frameEnd = w.r.off() + int64(n)
		if n == 0 {
			w.frameEnd = -1
		}
	case 'I', 'L': // INT, LONG (text)
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(string(line), "L"), 10, 64)
		return false, w.push(value{k: kInt, n: n})
	case 'J':
		b, err := w.readN(4)
		if err != nil {
			return false, err
		}
		return false, w.push(value{k: kInt, n: int64(int32(le(b)))})
	case 'K':
		b, err := w.readN(1)
		if err != nil {
			return false, err
		}
		return false, w.push(value{k: kInt, n: int64(b[0])})
	case 'M':
		b, err := w.readN(2)
		if err != nil {
			return false, err
		}
		return false, w.push(value{k: kInt, n: int64(le(b))})
	case 0x8a, 0x8b: // LONG1, LONG4
		nb := 1
		if op == 0x8b {
			nb = 4
		}
		n, err := w.lenArg(nb)
		if err != nil {
			return false, err
		}
		if err := w.skip(n); err != nil {
			return false, err
		}
		return false, w.push(value{k: kInt})
	case 'G':
		if _, err := w.readN(8); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case 'F':
		if _, err := w.readLine(); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case '}': // EMPTY_DICT
		return false, w.push(value{k: kDict})
	case 'N', 0x88, 0x89, ')', ']', 0x8f: // NONE, TRUE, FALSE, empty containers
		return false, w.push(value{})
	case 'S': // STRING
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		s, ok := quoted(line)
		if !ok {
			return false, w.brk("the STRING opcode argument must be quoted")
		}
		// Below protocol 3 with the default encoding, STRING yields str.
		return false, w.push(w.strValue([]byte(s), kStr))
	case 'V': // UNICODE
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		return false, w.push(w.strValue([]byte(unicodeLine(line)), kStr))
	case 'T': // BINSTRING (py2 str -> str by default)
		return false, w.pushCounted(4, kStr)
	case 'U': // SHORT_BINSTRING
		return false, w.pushCounted(1, kStr)
	case 'X': // BINUNICODE
		return false, w.pushCounted(4, kStr)
	case 0x8c: // SHORT_BINUNICODE
		return false, w.pushCounted(1, kStr)
	case 0x8d: // BINUNICODE8
		return false, w.pushCounted(8, kStr)
	case 'B':
		return false, w.pushCounted(4, kBytes)
	case 'C':
		return false, w.pushCounted(1, kBytes)
	case 0x8e, 0x96: // BINBYTES8, BYTEARRAY8
		return false, w.pushCounted(8, kBytes)
	case 0x97: // NEXT_BUFFER: out-of-band data supplied by the loader
		return false, w.push(value{})
	case 0x98: // READONLY_BUFFER
		_, err := w.top()
		return false, err
	case 'a': // APPEND
		if _, err := w.pop(); err != nil {
			return false, err
		}
		_, err := w.top()
		return false, err
	case 'e', 0x90: // APPENDS, ADDITEMS
		if _, err := w.popMark(); err != nil {
			return false, err
		}
		_, err := w.top()
		return false, err
	case 's': // SETITEM
		if _, err := w.pop(); err != nil {
			return false, err
		}
		if _, err := w.pop(); err != nil {
			return false, err
		}
		_, err := w.top()
		return false, err
	case 'u': // SETITEMS
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		if len(items)%2 != 0 {
			return false, w.brk("odd number of items for SETITEMS")
		}
		d, err := w.top()
		if err != nil {
			return false, err
		}
		if d.k == kDict {
			for i := 0; i+1 < len(items); i += 2 {
				if items[i].k == kStr && joblibKeys[items[i].s] {
					if d.items == nil {
						d.items = new([]value)
					}
					*d.items = append(*d.items, items[i], items[i+1])
				}
			}
		}
		return false, nil
	case 'b': // BUILD: state applied via __setstate__ or __dict__ update
		state, err := w.pop()
		if err != nil {
			return false, err
		}
		obj, err := w.top()
		if err != nil {
			return false, err
		}
		if obj.inst > 0 && w.isJoblibWrapper(int(obj.inst-1)) {
			return w.joblibArray(state)
		}
		return false, nil
	case 't': // TUPLE
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		if len(items) <= 8 {
			t := append([]value(nil), items...)
			return false, w.push(value{k: kTuple, items: &t})
		}
		return false, w.push(value{})
	case 'l', 'd', 0x91: // LIST, DICT, FROZENSET
		if _, err := w.popMark(); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(w.stack) < n {
			return false, w.brk("unpickling stack underflow")
		}
		items := append([]value(nil), w.stack[len(w.stack)-n:]...)
		w.stack = w.stack[:len(w.stack)-n]
		return false, w.push(value{k: kTuple, items: &items})
	case '0': // POP (pops a mark too when the stack above it is empty)
		if len(w.stack) == 0 && len(w.meta) > 0 {
			_, err := w.popMark()
			return false, err
		}
		_, err := w.pop()
		return false, err
	case '1': // POP_MARK
		_, err := w.popMark()
		return false, err
	case '2': // DUP
		v, err := w.top()
		if err != nil {
			return false, err
		}
		return false, w.push(*v)
	case 'p': // PUT
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		idx, perr := strconv.ParseUint(string(line), 10, 64)
		if perr != nil {
			return false, w.brk("invalid PUT index %q", truncate(string(line)))
		}
		v, err := w.top()
		if err != nil {
			return false, err
		}
		return false, w.memoPut(idx, v)
	case 'q', 'r': // BINPUT, LONG_BINPUT
		nb := 1
		if op == 'r' {
			nb = 4
		}
		idx, err := w.lenArg(nb)
		if err != nil {
			return false, err
		}
		v, err := w.top()
		if err != nil {
			return false, err
		}
		return false, w.memoPut(idx, v)
	case 0x94: // MEMOIZE
		v, err := w.top()
		if err != nil {
			return false, err
		}
		return false, w.memoPut(uint64(w.memo.n), v)
	case 'g': // GET
		line, err := w.readLine()
		if err != nil {
			return false, err
		}
		idx, perr := strconv.ParseUint(string(line), 10, 64)
		if perr != nil {
			return false, w.brk("invalid GET index %q", truncate(string(line)))
		}
		return false, w.memoGet(idx)
	case 'h', 'j': // BINGET, LONG_BINGET
		nb := 1
		if op == 'j' {
			nb = 4
		}
		idx, err := w.lenArg(nb)
		if err != nil {
			return false, err
		}
		return false, w.memoGet(idx)
	case 'c': // GLOBAL module\nname\n
		mod, err := w.readLine()
		if err != nil {
			return false, err
		}
		m := string(mod) // GLOBAL and INST arguments are plain UTF-8, no escapes
		name, err := w.readLine()
		if err != nil {
			return false, err
		}
		return false, w.push(w.addImport(m, string(name), "GLOBAL", at, false))
	case 'i': // INST module\nname\n, args above the mark
		mod, err := w.readLine()
		if err != nil {
			return false, err
		}
		m := string(mod)
		name, err := w.readLine()
		if err != nil {
			return false, err
		}
		g := w.addImport(m, string(name), "INST", at, false)
		if _, err := w.popMark(); err != nil {
			return false, err
		}
		w.call(g)
		return false, w.push(value{})
	case 0x93: // STACK_GLOBAL
		name, err := w.pop()
		if err != nil {
			return false, err
		}
		mod, err := w.pop()
		if err != nil {
			return false, err
		}
		if (mod.k == kStr && !mod.big) && (name.k == kStr && !name.big) {
			return false, w.push(w.addImport(mod.s, name.s, "STACK_GLOBAL", at, false))
		}
		if mod.k == kOther || name.k == kOther || mod.k == kGlobal || name.k == kGlobal {
			// A value produced by a call (or an untracked object) could be a
			// str at load time: the import cannot be resolved statically.
			return false, w.push(w.addImport(describe(mod), describe(name), "STACK_GLOBAL", at, true))
		}
		return false, w.brk("STACK_GLOBAL requires str")
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4: copyreg extension registry
		nb := map[byte]int{0x82: 1, 0x83: 2, 0x84: 4}[op]
		code, err := w.lenArg(nb)
		if err != nil {
			return false, err
		}
		return false, w.push(w.addImport("copyreg", fmt.Sprintf("extension code %d", code), "EXT", at, false))
	case 'R': // REDUCE callable(args)
		args, err := w.pop()
		if err != nil {
			return false, err
		}
		f, err := w.pop()
		if err != nil {
			return false, err
		}
		w.call(f)
		if a := args.list(); w.isImport(f, "numpy", "dtype") && args.k == kTuple && len(a) > 0 && a[0].k == kStr {
			return false, w.push(value{k: kDtype, s: a[0].s})
		}
		return false, w.push(w.instance(f))
	case 0x81, 0x92: // NEWOBJ cls.__new__(cls, *args); NEWOBJ_EX adds kwargs
		nargs := 1
		if op == 0x92 {
			nargs = 2
		}
		for i := 0; i < nargs; i++ {
			if _, err := w.pop(); err != nil {
				return false, err
			}
		}
		c, err := w.pop()
		if err != nil {
			return false, err
		}
		w.call(c)
		return false, w.push(w.instance(c))
	case 'o': // OBJ: cls and args above the mark
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		if len(items) == 0 {
			return false, w.brk("OBJ without a class")
		}
		w.call(items[0])
		return false, w.push(value{})
	case 'P': // PERSID
		if _, err := w.readLine(); err != nil {
			return false, err
		}
		w.res.PersIDs++
		return false, w.push(value{})
	case 'Q': // BINPERSID
		if _, err := w.pop(); err != nil {
			return false, err
		}
		w.res.PersIDs++
		return false, w.push(value{})
	default:
		return false, w.brk("invalid opcode 0x%02x", op)
	}
	return false, nil
}

func (w *walker) instance(cls value) value {
	if cls.k == kGlobal {
		return value{inst: cls.g + 1}
	}
	return value{}
}

func (w *walker) isJoblibWrapper(i int) bool {
	imp := w.res.Imports[i]
	return imp.Module == "joblib.numpy_pickle" && imp.Name == "NumpyArrayWrapper"
}

func (w *walker) isImport(v value, mod, name string) bool {
	if v.k != kGlobal {
		return false
	}
	imp := w.res.Imports[v.g]
	return imp.Module == mod && imp.Name == name
}

func describe(v value) string {
	switch v.k {
	case kStr:
		if v.big {
			return "<long str>"
		}
		return v.s
	case kGlobal:
		return "<result of a call>"
	}
	return "<computed value>"
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
