package python

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

func TestHangHunt(t *testing.T) {
	if os.Getenv("HANG") == "" {
		t.Skip()
	}
	files, _ := filepath.Glob("testdata/src/*.py")
	var corpus [][]byte
	for _, p := range files {
		b, _ := os.ReadFile(p)
		corpus = append(corpus, b)
	}
	a := New(analyze.Options{})
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		b := append([]byte(nil), corpus[r.Intn(len(corpus))]...)
		for k := 0; k < 1+r.Intn(8); k++ {
			p := r.Intn(len(b))
			switch r.Intn(3) {
			case 0:
				b[p] = byte(r.Intn(256))
			case 1:
				b = append(b[:p], b[min(p+r.Intn(20), len(b)):]...)
			case 2:
				o := corpus[r.Intn(len(corpus))]
				q := r.Intn(len(o))
				b = append(b[:p], append(append([]byte(nil), o[q:min(q+r.Intn(80), len(o))]...), b[p:]...)...)
			}
			if len(b) == 0 {
				b = []byte("x")
			}
		}
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(8 * time.Second):
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				os.WriteFile("/tmp/hang_input.py", b, 0o644)
				fmt.Println(string(buf[:n]))
				os.Exit(3)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.analyzeBytes(ctx, "f.py", b)
		cancel()
		close(done)
	}
}
