package pickle

// memo models the unpickler's memo compactly: most memoized objects are
// containers the walk does not track, so an entry costs 4 bytes unless its
// value matters (strings, callables, tuples, dtypes).
type memo struct {
	dense  []int32          // index -> 0 absent, -1 untracked, k>0 vals[k-1]
	sparse map[uint64]int32 // indices too far out for dense
	vals   []value
	strs   []string         // memoized str values: code -(2+i)
	strIdx map[string]int32 // dedupes strs, so repeated names cost 4 bytes
	n      int              // entries present (MEMOIZE's next index)
	// last memoized string: pickles often memoize the same name repeatedly.
	last     string
	lastCode int32
	lastOK   bool
}

func (m *memo) reset() {
	m.dense = m.dense[:0]
	m.sparse = nil
	m.vals = m.vals[:0]
	m.strs = m.strs[:0]
	m.strIdx = nil
	m.lastOK = false
	m.n = 0
}

func (m *memo) slot(idx uint64, create bool) *int32 {
	if idx < uint64(len(m.dense)) {
		return &m.dense[idx]
	}
	if create && idx < uint64(len(m.dense))+4096 && idx < 1<<28 {
		if idx >= uint64(cap(m.dense)) {
			// Double: append's gentler growth for big slices costs
			// several times the final size in copies on memo-heavy pickles.
			grown := make([]int32, len(m.dense), max(2*cap(m.dense), int(idx)+1, 1024))
			copy(grown, m.dense)
			m.dense = grown
		}
		old := len(m.dense)
		m.dense = m.dense[:idx+1]
		clear(m.dense[old:]) // reset() keeps the array: no stale entries may show
		return &m.dense[idx]
	}
	return nil
}

// put stores v at idx; it reports false when a cap would be exceeded.
func (m *memo) put(idx uint64, v value, maxEntries int) bool {
	code := int32(-1)
	if v.k == kStr && !v.big && v.inst == 0 {
		if m.lastOK && m.last == v.s {
			code = m.lastCode
		} else if i, ok := m.strIdx[v.s]; ok {
			code = -i - 2
		} else {
			if len(m.strs) >= maxEntries {
				return false
			}
			m.strs = append(m.strs, v.s)
			code = -int32(len(m.strs)) - 1
			if len(m.strIdx) < 1<<16 {
				if m.strIdx == nil {
					m.strIdx = map[string]int32{}
				}
				m.strIdx[v.s] = int32(len(m.strs) - 1)
			}
		}
		m.last, m.lastCode, m.lastOK = v.s, code, true
	} else if v.k != kOther || v.inst > 0 {
		if len(m.vals) >= maxEntries {
			return false
		}
		m.vals = append(m.vals, v)
		code = int32(len(m.vals))
	}
	if idx < uint64(len(m.dense)) || (idx < uint64(len(m.dense))+4096 && idx < 1<<28) {
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
		if m.n >= maxEntries {
			return false
		}
		m.n++
	}
	m.sparse[idx] = code
	return true
}

func (m *memo) get(idx uint64) (value, bool) {
	var code int32
	if idx < uint64(len(m.dense)) {
		code = m.dense[idx]
	} else if m.sparse != nil {
		code = m.sparse[idx]
	}
	switch {
	case code == 0:
		return value{}, false
	case code == -1:
		return value{}, true
	case code < -1:
		return value{k: kStr, s: m.strs[-code-2]}, true
	}
	return m.vals[code-1], true
}
