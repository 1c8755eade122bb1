package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ONNX is protobuf. The walk reads only the fields that matter (opsets,
// node domains, subgraphs, external_data) and skips tensor bytes by offset.

var errPB = errors.New("malformed protobuf")

type pb struct {
	r   io.ReaderAt
	buf [10]byte
}

func (p *pb) varint(off, end int64) (uint64, int64, error) {
	n := end - off
	if n > 10 {
		n = 10
	}
	if n <= 0 {
		return 0, 0, errPB
	}
	if _, err := p.r.ReadAt(p.buf[:n], off); err != nil && err != io.EOF {
		return 0, 0, err
	}
	v, k := binary.Uvarint(p.buf[:n])
	if k <= 0 {
		return 0, 0, errPB
	}
	return v, off + int64(k), nil
}

// fields calls fn for each field of the message in [off,end): for
// length-delimited fields with (start,stop); for varints with the value.
func (p *pb) fields(off, end int64, fn func(num int, wire int, v uint64, start, stop int64) error) error {
	for off < end {
		key, next, err := p.varint(off, end)
		if err != nil {
			return err
		}
		off = next
		num, wire := int(key>>3), int(key&7)
		switch wire {
		case 0:
			v, next, err := p.varint(off, end)
			if err != nil {
				return err
			}
			off = next
			if err := fn(num, wire, v, 0, 0); err != nil {
				return err
			}
		case 1:
			off += 8
		case 5:
			off += 4
		case 2:
			l, next, err := p.varint(off, end)
			if err != nil {
				return err
			}
			if l > uint64(end-next) {
				return fmt.Errorf("%w: field %d length %d past the message end", errPB, num, l)
			}
			if err := fn(num, wire, 0, next, next+int64(l)); err != nil {
				return err
			}
			off = next + int64(l)
		default:
			return fmt.Errorf("%w: wire type %d", errPB, wire)
		}
	}
	if off != end {
		return errPB
	}
	return nil
}

func (p *pb) str(start, stop int64) string {
	if stop-start > 4096 {
		stop = start + 4096
	}
	b := make([]byte, stop-start)
	_, _ = p.r.ReadAt(b, start)
	return string(b)
}

var standardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.training": true, "ai.onnx.preview.training": true,
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true,
}

type onnxState struct {
	p        *pb
	custom   map[string]bool
	local    map[string]bool // domains of model-local functions
	external map[string]bool
	depth    int
}

func (s *scan) onnx(r *io.SectionReader, member, name string) {
	st := &onnxState{p: &pb{r: r}, custom: map[string]bool{}, local: map[string]bool{}, external: map[string]bool{}}
	err := st.p.fields(0, r.Size(), func(num, wire int, v uint64, a, b int64) error {
		switch {
		case num == 7 && wire == 2:
			return st.graph(a, b)
		case num == 25 && wire == 2: // FunctionProto
			return st.p.fields(a, b, func(n, w int, _ uint64, c, d int64) error {
				switch {
				case n == 10 && w == 2:
					st.local[st.p.str(c, d)] = true
				case n == 7 && w == 2:
					return st.node(c, d)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		s.fail("parse", member, "ONNX model: %v", err)
	}
	var doms []string
	for d := range st.custom {
		if !st.local[d] {
			doms = append(doms, d)
		}
	}
	sort.Strings(doms)
	for _, d := range doms {
		s.add("MLG108", member, fmt.Sprintf("ONNX model uses custom operator domain %s, which loads native or Python code registered by the runtime", shown(d)))
	}
	var locs []string
	for l := range st.external {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	for _, l := range locs {
		if escapes(l) {
			s.add("MLG109", member, fmt.Sprintf("ONNX external_data location %s resolves outside the model directory", shown(l)))
		}
	}
}

func (st *onnxState) graph(a, b int64) error {
	st.depth++
	defer func() { st.depth-- }()
	if st.depth > 32 {
		return fmt.Errorf("subgraphs nested deeper than 32")
	}
	return st.p.fields(a, b, func(num, wire int, _ uint64, c, d int64) error {
		switch {
		case num == 1 && wire == 2:
			return st.node(c, d)
		case num == 5 && wire == 2:
			return st.tensor(c, d)
		}
		return nil
	})
}

func (st *onnxState) node(a, b int64) error {
	return st.p.fields(a, b, func(num, wire int, _ uint64, c, d int64) error {
		switch {
		case num == 7 && wire == 2:
			if dom := st.p.str(c, d); !standardDomains[dom] {
				st.custom[dom] = true
			}
		case num == 5 && wire == 2: // AttributeProto
			return st.p.fields(c, d, func(n, w int, _ uint64, e, f int64) error {
				switch {
				case (n == 6 || n == 11) && w == 2:
					return st.graph(e, f)
				case (n == 5 || n == 10) && w == 2:
					return st.tensor(e, f)
				}
				return nil
			})
		}
		return nil
	})
}

func (st *onnxState) tensor(a, b int64) error {
	return st.p.fields(a, b, func(num, wire int, _ uint64, c, d int64) error {
		if num == 13 && wire == 2 {
			var key, val string
			err := st.p.fields(c, d, func(n, w int, _ uint64, e, f int64) error {
				if w == 2 && n == 1 {
					key = st.p.str(e, f)
				}
				if w == 2 && n == 2 {
					val = st.p.str(e, f)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if key == "location" {
				st.external[val] = true
			}
		}
		return nil
	})
}
