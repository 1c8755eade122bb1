package secrets

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// StreamSecrets are real-format credentials for the stream tests: the
// detectors' own true positives, plus private keys made now.
func StreamSecrets(t testing.TB) map[string]string {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		KindAWSAccessKeyID:        "AKIA" + "UJZDEGXDNCF32EPF",
		KindGitHubToken:           "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES",
		KindOpenAIKey:             "sk-proj-" + "yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jB",
		KindAnthropicKey:          "sk-ant-api03-" + "YZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3",
		KindAWSSecretKey:          `AWS_SECRET_ACCESS_KEY=2hpChYgCfrL1spNx` + `nyVmihA+2O76UMFxFkM+R5Kj`,
		KindURLCredentials:        "postgresql://mlflow:" + "S3cr3tPw@db.internal:5432/mlflow",
		KindJWT:                   "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIm1sZmxvdyJ9." + "1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU",
		KindPrivateKey + "/rsa":   string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})),
		KindPrivateKey + "/pkcs8": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
	}
}

// filler is text with word breaks at every phase, so a secret can be put
// at any offset; it holds no secret.
func filler(n int) []byte {
	const s = "lorem ipsum dolor sit amet, consectetur adipiscing elit; "
	b := make([]byte, n)
	for i := range b {
		b[i] = s[i%len(s)]
	}
	return b
}

type spanKind struct {
	kind       string
	start, end int
}

func streamMatches(t testing.TB, d *Detector, text []byte, slow bool) []spanKind {
	t.Helper()
	var out []spanKind
	var r = iotest.DataErrReader(strings.NewReader(string(text)))
	if slow {
		r = iotest.HalfReader(r)
	}
	if err := d.ScanReader(r, func(m Match) error {
		out = append(out, spanKind{m.Kind, m.Start, m.End})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func wholeMatches(d *Detector, text []byte) []spanKind {
	var out []spanKind
	for _, m := range d.FindInValue(string(text)) {
		out = append(out, spanKind{m.Kind, m.Start, m.End})
	}
	return out
}

func sortSpans(s []spanKind) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].start != s[j].start {
			return s[i].start < s[j].start
		}
		return s[i].kind < s[j].kind
	})
}

// cutsUpTo lists every place a stream of n bytes is cut: the old 64 KiB
// line pieces, and both edges of every window.
func cutsUpTo(n int) []int {
	cuts := map[int]bool{}
	for c := 64 << 10; c < n; c += 64 << 10 {
		cuts[c] = true
	}
	step := StreamWindow - StreamOverlap
	for a := step; a < n; a += step {
		cuts[a] = true                              // start of a window
		cuts[a+StreamOverlap] = a+StreamOverlap < n // end of the previous one
	}
	var out []int
	for c, ok := range cuts {
		if ok && c < n {
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}

// TestScanReaderAcrossCuts puts each secret at every offset around every
// cut of a long single-line stream (from wholly before the cut, through
// straddling it, to just after it) and checks the stream gives what the
// detectors give on the secret alone, at its place, once.
func TestScanReaderAcrossCuts(t *testing.T) {
	d := New()
	const size = 2*StreamWindow + 40<<10
	base := filler(size)
	cuts := cutsUpTo(size - StreamOverlap - 8<<10)
	if len(cuts) < 5 {
		t.Fatalf("cuts: %v", cuts)
	}
	for name, sec := range StreamSecrets(t) {
		kind, _, _ := strings.Cut(name, "/")
		alone := " " + sec + " "
		wantAlone := wholeMatches(d, []byte(alone))
		if len(wantAlone) == 0 || wantAlone[0].kind != kind {
			t.Fatalf("%s is not found on its own: %v", name, wantAlone)
		}
		for ci, cut := range cuts {
			// every offset from 40 before the cut to 5 after it, every
			// offset where the secret's start nears the cut, and 16 or
			// more in between
			offs := map[int]bool{}
			for o := cut - 40; o <= cut+5; o++ {
				offs[o] = true
			}
			for o := cut - len(alone) - 3; o <= cut-len(alone)+3 && !testing.Short(); o++ {
				offs[o] = true
			}
			for o := cut - len(alone); o < cut && !testing.Short(); o += max(7, len(alone)/16) {
				offs[o] = true
			}
			// the stream ends far enough past the cut for the cut to be
			// one (the windows on both sides are full)
			n := cut + StreamOverlap + 8<<10
			for o := range offs {
				text := append([]byte(nil), base[:n]...)
				copy(text[o:], alone)
				got := streamMatches(t, d, text, ci%2 == 1)
				var want []spanKind
				for _, m := range wantAlone {
					want = append(want, spanKind{m.kind, m.start + o, m.end + o})
				}
				sortSpans(got)
				sortSpans(want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s at %d (cut %d): stream %v, want %v", name, o+1, cut, got, want)
				}
			}
		}
	}
}

// TestScanReaderLongLines: a line far longer than a window is no way past
// the scan, and a secret longer than the overlap is still reported.
func TestScanReaderLongLines(t *testing.T) {
	d := New()
	secs := StreamSecrets(t)
	text := append(filler(5<<20), " "+secs[KindGitHubToken]+" "...)
	got := streamMatches(t, d, text, false)
	if len(got) != 1 || got[0].kind != KindGitHubToken || got[0].start != 5<<20+1 {
		t.Fatalf("token at the end of a 5 MiB line: %v", got)
	}
	// A token longer than any window holds with its margins is reported
	// from the window that holds its start. (A JWT that long is not: its
	// cut payload does not decode, so only JWTs up to the guaranteed
	// length are found at every place.)
	long := "sk-proj-" + strings.Repeat("yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jB", 1000)
	if len(long) <= streamWhole {
		t.Fatalf("token of %d bytes is not longer than the guaranteed length", len(long))
	}
	for _, o := range []int{10, StreamWindow - 100, StreamWindow - StreamOverlap - 7, StreamWindow - StreamOverlap + 300, StreamWindow - len(long) + 3} {
		if o < 0 {
			continue
		}
		text := filler(o)
		text = append(append(append(text, ' '), long...), filler(StreamWindow)...)
		got := streamMatches(t, d, text, true)
		if len(got) == 0 || got[0].kind != KindOpenAIKey || got[0].start != o+1 {
			t.Errorf("long token at %d: %v", o+1, got)
		}
	}
}

// TestScanReaderPEMFile: a private key file, lines and all, is one secret
// (the line-by-line reading it replaces never saw the key body).
func TestScanReaderPEMFile(t *testing.T) {
	d := New()
	secs := StreamSecrets(t)
	for _, name := range []string{KindPrivateKey + "/rsa", KindPrivateKey + "/pkcs8"} {
		got := streamMatches(t, d, []byte(secs[name]), false)
		if len(got) != 1 || got[0].kind != KindPrivateKey {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func TestScanReaderErrors(t *testing.T) {
	d := New()
	boom := errors.New("disk gone")
	r := iotest.TimeoutReader(strings.NewReader(string(filler(3 * StreamWindow))))
	if err := d.ScanReader(r, func(Match) error { return nil }); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("read error: %v", err)
	}
	text := append(filler(StreamWindow*2), " "+StreamSecrets(t)[KindGitHubToken]...)
	if err := d.ScanReader(strings.NewReader(string(text)), func(Match) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("callback error: %v", err)
	}
	n := 0
	if err := d.ScanReader(strings.NewReader(""), func(Match) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("empty stream: %v %d", err, n)
	}
}

// FuzzScanReader: whatever text straddles a window's edge, the stream
// finds what the detectors find on the whole text.
func FuzzScanReader(f *testing.F) {
	for _, s := range []string{"AKIA" + "UJZDEGXDNCF32EPF", "password = \"Xk3-9aPqL2mZ\"", "-----BEGIN RSA PRIVATE KEY-----\nmjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/" + "eR1UYzaLiA/zNyD7CHLn/xC+1hsYgBds\n-----END RSA PRIVATE KEY-----"} {
		f.Add(s, 3)
	}
	d := New()
	base := filler(2*StreamWindow + 1000)
	f.Fuzz(func(t *testing.T, s string, shift int) {
		if len(s) > 4096 {
			return
		}
		shift = (shift%512 + 512) % 512
		for _, cut := range []int{StreamWindow - StreamOverlap, StreamWindow} {
			o := cut - len(s)/2 - 256 + shift
			text := append([]byte(nil), base...)
			copy(text[o:], s)
			got := streamMatches(t, d, text, false)
			want := wholeMatches(d, text)
			sortSpans(got)
			sortSpans(want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("at %d: stream %v, whole %v", o, got, want)
			}
		}
	})
}

// BenchmarkScanReader: bytes per second of the windowed search over 8 MiB
// of text lines, plain and with a keyword ("task-" holds "sk-") on every
// line, which makes the token regexes run over every window.
func BenchmarkScanReader(b *testing.B) {
	d := New()
	for _, c := range []struct{ name, line string }{
		{"plain", "2026-12-04 12:00:01 epoch=3 loss=0.1234 acc=0.9876 lr=0.001\n"},
		{"keywords", "2026-12-04 12:00:01 task-17 loss=0.1234 acc=0.9876 risk=low\n"},
	} {
		text := []byte(strings.Repeat(c.line, (8<<20)/len(c.line)))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if err := d.ScanReader(strings.NewReader(string(text)), func(Match) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
