package release

import (
	"bytes"
	"crypto/sha256"
	"debug/macho"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The libraries a macOS binary may load. The frameworks and libresolv are
// linked against our own symbol lists (scripts/macos-stubs.txt), so this
// check is what stands between a typo in an install name and a binary that
// dyld refuses on a Mac; these are Apple's documented paths.
var machoDylibs = []string{
	"/usr/lib/libSystem.B.dylib",
	"/usr/lib/libresolv.9.dylib",
	"/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
	"/System/Library/Frameworks/Security.framework/Versions/A/Security",
}

const (
	lcBuildVersion  = 0x32
	lcCodeSignature = 0x1d
	platformMacOS   = 1
	minMacOS        = 12 << 16 // 12.0: major in the high 16 bits, then minor and patch bytes
)

// checkMachO verifies what can be verified about a macOS binary without a
// Mac: the libraries it loads, that every undefined symbol is bound to one
// of them by two-level namespace ordinal (no flat lookup), the minimum OS in
// LC_BUILD_VERSION, and on arm64 a code signature.
func checkMachO(t *testing.T, bin, goarch string) {
	t.Helper()
	f, err := macho.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	wantCPU := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
	if f.Cpu != wantCPU || f.Type != macho.TypeExec {
		t.Errorf("%s: cpu %v type %v, want %v executable", filepath.Base(bin), f.Cpu, f.Type, wantCPU)
	}
	var dylibs []string
	var buildVersion, signed bool
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 8 {
			continue
		}
		switch cmd := f.ByteOrder.Uint32(raw); {
		case macho.LoadCmd(cmd) == macho.LoadCmdDylib:
			dylibs = append(dylibs, l.(*macho.Dylib).Name)
		case cmd == lcBuildVersion && len(raw) >= 16:
			buildVersion = true
			platform, minos := binary.LittleEndian.Uint32(raw[8:]), binary.LittleEndian.Uint32(raw[12:])
			if platform != platformMacOS || minos != minMacOS {
				t.Errorf("LC_BUILD_VERSION platform %d minos %#x, want macOS (1) 12.0 (%#x)", platform, minos, minMacOS)
			}
		case cmd == lcCodeSignature && len(raw) >= 16:
			signed = true
			checkCodeSignature(t, bin, f.ByteOrder.Uint32(raw[8:]), f.ByteOrder.Uint32(raw[12:]))
		}
	}
	if !buildVersion {
		t.Error("no LC_BUILD_VERSION")
	}
	// x86_64 macOS runs unsigned code; arm64 macOS kills it at exec
	if !signed && goarch == "arm64" {
		t.Error("no LC_CODE_SIGNATURE: macOS on arm64 refuses unsigned binaries")
	}
	if !slices.Contains(dylibs, "/usr/lib/libSystem.B.dylib") {
		t.Errorf("LC_LOAD_DYLIB %q lacks libSystem", dylibs)
	}
	for _, d := range dylibs {
		if !slices.Contains(machoDylibs, d) {
			t.Errorf("LC_LOAD_DYLIB %s is not one of %q", d, machoDylibs)
		}
	}
	if f.Symtab == nil {
		t.Fatal("no symbol table: cannot check the undefined symbols")
	}
	undefined := 0
	for _, s := range f.Symtab.Syms {
		const nType, nUndf, nExt = 0x0e, 0x0, 0x01
		if s.Type&nType != nUndf || s.Type&nExt == 0 {
			continue
		}
		undefined++
		// two-level namespace: the library ordinal is the high byte of
		// n_desc, 1-based into the LC_LOAD_DYLIB list
		ord := int(s.Desc >> 8)
		if ord < 1 || ord > len(dylibs) {
			t.Errorf("undefined symbol %s has library ordinal %d, not one of the %d loaded dylibs", s.Name, ord, len(dylibs))
		}
	}
	if undefined == 0 {
		t.Error("no undefined symbols: a cgo binary must import from libSystem, the check saw nothing")
	}
	if testing.Verbose() {
		t.Logf("%s: %d imported symbols from %s", filepath.Base(bin), undefined, strings.Join(dylibs, ", "))
	}
}

// checkCodeSignature recomputes the page hashes of the signature's
// CodeDirectory: a signature that no longer matches the file (say, a tool
// rewrote the binary after the link) is as fatal on arm64 as none.
func checkCodeSignature(t *testing.T, bin string, off, size uint32) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(off)+uint64(size) > uint64(len(data)) || size < 12 {
		t.Fatalf("LC_CODE_SIGNATURE %d+%d outside the %d-byte file", off, size, len(data))
	}
	blob := data[off : off+size]
	be := binary.BigEndian
	if be.Uint32(blob) != 0xfade0cc0 { // embedded signature superblob
		t.Fatalf("code signature magic %#x", be.Uint32(blob))
	}
	dirs := 0
	for i := range be.Uint32(blob[8:]) {
		if 12+8*int(i)+8 > len(blob) {
			t.Fatal("code signature index truncated")
		}
		o := int(be.Uint32(blob[12+8*i+4:]))
		if o+44 > len(blob) || be.Uint32(blob[o:]) != 0xfade0c02 { // CodeDirectory
			continue
		}
		cd := blob[o:]
		hashOff, nCode, codeLimit := int(be.Uint32(cd[16:])), int(be.Uint32(cd[28:])), int(be.Uint32(cd[32:]))
		hashSize, hashType, pageShift := int(cd[36]), cd[37], cd[39]
		if hashType != 2 || hashSize != sha256.Size || pageShift == 0 || codeLimit > int(off) {
			t.Fatalf("CodeDirectory hash type %d size %d page 2^%d limit %d: want SHA-256 over the file before the signature", hashType, hashSize, pageShift, codeLimit)
		}
		page := 1 << pageShift
		if hashOff+nCode*hashSize > len(cd) || nCode != (codeLimit+page-1)/page {
			t.Fatalf("CodeDirectory has %d page hashes for %d bytes", nCode, codeLimit)
		}
		for k := range nCode {
			sum := sha256.Sum256(data[k*page : min((k+1)*page, codeLimit)])
			if !bytes.Equal(sum[:], cd[hashOff+k*hashSize:hashOff+(k+1)*hashSize]) {
				t.Fatalf("code signature page %d does not match the file", k)
			}
		}
		dirs++
	}
	if dirs == 0 {
		t.Error("code signature holds no CodeDirectory")
	}
}
