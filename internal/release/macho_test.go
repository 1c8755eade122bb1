package release

import (
	"debug/macho"
	"encoding/binary"
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
	minMacOS        = 12 << 16 // 12.0 as nibbles xxxx.yy.zz
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
		case cmd == lcCodeSignature:
			signed = true
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
