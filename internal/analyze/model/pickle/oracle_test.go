package pickle_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// oracle is a long-lived Python process running testdata/oracle.py: the
// real unpickler with a recording find_class (see its docstring).
type oracle struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	mu  sync.Mutex
}

type oracleReq struct {
	ID   int    `json:"id"`
	Mode string `json:"mode"`
	B64  string `json:"b64"`
}

type oracleResp struct {
	ID      int         `json:"id"`
	Imports [][2]string `json:"imports"`
	Loaded  int         `json:"loaded"`
	Err     string      `json:"err"`
}

func startOracle(t testing.TB) *oracle {
	t.Helper()
	py := testenv.Python(t)
	cmd := exec.Command(py, filepath.Join("testdata", "oracle.py"))
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o := &oracle{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	return o
}

// batch sends every stream, then reads every answer; a writer goroutine
// keeps both pipes flowing.
func (o *oracle) batch(t testing.TB, mode string, streams [][]byte) []oracleResp {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	errc := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(o.in)
		enc := json.NewEncoder(w)
		for i, b := range streams {
			if err := enc.Encode(oracleReq{ID: i, Mode: mode, B64: base64.StdEncoding.EncodeToString(b)}); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Flush()
	}()
	// A stream the oracle cannot finish must not hang the test: past the
	// deadline the process is killed and the read below fails.
	timer := time.AfterFunc(10*time.Second+time.Duration(len(streams))*20*time.Millisecond, func() { _ = o.cmd.Process.Kill() })
	defer timer.Stop()
	out := make([]oracleResp, len(streams))
	for i := range streams {
		line, err := o.out.ReadBytes('\n')
		if err != nil {
			t.Fatalf("oracle died or hung after %d answers: %v (next input, base64: %s)", i, err, base64.StdEncoding.EncodeToString(streams[i]))
		}
		var r oracleResp
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("oracle answer %q: %v", line, err)
		}
		if r.ID != i {
			t.Fatalf("oracle answered %d, want %d", r.ID, i)
		}
		out[i] = r
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return out
}

// disagreement returns why the walker disagrees with CPython on b, or "".
// The walker must report every import CPython performs, and must not stop
// at a pickle CPython loaded. A walk stopped by a cap or by data it cannot
// size is reported as unverified (MLG111) and is not compared.
func disagreement(b []byte, mode string, o oracleResp) (why string, compared bool) {
	var res pickle.Result
	if mode == "joblib" {
		res = pickle.Walk(bytes.NewReader(b), pickle.DefaultLimits)
	} else {
		res = pickle.WalkPlain(bytes.NewReader(b), pickle.DefaultLimits)
	}
	if res.Limit != "" || res.Embedded != "" || len(res.Anomalies) > 0 {
		return "", false
	}
	have := map[string]bool{}
	wild := false
	for _, imp := range res.Imports {
		have[imp.Module+"\x00"+imp.Name] = true
		wild = wild || imp.Computed
	}
	for _, mn := range o.Imports {
		m2, n2 := pickle.MapPy2(mn[0], mn[1])
		if have[mn[0]+"\x00"+mn[1]] || have[m2+"\x00"+n2] || wild {
			continue
		}
		return fmt.Sprintf("CPython imports %s.%s, the walker does not (walker imports %v, break %v)", mn[0], mn[1], res.Imports, res.Break), true
	}
	stopped := res.Break != nil || (res.Trailing != "" && !strings.HasPrefix(res.Trailing, "legacy torch"))
	if stopped && o.Loaded > res.Complete {
		return fmt.Sprintf("the walker stops in pickle %d (%v %s), CPython loaded %d pickles", res.Complete+1, res.Break, res.Trailing, o.Loaded), true
	}
	return "", true
}

// fixedStreams are the hand-built cases: every family of the generator
// and each walker-vs-CPython point of issue 9.
func fixedStreams() [][]byte {
	var out [][]byte
	for _, proto := range []byte{0, 1, 2, 3, 4, 5} {
		out = append(out, gen.CallGlobal(proto, "os", "system", "id"), gen.CallGlobal(proto, "__builtin__", "eval", "1"))
	}
	for _, f := range gen.Families() {
		out = append(out, f.Make(1))
	}
	for _, t := range []string{" 1", "+1", "1_0", "0x10", "010", "01", "00", "1 "} {
		out = append(out, (&gen.P{}).Raw('I').Raw([]byte(t+"\n")...).Global("os", "system").Stop().B)
		out = append(out, (&gen.P{}).Raw('L').Raw([]byte(t+"L\n")...).Global("os", "system").Stop().B)
	}
	out = append(out,
		// No PROTO header, first opcode anything.
		(&gen.P{}).Unicode("os").Unicode("system").StackGlobal().Stop().B,
		(&gen.P{}).None().Pop().Global("os", "system").Stop().B,
		// STACK_GLOBAL fed by STRING opcodes, escapes included.
		(&gen.P{}).Proto(2).Raw('S').Raw([]byte(`'o\x73'`+"\n")...).Raw('S').Raw([]byte(`"sys\164em"`+"\n")...).StackGlobal().Stop().B,
		(&gen.P{}).Proto(4).ShortBinString("os").BinString("system").StackGlobal().Stop().B,
		(&gen.P{}).Raw('V').Raw([]byte(`\u006fs`+"\n")...).TextUnicode("system").StackGlobal().Stop().B,
		// Straddling and nested FRAMEs.
		(&gen.P{}).Proto(4).Frame(3).Unicode("os").Frame(100).Unicode("system").StackGlobal().Stop().B,
		// A protocol-0 pickle after a protocol-2 one.
		append((&gen.P{}).Proto(2).None().Stop().B, gen.CallGlobal(0, "os", "system", "id")...),
		append((&gen.P{}).Proto(2).None().Stop().B, (&gen.P{}).Unicode("os").Unicode("system").StackGlobal().Stop().B...),
	)
	return out
}

func joblibStreams() [][]byte {
	evil := func(p *gen.P) { p.Pop().Global("os", "system").Unicode("id").Tuple1().Reduce() }
	tuple := func(dims ...int) func(p *gen.P) {
		return func(p *gen.P) {
			p.Mark()
			for _, d := range dims {
				p.Int(d)
			}
			p.Tuple()
		}
	}
	var out [][]byte
	for _, o := range []gen.JoblibOpts{
		{Shape: tuple(3), Dtype: "<f8", Align: 16, Pad: 5, Data: make([]byte, 24), Proto: 4, EndFrame: true, AfterData: evil},
		{Shape: tuple(2, 2), Dtype: "<i4", Align: -1, Data: make([]byte, 16), Proto: 2, AfterData: evil},
		{Shape: tuple(4), Dtype: "<f4", Align: 0, Data: bytes.Repeat([]byte("c"), 16), Proto: 4, AfterData: evil},
		{Shape: func(p *gen.P) { p.Raw('I').Raw([]byte(" 0x3\n")...).Tuple1() }, Dtype: "<f8", Align: 8, Pad: 3, Data: make([]byte, 24), Proto: 2, AfterData: evil},
		{Shape: func(p *gen.P) { p.Raw('L').Raw([]byte("1_2L\n")...).Tuple1() }, Dtype: "|u1", Align: 16, Pad: 0, Data: make([]byte, 12), Proto: 3, AfterData: evil},
		{Shape: func(p *gen.P) { p.Raw(0x8a, 1, 5).Raw(0x8a, 1, 1).Tuple2() }, Dtype: "<i8", Align: -1, Data: make([]byte, 40), Proto: 4, AfterData: evil},
		{Shape: tuple(2), Dtype: "O", Align: 16, Data: gen.CallGlobal(5, "os", "system", "id"), Proto: 4, EndFrame: true, AfterData: evil},
	} {
		out = append(out, gen.Joblib(o))
	}
	return out
}

// randomJoblib varies what joblib's format allows: the integer opcodes of
// the shape, dtypes, alignment and its padding, framing and protocol.
func randomJoblib(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 3))
	dtypes := []struct {
		name string
		size int
	}{{"<f8", 8}, {"<i4", 4}, {"|u1", 1}, {"<f4", 4}, {"<c16", 16}, {"|b1", 1}, {"<U3", 12}, {"|S5", 5}, {"<i2", 2}}
	dim := func(p *gen.P, d int) {
		switch r.IntN(6) {
		case 0:
			p.Int(d)
		case 1:
			p.Raw('I').Raw([]byte(fmt.Sprintf("%s\n", []string{" %d", "+%d", "%d ", "0x%x", "0o%o"}[r.IntN(5)]))...)
			p.B = []byte(fmt.Sprintf(string(p.B), d))
		case 2:
			p.Raw('L').Raw([]byte(fmt.Sprintf("%dL\n", d))...)
		case 3:
			p.Raw(0x8a, 2, byte(d), byte(d>>8))
		case 4:
			p.Raw('M', byte(d), byte(d>>8))
		default:
			p.Raw('J', byte(d), byte(d>>8), 0, 0)
		}
	}
	var out [][]byte
	for i := 0; i < n; i++ {
		dt := dtypes[r.IntN(len(dtypes))]
		dims := make([]int, 1+r.IntN(3))
		count := 1
		for j := range dims {
			dims[j] = r.IntN(5)
			count *= dims[j]
		}
		align := []int{-1, 0, 8, 16}[r.IntN(4)]
		o := gen.JoblibOpts{
			Shape: func(p *gen.P) {
				p.Mark()
				for _, d := range dims {
					sub := &gen.P{}
					dim(sub, d)
					p.Raw(sub.B...)
				}
				p.Tuple()
			},
			Dtype: dt.name, Align: align, Pad: r.IntN(16), Data: make([]byte, count*dt.size),
			Proto: byte(2 + r.IntN(4)), EndFrame: r.IntN(2) == 0,
			AfterData: func(p *gen.P) { p.Pop().Global("os", "system").Unicode("id").Tuple1().Reduce() },
		}
		out = append(out, gen.Joblib(o))
	}
	return out
}

func randomStreams(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 9))
	base := fixedStreams()
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, gen.Random(r))
		} else {
			out = append(out, gen.Mutate(r, base[r.IntN(len(base))]))
		}
	}
	return out
}

// corpusFile holds inputs (base64, one a line) found by FuzzOracle or
// kept by hand; TestOracle replays them.
const corpusFile = "testdata/oracle_corpus.txt"

func readCorpus(t testing.TB) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			t.Fatalf("%s: %v", corpusFile, err)
		}
		out = append(out, b)
	}
	return out
}

// TestOracle is the differential test: the walker against CPython's own
// unpickler (pickle.load's C Unpickler, and joblib's NumpyUnpickler), on
// hand-built, random, mutated and corpus streams, in one Python process.
func TestOracle(t *testing.T) {
	o := startOracle(t)
	n := 3000
	if testing.Short() {
		n = 500
	}
	run := func(name, mode string, streams [][]byte) {
		t.Run(name, func(t *testing.T) {
			answers := o.batch(t, mode, streams)
			loaded, imported, failed, compared := 0, 0, 0, 0
			for i, b := range streams {
				a := answers[i]
				if strings.HasPrefix(a.Err, "oracle:") {
					t.Fatalf("stream %d: %s", i, a.Err)
				}
				loaded += a.Loaded
				imported += len(a.Imports)
				why, cmp := disagreement(b, mode, a)
				if cmp {
					compared++
				}
				if why != "" {
					failed++
					if failed <= 10 {
						t.Errorf("stream %d (%s): %s\n  base64: %s", i, mode, why, base64.StdEncoding.EncodeToString(b))
					}
				}
			}
			// The corpus must exercise the oracle, not just fail to load.
			if compared*2 < len(streams) {
				t.Errorf("only %d of %d streams compared", compared, len(streams))
			}
			if loaded == 0 || imported == 0 {
				t.Fatalf("%d streams: CPython loaded %d pickles and imported %d times", len(streams), loaded, imported)
			}
			t.Logf("%d streams (%d compared; the rest the walker reports unverified), CPython loaded %d pickles and made %d imports, %d disagreements",
				len(streams), compared, loaded, imported, failed)
		})
	}
	run("fixed", "pickle", fixedStreams())
	run("joblib", "joblib", joblibStreams())
	run("joblib-as-pickle", "pickle", joblibStreams())
	run("joblib-random", "joblib", randomJoblib(2, 200))
	run("random", "pickle", randomStreams(1, n))
	run("random-pure", "pure", randomStreams(3, n/2))
	run("corpus", "pickle", readCorpus(t))
}

// TestJoblibStreamsLoad checks the joblib fixtures are real: joblib's
// loader reads each array and then imports os.system after it.
func TestJoblibStreamsLoad(t *testing.T) {
	o := startOracle(t)
	for i, a := range o.batch(t, "joblib", joblibStreams()) {
		found := false
		for _, mn := range a.Imports {
			found = found || mn == [2]string{"os", "system"}
		}
		if !found || a.Loaded != 1 {
			t.Errorf("joblib stream %d: loaded %d, imports %v, err %s", i, a.Loaded, a.Imports, a.Err)
		}
	}
}

// FuzzOracle runs the differential check on fuzzed inputs. Seeds are the
// corpus file plus testdata/fuzz/FuzzOracle; a failing input found here
// belongs in the corpus file so TestOracle keeps replaying it.
func FuzzOracle(f *testing.F) {
	for _, b := range readCorpus(f) {
		f.Add(b)
	}
	for _, b := range fixedStreams() {
		f.Add(b)
	}
	o := startOracle(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		a := o.batch(t, "pickle", [][]byte{b})[0]
		if strings.HasPrefix(a.Err, "oracle:") {
			t.Fatal(a.Err)
		}
		if why, _ := disagreement(b, "pickle", a); why != "" {
			t.Fatal(why)
		}
	})
}
