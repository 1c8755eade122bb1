package model

import "testing"

// FuzzNpyHeader: any header text parses or fails without panicking, and a
// header naming an object dtype in the plain form is never judged plain.
func FuzzNpyHeader(f *testing.F) {
	for _, s := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
		"{'descr': [('a', '<i4'), ('b', [('c', 'O')])], 'fortran_order': False, 'shape': (), }",
		"{\"descr\": 'O' '', 'shape': (1,), 'fortran_order': True, 'descr': '\\x4f'}",
		"{'descr': ('O', (2,)), 'fortran_order': 0, 'shape': [1]} # c\n",
		"{'descr': 'i4,(2,)O', 'fortran_order': False, 'shape': (3L,), }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok, err := npyHeader(s)
		if err == nil && ok && v == dtPlain {
			if p, perr := parsePyLiteral(s); perr == nil {
				for i := 0; i+1 < len(p.items); i += 2 {
					if d := p.items[i+1]; p.items[i].str == "descr" && d.kind == 's' && d.str == "|O" {
						// The last descr wins; only fail when it is this one.
						last := i
						for j := i + 2; j+1 < len(p.items); j += 2 {
							if p.items[j].str == "descr" {
								last = j
							}
						}
						if last == i {
							t.Fatalf("object descr judged plain: %q", s)
						}
					}
				}
			}
		}
	})
}
