package model

import (
	"bytes"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

func xzBytes(t *testing.T, data []byte, block int64) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.WriterConfig{BlockSize: block}.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Multi-block streams, concatenated streams and stream padding decode as
// Python's lzma module decodes them.
func TestXZReader(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, 700_000)
	for i := range data {
		data[i] = byte(rng.Intn(7)) + 'a'
	}
	one := xzBytes(t, data, 64<<10)
	two := append(append(append([]byte{}, one...), 0, 0, 0, 0), xzBytes(t, data[:1000], 1<<20)...)
	for name, c := range map[string]struct {
		in   []byte
		want []byte
	}{
		"multi-block":  {one, data},
		"concatenated": {two, append(append([]byte{}, data...), data[:1000]...)},
	} {
		r, err := newXZReader(bytes.NewReader(c.in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("%s: %d bytes (want %d), %v", name, len(got), len(c.want), err)
		}
	}
	// A block asking for a 4 GiB dictionary is refused before allocation.
	huge := append([]byte{}, one...)
	// Block header at 12: size byte, flags, filter id 0x21, props size 1, dict bits.
	if huge[12+2] != 0x21 || huge[12+3] != 1 {
		t.Fatalf("unexpected block header % x", huge[12:24])
	}
	huge[12+4] = 40
	r, err := newXZReader(bytes.NewReader(huge))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil || !strings.Contains(err.Error(), "dictionary") {
		t.Fatalf("huge dictionary: %v", err)
	}
}
