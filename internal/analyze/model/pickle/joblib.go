package pickle

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

var joblibKeys = map[string]bool{"shape": true, "dtype": true, "numpy_array_alignment_bytes": true}

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

// joblibArray follows joblib's inline arrays: after BUILD of a
// NumpyArrayWrapper the loader reads the array bytes (after an alignment
// pad) or, for object arrays, a whole nested pickle straight from the file.
// Numeric data is skipped unread; nested pickles are walked like any other.
// When shape or dtype cannot be recovered the rest is reported unchecked.
func (w *walker) joblibArray(state value) (bool, error) {
	// The loader reads the array from the file itself, outside any frame.
	w.frameEnd = -1
	var shape, dtype, align *value
	items := state.list()
	for i := 0; i+1 < len(items); i += 2 {
		v := &items[i+1]
		switch items[i].s {
		case "shape":
			shape = v
		case "dtype":
			dtype = v
		case "numpy_array_alignment_bytes":
			align = v
		}
	}
	if shape == nil || dtype == nil || dtype.k != kDtype || (shape.k != kTuple) {
		return w.embeddedStop("joblib array with a shape or dtype the walk cannot recover")
	}
	size, object, ok := itemSize(dtype.s)
	if !ok {
		return w.embeddedStop(fmt.Sprintf("joblib array of dtype %q", dtype.s))
	}
	if object {
		return false, w.nestedPickle()
	}
	count := int64(1)
	for _, d := range shape.list() {
		if d.k != kInt || d.n < 0 {
			return w.embeddedStop("joblib array with a non-integer shape")
		}
		if d.n != 0 && count > (1<<62)/d.n {
			return w.embeddedStop("joblib array shape overflows")
		}
		count *= d.n
	}
	if align != nil && align.k != kOther {
		pad, err := w.readByte()
		if err != nil {
			return false, err
		}
		if err := w.skip(uint64(pad)); err != nil {
			return false, err
		}
	}
	if size != 0 && count > (1<<62)/size {
		return w.embeddedStop("joblib array size overflows")
	}
	w.frameEnd = -1
	return false, w.skip(uint64(count * size))
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
	stack, meta, metaSize, savedMemo, proto := w.stack, w.meta, w.metaSize, w.memo, w.proto
	w.stack, w.meta, w.metaSize, w.memo, w.frameEnd = nil, nil, 0, memo{}, -1
	w.nested++
	done, err := w.one()
	w.nested--
	w.stack, w.meta, w.metaSize, w.memo, w.frameEnd, w.proto = stack, meta, metaSize, savedMemo, -1, proto
	if err != nil {
		return err
	}
	if !done {
		return w.brk("joblib object array pickle ended without STOP")
	}
	return nil
}
