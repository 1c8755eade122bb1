package pickle

// fast handles the commonest data opcodes when their bytes are already
// buffered and no cap is near; anything else (or any doubt) returns false
// and step handles the opcode from the same position, so the model is the
// same either way. Only called outside frames.
func (w *walker) fast(op byte) bool {
	r := w.r
	if len(w.stack)+w.metaSize+1 >= w.lim.MaxStack {
		return false
	}
	switch op {
	case 'K': // BININT1
		if r.pos >= r.end {
			return false
		}
		n := r.buf[r.pos]
		r.pos++
		w.stack = append(w.stack, value{k: kInt, n: int64(n)})
		return true
	case 0x8c: // SHORT_BINUNICODE
		if r.pos >= r.end {
			return false
		}
		n := int(r.buf[r.pos])
		if r.pos+1+n > r.end || n > w.lim.MaxNameSize {
			return false
		}
		b := r.buf[r.pos+1 : r.pos+1+n]
		r.pos += 1 + n
		w.stack = append(w.stack, w.strValue(b, kStr))
		return true
	case 0x94: // MEMOIZE
		if len(w.stack) == 0 {
			return false
		}
		// On a cap, step redoes the opcode and reports it.
		return w.memo.put(uint64(w.memo.n), w.stack[len(w.stack)-1], w.lim.MaxMemo)
	case '0': // POP
		if len(w.stack) == 0 {
			return false
		}
		w.stack = w.stack[:len(w.stack)-1]
		return true
	case 'N', ')', ']', 0x88, 0x89:
		w.stack = append(w.stack, value{})
		return true
	case 'q': // BINPUT
		if r.pos >= r.end || len(w.stack) == 0 {
			return false
		}
		idx := uint64(r.buf[r.pos])
		if !w.memo.put(idx, w.stack[len(w.stack)-1], w.lim.MaxMemo) {
			return false
		}
		r.pos++
		return true
	case 'h': // BINGET
		if r.pos >= r.end {
			return false
		}
		v, ok := w.memo.get(uint64(r.buf[r.pos]))
		if !ok {
			return false
		}
		r.pos++
		w.stack = append(w.stack, v)
		return true
	}
	return false
}
