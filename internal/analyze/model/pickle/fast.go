package pickle

import "slices"

// run executes the commonest data opcodes in a tight loop while their bytes
// are buffered and no cap is near. The reader position, the opcode count and
// the stack live in locals (registers) until it returns, at the first opcode
// it cannot finish on its own: any other opcode, bytes not buffered yet, an
// opcode reaching the end of the current FRAME, a cap close by, or anything
// step would report. step then handles that opcode from the same position,
// so the model is the same either way.
func (w *walker) run() {
	r := w.r
	pos := r.pos
	// An opcode's bytes must lie in buf. Inside a frame it ends one byte
	// before the frame does, so the opcode that reaches the boundary goes
	// through step and frameCheck.
	lim := r.end
	if w.frameEnd >= 0 {
		if f := w.frameEnd - r.base - 1; f < int64(lim) {
			lim = int(max(f, 0))
		}
	}
	buf := r.buf[:lim]
	// Every opcode here takes at least one byte, so starting opcodes only
	// before stop keeps the count under MaxOps without a check per opcode.
	ops := w.res.Ops
	stop := len(buf)
	if left := w.lim.MaxOps - ops; left < int64(stop-pos) {
		stop = pos + int(max(left, 0))
	}
	stk := w.stack
	room := w.lim.MaxStack - w.metaSize // push is allowed while len(stk) < room
	m := &w.memo
loop:
	for pos < stop {
		switch buf[pos] {
		case 'K': // BININT1
			if pos+2 > len(buf) || len(stk) >= room {
				break loop
			}
			stk = grow1(stk)
			stk[len(stk)-1].set(kInt, "", int64(buf[pos+1]))
			pos += 2
		case 0x8c: // SHORT_BINUNICODE
			if pos+2 > len(buf) {
				break loop
			}
			n := int(buf[pos+1])
			if pos+2+n > len(buf) || n > w.lim.MaxNameSize || len(stk) >= room {
				break loop
			}
			b := buf[pos+2 : pos+2+n]
			stk = grow1(stk)
			// strValue's first check, inlined: the same name again.
			if sameStr(b, w.lastStr) {
				stk[len(stk)-1].set(kStr, w.lastStr, 0)
			} else {
				stk[len(stk)-1] = w.strValue(b, kStr)
			}
			pos += 2 + n
		case 0x94: // MEMOIZE
			if len(stk) == 0 {
				break loop
			}
			// On a cap, step redoes the opcode and reports it.
			if !m.putSameStr(uint64(m.n), &stk[len(stk)-1], w.memoRoom) && !m.put(uint64(m.n), &stk[len(stk)-1], w.memoRoom) {
				break loop
			}
			pos++
		case '0': // POP
			if len(stk) == 0 {
				break loop
			}
			stk = stk[:len(stk)-1]
			pos++
		case ')', ']', 0x8f: // empty containers
			if len(stk) >= room {
				break loop
			}
			stk = append(stk, value{})
			pos++
		case 'N':
			if len(stk) >= room {
				break loop
			}
			stk = append(stk, value{k: kNone})
			pos++
		case '}': // EMPTY_DICT
			if len(stk) >= room {
				break loop
			}
			w.dictSeq++
			stk = append(stk, value{k: kDict, n: w.dictSeq})
			pos++
		case 'q': // BINPUT
			if pos+2 > len(buf) || len(stk) == 0 {
				break loop
			}
			if idx := uint64(buf[pos+1]); !m.putSameStr(idx, &stk[len(stk)-1], w.memoRoom) && !m.put(idx, &stk[len(stk)-1], w.memoRoom) {
				break loop
			}
			pos += 2
		case 'h': // BINGET
			if pos+2 > len(buf) || len(stk) >= room {
				break loop
			}
			v, ok := m.get(uint64(buf[pos+1]))
			if !ok {
				break loop
			}
			stk = append(stk, v)
			pos += 2
		default:
			break loop
		}
		ops++
	}
	r.pos = pos
	w.res.Ops = ops
	w.stack = stk
}

// grow1 extends s by one element whose old content is left for the caller
// to overwrite.
func grow1(s []value) []value {
	if len(s) == cap(s) {
		s = slices.Grow(s, 1)
	}
	return s[:len(s)+1]
}

// set overwrites every field of v in place. Pushing a composite literal
// instead builds it in a temporary with narrow stores and copies it with
// wide loads, a store-forwarding stall on every push.
func (v *value) set(k kind, s string, n int64) {
	v.s, v.n, v.items, v.g, v.inst, v.k, v.big, v.obj, v.lost = s, n, nil, 0, 0, k, false, false, false
}

// sameStr is string(b) == s without a call for short names.
func sameStr(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	if len(b) > 16 {
		return string(b) == s
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}
