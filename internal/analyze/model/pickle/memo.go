package pickle

// memo models the unpickler's memo compactly: most memoized objects are
// containers the walk does not track, so an entry costs 4 bytes unless its
// value matters (strings, callables, tuples, dtypes).
type memo struct {
	// Dense entries, index -> 0 absent, -1 untracked, -2 None, k>0
	// vals[k-1], k<-2 strs[-k-3]. Indices below dlen live in fixed pages, so growing
	// never copies (a memo-heavy pickle has millions of entries); only the
	// first page starts small and doubles up to full size.
	pages  [][]int32
	dlen   int
	cur    []int32          // nil or pages[dlen>>memoPageBits]: putSameStr's page
	sparse map[uint64]int32 // indices too far out for dense
	vals   []value
	strs   []string         // memoized str values
	strIdx map[string]int32 // dedupes strs, so repeated names cost 4 bytes
	n      int              // entries present (MEMOIZE's next index)
	// held and maxHeld: the walker's budget for kept values, shared with
	// nested pickles; put fails once it is spent.
	held    *int64
	maxHeld int64
	// soft: once held passes it, new entries keep only what is bounded
	// (see forgotten); the rest of the budget is left for imports, joblib
	// state and strings revived at their use.
	soft int64
	// shared dedupes vals entries without pointers (callables, call
	// results, forgotten values): their variety is bounded by the imports.
	shared map[value]int32
	// ring remembers the last strings forgotten and where, so a string
	// that turns out to matter (an import name, a joblib key, a dtype) can
	// be put back while the slot still holds it. ringMask has bit idx&63
	// set for every index in the ring, so most puts skip the scan.
	ring     [32]lostStr
	ringPos  int
	ringMask uint64
	// last memoized string: pickles often memoize the same name repeatedly.
	last     string
	lastCode int32
	lastOK   bool
}

type lostStr struct {
	idx uint64
	s   string
	ok  bool
}

const (
	memoPageBits = 16
	memoPage     = 1 << memoPageBits // entries per page (256 KB)
	memoFirst    = 1024              // first page's initial size
)

func (m *memo) reset() {
	m.dlen = 0 // pages are kept; slot clears entries as it reuses them
	m.cur = nil
	m.sparse = nil
	m.vals = m.vals[:0]
	m.strs = m.strs[:0]
	m.strIdx = nil
	m.shared = nil
	m.ring, m.ringPos, m.ringMask = [32]lostStr{}, 0, 0
	m.lastOK = false
	m.n = 0
}

func (m *memo) entry(idx uint64) *int32 {
	return &m.pages[idx>>memoPageBits][idx&(memoPage-1)]
}

func (m *memo) slot(idx uint64, create bool) *int32 {
	if idx < uint64(m.dlen) {
		return m.entry(idx)
	}
	if create && idx < uint64(m.dlen)+4096 && idx < 1<<28 {
		for uint64(m.dlen) <= idx {
			p, i := m.dlen>>memoPageBits, m.dlen&(memoPage-1)
			switch {
			case p == len(m.pages):
				size := memoPage
				if p == 0 {
					size = min(memoFirst, memoPage)
				}
				m.pages = append(m.pages, make([]int32, size))
			case i == len(m.pages[p]): // only the first page is ever short
				grown := make([]int32, min(2*len(m.pages[p]), memoPage))
				copy(grown, m.pages[p])
				m.pages[p] = grown
			}
			// reset() keeps the pages: no stale entries may show. An entry
			// stored out of order (sparse) moves in as the range reaches it.
			e := int32(0)
			if m.sparse != nil {
				if c, ok := m.sparse[uint64(m.dlen)]; ok {
					e = c
					delete(m.sparse, uint64(m.dlen))
				}
			}
			m.pages[p][i] = e
			m.dlen++
		}
		m.cur = nil
		if p := m.dlen >> memoPageBits; p < len(m.pages) {
			m.cur = m.pages[p]
		}
		return m.entry(idx)
	}
	return nil
}

// put stores v at idx; it reports false when a cap would be exceeded.
// Past the soft budget a value is memoized in its forgotten form (the
// walk then stops only if that form is used where its content matters).
func (m *memo) put(idx uint64, v *value, maxEntries int) bool {
	if m.ringMask&(1<<(idx&63)) != 0 {
		m.unring(idx)
	}
	code := int32(-1)
	if v.k == kStr && !v.big && v.inst == 0 {
		if m.lastOK && m.last == v.s {
			code = m.lastCode
		} else if i, ok := m.strIdx[v.s]; ok {
			code = -i - 3
			m.last, m.lastCode, m.lastOK = v.s, code, true
		} else if *m.held+int64(len(v.s))+64 > m.soft {
			var ok bool
			if code, ok = m.track(forgotten(*v), maxEntries); !ok {
				return false
			}
			m.ring[m.ringPos] = lostStr{idx: idx, s: v.s, ok: true}
			m.ringPos = (m.ringPos + 1) % len(m.ring)
			m.ringMask |= 1 << (idx & 63)
			m.lastOK = false
		} else {
			var ok bool
			if code, ok = m.newStr(v.s, maxEntries); !ok {
				return false
			}
		}
	} else if v.k == kNone {
		code = -2
	} else if v.k != kOther || v.inst > 0 || v.obj {
		var ok bool
		if code, ok = m.track(*v, maxEntries); !ok {
			return false
		}
	}
	if idx < uint64(m.dlen) || (idx < uint64(m.dlen)+4096 && idx < 1<<28) {
		s := m.slot(idx, true)
		if *s == 0 {
			if m.n >= maxEntries {
				return false
			}
			m.n++
		}
		*s = code
		return true
	}
	if m.sparse == nil {
		m.sparse = map[uint64]int32{}
	}
	if _, ok := m.sparse[idx]; !ok {
		if m.n >= maxEntries || !m.charge(96) { // a map entry with its share of buckets
			return false
		}
		m.n++
	}
	m.sparse[idx] = code
	return true
}

// newStr adds s to strs (charged against the whole budget).
func (m *memo) newStr(s string, maxEntries int) (int32, bool) {
	if len(m.strs) >= maxEntries || !m.charge(int64(len(s))+64) {
		return 0, false
	}
	m.strs = append(m.strs, s)
	code := -int32(len(m.strs)) - 2
	if len(m.strIdx) < 1<<16 {
		if m.strIdx == nil {
			m.strIdx = map[string]int32{}
		}
		m.strIdx[s] = int32(len(m.strs) - 1)
	}
	m.last, m.lastCode, m.lastOK = s, code, true
	return code, true
}

// forgotten is what the walk keeps of v past the soft budget: its kind
// and obj bit, not its items, text, number or identity. Callables and
// call results (kGlobal, kOther) are kept whole: they are few (deduped).
func forgotten(v value) value {
	switch v.k {
	case kGlobal, kOther, kNone:
		return v
	}
	f := value{k: v.k, g: v.g, inst: v.inst, obj: v.obj, lost: true}
	if v.k == kStr || v.k == kBytes || v.k == kInt {
		f.big = true // unknown content, as a value too long to keep
	}
	return f
}

// track stores a value other than a plain str. Past the soft budget (the
// whole budget for dtypes: a model's few dtypes are memoized once and
// used again for every array) it stores the value's forgotten form.
func (m *memo) track(v value, maxEntries int) (int32, bool) {
	cost := 48 + 48*int64(len(v.list()))
	limit := m.soft
	if v.k == kDtype {
		limit = m.maxHeld
	}
	if !v.lost && *m.held+cost > limit {
		v = forgotten(v)
	}
	if v.k == kGlobal || v.k == kOther || v.lost {
		if c, ok := m.shared[v]; ok {
			return c, true
		}
		if len(m.vals) >= maxEntries {
			return 0, false
		}
		// Not refused: distinct entries are bounded by the imports.
		*m.held += 48 + 64
		if m.shared == nil {
			m.shared = map[value]int32{}
		}
		m.vals = append(m.vals, v)
		m.shared[v] = int32(len(m.vals))
		return int32(len(m.vals)), true
	}
	if len(m.vals) >= maxEntries || !m.charge(cost) {
		return 0, false
	}
	m.vals = append(m.vals, v)
	return int32(len(m.vals)), true
}

// unring drops the ring's claims on idx: the slot is being overwritten.
func (m *memo) unring(idx uint64) {
	for i := range m.ring {
		if m.ring[i].ok && m.ring[i].idx == idx {
			m.ring[i] = lostStr{}
		}
	}
}

// revive puts s back in the slots where it was forgotten and still is:
// s has just been used where it matters, so its next GET will be too.
// Revived strings are charged against the whole budget.
func (m *memo) revive(s string) {
	if m.ringMask == 0 {
		return
	}
	for i := range m.ring {
		e := &m.ring[i]
		if !e.ok || e.s != s {
			continue
		}
		code := int32(0)
		if j, ok := m.strIdx[s]; ok {
			code = -j - 3
		} else {
			var ok bool
			if code, ok = m.newStr(s, int(^uint(0)>>1)); !ok {
				*m.held -= int64(len(s)) + 64 // not kept: uncharge
				return
			}
		}
		if e.idx < uint64(m.dlen) {
			*m.entry(e.idx) = code
		} else if _, ok := m.sparse[e.idx]; ok {
			m.sparse[e.idx] = code
		}
		*e = lostStr{}
	}
}

// putSameStr is put's commonest case on its own, small enough to inline:
// the str memoized last, memoized again at the next dense index (MEMOIZE,
// or a PUT numbering entries in order), short of the end of its page (so
// cur stays the page of dlen). false means put must decide.
func (m *memo) putSameStr(idx uint64, v *value, maxEntries int) bool {
	i := idx & (memoPage - 1)
	if idx != uint64(m.dlen) || i+1 >= uint64(len(m.cur)) || idx >= 1<<28 || m.sparse != nil ||
		m.n >= maxEntries || !m.lastOK || v.k != kStr || v.big || v.inst != 0 || v.s != m.last {
		return false
	}
	m.cur[i] = m.lastCode
	m.dlen++
	m.n++
	return true
}

func (m *memo) charge(n int64) bool {
	*m.held += n
	return *m.held <= m.maxHeld
}

func (m *memo) get(idx uint64) (value, bool) {
	var code int32
	if idx < uint64(m.dlen) {
		code = *m.entry(idx)
	} else if m.sparse != nil {
		code = m.sparse[idx]
	}
	switch {
	case code == 0:
		return value{}, false
	case code == -1:
		return value{}, true
	case code == -2:
		return value{k: kNone}, true
	case code < -2:
		return value{k: kStr, s: m.strs[-code-3]}, true
	}
	return m.vals[code-1], true
}
