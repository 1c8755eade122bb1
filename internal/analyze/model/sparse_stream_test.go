package model_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// streamSparse streams a file through a Keeper in uneven chunks, as the
// gateway's spooler receives an upload, and judges the sparse spool.
func streamSparse(t *testing.T, src string, seed uint64) (analyze.Result, *model.Keeper) {
	t.Helper()
	return streamSparseVeto(t, src, seed, nil)
}

// streamSparseVeto is streamSparse with the caller's veto on thinning.
func streamSparseVeto(t *testing.T, src string, seed uint64, whole func([]byte) bool) (analyze.Result, *model.Keeper) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k := model.NewKeeper(f, filepath.Base(src), whole)
	rng := rand.New(rand.NewPCG(seed, 1))
	for p := data; len(p) > 0; {
		n := min(len(p), 1+rng.IntN(3<<20))
		if seed%2 == 0 {
			n = min(len(p), 1+rng.IntN(300)) // header-sized pieces
			if rng.IntN(4) == 0 {
				n = min(len(p), 1<<20)
			}
		}
		if m, err := k.Write(p[:n]); err != nil || m != n {
			t.Fatalf("keeper write: %d, %v", m, err)
		}
		p = p[n:]
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if k.Size() != int64(len(data)) {
		t.Fatalf("keeper saw %d bytes of %d", k.Size(), len(data))
	}
	if err := f.Truncate(k.Size()); err != nil {
		t.Fatal(err)
	}
	// Every kept byte is the stream's byte.
	for _, sp := range k.Kept() {
		got := make([]byte, sp.End-sp.Off)
		if _, err := f.ReadAt(got, sp.Off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[sp.Off:sp.End]) {
			t.Fatalf("kept span %v differs from the stream", sp)
		}
	}
	a := model.New(analyze.Options{})
	return a.AnalyzeSparse(context.Background(), filepath.Base(src), f, k.Size(), k.Kept()), k
}

func analyzeWhole(t *testing.T, p string) analyze.Result {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	fh, _ := os.Open(p)
	head := make([]byte, analyze.HeadSize)
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	a := model.New(analyze.Options{})
	f := &analyze.File{Path: filepath.Base(p), Abs: p, Size: st.Size(), Head: head[:n], Root: filepath.Dir(p)}
	return a.Analyze(context.Background(), f)
}

// blocking: the rules the gateway refuses on (strict model rules, MLG107,
// any error).
func blocking(r analyze.Result) []string {
	var out []string
	for _, f := range r.Findings {
		if slices.Contains([]string{"MLG106", "MLG107", "MLG109", "MLG110", "MLG111"}, f.RuleID) {
			out = append(out, f.RuleID+" "+f.Member+": "+f.Message)
		}
	}
	for _, e := range r.Errors {
		out = append(out, "error "+e.Message)
	}
	sort.Strings(out)
	return out
}

// TestSparseSpool streams benign and crafted torch-style zips through the
// keeper: benign checkpoints pass with their storages' interiors skipped;
// every file the oracle (zipfile + pickle, see make_sparse.py; torch is not
// in the venv) finds importing os.system, and every file the whole-file
// scan refuses, is refused from the sparse spool too.
func TestSparseSpool(t *testing.T) {
	dir := t.TempDir()
	out := testenv.RunPython(t, filepath.Join("testdata", "make_sparse.py"), nil, dir)
	var oracle map[string]struct {
		Opens   bool     `json:"opens"`
		Imports []string `json:"imports"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &oracle); err != nil {
		t.Fatalf("oracle output %q: %v", out, err)
	}
	if len(oracle) < 12 {
		t.Fatalf("oracle judged %d files, want 12", len(oracle))
	}
	for name, o := range oracle {
		p := filepath.Join(dir, name)
		whole := blocking(analyzeWhole(t, p))
		for seed := uint64(0); seed < 2; seed++ {
			res, k := streamSparse(t, p, seed)
			sparse := blocking(res)
			evil := slices.Contains(o.Imports, "posix.system") || slices.Contains(o.Imports, "os.system")
			switch {
			case strings.HasPrefix(name, "benign"):
				if evil || len(whole) > 0 || len(sparse) > 0 {
					t.Errorf("%s: benign file: oracle %v, whole %v, sparse %v", name, o.Imports, whole, sparse)
				}
				// Storages whose heads start a pickle walk that reads on
				// (a huge argument length, a text-pickle look) are kept
				// whole: less is skipped, nothing is refused.
				want := k.Size() * 3 / 4
				if name == "benign_opcode_heads.pt" {
					want = k.Size() / 4
				}
				if k.Skipped() < want {
					t.Errorf("%s: only %d of %d bytes skipped", name, k.Skipped(), k.Size())
				}
			default:
				if !evil && name != "evil_local_name.pt" {
					t.Errorf("%s: the oracle does not see the payload: %+v", name, o)
				}
				if len(sparse) == 0 {
					t.Errorf("%s: refused by the whole-file scan (%v) but passed from the sparse spool (%d of %d bytes skipped)", name, whole, k.Skipped(), k.Size())
				}
				if len(whole) == 0 {
					t.Errorf("%s: evil file passes the whole-file scan", name)
				}
			}
			if seed == 0 {
				t.Logf("%s: skipped %d of %d; sparse verdict %v", name, k.Skipped(), k.Size(), sparse)
			}
		}
	}
}

// TestSparseReaderFailsClosed: a read that touches a skipped byte fails
// and is recorded, even when it starts in a kept range.
func TestSparseReaderFailsClosed(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 100)
	r := model.NewSparseReader(bytes.NewReader(data), 100, []model.Span{{Off: 0, End: 10}, {Off: 50, End: 100}})
	buf := make([]byte, 5)
	if _, err := r.ReadAt(buf, 2); err != nil {
		t.Fatalf("kept read: %v", err)
	}
	if _, ok := r.Touched(); ok {
		t.Fatal("kept read recorded as a touch")
	}
	if n, err := r.ReadAt(make([]byte, 20), 5); err == nil || n != 5 {
		t.Fatalf("read into a hole: n=%d err=%v", n, err)
	}
	if at, ok := r.Touched(); !ok || at != 10 {
		t.Fatalf("touch at %d %v, want 10", at, ok)
	}
	r2 := model.NewSparseReader(bytes.NewReader(data), 100, []model.Span{{Off: 0, End: 10}})
	if _, err := r2.ReadAt(buf, 30); err == nil {
		t.Fatal("read inside a hole succeeded")
	}
	if at, ok := r2.Touched(); !ok || at != 30 {
		t.Fatalf("touch at %d %v, want 30", at, ok)
	}
	// AnalyzeSparse turns a touch into MLG111: a pickle whose bytes are a hole.
	pkl := []byte("\x80\x02cposix\nsystem\nq\x00.")
	a := model.New(analyze.Options{})
	res := a.AnalyzeSparse(context.Background(), "x.pkl", bytes.NewReader(pkl), int64(len(pkl)), []model.Span{{Off: 0, End: 4}})
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.RuleID)
	}
	if !slices.Contains(got, "MLG111") {
		t.Fatalf("holey pickle: findings %v, want MLG111", res.Findings)
	}

	// A torch storage whose bytes are all a hole: the analyzer's storage
	// walk stops quietly on a read error (torch never unpickles storages),
	// so only the recorded touch refuses it.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	_, _ = w.Write([]byte("\x80\x02}q\x00."))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Store})
	_, _ = w.Write(pkl)
	_ = zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(zb.Bytes()), int64(zb.Len()))
	if err != nil {
		t.Fatal(err)
	}
	off, _ := zr.File[1].DataOffset()
	kept := []model.Span{{Off: 0, End: off}, {Off: off + int64(len(pkl)), End: int64(zb.Len())}}
	whole := a.AnalyzeAt(context.Background(), "m.pt", bytes.NewReader(zb.Bytes()), int64(zb.Len()))
	if len(blocking(whole)) == 0 {
		t.Fatalf("whole file: the storage pickle is not reported: %v", whole.Findings)
	}
	res = a.AnalyzeSparse(context.Background(), "m.pt", bytes.NewReader(zb.Bytes()), int64(zb.Len()), kept)
	if b := blocking(res); len(b) != 1 || !strings.Contains(b[0], "sparse") {
		t.Fatalf("storage in a hole: %v, want the one sparse MLG111", b)
	}
}

// FuzzKeeper: whatever the stream and however it is cut, the kept spans
// are sorted, disjoint, hold the stream's own bytes, and with the skipped
// count add up to the stream.
func FuzzKeeper(f *testing.F) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	_, _ = w.Write([]byte("\x80\x02}q\x00."))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Store})
	_, _ = w.Write(bytes.Repeat([]byte{7, 1, 2, 3}, 200_000))
	_ = zw.Close()
	f.Add(zb.Bytes(), uint16(1000))
	f.Add([]byte("PK\x03\x04"), uint16(1))
	// No zip at offset 0: the flat member, thinned past keepHead, with a
	// zip behind the prepended bytes.
	flat := append(bytes.Repeat([]byte{0xff, 1, 2, 3}, 200_000), zb.Bytes()...)
	f.Add(flat, uint16(4000))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		var sink sparseSink
		k := model.NewKeeper(&sink, "fuzz.bin", nil)
		step := int(cut%4096) + 1
		for p := data; len(p) > 0; {
			n := min(step, len(p))
			if _, err := k.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		var kept int64
		last := int64(-1)
		for _, sp := range k.Kept() {
			if sp.Off <= last || sp.End <= sp.Off || sp.End > int64(len(data)) {
				t.Fatalf("bad span %v after %d", sp, last)
			}
			if !bytes.Equal(sink.at(sp), data[sp.Off:sp.End]) {
				t.Fatalf("span %v differs", sp)
			}
			kept += sp.End - sp.Off
			last = sp.End
		}
		if k.Size() != int64(len(data)) || kept+k.Skipped() != int64(len(data)) {
			t.Fatalf("size %d kept %d skipped %d of %d", k.Size(), kept, k.Skipped(), len(data))
		}
	})
}

// sparseSink is an in-memory io.WriterAt.
type sparseSink struct{ b []byte }

func (s *sparseSink) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(s.b) {
		s.b = append(s.b, make([]byte, end-len(s.b))...)
	}
	copy(s.b[off:], p)
	return len(p), nil
}

func (s *sparseSink) at(sp model.Span) []byte {
	if int(sp.End) > len(s.b) {
		return nil
	}
	return s.b[sp.Off:sp.End]
}

// TestSparseFlat streams files that are no zip at offset 0. A head no
// analyzer format claims is thinned to its head and tail; a claimed head
// (pickle, tar, gzip, npy, HDF5, safetensors), a pickle walk that reads
// on, or the caller's veto keeps every byte. Whatever the whole-file scan
// refuses, the sparse spool refuses too; benign bulk passes.
func TestSparseFlat(t *testing.T) {
	const bulk = 8 << 20
	rng := rand.New(rand.NewPCG(7, 7))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	zeros := make([]byte, bulk)
	rnd := random(bulk)
	if rnd[0] == 0x80 || pickleStartByte(rnd[0]) {
		rnd[0] = 0xff
	}
	evilPickle := []byte("\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
	textPickle := []byte("cposix\nsystem\n(S'id'\ntR.")
	smallZip := func(name string, body []byte) []byte {
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		_, _ = w.Write(body)
		_ = zw.Close()
		return zb.Bytes()
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tarBody := cat(evilPickle, zeros)
	_ = tw.WriteHeader(&tar.Header{Name: "model.pkl", Mode: 0o600, Size: int64(len(tarBody)), Format: tar.FormatUSTAR})
	_, _ = tw.Write(tarBody)
	_ = tw.Close()
	npyDict := "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
	npyHead := npyDict + strings.Repeat(" ", 64-(10+len(npyDict)+1)%64) + "\n"
	npy := cat([]byte("\x93NUMPY\x01\x00"), []byte{byte(len(npyHead)), byte(len(npyHead) >> 8)}, []byte(npyHead), evilPickle, zeros)
	hdf5 := cat([]byte("\x89HDF\r\n\x1a\n"), zeros)
	cases := []struct {
		name   string
		data   []byte
		evil   bool // the Python loader runs code (pickle.load, zipfile + pickle)
		thin   bool // expect the interior skipped
		vetoed bool
	}{
		{name: "zeros.bin", data: zeros, thin: true},
		{name: "random.bin", data: rnd, thin: true},
		{name: "text.log", data: bytes.Repeat([]byte("epoch 1 loss 0.25\n"), bulk/18), vetoed: true},
		{name: "weights.h5", data: hdf5},
		{name: "userblock.h5", data: cat(make([]byte, 512), []byte("\x89HDF\r\n\x1a\n"), zeros), thin: true},
		{name: "model.tar", data: tb.Bytes(), evil: true},
		{name: "model.pkl", data: cat(evilPickle, zeros), evil: true},
		{name: "proto0.pkl", data: cat(textPickle, zeros), evil: true},
		{name: "model.npy", data: npy, evil: true},
		// Data prepended to a zip: zipfile opens it from its end record.
		{name: "prepended_small.zip", data: cat(rnd, smallZip("data.pkl", evilPickle)), evil: true, thin: true},
		{name: "prepended_large.zip", data: cat(rnd, smallZip("data.pkl", cat(evilPickle, zeros[:1<<20]))), evil: true, thin: true},
		{name: "fake_eocd.bin", data: cat(rnd, []byte("PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x2e\x00\x00\x00\x00\x00\x00\x00\x00\x00")), thin: true},
	}
	dir := t.TempDir()
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		whole := blocking(analyzeWhole(t, p))
		if c.evil && len(whole) == 0 {
			t.Errorf("%s: evil file passes the whole-file scan", c.name)
		}
		for seed := uint64(0); seed < 2; seed++ {
			var veto func([]byte) bool
			if c.vetoed {
				veto = func(head []byte) bool { return bytes.HasPrefix(head, []byte("epoch")) }
			}
			res, k := streamSparseVeto(t, p, seed, veto)
			sparse := blocking(res)
			switch {
			case c.thin && k.Skipped() < k.Size()/2:
				t.Errorf("%s: only %d of %d bytes skipped", c.name, k.Skipped(), k.Size())
			case !c.thin && k.Skipped() != 0:
				t.Errorf("%s: %d bytes skipped, want the file kept whole", c.name, k.Skipped())
			}
			if len(whole) > 0 && len(sparse) == 0 {
				t.Errorf("%s: refused whole (%v) but passed sparse", c.name, whole)
			}
			if len(whole) == 0 && len(sparse) > 0 && c.name != "fake_eocd.bin" {
				t.Errorf("%s: benign whole, refused sparse: %v", c.name, sparse)
			}
			if seed == 0 {
				t.Logf("%s: skipped %d of %d; whole %v; sparse %v", c.name, k.Skipped(), k.Size(), whole, sparse)
			}
		}
	}
}

// pickleStartByte mirrors the analyzer's first-byte test closely enough
// for the random fixture: any printable opcode may start a text pickle.
func pickleStartByte(b byte) bool { return b >= 0x20 && b < 0x7f }
