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
	// last memoized string: pickles often memoize the same name repeatedly.
	last     string
	lastCode int32
	lastOK   bool
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
func (m *memo) put(idx uint64, v *value, maxEntries int) bool {
	code := int32(-1)
	if v.k == kStr && !v.big && v.inst == 0 {
		if m.lastOK && m.last == v.s {
			code = m.lastCode
		} else if i, ok := m.strIdx[v.s]; ok {
			code = -i - 3
		} else {
			if len(m.strs) >= maxEntries || !m.charge(int64(len(v.s))+64) {
				return false
			}
			m.strs = append(m.strs, v.s)
			code = -int32(len(m.strs)) - 2
			if len(m.strIdx) < 1<<16 {
				if m.strIdx == nil {
					m.strIdx = map[string]int32{}
				}
				m.strIdx[v.s] = int32(len(m.strs) - 1)
			}
		}
		m.last, m.lastCode, m.lastOK = v.s, code, true
	} else if v.k == kNone {
		code = -2
	} else if v.k != kOther || v.inst > 0 || v.obj {
		if len(m.vals) >= maxEntries || !m.charge(48+48*int64(len(v.list()))) {
			return false
		}
		m.vals = append(m.vals, *v)
		code = int32(len(m.vals))
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
