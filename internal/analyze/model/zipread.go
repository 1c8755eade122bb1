package model

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// zipEntry is one member as Python's zipfile sees it (central directory,
// offsets shifted by prepended data), with the local header's name kept
// too: scanners that trusted one header only were fooled (CVE-2025-1944,
// -1945, -10156). CRCs are ignored, as torch's reader ignores them.
type zipEntry struct {
	Name       string // zipfile's ZipInfo.filename: decoded, cut at the first NUL
	OrigName   string // ZipInfo.orig_filename
	LocalName  string // name in the local header ("" if unreadable)
	Method     uint16
	Flags      uint16
	CompSize   uint64
	Size       uint64
	HeaderOff  int64 // local header offset, concat included
	DataOff    int64 // -1 when the local header is unreadable
	FromLocals bool  // found by the sequential local-header scan
	Shadowed   bool  // a later entry has the same name: zipfile.open(name) returns that one
}

// zipDir is what readZip found. Anomalies are things zipfile rejects or
// treats differently from other readers; each one fails the gate.
type zipDir struct {
	Entries   []zipEntry
	Anomalies []string
	Capped    bool // more entries than the cap; the rest are unlisted
}

var errNoEOCD = errors.New("no end of central directory record")

const (
	sizeEOCD      = 22
	sizeEOCD64    = 56
	sizeEOCD64Loc = 20
	sizeCentral   = 46
	sizeLocal     = 30
)

// endRec is zipfile's endrec: the fields _RealGetContents uses.
type endRec struct {
	zip64    bool
	sizeCD   uint64
	offCD    uint64
	location int64 // offset of the EOCD record
}

// findEOCD follows zipfile._EndRecData: the last 22 bytes when they are a
// record without a comment, else the last signature in the final 64 KiB+22.
func findEOCD(r io.ReaderAt, size int64) (endRec, error) {
	if size < sizeEOCD {
		return endRec{}, errNoEOCD
	}
	last := make([]byte, sizeEOCD)
	if _, err := r.ReadAt(last, size-sizeEOCD); err != nil {
		return endRec{}, err
	}
	if bytes.HasPrefix(last, []byte("PK\x05\x06")) && last[20] == 0 && last[21] == 0 {
		return eocd64(r, size, parseEOCD(last, size-sizeEOCD))
	}
	start := max(size-(1<<16)-sizeEOCD, 0)
	buf := make([]byte, size-start)
	if _, err := r.ReadAt(buf, start); err != nil && err != io.EOF {
		return endRec{}, err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < sizeEOCD {
		return endRec{}, errNoEOCD
	}
	return eocd64(r, size, parseEOCD(buf[i:i+sizeEOCD], start+int64(i)))
}

func parseEOCD(b []byte, at int64) endRec {
	return endRec{
		sizeCD:   uint64(binary.LittleEndian.Uint32(b[12:])),
		offCD:    uint64(binary.LittleEndian.Uint32(b[16:])),
		location: at,
	}
}

// eocd64 follows zipfile._EndRecData64: the zip64 record is read right
// before the locator, whatever offset the locator states.
func eocd64(r io.ReaderAt, size int64, e endRec) (endRec, error) {
	locAt := e.location - sizeEOCD64Loc
	if locAt < 0 {
		return e, nil
	}
	loc := make([]byte, sizeEOCD64Loc)
	if _, err := r.ReadAt(loc, locAt); err != nil || !bytes.HasPrefix(loc, []byte("PK\x06\x07")) {
		return e, nil
	}
	if binary.LittleEndian.Uint32(loc[4:]) != 0 || binary.LittleEndian.Uint32(loc[16:]) > 1 {
		return e, fmt.Errorf("zipfiles that span multiple disks are not supported")
	}
	recAt := locAt - sizeEOCD64
	if recAt < 0 {
		return e, nil
	}
	rec := make([]byte, sizeEOCD64)
	if _, err := r.ReadAt(rec, recAt); err != nil || !bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
		return e, nil
	}
	e.zip64 = true
	e.sizeCD = binary.LittleEndian.Uint64(rec[40:])
	e.offCD = binary.LittleEndian.Uint64(rec[48:])
	return e, nil
}

// readZip lists members as zipfile.ZipFile does (_RealGetContents): the
// directory is read by its size, not by the EOCD's entry count. When
// zipfile would reject the archive, what could be listed is kept, the
// local headers are walked from offset 0 as well, and the reason is an
// anomaly. maxEntries bounds the list; reaching it sets Capped.
func readZip(r io.ReaderAt, size int64, maxEntries int) (zipDir, error) {
	var d zipDir
	err := readCentral(r, size, maxEntries, &d)
	if err != nil {
		d.Anomalies = append(d.Anomalies, "Python's zipfile rejects this archive: "+err.Error())
		loc, _ := scanLocals(r, size, maxEntries-len(d.Entries))
		seen := map[int64]bool{}
		for _, e := range d.Entries {
			seen[e.HeaderOff] = true
		}
		for _, e := range loc {
			if !seen[e.HeaderOff] {
				d.Entries = append(d.Entries, e)
			}
		}
		if len(d.Entries) == 0 {
			return d, err
		}
	}
	last := map[string]int{}
	for i := range d.Entries {
		if j, ok := last[d.Entries[i].Name]; ok {
			d.Entries[j].Shadowed = true
		}
		last[d.Entries[i].Name] = i
	}
	return d, nil
}

func readCentral(r io.ReaderAt, size int64, maxEntries int, d *zipDir) error {
	end, err := findEOCD(r, size)
	if err != nil {
		return err
	}
	// concat: bytes prepended to the archive; every offset shifts by it.
	concat := end.location - int64(end.sizeCD) - int64(end.offCD)
	if end.zip64 {
		concat -= sizeEOCD64 + sizeEOCD64Loc
	}
	startDir := int64(end.offCD) + concat
	if end.sizeCD > 1<<62 || end.offCD > 1<<62 || startDir < 0 {
		return fmt.Errorf("bad offset for central directory")
	}
	// zipfile reads size_cd bytes from start_dir (fewer at the file's end).
	avail := min(int64(end.sizeCD), max(size-startDir, 0))
	cd := bufio.NewReaderSize(io.NewSectionReader(r, startDir, avail), 64<<10)
	hdr := make([]byte, sizeCentral)
	var total uint64
	for total < end.sizeCD {
		if len(d.Entries) >= maxEntries {
			d.Capped = true
			return nil
		}
		if _, err := io.ReadFull(cd, hdr); err != nil {
			return fmt.Errorf("truncated central directory")
		}
		if !bytes.HasPrefix(hdr, []byte("PK\x01\x02")) {
			return fmt.Errorf("bad magic number for central directory")
		}
		nl := int(binary.LittleEndian.Uint16(hdr[28:]))
		xl := int(binary.LittleEndian.Uint16(hdr[30:]))
		cl := int(binary.LittleEndian.Uint16(hdr[32:]))
		// Reads past the directory's end come back short, as BytesIO does.
		raw := readShort(cd, nl)
		extra := readShort(cd, xl)
		readShort(cd, cl)
		flags := binary.LittleEndian.Uint16(hdr[8:])
		name, ok := zipName(raw, flags)
		if !ok {
			return fmt.Errorf("member name %q is not valid UTF-8", raw)
		}
		if hdr[6] > 63 { // extract_version > MAX_EXTRACT_VERSION
			return fmt.Errorf("zip file version %.1f", float64(hdr[6])/10)
		}
		e := zipEntry{
			Name: name, OrigName: name,
			Flags:    flags,
			Method:   binary.LittleEndian.Uint16(hdr[10:]),
			CompSize: uint64(binary.LittleEndian.Uint32(hdr[20:])),
			Size:     uint64(binary.LittleEndian.Uint32(hdr[24:])),
			DataOff:  -1,
		}
		if i := strings.IndexByte(name, 0); i >= 0 {
			e.Name = name[:i]
		}
		hoff := uint64(binary.LittleEndian.Uint32(hdr[42:]))
		if err := decodeExtra(&e, &hoff, extra); err != nil {
			return err
		}
		e.HeaderOff = int64(hoff) + concat
		fillLocal(r, size, &e)
		d.Entries = append(d.Entries, e)
		total += uint64(sizeCentral + nl + xl + cl)
	}
	return nil
}

func readShort(r io.Reader, n int) []byte {
	b := make([]byte, n)
	k, _ := io.ReadFull(r, b)
	return b[:k]
}

// zipName decodes a name as zipfile does: UTF-8 under flag 0x800, else cp437.
func zipName(b []byte, flags uint16) (string, bool) {
	if flags&0x800 != 0 {
		return string(b), utf8.Valid(b)
	}
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b), true
	}
	var sb strings.Builder
	for _, c := range b {
		if c < 0x80 {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(cp437High[c-0x80])
		}
	}
	return sb.String(), true
}

// cp437High is code page 437's upper half, as Python's cp437 codec maps it.
var cp437High = []rune("ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0")

// decodeExtra follows ZipInfo._decodeExtra: every zip64 field (0x0001)
// replaces the sizes and offset that are saturated, in order.
func decodeExtra(e *zipEntry, hoff *uint64, extra []byte) error {
	for len(extra) >= 4 {
		tp := binary.LittleEndian.Uint16(extra)
		ln := int(binary.LittleEndian.Uint16(extra[2:]))
		if ln+4 > len(extra) {
			return fmt.Errorf("corrupt extra field %04x (size=%d)", tp, ln)
		}
		if tp == 0x0001 {
			data := extra[4 : ln+4]
			next := func(v *uint64) error {
				if len(data) < 8 {
					return fmt.Errorf("corrupt zip64 extra field")
				}
				*v = binary.LittleEndian.Uint64(data)
				data = data[8:]
				return nil
			}
			if e.Size == 0xffffffff || e.Size == 0xffffffffffffffff {
				if err := next(&e.Size); err != nil {
					return err
				}
			}
			if e.CompSize == 0xffffffff {
				if err := next(&e.CompSize); err != nil {
					return err
				}
			}
			if *hoff == 0xffffffff {
				if err := next(hoff); err != nil {
					return err
				}
			}
		}
		extra = extra[ln+4:]
	}
	return nil
}

// fillLocal reads the local header as ZipFile.open does: the data starts
// after the local name and extra field, whatever the directory says.
func fillLocal(r io.ReaderAt, size int64, e *zipEntry) {
	if e.HeaderOff < 0 || e.HeaderOff > size-sizeLocal {
		return
	}
	h := make([]byte, sizeLocal)
	if _, err := r.ReadAt(h, e.HeaderOff); err != nil || !bytes.HasPrefix(h, []byte("PK\x03\x04")) {
		return
	}
	nl := int64(binary.LittleEndian.Uint16(h[26:]))
	xl := int64(binary.LittleEndian.Uint16(h[28:]))
	name := make([]byte, nl)
	if n, _ := r.ReadAt(name, e.HeaderOff+sizeLocal); int64(n) == nl {
		e.LocalName, _ = zipName(name, binary.LittleEndian.Uint16(h[6:]))
	}
	e.DataOff = e.HeaderOff + sizeLocal + nl + xl
}

// scanLocals walks local headers from offset 0 (no usable central directory).
func scanLocals(r io.ReaderAt, size int64, maxEntries int) ([]zipEntry, error) {
	var out []zipEntry
	off := int64(0)
	h := make([]byte, sizeLocal)
	for len(out) < maxEntries && off+sizeLocal <= size {
		if _, err := r.ReadAt(h, off); err != nil {
			return out, err
		}
		if !bytes.HasPrefix(h, []byte("PK\x03\x04")) {
			break
		}
		flags := binary.LittleEndian.Uint16(h[6:])
		e := zipEntry{
			Flags:     flags,
			Method:    binary.LittleEndian.Uint16(h[8:]),
			CompSize:  uint64(binary.LittleEndian.Uint32(h[18:])),
			Size:      uint64(binary.LittleEndian.Uint32(h[22:])),
			HeaderOff: off, FromLocals: true,
		}
		nl := int64(binary.LittleEndian.Uint16(h[26:]))
		xl := int64(binary.LittleEndian.Uint16(h[28:]))
		name := make([]byte, nl)
		if _, err := r.ReadAt(name, off+sizeLocal); err != nil {
			return out, err
		}
		e.Name, _ = zipName(name, flags)
		e.OrigName, e.LocalName = e.Name, e.Name
		extra := make([]byte, xl)
		if _, err := r.ReadAt(extra, off+sizeLocal+nl); err == nil {
			hoff := uint64(off)
			_ = decodeExtra(&e, &hoff, extra)
		}
		e.DataOff = off + sizeLocal + nl + xl
		if e.Flags&0x8 != 0 && e.CompSize == 0 || e.DataOff+int64(e.CompSize) > size {
			// Sizes live in a data descriptor after the data: the end is
			// unknown without inflating; take the rest of the file and stop.
			e.CompSize = uint64(size - e.DataOff)
			out = append(out, e)
			break
		}
		out = append(out, e)
		off = e.DataOff + int64(e.CompSize)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no local file header at offset 0")
	}
	return out, nil
}
