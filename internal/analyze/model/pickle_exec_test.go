package model_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// openCall appends builtins.open(marker, "w"): the payload of every
// fixture below only creates its marker file.
func openCall(p *gen.P, proto byte, marker string) *gen.P {
	switch {
	case proto >= 4:
		p.Unicode("builtins").Unicode("open").StackGlobal()
	case proto == 3:
		p.Global("builtins", "open")
	default:
		p.Global("__builtin__", "open")
	}
	return p.Mark().String(marker).String("w").Tuple().Reduce()
}

// callResult calls the value on the stack with (marker, "w").
func callResult(p *gen.P, marker string) *gen.P {
	return p.Mark().String(marker).String("w").Tuple().Reduce()
}

type execFixture struct {
	name, loader string // loader: see testdata/load_marker.py
	data         []byte
	want         []string // any of these rules must be reported
}

// execFixtures are the bypasses of issue 9 that concern the pickle walker
// and its lists, one or more per root cause; each creates "m_<name>" when
// its real loader loads it.
func execFixtures() []execFixture {
	var fx []execFixture
	add := func(name, loader string, want string, data []byte) {
		fx = append(fx, execFixture{name: name, loader: loader, data: data, want: strings.Split(want, "|")})
	}
	m := func(name string) string { return "m_" + name }
	after := func(name string) func(p *gen.P) {
		return func(p *gen.P) { openCall(p.Pop(), 4, m(name)) }
	}
	// Root cause 3: joblib array sizes as joblib computes them. The data
	// starts with STOP, so a walk that sizes the array wrongly ends early.
	data := func(n int) []byte { return append([]byte{'.'}, make([]byte, n-1)...) }
	add("int-text-shape.joblib", "joblib", "MLG106", gen.Joblib(gen.JoblibOpts{
		Shape: func(p *gen.P) { p.Raw('I').Raw([]byte(" 0x3\n")...).Tuple1() }, Dtype: "<f8", Align: -1,
		Data: data(24), Proto: 2, AfterData: after("int-text-shape.joblib")}))
	add("long-shape.joblib", "joblib", "MLG106", gen.Joblib(gen.JoblibOpts{
		Shape: func(p *gen.P) { p.Raw('L').Raw([]byte("+1_2L\n")...).Tuple1() }, Dtype: "|u1", Align: -1,
		Data: data(12), Proto: 3, AfterData: after("long-shape.joblib")}))
	add("long1-shape.joblib", "joblib", "MLG106", gen.Joblib(gen.JoblibOpts{
		Shape: func(p *gen.P) { p.Raw(0x8a, 2, 0x00, 0x01).Tuple1() }, Dtype: "|u1", Align: -1,
		Data: data(256), Proto: 4, AfterData: after("long1-shape.joblib")}))
	add("align-pad.joblib", "joblib", "MLG106", gen.Joblib(gen.JoblibOpts{
		Shape: func(p *gen.P) { p.Int(2).Tuple1() }, Dtype: "<f8", Align: 16, Pad: 7,
		Data: data(16), Proto: 4, EndFrame: true, AfterData: after("align-pad.joblib")}))
	// Root cause 3: no PROTO header, any first opcode.
	add("noheader.pkl", "pickle", "MLG106", openCall((&gen.P{}).None().Pop(), 2, m("noheader.pkl")).Stop().B)
	// Root cause 3: STACK_GLOBAL fed by STRING opcodes, with escapes.
	add("string-stack-global.pkl", "pickle", "MLG106", callResult((&gen.P{}).Proto(2).
		Raw('S').Raw([]byte(`'built\x69ns'`+"\n")...).Raw('S').Raw([]byte(`"op\145n"`+"\n")...).StackGlobal(),
		m("string-stack-global.pkl")).Stop().B)
	// Root cause 3: a protocol-0 pickle after a protocol-2 one.
	add("proto0-after-proto2.pkl", "pickle", "MLG106", append((&gen.P{}).Proto(2).None().Stop().B,
		openCall(&gen.P{}, 0, m("proto0-after-proto2.pkl")).Stop().B...))
	// Root cause 3: a GLOBAL line straddling a FRAME. Read from an
	// io.BytesIO (as torch.load does) CPython drops the frame's tail "xx"
	// and imports builtins.open; read contiguously it is builtins.xxopen.
	straddle := (&gen.P{}).Proto(4).Frame(uint64(len("cbuiltins\nxx"))).Raw([]byte("cbuiltins\nxxopen\n")...)
	add("frame-straddle.pkl", "bytesio", "MLG111|MLG106", callResult(straddle, m("frame-straddle.pkl")).Stop().B)
	// Root cause 9: a file class re-exported under a trusted package.
	add("sklearn-gzipfile.pkl", "pickle", "MLG106", (&gen.P{}).Proto(2).Global("sklearn.datasets._rcv1", "GzipFile").
		Mark().String(m("sklearn-gzipfile.pkl")).String("wb").Tuple().Reduce().Stop().B)
	// Root cause 9: name resolvers.
	add("pkgutil-resolve.pkl", "pickle", "MLG106", callResult((&gen.P{}).Proto(2).Global("pkgutil", "resolve_name").
		Mark().String("builtins:open").Tuple().Reduce(), m("pkgutil-resolve.pkl")).Stop().B)
	add("logging-resolve.pkl", "pickle", "MLG106", callResult((&gen.P{}).Proto(2).Global("logging.config", "_resolve").
		Mark().String("builtins.open").Tuple().Reduce(), m("logging-resolve.pkl")).Stop().B)
	add("pydoc-locate.pkl", "pickle", "MLG106", callResult((&gen.P{}).Proto(4).Unicode("pydoc").Unicode("locate").StackGlobal().
		Mark().String("builtins.open").Tuple().Reduce(), m("pydoc-locate.pkl")).Stop().B)
	// Root cause 12: cloudpickle helpers next to a dangerous call stay MLG106.
	add("cloudpickle-open.pkl", "pickle", "MLG106", openCall((&gen.P{}).Proto(4).Unicode("cloudpickle.cloudpickle").
		Unicode("subimport").StackGlobal().Unicode("os").Tuple1().Reduce().Pop(), 4, m("cloudpickle-open.pkl")).Stop().B)
	// Legacy torch: five pickles, the payload in the fifth.
	legacy := append([]byte(nil), "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."...)
	for i := 0; i < 3; i++ {
		legacy = append(legacy, (&gen.P{}).Proto(2).Int(i).Stop().B...)
	}
	legacy = append(legacy, openCall((&gen.P{}).Proto(2), 2, m("legacy-torch.pt")).Stop().B...)
	add("legacy-torch.pt", "pickle", "MLG106", append(legacy, 0, 0, 0, 0, 0, 0, 0, 0))
	return fx
}

// TestPickleBypassesExecute proves each fixture runs its payload in the
// real loader (its marker file appears) and fails the default scan.
func TestPickleBypassesExecute(t *testing.T) {
	dir := t.TempDir()
	fx := execFixtures()
	args := []string{filepath.Join("testdata", "load_marker.py"), dir}
	for _, f := range fx {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f.loader+":"+f.name)
	}
	cmd := exec.Command(testenv.Python(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load_marker.py: %v\n%s", err, out)
	}
	t.Logf("loader output (errors after a payload ran are expected):\n%s", out)

	scanDir := t.TempDir()
	for _, f := range fx {
		if _, err := os.Stat(filepath.Join(dir, "m_"+f.name)); err != nil {
			t.Errorf("%s: the payload did not run in %s: %v", f.name, f.loader, err)
		}
		if err := os.WriteFile(filepath.Join(scanDir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), scanDir)
	got := map[string][]string{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.RuleID+" "+f.Message)
	}
	for _, f := range fx {
		ok := false
		for _, line := range got[f.name] {
			for _, w := range f.want {
				ok = ok || strings.HasPrefix(line, w+" ")
			}
		}
		switch {
		case ok:
		default:
			t.Errorf("%s: want %s, got %q", f.name, strings.Join(f.want, " or "), got[f.name])
		}
	}
}

// TestPickleFindingsBounded: a stream importing one callable 200,000 times
// and 300 distinct unknown ones gives one finding per callable, at most 50
// listed, the rest counted in one folded finding.
func TestPickleFindingsBounded(t *testing.T) {
	p := (&gen.P{}).Proto(2)
	for i := 0; i < 200000; i++ {
		p.Global("os", "system").Pop()
	}
	for i := 0; i < 300; i++ {
		p.Global(fmt.Sprintf("pkg%d", i), "Thing").Pop()
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flood.pkl"), p.None().Stop().B, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	if len(fs) != 51 {
		t.Fatalf("want 50 listed + 1 folded finding, got %d", len(fs))
	}
	if !strings.Contains(fs[0].Message, "os.system") || !strings.Contains(fs[0].Message, "200000 uses") {
		t.Errorf("first finding: %s", fs[0].Message)
	}
	last := fs[len(fs)-1]
	if !strings.Contains(last.Message, "251 more pickle findings") {
		t.Errorf("folded finding: %s %s", last.RuleID, last.Message)
	}
}

// TestCloudpicklePyfunc: a real mlflow.pyfunc.save_model python_model.pkl
// is one MLG108, not a list of MLG106; with a dangerous call added it is
// MLG106.
func TestCloudpicklePyfunc(t *testing.T) {
	dir := t.TempDir()
	script := `
import os, sys, mlflow.pyfunc
class M(mlflow.pyfunc.PythonModel):
    def __init__(self): self.k = 3
    def predict(self, context, model_input, params=None):
        import math
        return [math.sqrt(self.k)]
mlflow.pyfunc.save_model(os.path.join(sys.argv[1], "pyfunc"), python_model=M())
`
	sp := filepath.Join(dir, "make.py")
	if err := os.WriteFile(sp, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.RunPython(t, sp, nil, dir)
	pkl := filepath.Join(dir, "pyfunc", "python_model.pkl")
	raw, err := os.ReadFile(pkl)
	if err != nil {
		t.Fatal(err)
	}
	scanDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(scanDir, "python_model.pkl"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), scanDir)
	if len(fs) != 1 || fs[0].RuleID != "MLG108" || !strings.Contains(fs[0].Message, "_make_function") {
		t.Fatalf("real cloudpickled python model: want one MLG108, got %+v", fs)
	}
}

// TestCloudpickleFunctionCalledOnLoad: a function rebuilt by cloudpickle
// and called while loading runs its code at load time: MLG106, not MLG108.
func TestCloudpickleFunctionCalledOnLoad(t *testing.T) {
	p := (&gen.P{}).Proto(4).Unicode("cloudpickle.cloudpickle").Unicode("_make_function").StackGlobal().
		Mark().None().EmptyDict().Unicode("f").None().None().Tuple().Reduce(). // the rebuilt function
		EmptyTuple().Reduce().Stop()                                           // called at once
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "run.pkl"), p.B, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	if len(fs) != 1 || fs[0].RuleID != "MLG106" || !strings.Contains(fs[0].Message, "rebuilt from pickled bytecode") {
		t.Fatalf("want one MLG106 for a rebuilt function called on load, got %+v", fs)
	}
}
