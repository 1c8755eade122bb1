package model

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

func newTestScan() (*scan, *analyze.Result) {
	var res analyze.Result
	a := New(analyze.Options{})
	return &scan{a: a, ctx: context.Background(), path: "f", res: &res}, &res
}

func section(b []byte) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))
}

// Nested streams draw from one budget per file: a stream opened when the
// budget is nearly spent stops, and the stop is MLG111, not a silent pass.
func TestOneBudgetPerFile(t *testing.T) {
	s, res := newTestScan()
	s.inflated = maxInflate - 10
	pk := gen.CallGlobal(2, "os", "system", strings.Repeat("x", 500))
	s.any(section(gen.Zip(gen.ZipMember{Name: "a.pkl", Data: gen.Gzip(pk), Deflate: true})), "", "m.zip", 0)
	limit := false
	for _, f := range res.Findings {
		limit = limit || f.RuleID == "MLG111" && strings.Contains(f.Message, "(limit)")
	}
	if !limit {
		t.Fatalf("spent budget not reported: %+v", res.Findings)
	}
}

// Stored members that overlap are charged each time they are read.
func TestOverlappingMembersCharged(t *testing.T) {
	data := bytes.Repeat([]byte{0}, 100_000)
	z := gen.Zip(gen.ZipMember{Name: "a.bin", Data: data})
	// Copy the one central directory entry so that it is listed 50 times.
	eocd := bytes.LastIndex(z, []byte("PK\x05\x06"))
	cdAt := bytes.Index(z, []byte("PK\x01\x02"))
	entry := z[cdAt:eocd]
	var out []byte
	out = append(out, z[:cdAt]...)
	for range 50 {
		out = append(out, entry...)
	}
	tail := append([]byte{}, z[eocd:]...)
	cdSize := uint32(len(entry) * 50)
	tail[12], tail[13], tail[14], tail[15] = byte(cdSize), byte(cdSize>>8), byte(cdSize>>16), byte(cdSize>>24)
	out = append(out, tail...)
	s, res := newTestScan()
	s.any(section(out), "", "m.zip", 0)
	if s.entries != 50 {
		t.Fatalf("%d entries listed, want 50 (%+v)", s.entries, res.Findings)
	}
	if s.inflated < 50 {
		t.Fatalf("overlapping members cost %d bytes", s.inflated)
	}
	t.Logf("50 overlapping 100 kB members charged %d bytes", s.inflated)
}

// The entry cap is reported, never silent.
func TestEntryCapReported(t *testing.T) {
	s, res := newTestScan()
	s.entries = maxEntries - 1
	s.any(section(gen.Zip(gen.ZipMember{Name: "a", Data: []byte("1")}, gen.ZipMember{Name: "b", Data: []byte("2")})), "", "m.zip", 0)
	found := false
	for _, f := range res.Findings {
		found = found || f.RuleID == "MLG111" && strings.Contains(f.Message, "archive members")
	}
	if !found {
		t.Fatalf("cap not reported: %+v", res.Findings)
	}
}

// Storage members are walked; an import CPython could perform is reported,
// junk names from tensor bytes are not.
func TestStorageMembers(t *testing.T) {
	for _, c := range []struct {
		storage []byte
		want    string
	}{
		{gen.CallGlobal(2, "os", "system", "x"), "MLG106"},
		{append([]byte("c\xff\xfe\x01\n\x02\x03\n"), make([]byte, 64)...), ""},
		{append([]byte("c1abc\nd e\n"), make([]byte, 64)...), ""},
	} {
		s, res := newTestScan()
		s.any(section(gen.TorchZip(gen.TorchStateDict(2), c.storage)), "", "m.pt", 0)
		got := ""
		for _, f := range res.Findings {
			got += f.RuleID
		}
		if got != c.want {
			t.Errorf("storage %q: got %q %+v, want %q", c.storage[:8], got, res.Findings, c.want)
		}
	}
}

// A nested archive too large to spool is MLG111 with its cause.
func TestSpoolCap(t *testing.T) {
	s, res := newTestScan()
	s.spoolCap = 4 << 20
	big := gen.Zip(gen.ZipMember{Name: "w.bin", Data: make([]byte, 6<<20)})
	s.any(section(gen.Gzip(big)), "", "m.zip.gz", 0)
	found := false
	for _, f := range res.Findings {
		found = found || f.RuleID == "MLG111" && strings.Contains(f.Message, "(size)")
	}
	if !found {
		t.Fatalf("spool cap not reported: %+v", res.Findings)
	}
	// Under the cap the nested archive is opened from its temporary copy.
	s, res = newTestScan()
	s.any(section(gen.Gzip(gen.Zip(gen.ZipMember{Name: "x.pkl", Data: gen.CallGlobal(2, "os", "system", "x")}, gen.ZipMember{Name: "w.bin", Data: make([]byte, 2<<20)}))), "", "m.zip.gz", 0)
	if len(res.Findings) == 0 || res.Findings[0].RuleID != "MLG106" {
		t.Fatalf("spooled archive: %+v", res.Findings)
	}
}

// Pickle opcodes are one budget per file too.
func TestOneOpBudgetPerFile(t *testing.T) {
	s, res := newTestScan()
	s.a.lim.MaxOps = 1000
	long := (&gen.P{}).Proto(2).EmptyList()
	for range 300 {
		long.None().Pop()
	}
	pk := long.Stop().B
	s.any(section(gen.Zip(gen.ZipMember{Name: "a.pkl", Data: pk}, gen.ZipMember{Name: "b.pkl", Data: pk}, gen.ZipMember{Name: "c.pkl", Data: evil()})), "", "m.zip", 0)
	var msgs []string
	for _, f := range res.Findings {
		msgs = append(msgs, f.RuleID+" "+f.Member+" "+f.Message)
	}
	got := strings.Join(msgs, "\n")
	if !strings.Contains(got, "MLG111 b.pkl") || !strings.Contains(got, "pickle opcodes in this file") {
		t.Fatalf("shared opcode budget not enforced:\n%s", got)
	}
}

func evil() []byte { return gen.CallGlobal(2, "os", "system", "x") }

func TestHasImportOpcode(t *testing.T) {
	for b, want := range map[string]bool{"((((": false, "(c": true, "(\x93": true, "\x82": true, "NNN.": false, "\xff\xfe": false} {
		if hasImportOpcode([]byte(b)) != want {
			t.Errorf("hasImportOpcode(%q) != %v", b, want)
		}
	}
}
