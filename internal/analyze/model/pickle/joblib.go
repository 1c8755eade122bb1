package pickle

import (
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

var dtypeRe = regexp.MustCompile(`^[<>|=]?([a-zA-Z?])(\d*)(?:\[\w+\])?$`)

// itemSize of a numpy type string ("f8", "<i4", "?", "U5", "M8[ns]");
// object reports whether it holds Python objects (stored as a pickle).
func itemSize(t string) (size int64, object bool, ok bool) {
	m := dtypeRe.FindStringSubmatch(t)
	if m == nil {
		return 0, false, false
	}
	n := int64(0)
	if m[2] != "" {
		v, err := strconv.ParseInt(m[2], 10, 32)
		if err != nil {
			return 0, false, false
		}
		n = v
	}
	switch m[1] {
	case "O":
		return 8, true, true
	case "?", "b":
		if n == 0 {
			n = 1
		}
		return n, false, true
	case "U":
		return 4 * n, false, true
	case "f", "i", "u", "c", "S", "a", "V", "M", "m":
		return n, false, n > 0 || m[1] == "S" || m[1] == "V"
	}
	return 0, false, false
}

// joblibArray follows joblib's inline arrays (NumpyUnpickler.load_build,
// NumpyArrayWrapper.read_array): after BUILD of a wrapper the loader reads
// the array bytes straight from the file (after a padding byte and its
// padding when the wrapper has numpy_array_alignment_bytes) or, for object
// arrays, a whole nested pickle. Numeric data is skipped unread; nested
// pickles are walked like any other. Whatever the walk cannot size the way
// joblib does stops it, reported as unchecked.
func (w *walker) joblibArray(obj, state value) (bool, error) {
	w.res.Joblib = true
	if obj.big {
		return w.embeddedStop("joblib array wrapper built by calling its constructor (attributes the walk cannot see)")
	}
	// joblib's unpickler is the pure-Python one: inside a FRAME the rest
	// of the frame is already buffered and the array is read from the file
	// after the frame. joblib itself always ends the frame first.
	if w.frameEnd > w.r.off() {
		return w.embeddedStop("joblib array read while a FRAME still holds opcodes")
	}
	w.frameEnd = -1 // the frame is used up: the array comes from the file
	if state.k != kDict {
		return w.embeddedStop("joblib array wrapper whose state is not a plain dict")
	}
	if state.lost || w.keysLost || w.lostKeys[state.n] {
		return false, w.forgot("a joblib array wrapper's state (or a dict key)")
	}
	js := w.dicts[state.n]
	if js == nil || !js.has[0] || !js.has[1] {
		return w.embeddedStop("joblib array with a shape or dtype the walk cannot recover")
	}
	shape, dtype := js.v[0], js.v[1]
	if shape.lost || dtype.lost || js.v[2].lost {
		return false, w.forgot("a joblib array's shape, dtype or alignment")
	}
	if dtype.k != kDtype {
		return w.embeddedStop("joblib array whose dtype the walk cannot recover")
	}
	size, object, ok := itemSize(dtype.s)
	if !ok {
		return w.embeddedStop(fmt.Sprintf("joblib array of dtype %q", dtype.s))
	}
	if st, changed := w.dtypes[dtype.n]; changed {
		if st.unknown {
			return w.embeddedStop(fmt.Sprintf("joblib array of dtype %q with a state the walk cannot follow", dtype.s))
		}
		object = object || st.obj
		// numpy keeps elsize only for flexible types (S, U, V).
		if t := strings.TrimLeft(dtype.s, "<>|="); st.elsize >= 0 && t != "" && strings.ContainsRune("SaUV", rune(t[0])) {
			size = st.elsize
		}
	}
	if object {
		return false, w.nestedPickle()
	}
	if shape.k != kTuple || shape.items == nil {
		return w.embeddedStop("joblib array with a shape the walk cannot recover")
	}
	// count is numpy.multiply.reduce over int64(x) for x in shape: int64
	// arithmetic that wraps. A negative count makes numpy.empty raise.
	count := int64(1)
	exact := true
	for _, d := range shape.list() {
		if d.lost {
			return false, w.forgot("a joblib array's shape entry")
		}
		if d.k != kInt || d.big {
			return w.embeddedStop("joblib array with a shape entry the walk cannot read")
		}
		if d.n < 0 {
			return false, w.brk("joblib array with a negative dimension")
		}
		hi, lo := bits.Mul64(uint64(count), uint64(d.n))
		if hi != 0 || lo > 1<<62 {
			exact = false
		}
		count *= d.n
	}
	if !exact {
		return w.embeddedStop("joblib array size overflows")
	}
	if size == 0 {
		// BUFFER_SIZE // min(BUFFER_SIZE, itemsize) divides by zero.
		return false, w.brk("joblib array of zero-size items")
	}
	if js.has[2] && js.v[2].k != kNone {
		pad, err := w.readByte()
		if err != nil {
			return false, err
		}
		if err := w.skip(uint64(pad)); err != nil {
			return false, err
		}
	}
	hi, lo := bits.Mul64(uint64(count), uint64(size))
	if hi != 0 || lo > 1<<62 {
		return w.embeddedStop("joblib array size overflows")
	}
	return false, w.skip(lo)
}

func (w *walker) embeddedStop(what string) (bool, error) {
	w.res.Embedded = fmt.Sprintf("%s: data follows at offset %d and the stream after it is not walked", what, w.r.off())
	return false, errStopEmbedded
}

var errStopEmbedded = errors.New("embedded data")

// nestedPickle walks an object array's pickle with its own stack and memo,
// then resumes the outer pickle.
func (w *walker) nestedPickle() error {
	if w.nested >= 8 {
		_, err := w.embeddedStop("joblib object arrays nested deeper than 8")
		return err
	}
	stack, meta, metaSize, metaCap, savedMemo, proto := w.stack, w.meta, w.metaSize, w.metaCap, w.memo, w.proto
	// The outer pickle's stack and memo stay in memory: the nested walk
	// counts them against the same caps.
	w.stack, w.meta, w.memo, w.frameEnd = nil, nil, w.newMemo(), -1
	outerSize, outerCap, room := w.outerSize, w.outerCap, w.memoRoom
	w.outerSize, w.outerCap, w.memoRoom = metaSize+len(stack), metaCap+cap(stack), room-savedMemo.n
	defer func() { w.outerSize, w.outerCap, w.memoRoom = outerSize, outerCap, room }()
	w.nested++
	done, err := w.one()
	w.nested--
	w.stack, w.meta, w.metaSize, w.metaCap, w.memo, w.frameEnd, w.proto = stack, meta, metaSize, metaCap, savedMemo, -1, proto
	if err != nil {
		return err
	}
	if !done {
		return w.brk("joblib object array pickle ended without STOP")
	}
	return nil
}
