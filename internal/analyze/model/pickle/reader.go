package pickle

import (
	"bytes"
	"io"
)

// rd is a forward-only buffered reader tuned for one-byte opcodes: the
// hot path is an index into a slice. Skips seek when the source can, so
// tensor data embedded in a stream is never read.
type rd struct {
	r        io.Reader
	buf      []byte
	pos, end int
	base     int64 // stream offset of buf[0]
	eof      bool
}

func newRd(r io.Reader) *rd { return &rd{r: r, buf: make([]byte, 256<<10)} }

func (b *rd) off() int64 { return b.base + int64(b.pos) }

// fill tries to make n bytes available (n <= len(buf)).
func (b *rd) fill(n int) bool {
	if b.end-b.pos >= n {
		return true
	}
	if b.pos > 0 {
		copy(b.buf, b.buf[b.pos:b.end])
		b.base += int64(b.pos)
		b.end -= b.pos
		b.pos = 0
	}
	for b.end < n && !b.eof {
		k, err := b.r.Read(b.buf[b.end:])
		b.end += k
		if err != nil {
			b.eof = true
		}
	}
	return b.end-b.pos >= n
}

func (b *rd) byte() (byte, bool) {
	if b.pos < b.end {
		c := b.buf[b.pos]
		b.pos++
		return c, true
	}
	if !b.fill(1) {
		return 0, false
	}
	c := b.buf[b.pos]
	b.pos++
	return c, true
}

// peek returns up to n bytes without consuming them.
func (b *rd) peek(n int) []byte {
	b.fill(n)
	m := min(n, b.end-b.pos)
	return b.buf[b.pos : b.pos+m]
}

// next returns n bytes valid until the next call, or false if cut off.
func (b *rd) next(n int) ([]byte, bool) {
	if n <= len(b.buf) {
		if !b.fill(n) {
			return nil, false
		}
		s := b.buf[b.pos : b.pos+n]
		b.pos += n
		return s, true
	}
	out := make([]byte, n)
	k := copy(out, b.buf[b.pos:b.end])
	b.pos = b.end
	m, err := io.ReadFull(b.r, out[k:])
	b.base += int64(m)
	if err != nil {
		b.eof = true
		return nil, false
	}
	return out, true
}

// skip discards n bytes, seeking past them when the source allows.
func (b *rd) skip(n uint64) bool {
	if avail := uint64(b.end - b.pos); n <= avail {
		b.pos += int(n)
		return true
	}
	n -= uint64(b.end - b.pos)
	b.base += int64(b.end)
	b.pos, b.end = 0, 0
	if s, ok := b.r.(io.Seeker); ok && n < 1<<62 {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			size, err := s.Seek(0, io.SeekEnd)
			if err == nil && uint64(size-cur) >= n {
				if _, err := s.Seek(cur+int64(n), io.SeekStart); err == nil {
					b.base += int64(n)
					return true
				}
			}
			_, _ = s.Seek(size, io.SeekStart)
			b.base += size - cur
			b.eof = true
			return false
		}
	}
	m, _ := io.CopyN(io.Discard, b.r, int64(min(n, 1<<62)))
	b.base += m
	if uint64(m) != n {
		b.eof = true
		return false
	}
	return true
}

// line returns the bytes up to '\n' (excluded). A line longer than the
// buffer (CPython reads lines of any length) is consumed through its '\n'
// without being kept: long reports it. ok is false at the end of the data;
// s then holds the unterminated tail (consumed), which Python's pure
// unpickler still uses as a line.
func (b *rd) line() (s []byte, long, ok bool) {
	for scanned := 0; ; {
		if i := bytes.IndexByte(b.buf[b.pos+scanned:b.end], '\n'); i >= 0 {
			s := b.buf[b.pos : b.pos+scanned+i]
			b.pos += scanned + i + 1
			return s, false, true
		}
		scanned = b.end - b.pos
		if b.eof {
			s := b.buf[b.pos:b.end]
			b.pos = b.end
			return s, false, false
		}
		if scanned >= len(b.buf) {
			return nil, true, b.skipLine()
		}
		if !b.fill(scanned+1) && b.end-b.pos <= scanned {
			s := b.buf[b.pos:b.end]
			b.pos = b.end
			return s, false, false
		}
	}
}

// skipLine discards bytes through the next '\n'.
func (b *rd) skipLine() bool {
	for {
		if i := bytes.IndexByte(b.buf[b.pos:b.end], '\n'); i >= 0 {
			b.pos += i + 1
			return true
		}
		b.base += int64(b.end)
		b.pos, b.end = 0, 0
		if b.eof || !b.fill(1) {
			return false
		}
	}
}
