package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// zipEntry is one member as both headers describe it. Python's and
// PyTorch's loaders trust the central directory for sizes and offsets and
// skip the local header; scanners that trusted one header only could be
// fooled (CVE-2025-1944, -1945, -10156), so both names are kept and CRCs
// and flag bits are ignored, as the loaders ignore them.
type zipEntry struct {
	Name       string // central directory name
	LocalName  string // name in the local header ("" if unreadable)
	Method     uint16
	Flags      uint16
	CompSize   uint64
	Size       uint64
	HeaderOff  uint64
	DataOff    int64 // -1 when the local header is unreadable
	FromLocals bool  // found by the sequential local-header scan
}

var errNoEOCD = errors.New("no end of central directory record")

// readZip lists members from the central directory; without one it falls
// back to walking local headers from the start.
func readZip(r io.ReaderAt, size int64) ([]zipEntry, error) {
	ents, err := readCentral(r, size)
	if err != nil {
		loc, lerr := scanLocals(r, size)
		if len(loc) > 0 {
			return loc, nil
		}
		return nil, fmt.Errorf("%w (local header scan: %v)", err, lerr)
	}
	for i := range ents {
		fillLocal(r, size, &ents[i])
	}
	return ents, nil
}

func readCentral(r io.ReaderAt, size int64) ([]zipEntry, error) {
	tail := int64(65535 + 22)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return nil, err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < 22 {
		return nil, errNoEOCD
	}
	eocd := buf[i:]
	count := uint64(binary.LittleEndian.Uint16(eocd[10:]))
	cdSize := uint64(binary.LittleEndian.Uint32(eocd[12:]))
	cdOff := uint64(binary.LittleEndian.Uint32(eocd[16:]))
	eocdAt := size - tail + int64(i)
	// Zip64: locator 20 bytes before the EOCD.
	if eocdAt >= 20 {
		loc := make([]byte, 20)
		if _, err := r.ReadAt(loc, eocdAt-20); err == nil && bytes.HasPrefix(loc, []byte("PK\x06\x07")) {
			off := int64(binary.LittleEndian.Uint64(loc[8:]))
			rec := make([]byte, 56)
			if off >= 0 && off < size {
				if _, err := r.ReadAt(rec, off); err == nil && bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
					count = binary.LittleEndian.Uint64(rec[32:])
					cdSize = binary.LittleEndian.Uint64(rec[40:])
					cdOff = binary.LittleEndian.Uint64(rec[48:])
				}
			}
		}
	}
	if cdOff > uint64(size) || cdSize > uint64(size) || cdOff+cdSize > uint64(size) {
		// Prepended data (self-extracting style): the directory ends at the EOCD.
		if uint64(eocdAt) < cdSize {
			return nil, fmt.Errorf("central directory out of bounds")
		}
		cdOff = uint64(eocdAt) - cdSize
	}
	if count > maxMembers {
		count = maxMembers
	}
	cd := io.NewSectionReader(r, int64(cdOff), int64(cdSize))
	var out []zipEntry
	hdr := make([]byte, 46)
	pos := int64(0)
	for n := uint64(0); n < count; n++ {
		if _, err := cd.ReadAt(hdr, pos); err != nil {
			return out, nil
		}
		if !bytes.HasPrefix(hdr, []byte("PK\x01\x02")) {
			break
		}
		e := zipEntry{
			Flags:     binary.LittleEndian.Uint16(hdr[8:]),
			Method:    binary.LittleEndian.Uint16(hdr[10:]),
			CompSize:  uint64(binary.LittleEndian.Uint32(hdr[20:])),
			Size:      uint64(binary.LittleEndian.Uint32(hdr[24:])),
			HeaderOff: uint64(binary.LittleEndian.Uint32(hdr[42:])),
			DataOff:   -1,
		}
		nl := int64(binary.LittleEndian.Uint16(hdr[28:]))
		xl := int64(binary.LittleEndian.Uint16(hdr[30:]))
		cl := int64(binary.LittleEndian.Uint16(hdr[32:]))
		name := make([]byte, nl)
		if _, err := cd.ReadAt(name, pos+46); err != nil {
			break
		}
		e.Name = string(name)
		extra := make([]byte, xl)
		if _, err := cd.ReadAt(extra, pos+46+nl); err == nil {
			applyZip64(&e, extra)
		}
		out = append(out, e)
		pos += 46 + nl + xl + cl
	}
	if len(out) == 0 && count > 0 {
		return nil, fmt.Errorf("central directory unreadable")
	}
	return out, nil
}

// applyZip64 reads the zip64 extra field: the 0xffffffff fields, in order.
func applyZip64(e *zipEntry, extra []byte) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		sz := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+sz > len(extra) {
			return
		}
		body := extra[4 : 4+sz]
		if id == 0x0001 {
			next := func(v *uint64) {
				if *v == 0xffffffff && len(body) >= 8 {
					*v = binary.LittleEndian.Uint64(body)
					body = body[8:]
				}
			}
			next(&e.Size)
			next(&e.CompSize)
			next(&e.HeaderOff)
			return
		}
		extra = extra[4+sz:]
	}
}

func fillLocal(r io.ReaderAt, size int64, e *zipEntry) {
	if e.HeaderOff > uint64(size) {
		return
	}
	h := make([]byte, 30)
	if _, err := r.ReadAt(h, int64(e.HeaderOff)); err != nil || !bytes.HasPrefix(h, []byte("PK\x03\x04")) {
		return
	}
	nl := int64(binary.LittleEndian.Uint16(h[26:]))
	xl := int64(binary.LittleEndian.Uint16(h[28:]))
	name := make([]byte, nl)
	if _, err := r.ReadAt(name, int64(e.HeaderOff)+30); err == nil {
		e.LocalName = string(name)
	}
	e.DataOff = int64(e.HeaderOff) + 30 + nl + xl
}

// scanLocals walks local headers from offset 0 (no usable central directory).
func scanLocals(r io.ReaderAt, size int64) ([]zipEntry, error) {
	var out []zipEntry
	off := int64(0)
	h := make([]byte, 30)
	for len(out) < maxMembers && off+30 <= size {
		if _, err := r.ReadAt(h, off); err != nil {
			return out, err
		}
		if !bytes.HasPrefix(h, []byte("PK\x03\x04")) {
			break
		}
		e := zipEntry{
			Flags:     binary.LittleEndian.Uint16(h[6:]),
			Method:    binary.LittleEndian.Uint16(h[8:]),
			CompSize:  uint64(binary.LittleEndian.Uint32(h[18:])),
			Size:      uint64(binary.LittleEndian.Uint32(h[22:])),
			HeaderOff: uint64(off), FromLocals: true,
		}
		nl := int64(binary.LittleEndian.Uint16(h[26:]))
		xl := int64(binary.LittleEndian.Uint16(h[28:]))
		name := make([]byte, nl)
		if _, err := r.ReadAt(name, off+30); err != nil {
			return out, err
		}
		e.Name, e.LocalName = string(name), string(name)
		extra := make([]byte, xl)
		if _, err := r.ReadAt(extra, off+30+nl); err == nil {
			applyZip64(&e, extra)
		}
		e.DataOff = off + 30 + nl + xl
		if e.Flags&0x8 != 0 && e.CompSize == 0 {
			// Sizes live in a data descriptor after the data: the end is unknown
			// without inflating, so stop here with what is known.
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
