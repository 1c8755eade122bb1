package pickle

// Integer text as CPython's _pickle.c reads it. INT first tries C strtol
// with base 0 (so "010" is octal 8 and "0x10" is 16, leading blanks and a
// sign allowed) and must consume the whole line; otherwise, like LONG, it
// falls back to PyLong_FromString with base 0: Python's int() literal rules
// (blanks around, a sign, 0x/0o/0b prefixes, single underscores between
// digits, no leading zeros on a non-zero decimal). The walk only needs the
// values for array shapes; a value it cannot represent is reported as
// unknown (ok=false), never as a break, so the walk never stops where the
// loader would not.

func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// strtol0 is C strtol(s, &end, 0) on a line without its '\n'; ok only if
// it consumed everything and did not overflow a 64-bit long.
func strtol0(s []byte) (int64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && digitVal(s[i+2]) < 16 {
		base, i = 16, i+2
	} else if i < len(s) && s[i] == '0' {
		base = 8
	}
	start := i
	var u uint64
	over := false
	for i < len(s) && digitVal(s[i]) < base {
		d := uint64(digitVal(s[i]))
		if u > (1<<63)/uint64(base) {
			over = true
		}
		u = u*uint64(base) + d
		if u > 1<<63 {
			over = true
		}
		i++
	}
	if i == start || i != len(s) || over || (!neg && u == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// pyLong0 is PyLong_FromString(s, NULL, 0) (the C string stops at a NUL).
// fits is false when the text is valid but the value needs more than 64
// bits; ok is false when Python would raise.
func pyLong0(s []byte) (n int64, fits, ok bool) { return pyLong(s, 0) }

// pyLong is PyLong_FromString with base 0 or 10 (PUT and GET use 10:
// no prefixes, leading zeros allowed).
func pyLong(s []byte, want int) (n int64, fits, ok bool) {
	for i, c := range s {
		if c == 0 {
			s = s[:i]
			break
		}
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	j := len(s)
	for j > i && isCSpace(s[j-1]) {
		j--
	}
	s = s[i:j]
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	if want == 0 && len(s) >= 2 && s[0] == '0' {
		switch s[1] | 0x20 {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = s[2:]
			if len(s) > 0 && s[0] == '_' { // "0x_1f" is valid
				s = s[1:]
			}
		}
	}
	if len(s) == 0 || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, false, false
	}
	var u uint64
	fits = true
	digits, nonZero := 0, false
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c == '_' {
			if s[k-1] == '_' {
				return 0, false, false
			}
			continue
		}
		d := digitVal(c)
		if d >= base {
			return 0, false, false
		}
		digits++
		if d != 0 {
			nonZero = true
		}
		if u > (1<<64-1-uint64(d))/uint64(base) {
			fits = false
		}
		u = u*uint64(base) + uint64(d)
	}
	// A decimal literal with a leading zero must be all zeros.
	if want == 0 && base == 10 && s[0] == '0' && nonZero {
		return 0, false, false
	}
	// Python refuses decimal strings over 4300 digits (int_max_str_digits).
	if base == 10 && digits > 4300 {
		return 0, false, false
	}
	if !fits || u > 1<<63 || (!neg && u == 1<<63) {
		return 0, false, true
	}
	if neg {
		return -int64(u), true, true
	}
	return int64(u), true, true
}

// textInt reads an INT ('I') or LONG ('L') argument line (without '\n').
// known is false when the value is not representable or Python would
// reject it (the walk goes on with an unknown int either way).
func textInt(line []byte, long bool) (int64, bool) {
	if long {
		if n := len(line); n > 0 && line[n-1] == 'L' {
			line = line[:n-1]
		}
	} else if n, ok := strtol0(line); ok {
		return n, true
	}
	n, fits, ok := pyLong0(line)
	return n, fits && ok
}

// leInt decodes LONG1/LONG4 two's-complement little-endian bytes.
func leInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if len(b) > 8 {
		// Fits only if the extra high bytes are pure sign extension.
		sign := byte(0)
		if b[len(b)-1]&0x80 != 0 {
			sign = 0xff
		}
		for _, c := range b[8:] {
			if c != sign {
				return 0, false
			}
		}
		if (b[7]&0x80 != 0) != (sign == 0xff) {
			return 0, false
		}
		b = b[:8]
	}
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	if sh := uint(64 - 8*len(b)); sh > 0 {
		return int64(x<<sh) >> sh, true
	}
	return int64(x), true
}
