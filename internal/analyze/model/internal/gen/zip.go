package gen

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
)

// ZipMember is one entry of a hand-built zip.
type ZipMember struct {
	Name      string
	LocalName string // if set, the local header carries this name instead
	Data      []byte
	Deflate   bool
	BadCRC    bool
	Flags     uint16 // extra general-purpose bits (e.g. 0x1 "encrypted")
}

// Zip writes local headers, data and a central directory byte by byte.
func Zip(members ...ZipMember) []byte {
	var out, cd bytes.Buffer
	le16 := func(b *bytes.Buffer, v uint16) { _ = binary.Write(b, binary.LittleEndian, v) }
	le32 := func(b *bytes.Buffer, v uint32) { _ = binary.Write(b, binary.LittleEndian, v) }
	for _, m := range members {
		data := m.Data
		method := uint16(0)
		if m.Deflate {
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, flate.DefaultCompression)
			_, _ = w.Write(m.Data)
			_ = w.Close()
			data, method = z.Bytes(), 8
		}
		crc := crc32.ChecksumIEEE(m.Data)
		if m.BadCRC {
			crc ^= 0xdeadbeef
		}
		local := m.Name
		if m.LocalName != "" {
			local = m.LocalName
		}
		off := uint32(out.Len())
		le32(&out, 0x04034b50)
		le16(&out, 20)
		le16(&out, m.Flags)
		le16(&out, method)
		le16(&out, 0)
		le16(&out, 0)
		le32(&out, crc)
		le32(&out, uint32(len(data)))
		le32(&out, uint32(len(m.Data)))
		le16(&out, uint16(len(local)))
		le16(&out, 0)
		out.WriteString(local)
		out.Write(data)

		le32(&cd, 0x02014b50)
		le16(&cd, 20)
		le16(&cd, 20)
		le16(&cd, m.Flags)
		le16(&cd, method)
		le16(&cd, 0)
		le16(&cd, 0)
		le32(&cd, crc)
		le32(&cd, uint32(len(data)))
		le32(&cd, uint32(len(m.Data)))
		le16(&cd, uint16(len(m.Name)))
		le16(&cd, 0)
		le16(&cd, 0)
		le16(&cd, 0)
		le16(&cd, 0)
		le32(&cd, 0)
		le32(&cd, off)
		cd.WriteString(m.Name)
	}
	cdOff := out.Len()
	out.Write(cd.Bytes())
	le32(&out, 0x06054b50)
	le16(&out, 0)
	le16(&out, 0)
	le16(&out, uint16(len(members)))
	le16(&out, uint16(len(members)))
	le32(&out, uint32(cd.Len()))
	le32(&out, uint32(cdOff))
	le16(&out, 0)
	return out.Bytes()
}
