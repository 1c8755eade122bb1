package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// A sparse spool keeps, of a file that streams by once (a gateway upload),
// only the bytes the analyzer may read, so the interiors of large tensor
// storages are never written to disk. What is kept is a guess made from
// the stream; the guarantee is the SparseReader: any read of a byte that
// was not kept is recorded, and AnalyzeSparse turns it into MLG111. A
// wrong guess costs a refusal, never a pass.
//
// Two shapes are thinned. First, a zip read from offset 0 by its local
// headers, whose stored (method 0) members are named like torch storages
// (data/N) and are at least skipMin bytes (or of unknown size: sized by a
// data descriptor after the data, as torch's miniz writes every member;
// such a member ends at the first signed descriptor whose sizes match the
// bytes seen). Of those, the first keepHead and the last keepTail bytes
// are kept, and the rest only when the head looks like code (a known
// format, or a pickle walk that does not break early). Everything else,
// the central directory included, is kept: a local header that is not
// one switches to keeping every byte. Second, a file that does not open
// with a local header is one member spanning the file, named as the
// file, and thinned the same way (first keepHead and last keepTail bytes)
// when its head is claimed by no analyzer format, is no pickle that reads
// on, and is not vetoed by the caller (the gateway keeps text whole: it
// scans all of it for secrets). The analyzer reads such a file's head
// (format sniff, pickle walk) and its last 64 KiB (a zip's end record);
// an end record there (data prepended to a zip) leads it into the holes,
// which is MLG111.

const (
	skipMin  = 4 << 20 // members smaller than this are kept whole
	keepHead = 512 << 10
	// keepTail covers any()'s end-of-central-directory probe on a member
	// (its last 64 KiB + 22 bytes) when the archive is not torch's.
	keepTail = 1<<16 + 1024
	// decideLen is the head walked to decide; the analyzer's pickle reader
	// reads 256 KiB past where it stands (plus a 4 KiB peek), so a walk
	// that breaks within decideLen stays within keepHead.
	decideLen = 128 << 10
)

// Span is a half-open byte range [Off, End) of the file.
type Span struct{ Off, End int64 }

type keepState int

const (
	kHeader keepState = iota // reading a local header (all kept)
	kData                    // inside a member's data
	kAll                     // keeping every byte to the end
)

// Keeper writes the kept bytes of a stream to w at their offsets and
// lists them. Write never fails but for w's error; the stream is consumed
// in order. Close flushes the few bytes held back at the end.
type Keeper struct {
	w         io.WriterAt
	off       int64 // stream offset of the next byte to keep or skip
	kept      []Span
	skipped   int64
	st        keepState
	hdr       []byte
	need      int
	name      string
	method    uint16
	dataStart int64
	dataEnd   int64 // math.MaxInt64 while a descriptor-sized member's end is unknown
	skipFrom  int64 // skip [skipFrom, skipTo) of the current member
	skipTo    int64
	deciding  bool // head of a candidate being gathered in head
	head      []byte
	// A member whose sizes follow its data (flag bit 3, as torch's miniz
	// writes every member) ends at a signed data descriptor whose size
	// matches the bytes seen; pend holds the last bytes until the next
	// write tells whether a descriptor starts there, ring the member's
	// last keepTail bytes (restored when a skipped member ends).
	descSized bool
	// flat: the stream is no zip at offset 0; the one member is the whole
	// file (its end unknown until Close, its tail kept in ring).
	flat   bool
	whole  func(head []byte) bool // the caller's veto on thinning a flat file
	pend   []byte
	join   []byte
	ring   []byte
	ringAt int // next write position in ring
	ringN  int // bytes in ring
}

// NewKeeper returns a keeper writing to w (a sparse file: skipped ranges
// stay holes) the stream of the file named name. whole, if not nil, sees
// the head of a file that is no zip and keeps the file whole by
// returning true.
func NewKeeper(w io.WriterAt, name string, whole func(head []byte) bool) *Keeper {
	// name is the flat member's name until a local header names a member.
	return &Keeper{w: w, need: sizeLocal, name: name, whole: whole}
}

// Size is the number of bytes streamed so far.
func (k *Keeper) Size() int64 { return k.off + int64(len(k.pend)) }

// Skipped is the number of bytes not kept.
func (k *Keeper) Skipped() int64 { return k.skipped }

// Kept lists the kept ranges, sorted and merged.
func (k *Keeper) Kept() []Span { return append([]Span(nil), k.kept...) }

// Close takes the bytes held back at the end of the stream as member data
// (a truncated archive, or a descriptor never found).
func (k *Keeper) Close() error {
	p := k.pend
	k.pend = nil
	if err := k.data(p); err != nil {
		return err
	}
	if k.flat {
		return k.restoreTail() // the file's end is the member's
	}
	return nil
}

func (k *Keeper) keep(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if err := k.keepAt(p, k.off); err != nil {
		return err
	}
	k.off += int64(len(p))
	return nil
}

// keepAt writes and lists p at off, which is not before the last span.
func (k *Keeper) keepAt(p []byte, off int64) error {
	if _, err := k.w.WriteAt(p, off); err != nil {
		return err
	}
	end := off + int64(len(p))
	if n := len(k.kept); n > 0 && k.kept[n-1].End == off {
		k.kept[n-1].End = end
	} else {
		k.kept = append(k.kept, Span{off, end})
	}
	return nil
}

func (k *Keeper) skip(n int) {
	k.off += int64(n)
	k.skipped += int64(n)
}

// Write consumes the next bytes of the stream.
func (k *Keeper) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		switch k.st {
		case kAll:
			if err := k.keep(p); err != nil {
				return 0, err
			}
			p = nil
		case kHeader:
			n := min(len(p), k.need-len(k.hdr))
			k.hdr = append(k.hdr, p[:n]...)
			if err := k.keep(p[:n]); err != nil {
				return 0, err
			}
			p = p[n:]
			if len(k.hdr) == k.need {
				k.header()
			}
		case kData:
			if k.descSized {
				rest, err := k.descData(p)
				if err != nil {
					return 0, err
				}
				p = rest
				continue
			}
			n := int(min(int64(len(p)), k.dataEnd-k.off))
			if err := k.data(p[:n]); err != nil {
				return 0, err
			}
			p = p[n:]
			if k.off == k.dataEnd {
				k.endMember()
			}
		}
	}
	return total, nil
}

func (k *Keeper) endMember() {
	k.st, k.hdr, k.need, k.deciding, k.head = kHeader, k.hdr[:0], sizeLocal, false, k.head[:0]
	k.descSized, k.ringN, k.ringAt = false, 0, 0
}

// data takes chunk as the current member's bytes: kept or skipped.
func (k *Keeper) data(chunk []byte) error {
	if k.deciding {
		m := min(len(chunk), decideLen-len(k.head))
		k.head = append(k.head, chunk[:m]...)
		if len(k.head) == decideLen {
			k.decide()
		}
	}
	if (k.descSized || k.flat) && k.skipTo > k.skipFrom {
		k.remember(chunk)
	}
	for len(chunk) > 0 {
		if k.off >= k.skipFrom && k.off < k.skipTo {
			m := int(min(int64(len(chunk)), k.skipTo-k.off))
			k.skip(m)
			chunk = chunk[m:]
			continue
		}
		m := len(chunk)
		if k.off < k.skipFrom {
			m = int(min(int64(m), k.skipFrom-k.off))
		}
		if err := k.keep(chunk[:m]); err != nil {
			return err
		}
		chunk = chunk[m:]
	}
	return nil
}

// remember keeps the member's last keepTail bytes in ring.
func (k *Keeper) remember(c []byte) {
	if k.ring == nil {
		k.ring = make([]byte, keepTail)
	}
	if len(c) > keepTail {
		c = c[len(c)-keepTail:]
	}
	for len(c) > 0 {
		n := copy(k.ring[k.ringAt:], c)
		c = c[n:]
		k.ringAt = (k.ringAt + n) % keepTail
		k.ringN = min(k.ringN+n, keepTail)
	}
}

// restoreTail writes the skipped part of the member's last keepTail bytes
// (the member ends at k.off) from ring.
func (k *Keeper) restoreTail() error {
	from := max(k.skipFrom, k.off-int64(k.ringN), k.off-keepTail)
	if from >= k.off || k.skipTo <= k.skipFrom {
		return nil
	}
	n := int(k.off - from)
	buf := make([]byte, 0, n)
	start := (k.ringAt - n + keepTail) % keepTail
	if start+n <= keepTail {
		buf = append(buf, k.ring[start:start+n]...)
	} else {
		buf = append(buf, k.ring[start:]...)
		buf = append(buf, k.ring[:n-(keepTail-start)]...)
	}
	k.skipped -= int64(n)
	return k.keepAt(buf, from)
}

const descMax = 24 // signed zip64 data descriptor

// descData feeds a descriptor-sized member's bytes, ending the member at
// the first signed descriptor whose compressed size is the count of bytes
// since the data began. It returns what follows the descriptor.
func (k *Keeper) descData(p []byte) ([]byte, error) {
	// Candidates that start in pend are checked on pend + p's head.
	k.join = append(append(k.join[:0], k.pend...), p[:min(len(p), descMax)]...)
	d, l := k.findDesc(k.join, 0, len(k.pend))
	if d < 0 {
		d, l = k.findDesc(p, len(k.pend), len(p))
		if d >= 0 {
			d += len(k.pend)
		}
	}
	if d < 0 {
		// No descriptor yet: all but the last descMax-1 bytes are data.
		v := len(k.pend) + len(p)
		cut := max(v-(descMax-1), 0)
		if err := k.dataVirtual(p, cut); err != nil {
			return nil, err
		}
		k.pend = append(k.pend[:0], k.tail(p, cut)...)
		return nil, nil
	}
	if err := k.dataVirtual(p, d); err != nil {
		return nil, err
	}
	if err := k.restoreTail(); err != nil {
		return nil, err
	}
	// The descriptor and whatever follows go back through Write.
	rest := k.tail(p, d)
	k.pend = k.pend[:0]
	k.endMember()
	if err := k.keep(rest[:l]); err != nil {
		return nil, err
	}
	return rest[l:], nil
}

// dataVirtual takes the first n bytes of pend + p as member data.
func (k *Keeper) dataVirtual(p []byte, n int) error {
	a := min(n, len(k.pend))
	if err := k.data(k.pend[:a]); err != nil {
		return err
	}
	return k.data(p[:n-a])
}

// tail returns pend + p from virtual index i (a fresh slice when it
// starts in pend).
func (k *Keeper) tail(p []byte, i int) []byte {
	if i >= len(k.pend) {
		return p[i-len(k.pend):]
	}
	return append(append([]byte(nil), k.pend[i:]...), p...)
}

// findDesc returns the first signed descriptor in b that starts before
// limit and lies wholly inside b, whose compressed size (and, stored, its
// size) is the member's byte count up to it: its index and length, or -1.
// b[0] is the virtual stream's (pend + p) index at.
func (k *Keeper) findDesc(b []byte, at, limit int) (int, int) {
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte("PK\x07\x08"))
		if i < 0 {
			return -1, 0
		}
		i += from
		if i >= limit || i+descMax > len(b) {
			return -1, 0
		}
		count := uint64(k.off - k.dataStart + int64(at+i))
		le32, le64 := binary.LittleEndian.Uint32, binary.LittleEndian.Uint64
		if le64(b[i+8:]) == count && (k.method != 0 || le64(b[i+16:]) == count) {
			return i, descMax
		}
		if count <= math.MaxUint32 && uint64(le32(b[i+8:])) == count && (k.method != 0 || uint64(le32(b[i+12:])) == count) {
			return i, 16
		}
		from = i + 1
	}
}

// header parses a complete local header (fixed part, then name and extra).
func (k *Keeper) header() {
	h := k.hdr
	if len(h) == sizeLocal {
		if string(h[:4]) != "PK\x03\x04" {
			if k.off == sizeLocal {
				k.startFlat()
				return
			}
			k.st = kAll // the central directory, or what follows it
			return
		}
		k.need = sizeLocal + int(binary.LittleEndian.Uint16(h[26:])) + int(binary.LittleEndian.Uint16(h[28:]))
		if k.need > sizeLocal {
			return
		}
	}
	flags := binary.LittleEndian.Uint16(h[6:])
	nl := int(binary.LittleEndian.Uint16(h[26:]))
	e := zipEntry{
		Method:   binary.LittleEndian.Uint16(h[8:]),
		CompSize: uint64(binary.LittleEndian.Uint32(h[18:])),
		Size:     uint64(binary.LittleEndian.Uint32(h[22:])),
	}
	var hoff uint64
	if err := decodeExtra(&e, &hoff, h[sizeLocal+nl:]); err != nil || e.CompSize > 1<<62 {
		k.st = kAll // sizes that cannot be trusted: the next header's place is unknown
		return
	}
	k.name, _ = zipName(h[sizeLocal:sizeLocal+nl], flags)
	k.method = e.Method
	k.st = kData
	k.dataStart = k.off
	k.descSized = flags&0x8 != 0
	size := int64(e.CompSize)
	if k.descSized {
		// The local sizes may be zero or anything: the descriptor decides.
		size = math.MaxInt64 - k.off
	}
	k.dataEnd = k.off + size
	k.skipFrom, k.skipTo = k.dataEnd, k.dataEnd
	if e.Method == 0 && (k.descSized || size >= skipMin) && torchStorageRe.MatchString(k.name) {
		k.deciding = true
		k.head = k.head[:0]
	}
	if !k.descSized && k.off == k.dataEnd {
		k.endMember()
	}
}

// startFlat takes the whole stream, whose first bytes are in hdr (kept),
// as one member of unknown end named as the file (k.name: no local header
// came before), to be decided on its head.
func (k *Keeper) startFlat() {
	k.st, k.flat = kData, true
	k.method = 0
	k.dataStart, k.dataEnd = 0, math.MaxInt64
	k.skipFrom, k.skipTo = k.dataEnd, k.dataEnd
	k.deciding = true
	k.head = append(k.head[:0], k.hdr...)
}

// decide looks at a candidate's head: tensor bytes are skipped past
// keepHead; a head that reads as a known format or a pickle that does not
// break early keeps the member whole.
func (k *Keeper) decide() {
	k.deciding = false
	if sniff(k.head, k.name) != fmtNone || k.flat && k.whole != nil && k.whole(k.head) {
		return
	}
	if pickleStart[k.head[0]] {
		// The same bytes end the analyzer's walk at the same place, and
		// what it finds before that place is in the kept head. A walk that
		// does not end inside the head (it needs more bytes, or stops at
		// a cap) may read on: keep it all.
		res := pickle.Walk(bytes.NewReader(k.head), pickle.DefaultLimits)
		end := res.Trailing
		if res.Break != nil {
			end = res.Break.Error()
		}
		if end == "" || strings.Contains(end, "truncated") || res.Limit != "" || res.Embedded != "" {
			return
		}
	}
	k.skipFrom = k.dataStart + keepHead
	k.skipTo = k.dataEnd - keepTail
	if k.descSized || k.flat {
		k.skipTo = k.dataEnd // the end is unknown: the tail comes back from ring
	}
	if k.skipTo < k.skipFrom {
		k.skipTo = k.skipFrom
	}
}

// errNotKept is the read error for a byte the sparse spool did not keep.
var errNotKept = errors.New("byte not kept by the sparse spool")

// SparseReader reads a sparse spool and records the first read that
// touches a byte outside the kept ranges (a read that starts in a kept
// range and runs into a hole counts: the reader asked for those bytes).
type SparseReader struct {
	r    io.ReaderAt
	size int64
	kept []Span

	mu      sync.Mutex
	touched bool
	at      int64
}

// NewSparseReader reads r (size bytes) of which only kept is real.
func NewSparseReader(r io.ReaderAt, size int64, kept []Span) *SparseReader {
	return &SparseReader{r: r, size: size, kept: kept}
}

func (s *SparseReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset")
	}
	end := min(off+int64(len(p)), s.size)
	if off >= end {
		return s.r.ReadAt(p, off) // at or past the end: the file's own answer
	}
	i := sort.Search(len(s.kept), func(i int) bool { return s.kept[i].End > off })
	if i == len(s.kept) || s.kept[i].Off > off {
		s.touch(off)
		return 0, errNotKept
	}
	if s.kept[i].End < end {
		s.touch(s.kept[i].End)
		n, err := s.r.ReadAt(p[:s.kept[i].End-off], off)
		if err == nil {
			err = errNotKept
		}
		return n, err
	}
	return s.r.ReadAt(p, off)
}

func (s *SparseReader) touch(at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.touched || at < s.at {
		s.touched, s.at = true, at
	}
}

// Touched reports the lowest offset read that was not kept.
func (s *SparseReader) Touched() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at, s.touched
}

// AnalyzeSparse judges a sparse spool: r holds size bytes of which only
// kept are real. A read of any other byte fails the file as MLG111.
func (a *Analyzer) AnalyzeSparse(ctx context.Context, path string, r io.ReaderAt, size int64, kept []Span) analyze.Result {
	sr := NewSparseReader(r, size, kept)
	res := a.AnalyzeAt(ctx, path, sr, size)
	if at, ok := sr.Touched(); ok {
		res.Add(finding.Finding{RuleID: "MLG111", Path: path, Message: fmt.Sprintf(
			"not fully judged (sparse): the analysis needed bytes from offset %d, inside a large member the streaming scan did not keep", at)})
	}
	return res
}
