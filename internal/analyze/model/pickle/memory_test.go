package pickle_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

// hostile are inputs aimed at each of the walker's memory bounds. Each is
// written to a file by one child process and walked by another whose peak
// RSS is read from the kernel, so the number is the real one, garbage
// included. (The parent builds nothing big: a child's peak RSS counts the
// parent's at exec time.)
var hostile = map[string]func(w *bufio.Writer){
	// Unique strings kept in the memo until MaxHeld.
	"memo-strings": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 4})
		pad := strings.Repeat("x", 1000)
		for i := 0; i < 80000; i++ {
			s := fmt.Sprintf("%08d%s", i, pad)
			w.Write((&gen.P{}).BinUnicode(s).Memoize().Pop().B)
		}
		w.WriteString("N.")
	},
	// Memo indices spread out so each lands in the sparse map.
	"memo-sparse": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 2, 'N'})
		for i := 0; i < 2_000_000; i++ {
			w.Write((&gen.P{}).Put(i*5000 + 256).B)
		}
		w.WriteString(".")
	},
	// Dense memo entries up to MaxMemo.
	"memo-dense": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 4})
		for i := 0; i < 9_000_000; i++ {
			w.Write([]byte{'N', 0x94, '0'})
		}
		w.WriteString("N.")
	},
	// Small tracked tuples filling the stack.
	"stack-tuples": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 2})
		t := (&gen.P{}).Mark().Int(1).Int(2).Int(3).Int(4).Int(5).Int(6).Int(7).Int(8).Int(9).Tuple().B
		for i := 0; i < 200_000; i++ {
			w.Write(t)
		}
		w.WriteString(".")
	},
	// Each MARK level first grows its stack, then pops it: capacity that
	// MaxStack's count does not see.
	"mark-capacity": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 2})
		for level := 0; level < 64; level++ {
			w.WriteByte('(')
			for i := 0; i < 100_000; i++ {
				w.WriteByte('N')
			}
			for i := 0; i < 100_000; i++ {
				w.WriteByte('0')
			}
		}
		w.WriteString("N.")
	},
	// Distinct long imports.
	"imports": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 2})
		pad := strings.Repeat("m", 1000)
		for i := 0; i < 30000; i++ {
			fmt.Fprintf(w, "c%s%d\nname\n0", pad, i)
		}
		w.WriteString("N.")
	},
	// A dense real-shaped pickle of 64 MiB (it was walked with 1.2 GB).
	"dense-64MiB": func(w *bufio.Writer) { w.Write(gen.Dense(64 << 20)) },
	// A list of 4M (int, str, float) tuples as pickle.dump writes it
	// (about 120 MB): past the budget the memo keeps forgotten forms, and
	// the walk reaches STOP ("benign-": no cap may be reported).
	"benign-list-of-tuples": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 4, ']', 0x94})
		for i := 0; i < 4_000_000; i++ {
			if i%1000 == 0 {
				if i > 0 {
					w.WriteByte('e')
				}
				w.WriteByte('(')
			}
			w.Write((&gen.P{}).Int(i).BinUnicode("name "+strconv.Itoa(i)).Memoize().Raw('G', 0, 0, 0, 0, 0, 0, 0, 0).Raw(0x87).Memoize().B)
		}
		w.WriteString("e.")
	},
	// Memoized tuples and dicts holding joblib keys.
	"tracked-values": func(w *bufio.Writer) {
		w.Write([]byte{0x80, 4})
		one := (&gen.P{}).EmptyDict().Memoize().Unicode("shape").Mark().Int(1).Int(2).Int(3).Int(4).Int(5).Int(6).
			Int(7).Int(8).Int(9).Tuple().Memoize().SetItem().Pop().B
		for i := 0; i < 400_000; i++ {
			w.Write(one)
		}
		w.WriteString("N.")
	},
}

const maxRSS = 256 << 20

// TestWalkMemoryBounded walks each hostile input in a child process and
// checks its peak RSS stays under 256 MiB and that a cap was reported.
func TestWalkMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and walks several large inputs")
	}
	dir := t.TempDir()
	for name := range hostile {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			gen := exec.Command(os.Args[0], "-test.run=^TestWalkMemoryChild$")
			gen.Env = append(os.Environ(), "PICKLE_MEMORY_BUILD="+name, "PICKLE_MEMORY_INPUT="+path)
			if out, err := gen.CombinedOutput(); err != nil {
				t.Fatalf("building %s: %v\n%s", name, err, out)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestWalkMemoryChild$")
			cmd.Env = append(os.Environ(), "PICKLE_MEMORY_INPUT="+path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10
			st, _ := os.Stat(path)
			t.Logf("%d MiB input: peak RSS %d MiB; %s", st.Size()>>20, rss>>20, strings.TrimSpace(lastLine(string(out))))
			if rss > maxRSS {
				t.Errorf("peak RSS %d MiB over %d MiB", rss>>20, maxRSS>>20)
			}
			if line := lastLine(string(out)); strings.HasPrefix(name, "benign-") && (!strings.Contains(line, `limit ""`) || !strings.Contains(line, "break <nil>")) {
				t.Errorf("benign input not walked whole: %s", line)
			}
		})
	}
}

func lastLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "walk:") {
			return l
		}
	}
	return s
}

// TestWalkMemoryChild is the child of TestWalkMemoryBounded.
func TestWalkMemoryChild(t *testing.T) {
	path := os.Getenv("PICKLE_MEMORY_INPUT")
	if path == "" {
		t.Skip("child process of TestWalkMemoryBounded")
	}
	if name := os.Getenv("PICKLE_MEMORY_BUILD"); name != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		hostile[name](w)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := pickle.Walk(f, pickle.DefaultLimits)
	fmt.Printf("walk: ops %d, imports %d, limit %q, break %v\n", r.Ops, len(r.Imports), r.Limit, r.Break)
}
