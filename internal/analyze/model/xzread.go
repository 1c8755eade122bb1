package model

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzReader decodes the .xz container block by block, so that each block's
// LZMA2 dictionary size is checked before anything is allocated for it (a
// generic xz reader allocates whatever a block header asks, up to 4 GiB).
// Like Python's lzma module it reads concatenated streams and stream
// padding. Only the LZMA2 filter alone is supported (Python also accepts
// BCJ and delta filters before it: those streams fail here, and the scan
// reports them as MLG111). Checks are not verified: what Python would
// reject at a block's end it has already handed out.
type xzReader struct {
	src   *bufio.Reader
	block io.Reader    // the current block's data, nil between blocks
	cur   *countingBuf // compressed bytes the current block has used
	check int          // check size of the current stream
	state int          // 0 expecting a stream header, 1 a block or the index
	err   error
}

var errXZUnsupported = errors.New("xz: only a single LZMA2 filter is supported")

func newXZReader(r io.Reader) (*xzReader, error) {
	x := &xzReader{src: bufio.NewReaderSize(r, 64<<10)}
	if err := x.streamHeader(); err != nil {
		return nil, err
	}
	return x, nil
}

var xzCheckSize = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

func (x *xzReader) streamHeader() error {
	var h [12]byte
	if _, err := io.ReadFull(x.src, h[:]); err != nil {
		return fmt.Errorf("xz: stream header: %w", err)
	}
	if !bytes.HasPrefix(h[:], []byte{0xfd, '7', 'z', 'X', 'Z', 0}) || h[6] != 0 || h[7] > 0x0f {
		return fmt.Errorf("xz: bad stream header")
	}
	x.check = xzCheckSize[h[7]]
	x.state = 1
	return nil
}

func (x *xzReader) Read(p []byte) (int, error) {
	for x.err == nil {
		if x.block != nil {
			n, err := x.block.Read(p)
			if err == io.EOF {
				x.block = nil
				x.err = x.endBlock()
				if n > 0 {
					return n, nil
				}
				continue
			}
			return n, err
		}
		x.err = x.next()
	}
	return 0, x.err
}

// countingBuf counts compressed bytes, for the block padding.
type countingBuf struct {
	r *bufio.Reader
	n int64
}

func (c *countingBuf) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingBuf) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// next reads a block header (and starts the block), or the index and
// footer, then a following stream if there is one.
func (x *xzReader) next() error {
	if x.state == 0 {
		// After a stream: zero padding, then EOF or another stream.
		for {
			b, err := x.src.Peek(4)
			if len(b) == 0 && err == io.EOF {
				return io.EOF
			}
			if len(b) == 4 && bytes.Equal(b, []byte{0, 0, 0, 0}) {
				x.src.Discard(4)
				continue
			}
			return x.streamHeader()
		}
	}
	b, err := x.src.ReadByte()
	if err != nil {
		return fmt.Errorf("xz: truncated: %w", err)
	}
	if b == 0 {
		return x.indexAndFooter()
	}
	hs := (int(b) + 1) * 4
	h := make([]byte, hs)
	h[0] = b
	if _, err := io.ReadFull(x.src, h[1:]); err != nil {
		return fmt.Errorf("xz: block header: %w", err)
	}
	flags := h[1]
	if flags&0x3c != 0 {
		return fmt.Errorf("xz: bad block flags")
	}
	rd := bytes.NewReader(h[2 : hs-4])
	if flags&0x40 != 0 {
		if _, err := binary.ReadUvarint(rd); err != nil {
			return fmt.Errorf("xz: block header: %w", err)
		}
	}
	if flags&0x80 != 0 {
		if _, err := binary.ReadUvarint(rd); err != nil {
			return fmt.Errorf("xz: block header: %w", err)
		}
	}
	if flags&3 != 0 {
		return errXZUnsupported
	}
	id, err1 := binary.ReadUvarint(rd)
	psize, err2 := binary.ReadUvarint(rd)
	prop, err3 := rd.ReadByte()
	if err1 != nil || err2 != nil || err3 != nil || id != 0x21 || psize != 1 {
		return errXZUnsupported
	}
	bits := int(prop & 0x3f)
	if bits > 40 {
		return fmt.Errorf("xz: bad LZMA2 dictionary size")
	}
	dict := int64(0xffffffff)
	if bits < 40 {
		dict = int64(2|bits&1) << (bits/2 + 11)
	}
	if dict > maxDict {
		return fmt.Errorf("xz: block declares a %d-byte dictionary, over the %d-byte cap", dict, maxDict)
	}
	c := &countingBuf{r: x.src}
	lr, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(c)
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	x.block, x.cur = lr, c
	return nil
}

// endBlock skips the block padding (the header is a multiple of four
// bytes, so the compressed size alone decides it) and the check.
func (x *xzReader) endBlock() error {
	pad := int((4 - x.cur.n%4) % 4)
	if _, err := x.src.Discard(pad + x.check); err != nil {
		return fmt.Errorf("xz: block padding or check truncated")
	}
	return nil
}

func (x *xzReader) indexAndFooter() error {
	n, err := binary.ReadUvarint(x.src)
	if err != nil {
		return fmt.Errorf("xz: index: %w", err)
	}
	size := 1 + uvarintLen(n)
	for i := uint64(0); i < n; i++ {
		a, err1 := binary.ReadUvarint(x.src)
		b, err2 := binary.ReadUvarint(x.src)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("xz: index truncated")
		}
		size += uvarintLen(a) + uvarintLen(b)
	}
	pad := (4 - size%4) % 4
	if _, err := x.src.Discard(pad + 4 + 12); err != nil {
		return fmt.Errorf("xz: index or footer truncated")
	}
	x.state = 0
	return nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// lzmaAuto reads what Python's lzma.LZMAFile (FORMAT_AUTO, joblib's lzma
// and xz loader) reads from a file starting with an .lzma ("alone")
// stream: after each stream, the next one in either format; trailing data
// that is not a stream is ignored, as Python ignores it.
type lzmaAuto struct {
	src *bufio.Reader
	cur io.Reader
	err error
}

func newLZMAAuto(r io.Reader) (io.Reader, error) {
	a := &lzmaAuto{src: bufio.NewReaderSize(r, 64<<10)}
	if err := a.next(true); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *lzmaAuto) Read(p []byte) (int, error) {
	for a.err == nil {
		if a.cur == nil {
			a.err = a.next(false)
			continue
		}
		n, err := a.cur.Read(p)
		if err == io.EOF {
			a.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, a.err
}

// next opens the stream at the current position. first: it must be one.
func (a *lzmaAuto) next(first bool) error {
	h, _ := a.src.Peek(lzma.HeaderLen)
	switch {
	case len(h) == 0:
		return io.EOF
	case !first && bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		x, err := newXZReader(a.src)
		if err != nil {
			return err
		}
		a.cur = x
		return nil
	case len(h) < lzma.HeaderLen || h[0] >= 9*5*5:
		if first {
			return fmt.Errorf("lzma: bad header")
		}
		return io.EOF // trailing garbage
	}
	if d := binary.LittleEndian.Uint32(h[1:]); d > maxDict {
		return fmt.Errorf("lzma: stream declares a %d-byte dictionary, over the %d-byte cap", d, maxDict)
	}
	z, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(a.src)
	if err != nil {
		if first {
			return err
		}
		return io.EOF
	}
	a.cur = &drained{r: z}
	return nil
}
