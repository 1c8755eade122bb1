package model

import (
	"bytes"
	"encoding/binary"
	"path"
)

// format is what the leading bytes say a file (or member) is.
type format int

const (
	fmtNone format = iota
	fmtPickle
	fmtZip
	fmtNpy
	fmtGzip
	fmtBzip2
	fmtXz
	fmtHDF5
	fmtSafetensors
	fmtONNX
	fmtSavedModel
	fmtMLmodel
	fmtZlib
	fmtLzma
	fmtTar
	fmt7z
)

var formatNames = map[format]string{
	fmtPickle: "pickle", fmtZip: "zip", fmtNpy: "numpy", fmtGzip: "gzip", fmtBzip2: "bzip2",
	fmtXz: "xz", fmtHDF5: "HDF5", fmtSafetensors: "safetensors", fmtONNX: "ONNX",
	fmtSavedModel: "TF SavedModel", fmtMLmodel: "MLmodel", fmtZlib: "zlib", fmtLzma: "lzma", fmtTar: "tar", fmt7z: "7z",
}

func (f format) String() string { return formatNames[f] }

// sniff decides by content; name only picks out fixed-name artifacts
// (MLmodel, saved_model.pb) whose content has no magic number.
func sniff(head []byte, name string) format {
	base := path.Base(name)
	switch {
	case base == "MLmodel":
		return fmtMLmodel
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		return fmtPickle
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return fmtZip
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return fmt7z
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return fmtTar
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return fmtNpy
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return fmtGzip
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return fmtBzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return fmtXz
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return fmtHDF5
	case base == "saved_model.pb":
		return fmtSavedModel
	case isSafetensors(head):
		return fmtSafetensors
	case isONNX(head):
		return fmtONNX
	case isProto01Pickle(head):
		return fmtPickle
	// joblib's compress="zlib"/True and "lzma" write raw streams.
	case len(head) >= 2 && head[0] == 0x78 && (head[1] == 0x01 || head[1] == 0x5e || head[1] == 0x9c || head[1] == 0xda):
		return fmtZlib
	case len(head) >= 13 && head[0] == 0x5d && head[1] == 0 && head[2] == 0:
		return fmtLzma
	}
	return fmtNone
}

func isSafetensors(head []byte) bool {
	if len(head) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n < 100<<20 && head[8] == '{' && (head[9] == '"' || head[9] == '}' || head[9] == ' ')
}

// isONNX: ModelProto starts with ir_version (field 1, varint, 3..12) then
// another ModelProto field tag.
func isONNX(head []byte) bool {
	if len(head) < 4 || head[0] != 0x08 || head[1] < 3 || head[1] > 15 {
		return false
	}
	switch head[2] {
	case 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x52, 0x72, 0xca:
		return true
	}
	return false
}

// isProto01Pickle recognises text-era pickles: a GLOBAL line "cmod\nname\n",
// or a MARK/container opcode followed by another opcode, ending in STOP
// somewhere in the head when the file is small.
func isProto01Pickle(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case 'c':
		nl := bytes.IndexByte(head, '\n')
		if nl < 2 || nl > 200 {
			return false
		}
		mod := head[1:nl]
		for _, b := range mod {
			if !(b == '.' || b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
				return false
			}
		}
		return bytes.IndexByte(head[nl+1:], '\n') > 0
	case '(', ']', '}', ')':
		switch head[1] {
		case '(', 'c', 'd', 'l', 't', 'S', 'V', 'I', 'L', 'F', 'N', 'i', 'p', 'X', 'U', 'T', 'K', 'J', 'M', 'q', 'h', ']', '}', ')', '.':
			return bytes.IndexByte(head, '.') > 0
		}
	case 'S', 'V', 'I', 'L':
		nl := bytes.IndexByte(head, '\n')
		return nl > 0 && nl < 200 && len(head) > nl+1 && bytes.IndexByte([]byte("p(.0tcsa"), head[nl+1]) >= 0
	}
	return false
}
