package model

import (
	"bytes"
	"encoding/binary"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
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
	fmtLz4
	fmtZF
	fmtKerasConfig
)

var formatNames = map[format]string{
	fmtPickle: "pickle", fmtZip: "zip", fmtNpy: "numpy", fmtGzip: "gzip", fmtBzip2: "bzip2",
	fmtXz: "xz", fmtHDF5: "HDF5", fmtSafetensors: "safetensors", fmtONNX: "ONNX",
	fmtSavedModel: "TF SavedModel", fmtMLmodel: "MLmodel", fmtZlib: "zlib", fmtLzma: "lzma", fmtTar: "tar", fmt7z: "7z", fmtLz4: "lz4", fmtZF: "joblib ZF", fmtKerasConfig: "Keras config",
}

func (f format) String() string { return formatNames[f] }

// sniff decides by content; name only picks out fixed-name artifacts
// (MLmodel, saved_model.pb) whose content has no magic number.
func sniff(head []byte, name string) format {
	base := path.Base(name)
	switch {
	case base == "MLmodel":
		return fmtMLmodel
	case base == "config.json" && isKerasConfig(head):
		// keras.saving.load_model(dir) reads a model directory's
		// config.json as it reads the one inside a .keras zip.
		return fmtKerasConfig
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
	// joblib's compressor registry matches by prefix: b"\x78" (zlib, any
	// valid header), b"\x5d\x00" (lzma alone), the lz4 frame magic, and
	// b"ZF" (joblib < 0.9.3).
	case len(head) >= 2 && head[0] == 0x78 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0:
		return fmtZlib
	case len(head) >= 2 && head[0] == 0x5d && head[1] == 0:
		return fmtLzma
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}):
		return fmtLz4
	case isZF(head):
		return fmtZF
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

// zfHeaderLen is "ZF" plus the 19-character hex length of joblib's old
// zfile format (numpy_pickle_compat.read_zfile).
const zfHeaderLen = 2 + 19

// isZF: the length field must be what int(x, 16) accepts, or joblib fails
// before decompressing anything.
func isZF(head []byte) bool {
	if len(head) < zfHeaderLen || !bytes.HasPrefix(head, []byte("ZF")) {
		return false
	}
	_, ok := pyHexInt(head[2:zfHeaderLen])
	return ok
}

// pyHexInt parses like Python's int(b, 16): surrounding whitespace, a sign,
// an optional 0x prefix, and single underscores between digits.
func pyHexInt(b []byte) (uint64, bool) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
		if len(t) > 0 && t[0] == '_' {
			t = t[1:]
		}
	}
	if len(t) == 0 || t[0] == '_' || t[len(t)-1] == '_' {
		return 0, false
	}
	var v uint64
	prevUnderscore := false
	for _, c := range t {
		var d byte
		switch {
		case c == '_':
			if prevUnderscore {
				return 0, false
			}
			prevUnderscore = true
			continue
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		prevUnderscore = false
		v = v<<4 | uint64(d)
	}
	return v, true
}

// pickleStart lists the opcodes CPython's unpickler can execute with an
// empty stack, memo and mark list: only these can begin a loadable pickle.
// Every other first byte fails at offset 0 having imported nothing (an
// unknown opcode, a stack or mark underflow, a memo miss).
var pickleStart = func() (t [256]bool) {
	for _, c := range []byte("(cSVILFNPTUXBCJKMG])}") {
		t[c] = true
	}
	// PROTO, EXT1/2/4, NEWTRUE, NEWFALSE, LONG1, LONG4, SHORT_BINUNICODE,
	// BINUNICODE8, BINBYTES8, EMPTY_SET, FRAME, BYTEARRAY8.
	for _, c := range []byte{0x80, 0x82, 0x83, 0x84, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x95, 0x96} {
		t[c] = true
	}
	return t
}()

// mayBePickle decides, from the head alone, whether a file could load as a
// pickle that does something: the head is walked, and a walk that breaks
// inside the head, having called nothing and imported nothing dangerous,
// settles it (the same bytes break the same way in the whole file). Text
// usually stops in a few bytes.
func mayBePickle(head []byte, size int64) bool {
	if len(head) == 0 || !pickleStart[head[0]] {
		return false
	}
	if head[0] == 0x80 {
		return true
	}
	res := pickle.Walk(bytes.NewReader(head), pickle.DefaultLimits)
	if res.Break == nil || res.Limit != "" || res.Embedded != "" {
		return true
	}
	for _, imp := range res.Imports {
		if imp.Called || pickle.Classify(imp).Kind == pickle.Dangerous {
			return true
		}
	}
	// A break at the head's end may only be the head's end.
	return int64(len(head)) < size && strings.Contains(res.Break.Error(), "truncated")
}

// hasEOCD: zipfile opens any file with an end-of-central-directory record
// in its last 64 KiB, whatever precedes the archive.
func hasEOCD(r io.ReaderAt, size int64) bool {
	_, err := findEOCD(r, size)
	return err == nil
}

// zipBinaryNames are names zip-based loaders open without checking the
// first bytes (zipfile.is_zipfile looks at the end of the file).
var zipBinaryNames = regexp.MustCompile(`(?i)\.(zip|keras|npz|pt|pth|bin|ckpt|mar|nemo|pkl|pickle|joblib|skops|h5|model|tar|whl|egg|jar)$`)

// zipAtEnd finds a zip whose start is hidden behind prepended data. Small
// files are checked in memory; larger ones cost one read of the tail, done
// only under the names zip loaders that tolerate prepended data are given
// (torch.load and numpy.load want the zip signature at offset 0, and files
// that start with it are zips by their head).
func zipAtEnd(f *analyze.File) bool {
	if f.Size < sizeEOCD {
		return false
	}
	if int64(len(f.Head)) == f.Size {
		return hasEOCD(bytes.NewReader(f.Head), f.Size)
	}
	if !zipBinaryNames.MatchString(f.Path) {
		return false
	}
	fh, err := f.Open()
	if err != nil {
		return true // unreadable: Analyze reports it
	}
	defer fh.Close()
	return hasEOCD(fh, f.Size)
}

// isKerasConfig: a JSON object that names a class and its config, as every
// Keras model config does; other config.json files are not model files.
func isKerasConfig(head []byte) bool {
	t := bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n")
	return len(t) > 0 && t[0] == '{' && bytes.Contains(head, []byte(`"class_name"`)) && bytes.Contains(head, []byte(`"config"`))
}
