// Package pickle walks Python pickle streams (protocols 0-5) opcode by opcode
// without executing anything. It models the unpickler's stack, metastack and
// memo closely enough that every imported callable is seen with the module and
// name the real unpickler would resolve, whichever string opcodes, memo slots
// or protocol tricks were used to build them.
package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Limits bound the cost of one walk; hitting one is reported, never a crash.
type Limits struct {
	MaxOps      int64 // opcodes over all pickles of the stream
	MaxStack    int   // values on the stack plus marks on the metastack
	MaxMemo     int   // memo entries
	MaxPickles  int   // pickles in one stream (legacy torch files hold five)
	MaxNameSize int   // longest string kept as a possible module or name
	MaxImports  int   // distinct imported callables
	// MaxHeld bounds the bytes of tracked values the walk keeps outside the
	// stack: memoized strings, tuples and callables, sparse memo entries,
	// import names, joblib state. With MaxStack and MaxMemo it bounds the
	// walk's memory whatever the input (about 48 B per stack value, 4 B per
	// memo entry). Data pickles memoize far more than that: past three
	// quarters of it the memo keeps new values in a forgotten form (their
	// kind, not their items, text or identity), and the walk stops with a
	// Limit only where a forgotten value is used for a verdict (an import
	// name, dtype arguments or state, copyreg arguments, a joblib array's
	// state, shape or dtype). Only imports and dtype states refuse outright.
	MaxHeld int64
}

// DefaultLimits are generous for real models and still cheap for hostile
// input: a walk holds at most about 150 MiB (stack 2^17 values of up to
// 480 B, memo 2^23 entries of 4 B, 48 MiB of tracked values).
var DefaultLimits = Limits{MaxOps: 200_000_000, MaxStack: 1 << 17, MaxMemo: 1 << 23, MaxPickles: 64, MaxNameSize: 1024,
	MaxImports: 1 << 14, MaxHeld: 48 << 20}

// Import is one callable a pickle references, with the opcode that did it.
type Import struct {
	Module, Name string
	Opcode       string // GLOBAL, INST, STACK_GLOBAL, EXT
	Offset       int64
	Pickle       int  // 0-based index of the pickle inside the stream (first use)
	Called       bool // used by REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST (any use)
	Count        int  // opcodes that imported it
	// ResultCalled: what calling it returned was itself called during the
	// load (a function rebuilt by cloudpickle and run at once).
	ResultCalled bool
	// Computed is set when STACK_GLOBAL got a value the walk cannot know
	// statically (the result of a call): the import is unresolvable.
	Computed bool
}

// Result is what one walk saw. Everything before a break still counts.
type Result struct {
	Imports  []Import
	Pickles  int   // complete or started pickles
	Complete int   // pickles walked to their STOP
	Ops      int64 // opcodes walked
	Protocol int   // highest PROTO seen
	// Uses counts import opcodes; Imports holds each distinct callable once.
	Uses    int
	PersIDs int // PERSID / BINPERSID uses (torch storages, custom loaders)
	// Break is the reason the stream could not be walked to its end
	// (truncated, malformed, unknown opcode, stack underflow), or nil.
	Break error
	// Limit names the cap that stopped the walk, or "".
	Limit string
	// Anomalies are things the unpickler tolerates or that hint at evasion
	// (an opcode straddling a FRAME boundary).
	Anomalies []string
	// Embedded is set when the stream continues with data the loader reads
	// itself (joblib arrays) that the walk could not size.
	Embedded string
	// Trailing describes bytes after the last complete pickle that do not
	// form another one and import nothing (legacy torch storage data, raw
	// tails): no loader can run code from them.
	Trailing string
	// Joblib is set when the walk followed joblib's inline array format.
	Joblib bool
	// Hooks are the implicitly called method names (__setstate__, __new__,
	// __getattr__, ...) seen as dict keys with a value: a class rebuilt
	// from pickled bytecode (cloudpickle) with one of them runs that code
	// while its instances load.
	Hooks []string
}

// BreakError is a stream the unpickler would reject at Offset.
type BreakError struct {
	Offset int64
	Msg    string
}

func (e *BreakError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// ErrLimit marks a walk stopped by a cap.
var ErrLimit = errors.New("limit reached")

type kind uint8

const (
	kOther  kind = iota // an object whose value the walk does not track
	kStr                // str (any unicode or protocol-0/1 string opcode)
	kBytes              // bytes
	kGlobal             // a callable from GLOBAL/STACK_GLOBAL/EXT
	kInt
	kTuple // items kept for small tuples (shapes, dtype arguments)
	kDict  // items: key/value pairs for the few keys joblib needs
	kDtype // numpy.dtype(s): s is the type string, n its identity
	kNone
)

// value is ordered largest field first: 48 bytes, not 56 (the stack and
// memo copy values on every push).
type value struct {
	s     string   // kStr/kBytes content when short enough
	n     int64    // kInt value (when known)
	items *[]value // kTuple items, kDict key/value pairs (shared, as the object is)
	g     int32    // kGlobal: index into Result.Imports
	// inst is 1 + the import index of the class this object was built from.
	inst int32
	k    kind
	big  bool // kStr/kBytes: too long to be a name; kInt: value unknown
	// obj: the value may be or hold an object dtype (a call result, a
	// global, a container of such). numpy sizes structured dtypes from
	// their fields, and joblib reads an object array as a nested pickle.
	obj bool
	// lost: the walk dropped this value's content to stay in its memory
	// budget (see forgotten); using it where content matters stops the walk.
	lost bool
}

func (v value) list() []value {
	if v.items == nil {
		return nil
	}
	return *v.items
}

type walker struct {
	r        *rd
	lim      Limits
	res      *Result
	stack    []value
	meta     [][]value
	metaSize int
	metaCap  int // capacity of the arrays parked in meta
	memoRoom int // memo entries allowed (MaxMemo less those of outer pickles)
	// outerSize and outerCap: stack values and capacity of the outer
	// pickles a nested joblib pickle keeps in memory.
	outerSize, outerCap int
	memo                memo
	proto               int
	frameEnd            int64 // -1 when not inside a frame
	straddle            bool
	pickle              int
	spares              [][]value // popped mark frames' arrays, reused by later MARKs
	// names caches short strings by a hash of their bytes, so a name seen
	// again is not allocated again; a collision replaces the entry. (A map
	// costs more to grow and probe than it saves on unique names.)
	names   [512]string
	lastStr string // the last short string: the commonest repeat, checked first
	nested  int    // depth of joblib object-array pickles
	held    int64  // bytes of tracked values kept (see Limits.MaxHeld)
	plain   bool   // pickle.load's reading: no joblib arrays
	dictSeq int64  // identity of the next dict
	dicts   map[int64]*dictKeys
	dtypes  map[int64]dtypeState // dtypes whose state BUILD changed
	dictObj map[int64]bool       // dicts holding a value with obj set
	// lostKeys: dicts that got a key the walk forgot (it may be a joblib
	// key). objLost: some dict got a value with obj set that dictObj could
	// not record; keysLost: some dict got a joblib key (or a forgotten
	// key) that dicts or lostKeys could not record. Reading what these
	// cover stops the walk.
	lostKeys          map[int64]bool
	objLost, keysLost bool
	imports           map[importKey]int32
}

type importKey struct {
	module, name, op string
	pickle           int
	computed         bool
}

// newMemo is an empty memo charging the walker's budget. Memoized values
// may use three quarters of it in full; past that they are kept in their
// forgotten form, leaving room for imports, joblib state and revived names.
func (w *walker) newMemo() memo {
	return memo{held: &w.held, maxHeld: w.lim.MaxHeld, soft: w.lim.MaxHeld / 4 * 3}
}

// forgot stops the walk where a forgotten value is used for a verdict.
func (w *walker) forgot(what string) error {
	return fmt.Errorf("%w: %s was dropped from memory to stay in budget (content unverified)", ErrLimit, what)
}

var errHeld = fmt.Errorf("%w: tracked values over the memory budget", ErrLimit)

// hold charges n bytes of kept values; false once over budget.
func (w *walker) hold(n int64) bool {
	w.held += n
	return w.held <= w.lim.MaxHeld
}

// Walk reads every pickle in r until EOF or a break, the way joblib.load
// reads it when it meets joblib's array wrappers (Result.Joblib then says
// so) and pickle.load otherwise. It never returns an error: breaks and caps
// are recorded in the Result.
func Walk(r io.Reader, lim Limits) Result { return walk(r, lim, false) }

// WalkPlain reads r as pickle.load does even where joblib would read array
// bytes: a file with joblib wrappers loaded with pickle.load unpickles
// those bytes as opcodes. Callers walk both readings of such a file.
func WalkPlain(r io.Reader, lim Limits) Result { return walk(r, lim, true) }

func walk(r io.Reader, lim Limits, plain bool) Result {
	var res Result
	w := &walker{r: newRd(r), lim: lim, res: &res, frameEnd: -1, plain: plain, memoRoom: lim.MaxMemo}
	w.memo = w.newMemo()
	legacyTorch := bytes.Equal(w.r.peek(len(torchMagic)), torchMagic)
	for w.pickle < lim.MaxPickles {
		if w.pickle > 0 {
			// Loaders that read several pickles from one file (legacy
			// torch: five, then raw storages) start the next one at the
			// next byte, with any opcode and any protocol.
			if len(w.r.peek(1)) == 0 {
				break
			}
			if legacyTorch && w.pickle == 5 {
				res.Trailing = fmt.Sprintf("legacy torch storage data from offset %d (read raw by torch.load, never unpickled)", w.r.off())
				break
			}
		}
		res.Pickles++
		before := len(res.Imports)
		at := w.r.off()
		done, err := w.one()
		if err != nil {
			if errors.Is(err, errStopEmbedded) {
				break
			}
			if errors.Is(err, ErrLimit) {
				res.Limit = err.Error()
				break
			}
			if w.pickle > 0 && len(res.Imports) == before {
				res.Pickles--
				res.Trailing = fmt.Sprintf("bytes from offset %d are not a pickle that imports anything (%v)", at, err)
				break
			}
			res.Break = err
			break
		}
		if !done {
			break
		}
		res.Complete++
		w.pickle++
		if w.pickle == lim.MaxPickles {
			if len(w.r.peek(1)) == 1 {
				res.Limit = fmt.Sprintf("more than %d pickles in one stream", lim.MaxPickles)
			}
		}
	}
	return res
}

// torchMagic is torch's legacy format's first pickle (its magic number).
var torchMagic = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")

func (w *walker) brk(msg string, args ...any) error {
	return &BreakError{Offset: w.r.off(), Msg: fmt.Sprintf(msg, args...)}
}

func (w *walker) readByte() (byte, error) {
	b, ok := w.r.byte()
	if !ok {
		return 0, w.brk("truncated stream (pickle ended without STOP)")
	}
	return b, nil
}

func (w *walker) readN(n int) ([]byte, error) {
	b, ok := w.r.next(n)
	if !ok {
		return nil, w.brk("truncated stream: wanted %d bytes", n)
	}
	return b, nil
}

// skip discards n bytes without holding them (tensor data, huge strings).
func (w *walker) skip(n uint64) error {
	if n > 1<<62 || !w.r.skip(n) {
		return w.brk("truncated stream: %d-byte argument cut off", n)
	}
	return nil
}

// readLine reads a text argument; long reports one too long to keep
// (its bytes are gone, the walk goes on after it).
func (w *walker) readLine() (line []byte, long bool, err error) {
	l, long, ok := w.r.line()
	if !ok {
		return l, false, w.brk("truncated stream: unterminated line argument")
	}
	return l, long, nil
}

// tailImport records what Python's pure unpickler (joblib's) imports when
// a GLOBAL or INST line runs into the end of the data: readline() returns
// the tail, and [:-1] drops its last byte. The C unpickler raises instead.
// It returns brk, the truncation, unless the import could not be recorded
// (a cap): that is the walk's stop then, so the loss is reported.
func (w *walker) tailImport(mod string, name []byte, op string, at int64, brk error) error {
	if len(name) > 0 {
		name = name[:len(name)-1]
	}
	if _, err := w.addImport(mod, string(name), op, at, false); err != nil {
		return err
	}
	return brk
}

// tailModule is tailImport for a module line cut off (the name is then "").
func (w *walker) tailModule(mod []byte, op string, at int64, brk error) error {
	if len(mod) > 0 {
		mod = mod[:len(mod)-1]
	}
	if _, err := w.addImport(string(mod), "", op, at, false); err != nil {
		return err
	}
	return brk
}

var errLongIndex = fmt.Errorf("%w: a PUT or GET index line too long to follow", ErrLimit)

// frameCheck runs after each opcode. CPython's C unpickler reads a FRAME
// into its buffer; an argument that runs past the buffered bytes is read
// from the file, and what the loader's file object does then decides the
// bytes: one with peek() (open(path, "rb"), as numpy.load passes) continues
// contiguously, one without (io.BytesIO, as torch.load passes) drops the
// rest of the frame. The walk reads contiguously and records the opcode as
// an anomaly: which reading a loader takes is not knowable from the file.
func (w *walker) frameCheck(start int64) {
	cur := w.r.off()
	if start < w.frameEnd && cur > w.frameEnd && !w.straddle {
		w.straddle = true
		w.res.Anomalies = append(w.res.Anomalies, fmt.Sprintf("opcode at offset %d straddles the FRAME ending at %d (loaders read it differently)", start, w.frameEnd))
	}
	if cur >= w.frameEnd {
		w.frameEnd = -1
	}
}

func (w *walker) push(v value) error {
	if len(w.stack)+w.metaSize >= w.lim.MaxStack {
		return fmt.Errorf("%w: stack deeper than %d", ErrLimit, w.lim.MaxStack)
	}
	if len(w.stack) == cap(w.stack) {
		// Double: append's gentler growth for big slices copies a deep
		// stack several times over.
		w.stack = slices.Grow(w.stack, max(len(w.stack), 8))
	}
	w.stack = append(w.stack, v)
	return nil
}

func (w *walker) pop() (value, error) {
	if len(w.stack) == 0 {
		return value{}, w.brk("unpickling stack underflow")
	}
	v := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	return v, nil
}

func (w *walker) top() (*value, error) {
	if len(w.stack) == 0 {
		return nil, w.brk("unpickling stack underflow")
	}
	return &w.stack[len(w.stack)-1], nil
}

// popMark returns the items above the last MARK and restores the outer stack.
func (w *walker) popMark() ([]value, error) {
	if len(w.meta) == 0 {
		return nil, w.brk("MARK expected but not found")
	}
	items := w.stack
	if len(w.spares) < 64 && cap(items) <= 4096 {
		w.spares = append(w.spares, items[:0]) // callers are done with items before the next MARK
	}
	w.stack = w.meta[len(w.meta)-1]
	w.meta = w.meta[:len(w.meta)-1]
	w.metaSize -= len(w.stack)
	w.metaCap -= cap(w.stack)
	return items, nil
}

func (w *walker) strValue(b []byte, k kind) value {
	if len(b) > w.lim.MaxNameSize {
		return value{k: k, big: true}
	}
	if len(b) <= 64 {
		if string(b) == w.lastStr {
			return value{k: k, s: w.lastStr}
		}
		h := uint32(2166136261) // FNV-1a
		for _, c := range b {
			h = (h ^ uint32(c)) * 16777619
		}
		e := &w.names[h%uint32(len(w.names))]
		if *e != string(b) {
			*e = string(b)
		}
		w.lastStr = *e
		return value{k: k, s: *e}
	}
	return value{k: k, s: string(b)}
}

func (w *walker) memoPut(idx uint64, v *value) error {
	if !w.memo.put(idx, v, w.memoRoom) {
		if w.held > w.lim.MaxHeld {
			return errHeld
		}
		return fmt.Errorf("%w: more than %d memo entries", ErrLimit, w.lim.MaxMemo)
	}
	return nil
}

func (w *walker) memoGet(idx uint64) error {
	v, ok := w.memo.get(idx)
	if !ok {
		return w.brk("memo key %d not found", idx)
	}
	return w.push(v)
}

func (w *walker) addImport(module, name, op string, at int64, computed bool) (value, error) {
	m, n := module, name
	if w.proto < 3 {
		m, n = MapPy2(m, n)
	}
	w.res.Uses++
	k := importKey{m, n, op, w.pickle, computed}
	if i, ok := w.imports[k]; ok {
		w.res.Imports[i].Count++
		return value{k: kGlobal, g: i, obj: true}, nil
	}
	if len(w.res.Imports) >= w.lim.MaxImports {
		return value{}, fmt.Errorf("%w: more than %d distinct imports", ErrLimit, w.lim.MaxImports)
	}
	if !w.hold(int64(2*(len(m)+len(n)) + 160)) {
		return value{}, errHeld
	}
	if w.imports == nil {
		w.imports = map[importKey]int32{}
	}
	w.imports[k] = int32(len(w.res.Imports))
	w.res.Imports = append(w.res.Imports, Import{Module: m, Name: n, Opcode: op, Offset: at, Pickle: w.pickle, Computed: computed, Count: 1})
	return value{k: kGlobal, g: int32(len(w.res.Imports) - 1), obj: true}, nil
}

// call marks v as called if it is a tracked callable, or the callable that
// made v as having its result called.
func (w *walker) call(v value) {
	if v.k == kGlobal {
		w.res.Imports[v.g].Called = true
	} else if v.inst > 0 {
		w.res.Imports[v.inst-1].ResultCalled = true
	}
}

func le(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// one walks a single pickle. done is true when STOP was reached.
func (w *walker) one() (done bool, err error) {
	w.stack = w.stack[:0]
	w.meta = w.meta[:0]
	w.metaSize, w.metaCap = w.outerSize, w.outerCap
	w.memo.reset()
	w.frameEnd = -1
	w.proto = 0 // each load() starts at protocol 0 (matters for Python 2 names)
	for {
		w.run() // the common opcodes; the rest, one at a time, below
		if w.res.Ops >= w.lim.MaxOps {
			return false, fmt.Errorf("%w: more than %d opcodes", ErrLimit, w.lim.MaxOps)
		}
		var op byte
		if r := w.r; r.pos < r.end {
			op = r.buf[r.pos]
			r.pos++
		} else if op, err = w.readByte(); err != nil {
			return false, err
		}
		w.res.Ops++
		at := w.r.off() - 1
		stop, err := w.step(op, at)
		if w.frameEnd >= 0 {
			w.frameCheck(at)
		}
		if err != nil || stop {
			return stop, err
		}
	}
}
