package model_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

const sparseStorage = 10 << 30

// sparseTorchZip writes a torch.save-style zip64 archive whose tensor
// storage member is 10 GiB of sparse zeros: archive/data.pkl, then
// archive/data/0, then archive/version, with zip64 sizes and offsets.
func sparseTorchZip(tb testing.TB, pkl []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "big.pt")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	le16 := func(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	le64 := func(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
	type ent struct {
		name string
		size uint64
		data []byte
		off  uint64
	}
	ents := []*ent{{name: "archive/data.pkl", size: uint64(len(pkl)), data: pkl},
		{name: "archive/data/0", size: sparseStorage}, {name: "archive/version", size: 2, data: []byte("3\n")}}
	off := uint64(0)
	for _, e := range ents {
		e.off = off
		extra := le64(le64(le16(le16(nil, 1), 16), e.size), e.size)
		h := le32(nil, 0x04034b50)
		h = le16(le16(le16(le16(le16(h, 45), 0), 0), 0), 0)
		h = le32(le32(le32(h, crc32.ChecksumIEEE(e.data)), 0xffffffff), 0xffffffff)
		h = le16(le16(h, uint16(len(e.name))), uint16(len(extra)))
		h = append(append(h, e.name...), extra...)
		if _, err := f.WriteAt(append(h, e.data...), int64(off)); err != nil {
			tb.Fatal(err)
		}
		off += uint64(len(h)) + e.size
	}
	cdOff := off
	var cd []byte
	for _, e := range ents {
		extra := le64(le64(le64(le16(le16(nil, 1), 24), e.size), e.size), e.off)
		h := le32(nil, 0x02014b50)
		h = le16(le16(le16(le16(le16(le16(h, 45), 45), 0), 0), 0), 0)
		h = le32(le32(le32(h, crc32.ChecksumIEEE(e.data)), 0xffffffff), 0xffffffff)
		h = le16(le16(le16(le16(le16(h, uint16(len(e.name))), uint16(len(extra))), 0), 0), 0)
		h = le32(le32(h, 0), 0xffffffff)
		cd = append(append(append(cd, h...), e.name...), extra...)
	}
	tail := append([]byte{}, cd...)
	z64 := cdOff + uint64(len(cd))
	tail = le32(tail, 0x06064b50)
	tail = le64(tail, 44)
	tail = le16(le16(tail, 45), 45)
	tail = le32(le32(tail, 0), 0)
	tail = le64(le64(tail, uint64(len(ents))), uint64(len(ents)))
	tail = le64(le64(tail, uint64(len(cd))), cdOff)
	tail = le32(le64(le32(le32(tail, 0x07064b50), 0), z64), 1)
	tail = le32(tail, 0x06054b50)
	tail = le16(le16(le16(le16(tail, 0), 0), 0xffff), 0xffff)
	tail = le16(le32(le32(tail, 0xffffffff), 0xffffffff), 0)
	if _, err := f.WriteAt(tail, int64(cdOff)); err != nil {
		tb.Fatal(err)
	}
	return p
}

func analyzeFile(tb testing.TB, p string) analyze.Result {
	tb.Helper()
	st, err := os.Stat(p)
	if err != nil {
		tb.Fatal(err)
	}
	fh, err := os.Open(p)
	if err != nil {
		tb.Fatal(err)
	}
	head := make([]byte, analyze.HeadSize)
	n, _ := fh.Read(head)
	fh.Close()
	f := &analyze.File{Path: filepath.Base(p), Abs: p, Size: st.Size(), Head: head[:n], Root: filepath.Dir(p)}
	a := model.New(analyze.Options{})
	if !a.Relevant(f) {
		tb.Fatalf("%s not relevant", p)
	}
	return a.Analyze(context.Background(), f)
}

// A 10 GiB checkpoint is judged by its pickle: the storage is not read
// beyond what shows it cannot be a pickle (BenchmarkSparseTorchZip times it).
func TestSparseTorchZip(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 10 GiB sparse file")
	}
	p := sparseTorchZip(t, gen.TorchStateDict(4))
	// zipfile must read the same archive: three members, a 10 GiB storage.
	out, err := exec.Command(testenv.Python(t), "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); "+
		"print(z.namelist(), z.getinfo('archive/data/0').file_size, len(z.read('archive/data.pkl')))", p).CombinedOutput()
	if want := fmt.Sprintf("['archive/data.pkl', 'archive/data/0', 'archive/version'] %d %d\n", sparseStorage, len(gen.TorchStateDict(4))); err != nil || string(out) != want {
		t.Fatalf("zipfile reads the fixture as %q (%v), want %q", out, err, want)
	}
	res := analyzeFile(t, p)
	if len(res.Findings) != 0 || len(res.Errors) != 0 {
		t.Fatalf("benign 10 GiB checkpoint: %+v %+v", res.Findings, res.Errors)
	}
	res = analyzeFile(t, sparseTorchZip(t, evil))
	found := false
	for _, f := range res.Findings {
		found = found || f.RuleID == "MLG106" && f.Member == "archive/data.pkl"
	}
	if !found {
		t.Fatalf("malicious 10 GiB checkpoint: %+v %+v", res.Findings, res.Errors)
	}
}

func BenchmarkSparseTorchZip(b *testing.B) {
	p := sparseTorchZip(b, gen.TorchStateDict(4))
	b.ResetTimer()
	for range b.N {
		if res := analyzeFile(b, p); len(res.Findings) != 0 {
			b.Fatal(res.Findings)
		}
	}
}
