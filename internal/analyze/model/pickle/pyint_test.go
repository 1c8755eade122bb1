package pickle

import (
	"strconv"
	"testing"
)

// TestTextIntMatchesCPython: INT and LONG arguments, with the values
// pickle.loads gives for them (recorded from CPython 3.11).
func TestTextIntMatchesCPython(t *testing.T) {
	cases := []struct {
		long bool
		text string
		want string // the value, or ERR
	}{
		{false, " 1", "1"},
		{true, " 1", "1"},
		{false, "+2", "2"},
		{true, "+2", "2"},
		{false, "1_0", "10"},
		{true, "1_0", "10"},
		{false, "0x1f", "31"},
		{true, "0x1f", "31"},
		{false, "010", "8"},
		{true, "010", "ERR"},
		{false, "00", "0"},
		{true, "00", "0"},
		{false, "01", "1"},
		{true, "01", "ERR"},
		{false, "-0", "0"},
		{true, "-0", "0"},
		{false, "3 ", "3"},
		{true, "3 ", "3"},
		{false, "0b11", "3"},
		{true, "0b11", "3"},
		{false, "0o7", "7"},
		{true, "0o7", "7"},
		{false, "99999999999999999999", "99999999999999999999"},
		{true, "99999999999999999999", "99999999999999999999"},
		{false, "1__0", "ERR"},
		{true, "1__0", "ERR"},
		{false, "x", "ERR"},
		{true, "x", "ERR"},
		{false, "0_0", "0"},
		{true, "0_0", "0"},
		{false, "\t5", "5"},
		{true, "\t5", "5"},
		{false, "0x_1f", "31"},
		{true, "0x_1f", "31"},
		{false, "_1", "ERR"},
		{true, "_1", "ERR"},
		{false, "1_", "ERR"},
		{true, "1_", "ERR"},
		{false, "007", "7"},
		{true, "007", "ERR"},
		{false, "-5", "-5"},
		{true, "-5", "-5"},
		{false, "0X10", "16"},
		{true, "0X10", "16"},
		{false, " -0x10 ", "-16"},
		{true, " -0x10 ", "-16"},
		{false, "08", "ERR"},
		{true, "08", "ERR"},
		{false, "09", "ERR"},
		{true, "09", "ERR"},
	}
	for _, c := range cases {
		line := c.text
		if c.long {
			line += "L"
		}
		n, known := textInt([]byte(line), c.long)
		switch {
		case c.want == "ERR" && known:
			t.Errorf("%q (long %v): CPython raises, walker reads %d", c.text, c.long, n)
		case c.want != "ERR" && len(c.want) > 18:
			if known {
				t.Errorf("%q: out of int64 range, walker reads %d", c.text, n)
			}
		case c.want != "ERR" && (!known || strconv.FormatInt(n, 10) != c.want):
			t.Errorf("%q (long %v): CPython %s, walker %d (known %v)", c.text, c.long, c.want, n, known)
		}
	}
	for s, want := range map[string]int64{" 5": 5, "+5": 5, "1_0": 10, "007": 7, "5 ": 5} {
		if n, ok := memoIndex([]byte(s)); !ok || int64(n) != want {
			t.Errorf("memo index %q: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"-1", "x", "0x5", "", "1__0"} {
		if _, ok := memoIndex([]byte(s)); ok {
			t.Errorf("memo index %q accepted; CPython raises", s)
		}
	}
}
