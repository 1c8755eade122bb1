package pickle

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
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

// quoted decodes a protocol-0 STRING argument as CPython does: matching
// outer quotes, then codecs.escape_decode (Python's bytes escapes; an
// unknown escape is kept with its backslash). ok is false when Python
// would raise; the caller then keeps an unknown string and walks on.
func quoted(line []byte) (s string, quotedOK, ok bool) {
	if len(line) < 2 || (line[0] != '\'' && line[0] != '"') || line[len(line)-1] != line[0] {
		return "", false, false
	}
	b := line[1 : len(line)-1]
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b), true, true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(b) {
			return "", true, false // trailing backslash
		}
		switch e := b[i]; e {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, 10)
		case 'r':
			out = append(out, 13)
		case 't':
			out = append(out, 9)
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(b) || digitVal(b[i+1]) >= 16 || digitVal(b[i+2]) >= 16 {
				return "", true, false
			}
			out = append(out, byte(digitVal(b[i+1])<<4|digitVal(b[i+2])))
			i += 2
		default:
			if e >= '0' && e <= '7' {
				v, k := 0, 0
				for ; k < 3 && i+k < len(b) && b[i+k] >= '0' && b[i+k] <= '7'; k++ {
					v = v*8 + int(b[i+k]-'0')
				}
				out = append(out, byte(v))
				i += k - 1
				continue
			}
			out = append(out, '\\', e)
		}
	}
	return string(out), true, true
}

// unicodeLine decodes a protocol-0 UNICODE argument as raw-unicode-escape:
// bytes are Latin-1, and \uXXXX / \UXXXXXXXX escape only after an odd run
// of backslashes. A malformed escape makes Python raise; it is kept as text.
func unicodeLine(line []byte) string {
	ascii := true
	for _, c := range line {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii && !bytes.Contains(line, []byte(`\u`)) && !bytes.Contains(line, []byte(`\U`)) {
		return string(line)
	}
	out := make([]rune, 0, len(line))
	for i := 0; i < len(line); i++ {
		if line[i] != '\\' {
			out = append(out, rune(line[i]))
			continue
		}
		j := i
		for j < len(line) && line[j] == '\\' {
			j++
		}
		run := j - i
		if run%2 == 1 && j < len(line) && (line[j] == 'u' || line[j] == 'U') {
			n := 4
			if line[j] == 'U' {
				n = 8
			}
			if j+1+n <= len(line) {
				if x, err := strconv.ParseUint(string(line[j+1:j+1+n]), 16, 32); err == nil && x <= 0x10ffff {
					for k := 0; k < run-1; k++ {
						out = append(out, '\\')
					}
					out = append(out, rune(x))
					i = j + n
					continue
				}
			}
		}
		for k := 0; k < run; k++ {
			out = append(out, '\\')
		}
		i = j - 1
	}
	return string(out)
}

func (w *walker) markOp() error {
	if len(w.meta)+w.metaSize+len(w.stack) >= w.lim.MaxStack {
		return fmt.Errorf("%w: stack deeper than %d", ErrLimit, w.lim.MaxStack)
	}
	// A stack that grew and shrank keeps its capacity; parked under a
	// mark that memory would escape MaxStack's count. Growth leaves at most
	// about 2.5x, so a stack just grown is never copied again (which would
	// make every MARK cost the whole stack).
	if cap(w.stack) > 3*len(w.stack)+64 {
		w.stack = slices.Clone(w.stack)
	}
	// Parked capacity is bounded too: nested marks each keep an array.
	if w.metaCap+cap(w.stack) > 2*w.lim.MaxStack {
		return fmt.Errorf("%w: stack deeper than %d (marks)", ErrLimit, w.lim.MaxStack)
	}
	w.metaCap += cap(w.stack)
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
		// The C unpickler tracks no frame: FRAME only reads n bytes into its
		// buffer. A frame inside the buffered one changes nothing; one
		// reaching past it reads from the file (see frameCheck). A frame
		// running past the end of the data makes C fail: the walk goes on,
		// which can only show more.
		if n > 1<<62 {
			n = 1 << 62
		}
		end := w.r.off() + int64(n)
		switch {
		case w.frameEnd < 0 || w.r.off() >= w.frameEnd:
			w.frameEnd = end
		case end > w.frameEnd && !w.straddle:
			w.straddle = true
			w.res.Anomalies = append(w.res.Anomalies, fmt.Sprintf("FRAME at offset %d reaches past the frame it starts in (loaders read it differently)", at))
		}
		if n == 0 && w.frameEnd == end {
			w.frameEnd = -1
		}
	case 'I', 'L': // INT, LONG (text, Python's int() rules)
		line, long, err := w.readLine()
		if err != nil {
			return false, err
		}
		n, known := textInt(line, op == 'L')
		known = known && !long
		return false, w.push(value{k: kInt, n: n, big: !known})
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
		if n > 16 {
			if err := w.skip(n); err != nil {
				return false, err
			}
			return false, w.push(value{k: kInt, big: true})
		}
		b, err := w.readN(int(n))
		if err != nil {
			return false, err
		}
		x, known := leInt(b)
		return false, w.push(value{k: kInt, n: x, big: !known})
	case 'G':
		if _, err := w.readN(8); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case 'F':
		if _, _, err := w.readLine(); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case '}': // EMPTY_DICT
		w.dictSeq++
		return false, w.push(value{k: kDict, n: w.dictSeq})
	case 'N':
		return false, w.push(value{k: kNone})
	case 0x88, 0x89: // NEWTRUE, NEWFALSE: bool is an int (a valid shape entry)
		return false, w.push(value{k: kInt, n: int64(0x89 - op)})
	case ')', ']', 0x8f: // empty containers
		return false, w.push(value{})
	case 'S': // STRING
		line, long, err := w.readLine()
		if err != nil {
			return false, err
		}
		if long {
			return false, w.push(value{k: kStr, big: true})
		}
		s, isQuoted, ok := quoted(line)
		if !isQuoted {
			return false, w.brk("the STRING opcode argument must be quoted")
		}
		if !ok { // Python raises on the escape; walk on with an unknown str
			return false, w.push(value{k: kStr, big: true})
		}
		// With the loaders' default encodings STRING yields str in every protocol.
		return false, w.push(w.strValue([]byte(s), kStr))
	case 'V': // UNICODE
		line, long, err := w.readLine()
		if err != nil {
			return false, err
		}
		if long {
			return false, w.push(value{k: kStr, big: true})
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
		v, err := w.pop()
		if err != nil {
			return false, err
		}
		k, err := w.pop()
		if err != nil {
			return false, err
		}
		d, err := w.top()
		if err != nil {
			return false, err
		}
		return false, w.setItems(d, []value{k, v})
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
		return false, w.setItems(d, items)
	case 'b': // BUILD: state applied via __setstate__ or __dict__ update
		state, err := w.pop()
		if err != nil {
			return false, err
		}
		obj, err := w.top()
		if err != nil {
			return false, err
		}
		return w.build(obj, state)
	case 't': // TUPLE
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		return false, w.push(w.tuple(items))
	case 'd': // DICT
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		if len(items)%2 != 0 {
			return false, w.brk("odd number of items for DICT")
		}
		w.dictSeq++
		d := value{k: kDict, n: w.dictSeq}
		if err := w.setItems(&d, items); err != nil {
			return false, err
		}
		return false, w.push(d)
	case 'l', 0x91: // LIST, FROZENSET
		if _, err := w.popMark(); err != nil {
			return false, err
		}
		return false, w.push(value{})
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(w.stack) < n {
			return false, w.brk("unpickling stack underflow")
		}
		t := w.tuple(w.stack[len(w.stack)-n:])
		w.stack = w.stack[:len(w.stack)-n]
		return false, w.push(t)
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
		line, long, err := w.readLine()
		if err != nil {
			return false, err
		}
		if long {
			return false, errLongIndex
		}
		idx, ok := memoIndex(line)
		if !ok {
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
		line, long, err := w.readLine()
		if err != nil {
			return false, err
		}
		if long {
			return false, errLongIndex
		}
		idx, ok := memoIndex(line)
		if !ok {
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
		mod, long1, err := w.readLine()
		if err != nil {
			return false, w.tailModule(mod, "GLOBAL", at, err)
		}
		m := string(mod) // GLOBAL and INST arguments are plain UTF-8, no escapes
		name, long2, err := w.readLine()
		if err != nil {
			return false, w.tailImport(m, name, "GLOBAL", at, err)
		}
		g, err := w.textImport(m, string(name), long1 || long2, "GLOBAL", at)
		if err != nil {
			return false, err
		}
		return false, w.push(g)
	case 'i': // INST module\nname\n, args above the mark
		mod, long1, err := w.readLine()
		if err != nil {
			return false, w.tailModule(mod, "INST", at, err)
		}
		m := string(mod)
		name, long2, err := w.readLine()
		if err != nil {
			return false, w.tailImport(m, name, "INST", at, err)
		}
		g, err := w.textImport(m, string(name), long1 || long2, "INST", at)
		if err != nil {
			return false, err
		}
		if _, err := w.popMark(); err != nil {
			return false, err
		}
		w.call(g)
		return false, w.push(value{inst: g.g + 1, obj: true})
	case 0x93: // STACK_GLOBAL
		name, err := w.pop()
		if err != nil {
			return false, err
		}
		mod, err := w.pop()
		if err != nil {
			return false, err
		}
		var g value
		switch {
		case mod.k == kStr && mod.lost || name.k == kStr && name.lost:
			return false, w.forgot("a module or name string given to STACK_GLOBAL")
		case mod.k == kStr && !mod.big && name.k == kStr && !name.big:
			w.memo.revive(mod.s)
			w.memo.revive(name.s)
			g, err = w.addImport(mod.s, name.s, "STACK_GLOBAL", at, false)
		case (mod.k == kStr || mod.k == kOther || mod.k == kGlobal) && (name.k == kStr || name.k == kOther || name.k == kGlobal):
			// A value produced by a call (or an untracked object, or a str
			// too long to keep) could be a str at load time: the import
			// cannot be resolved statically.
			g, err = w.addImport(describe(mod), describe(name), "STACK_GLOBAL", at, true)
		default:
			return false, w.brk("STACK_GLOBAL requires str")
		}
		if err != nil {
			return false, err
		}
		return false, w.push(g)
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4: copyreg extension registry
		nb := map[byte]int{0x82: 1, 0x83: 2, 0x84: 4}[op]
		code, err := w.lenArg(nb)
		if err != nil {
			return false, err
		}
		g, err := w.addImport("copyreg", fmt.Sprintf("extension code %d", code), "EXT", at, false)
		if err != nil {
			return false, err
		}
		return false, w.push(g)
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
		v, err := w.reduce(f, args)
		if err != nil {
			return false, err
		}
		return false, w.push(v)
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
		v := w.instance(c)
		v.obj = true
		return false, w.push(v)
	case 'o': // OBJ: cls and args above the mark
		items, err := w.popMark()
		if err != nil {
			return false, err
		}
		if len(items) == 0 {
			return false, w.brk("OBJ without a class")
		}
		w.call(items[0])
		v := w.instance(items[0])
		v.obj = true
		return false, w.push(v)
	case 'P': // PERSID
		if _, _, err := w.readLine(); err != nil {
			return false, err
		}
		w.res.PersIDs++
		return false, w.push(value{obj: true})
	case 'Q': // BINPERSID
		if _, err := w.pop(); err != nil {
			return false, err
		}
		w.res.PersIDs++
		return false, w.push(value{obj: true})
	default:
		return false, w.brk("invalid opcode 0x%02x", op)
	}
	return false, nil
}

// textImport adds a GLOBAL/INST import; a name too long to keep cannot be
// checked.
func (w *walker) textImport(mod, name string, long bool, op string, at int64) (value, error) {
	if long {
		return w.addImport("<long name>", "<long name>", op, at, true)
	}
	return w.addImport(mod, name, op, at, false)
}

// memoIndex reads a PUT/GET index as CPython does (int(s, 10), >= 0).
func memoIndex(line []byte) (uint64, bool) {
	n, fits, ok := pyLong(line, 10)
	if !ok || !fits || n < 0 {
		return 0, false
	}
	return uint64(n), true
}

func (w *walker) instance(cls value) value {
	if cls.k == kGlobal {
		return value{inst: cls.g + 1}
	}
	return value{}
}

// reduce models f(*args) for the few results the walk tracks: dtypes and
// joblib array wrappers. A wrapper made by calling its class ran __init__
// (default attributes the walk cannot see): big marks it.
func (w *walker) reduce(f, args value) (value, error) {
	a := args.list()
	if f.k != kGlobal {
		return value{obj: true}, nil
	}
	imp := &w.res.Imports[f.g]
	dtype := imp.Module == "numpy" && imp.Name == "dtype"
	copyreg := imp.Module == "copyreg" && (imp.Name == "_reconstructor" || imp.Name == "__newobj__" || imp.Name == "__newobj_ex__")
	if (dtype || copyreg) && (args.lost || len(a) > 0 && a[0].lost) {
		return value{}, w.forgot(fmt.Sprintf("the arguments of %s.%s", imp.Module, imp.Name))
	}
	if argCallers[Qualified(imp.Module, imp.Name)] {
		// it calls the callables it is given: what made them has its
		// result called (a function cloudpickle rebuilt runs here).
		for i := range a {
			w.call(a[i])
		}
	}
	switch {
	case dtype && args.k == kTuple && len(a) > 0 && a[0].k == kStr && !a[0].big:
		w.memo.revive(a[0].s)
		w.dictSeq++
		_, object, ok := itemSize(a[0].s)
		return value{k: kDtype, s: a[0].s, n: w.dictSeq, obj: object || !ok}, nil
	case w.isJoblibWrapper(int(f.g)):
		return value{inst: f.g + 1, big: true, obj: true}, nil
	case copyreg && args.k == kTuple && len(a) > 0:
		// cls.__new__(cls) with no __init__ of cls: an instance of a[0].
		v := w.instance(a[0])
		v.obj = true
		return v, nil
	}
	v := w.instance(f)
	v.obj = true
	return v, nil
}

// argCallers are allowlisted callables that call a callable argument
// (numpy's generator constructors call bit_generator_ctor(name)).
var argCallers = map[string]bool{
	"numpy.random._pickle.__generator_ctor":     true,
	"numpy.random._pickle.__randomstate_ctor":   true,
	"numpy.random._pickle.__bit_generator_ctor": true,
}

// tuple keeps small tuples of plain values (shapes, dtype arguments and
// state); nested containers inside are not followed, so every tracked
// value stays small (see Limits.MaxHeld).
func (w *walker) tuple(items []value) value {
	obj := false
	if len(items) > 9 {
		for i := range items {
			obj = obj || items[i].obj
		}
		return value{obj: obj}
	}
	t := make([]value, len(items))
	copy(t, items)
	for i := range t {
		obj = obj || t[i].obj
		if t[i].items != nil {
			t[i].items = nil
		}
	}
	return value{k: kTuple, items: &t, obj: obj}
}

// implicitHooks are methods the unpickler (or the interpreter right after
// it) calls on an object without the pickle naming a callable: BUILD looks
// up __setstate__ (reaching __getattr__/__getattribute__) and may setattr,
// NEWOBJ calls __new__, SETITEMS and APPENDS on a non-dict/non-list call
// __setitem__, extend or append, __del__ runs when the object dies, and
// __init_subclass__ when a class rebuilt on top of it is created. __init__
// runs only through copyreg._reconstructor (the caller judges that).
var implicitHooks = map[string]bool{"__setstate__": true, "__new__": true, "__getattr__": true,
	"__getattribute__": true, "__setattr__": true, "__del__": true, "__setitem__": true, "extend": true,
	"append": true, "__init_subclass__": true, "__init__": true}

// setItems records the joblib keys of a dict. Dicts are mutable and
// shared: their keys live in the walker under the dict's identity (n), so
// every copy of the value (stack, memo) sees the same object, as Python does.
func (w *walker) setItems(d *value, items []value) error {
	for i := 0; i+1 < len(items); i += 2 {
		if k := items[i]; k.k == kStr && implicitHooks[k.s] && items[i+1].k != kNone &&
			!slices.Contains(w.res.Hooks, k.s) {
			w.res.Hooks = append(w.res.Hooks, k.s)
		}
	}
	if d.k != kDict {
		return nil
	}
	if d.lost {
		// The dict's identity is forgotten: what it gets cannot be
		// recorded, so whatever it could matter to becomes unverified.
		for i := range items {
			w.objLost = w.objLost || items[i].obj
			if i%2 == 0 && (items[i].lost || items[i].k == kStr && joblibKey(items[i].s) >= 0) {
				w.keysLost = true
			}
		}
		return nil
	}
	for i := range items {
		if items[i].obj && !w.dictObj[d.n] {
			if w.held+64 > w.lim.MaxHeld {
				w.objLost = true
				continue
			}
			w.held += 64
			if w.dictObj == nil {
				w.dictObj = map[int64]bool{}
			}
			w.dictObj[d.n] = true
		}
	}
	for i := 0; i+1 < len(items); i += 2 {
		k := items[i]
		if k.lost {
			// It may have been a joblib key: this dict's joblib state is
			// unknown (every dict's, once that cannot be recorded either).
			if !w.lostKeys[d.n] {
				if w.held+64 > w.lim.MaxHeld {
					w.keysLost = true
					continue
				}
				w.held += 64
				if w.lostKeys == nil {
					w.lostKeys = map[int64]bool{}
				}
				w.lostKeys[d.n] = true
			}
			continue
		}
		if k.k != kStr || k.big {
			continue
		}
		w.memo.revive(k.s)
		slot := joblibKey(k.s)
		if slot < 0 {
			continue
		}
		js := w.dicts[d.n]
		v := items[i+1]
		cost := int64(48 * len(v.list())) // the copy of a tuple, below
		if js == nil {
			cost += 512
		}
		if w.held+cost > w.lim.MaxHeld {
			w.keysLost = true
			continue
		}
		w.held += cost
		if js == nil {
			if w.dicts == nil {
				w.dicts = map[int64]*dictKeys{}
			}
			js = &dictKeys{}
			w.dicts[d.n] = js
		}
		if v.k == kTuple && v.items != nil { // copy: the tuple is immutable
			t := append([]value(nil), *v.items...)
			v.items = &t
		}
		js.v[slot], js.has[slot] = v, true
	}
	return nil
}

// joblibKey is the dictKeys slot of a key joblib reads, or -1.
func joblibKey(s string) int {
	switch s {
	case "shape":
		return 0
	case "dtype":
		return 1
	case "numpy_array_alignment_bytes":
		return 2
	}
	return -1
}

type dictKeys struct {
	v   [3]value // shape, dtype, numpy_array_alignment_bytes
	has [3]bool
}

// build models BUILD: joblib reads an array after BUILD of its wrapper,
// and a dtype's state can change its layout.
func (w *walker) build(obj *value, state value) (bool, error) {
	if obj.k == kDtype && (obj.lost || state.lost) {
		return false, w.forgot("a numpy dtype given state, or its state,")
	}
	if obj.k == kDtype && !standardDtypeState(state) {
		// The dtype object is shared by every copy of it: its new layout
		// is kept under its identity.
		if !w.hold(64) {
			return false, errHeld
		}
		if w.dtypes == nil {
			w.dtypes = map[int64]dtypeState{}
		}
		w.dtypes[obj.n] = w.dtypeFromState(state)
	}
	if obj.inst > 0 && !w.plain && w.isJoblibWrapper(int(obj.inst-1)) {
		return w.joblibArray(*obj, state)
	}
	return false, nil
}

// dtypeState is what BUILD (numpy's dtype.__setstate__) changed: the item
// size of flexible types and whether fields or a subarray hold objects.
type dtypeState struct {
	elsize  int64 // -1: as the type string says
	obj     bool
	unknown bool // a state the walk cannot follow
}

// dtypeFromState reads (version, byteorder, subarray, names, fields,
// elsize, alignment, flags[, metadata]).
func (w *walker) dtypeFromState(s value) dtypeState {
	t := s.list()
	if s.k != kTuple || len(t) < 8 || len(t) > 9 || t[5].k != kInt || t[5].big || t[4].lost {
		return dtypeState{unknown: true}
	}
	st := dtypeState{elsize: t[5].n}
	// names (t[3]) only orders the fields: numpy requires a tuple of str
	// there, so it cannot make the layout hold objects; the subarray (t[2])
	// and the fields (t[4]) can. A long names tuple is not kept (tuple), so
	// judging it would call every record dtype with over nine fields
	// "objects" and read its array bytes as a pickle.
	for _, i := range [...]int{2, 4} {
		switch {
		case t[i].k == kNone:
		case t[i].k == kDict && (t[i].lost || w.objLost && !w.dictObj[t[i].n]):
			return dtypeState{unknown: true}
		case t[i].k == kDict:
			st.obj = st.obj || w.dictObj[t[i].n]
		case t[i].k == kTuple && t[i].items == nil:
			// A tuple nested in the state tuple is not kept: its obj bit is.
			st.obj = st.obj || t[i].obj
		case t[i].k == kTuple:
			st.obj = st.obj || t[i].obj
		default:
			st.obj = true // an untracked value: assume objects
		}
	}
	return st
}

// standardDtypeState is numpy's own state for a plain dtype: (version,
// byteorder, None, None, None, -1, -1, flags[, metadata]) leaves the item
// size as the type string says.
func standardDtypeState(s value) bool {
	t := s.list()
	if s.k != kTuple || (len(t) != 8 && len(t) != 9) {
		return false
	}
	return t[2].k == kNone && t[3].k == kNone && t[4].k == kNone && t[5].k == kInt && !t[5].big && t[5].n == -1
}

func (w *walker) isJoblibWrapper(i int) bool {
	imp := w.res.Imports[i]
	return imp.Module == "joblib.numpy_pickle" && imp.Name == "NumpyArrayWrapper"
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
