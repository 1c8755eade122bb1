package pickle_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

func walk(b []byte) pickle.Result { return pickle.Walk(bytes.NewReader(b), pickle.DefaultLimits) }

// verdicts returns resolved name -> kind for every import.
func verdicts(r pickle.Result) map[string]pickle.Kind {
	out := map[string]pickle.Kind{}
	for _, imp := range r.Imports {
		v := pickle.Classify(imp)
		out[v.Resolved] = v.Kind
	}
	return out
}

func TestDangerousAcrossFamilies(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string // resolved dangerous callable
	}{
		{"proto0", gen.CallGlobal(0, "os", "system", "id"), "os.system"},
		{"proto1", gen.CallGlobal(1, "posix", "system", "id"), "posix.system"},
		{"proto2", gen.CallGlobal(2, "subprocess", "check_output", "id"), "subprocess.check_output"},
		{"proto3", gen.CallGlobal(3, "builtins", "eval", "1"), "builtins.eval"},
		{"proto4-stack-global", gen.CallGlobal(4, "builtins", "exec", "1"), "builtins.exec"},
		{"proto5", gen.CallGlobal(5, "nt", "system", "id"), "nt.system"},
		{"py2-builtin", gen.CallGlobal(2, "__builtin__", "eval", "1"), "builtins.eval"},
		{"py2-commands", gen.CallGlobal(0, "commands", "getoutput", "id"), "subprocess.getoutput"},
		{"dotted-reroot", gen.CallGlobal(4, "pathlib", "os.system", "id"), "os.system"},
		{"submodule", gen.CallGlobal(2, "asyncio.unix_events", "_UnixSubprocessTransport", "x"), "asyncio.unix_events._UnixSubprocessTransport"},
		{"pip-main", gen.CallGlobal(2, "pip", "main", "install"), "pip.main"},
		{"dunder-walk", gen.CallGlobal(4, "collections", "OrderedDict.__init__.__globals__", "x"), "collections.OrderedDict.__init__.__globals__"},
		{"numpy-runstring", gen.CallGlobal(2, "numpy.testing._private.utils", "runstring", "x"), "numpy.testing._private.utils.runstring"},
		{"memo-confusion", (&gen.P{}).Proto(4).Unicode("builtins").Put(0).Pop().Unicode("os").Put(0).Pop().
			Unicode("system").Put(1).Pop().Get(0).Get(1).StackGlobal().Unicode("id").Tuple1().Reduce().Stop().B, "os.system"},
		{"memoize", (&gen.P{}).Proto(4).Unicode("os").Memoize().Pop().Unicode("system").Memoize().Pop().
			Get(0).Get(1).StackGlobal().Stop().B, "os.system"},
		{"text-memo", (&gen.P{}).Proto(0).TextUnicode("os").TextPut(7).Pop().TextUnicode("popen").TextPut(8).Pop().
			TextGet(7).TextGet(8).StackGlobal().Stop().B, "os.popen"},
		{"string-opcodes", (&gen.P{}).Proto(2).String("os").ShortBinString("system").StackGlobal().Stop().B, "os.system"},
		{"binstring", (&gen.P{}).Proto(2).BinString("os").BinUnicode8("system").StackGlobal().Stop().B, "os.system"},
		{"inst", (&gen.P{}).Mark().String("id").Inst("os", "system").Stop().B, "os.system"},
		{"obj", (&gen.P{}).Mark().Global("os", "system").String("id").Obj().Stop().B, "os.system"},
		{"newobj-ex", (&gen.P{}).Proto(4).Unicode("subprocess").Unicode("Popen").StackGlobal().
			EmptyTuple().EmptyDict().NewObjEx().Stop().B, "subprocess.Popen"},
		{"computed-name", (&gen.P{}).Proto(4).Unicode("builtins").Unicode("str").StackGlobal().Unicode("os").Tuple1().Reduce().
			Unicode("system").StackGlobal().Stop().B, "<computed value>.system"},
		{"nullifai-broken", append(gen.CallGlobal(2, "os", "system", "id")[:len(gen.CallGlobal(2, "os", "system", "id"))-1], 0xff, 0xfe), "os.system"},
		{"second-pickle", append(gen.CallGlobal(2, "collections", "OrderedDict", "x"), gen.CallGlobal(2, "os", "system", "id")...), "os.system"},
		{"fifth-pickle", bytes.Join([][]byte{
			(&gen.P{}).Proto(2).Int(1).Stop().B, (&gen.P{}).Proto(2).Int(2).Stop().B,
			(&gen.P{}).Proto(2).EmptyDict().Stop().B, (&gen.P{}).Proto(2).EmptyList().Stop().B,
			gen.CallGlobal(2, "os", "system", "id"), []byte("\x00\x00\x00raw storage bytes")}, nil), "os.system"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := walk(c.data)
			v := verdicts(r)
			if v[c.want] != pickle.Dangerous {
				t.Fatalf("want %s dangerous, got %v (break %v)", c.want, v, r.Break)
			}
		})
	}
}

func TestBreakStillCountsAndIsReported(t *testing.T) {
	full := gen.CallGlobal(2, "os", "system", "id")
	r := walk(full[:len(full)-1]) // no STOP
	if r.Break == nil || !strings.Contains(r.Break.Error(), "truncated") {
		t.Fatalf("want truncated break, got %v", r.Break)
	}
	if len(r.Imports) != 1 || !r.Imports[0].Called {
		t.Fatalf("import before break lost: %+v", r.Imports)
	}
	r = walk([]byte{0x80, 2, 0x00})
	if r.Break == nil || !strings.Contains(r.Break.Error(), "invalid opcode") {
		t.Fatalf("want invalid opcode, got %v", r.Break)
	}
	r = walk([]byte{0x80, 2, 'R'})
	if r.Break == nil || !strings.Contains(r.Break.Error(), "underflow") {
		t.Fatalf("want underflow, got %v", r.Break)
	}
	r = walk((&gen.P{}).Proto(4).Int(3).Int(4).StackGlobal().Stop().B)
	if r.Break == nil || !strings.Contains(r.Break.Error(), "requires str") {
		t.Fatalf("want STACK_GLOBAL type error, got %v", r.Break)
	}
}

func TestFrameStraddle(t *testing.T) {
	// A FRAME of 3 bytes, then a 6-byte SHORT_BINUNICODE crossing its end:
	// loaders differ (see frameCheck), so it is an anomaly (MLG111).
	p := (&gen.P{}).Proto(4).Frame(3).Unicode("os").Unicode("system").StackGlobal().Stop()
	r := walk(p.B)
	if len(r.Anomalies) == 0 {
		t.Fatal("straddling opcode not recorded")
	}
	if verdicts(r)["os.system"] != pickle.Dangerous {
		t.Fatalf("import lost across frames: %+v", r.Imports)
	}
	ok := (&gen.P{}).Proto(4).Frame(4).Unicode("os").Stop()
	if r := walk(ok.B); len(r.Anomalies) != 0 || r.Break != nil {
		t.Fatalf("clean frame flagged: %+v", r)
	}
}

func TestBenignShapesAreSafe(t *testing.T) {
	torchLike := (&gen.P{}).Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Put(0).
		Mark().Unicode("w").Global("torch._utils", "_rebuild_tensor_v2").Mark().
		Mark().Unicode("storage").Global("torch", "FloatStorage").Unicode("0").Unicode("cpu").Int(4).Tuple().BinPersID().
		Int(0).Int(2).Int(2).Tuple2().Int(2).Int(1).Tuple2().Raw(0x89).Global("collections", "OrderedDict").EmptyTuple().Reduce().
		Tuple().Reduce().SetItems().Stop().B
	numpyLike := (&gen.P{}).Proto(2).Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").
		Int(0).Tuple1().ShortBinBytes([]byte("b")).Raw(0x87).Reduce().
		Mark().Int(1).Int(3).Tuple1().Global("numpy", "dtype").ShortBinString("f8").Raw(0x89, 0x88).Raw(0x87).Reduce().
		Mark().Int(3).String("<").None().None().None().Int(-1).Int(-1).Int(0).Tuple().Build().
		Raw(0x89).ShortBinBytes(make([]byte, 24)).Tuple().Build().Stop().B
	sk := (&gen.P{}).Proto(4).Unicode("sklearn.linear_model._logistic").Unicode("LogisticRegression").StackGlobal().
		EmptyTuple().NewObj().EmptyDict().Unicode("C").Int(1).SetItem().Build().Stop().B
	for name, b := range map[string][]byte{"torch": torchLike, "numpy": numpyLike, "sklearn": sk} {
		r := walk(b)
		if r.Break != nil {
			t.Fatalf("%s: break %v", name, r.Break)
		}
		if len(r.Imports) == 0 {
			t.Fatalf("%s: no imports seen", name)
		}
		for _, imp := range r.Imports {
			if v := pickle.Classify(imp); v.Kind != pickle.Safe {
				t.Errorf("%s: %s judged %v (%s)", name, v.Resolved, v.Kind, v.Reason)
			}
		}
	}
	if walk(torchLike).PersIDs != 1 {
		t.Error("BINPERSID not counted")
	}
}

func TestUnknownAndExt(t *testing.T) {
	r := walk((&gen.P{}).Proto(2).Ext1(7).EmptyTuple().Reduce().Global("mypkg.models", "Custom").Stop().B)
	v := verdicts(r)
	if v["copyreg.extension code 7"] != pickle.Unknown || v["mypkg.models.Custom"] != pickle.Unknown {
		t.Fatalf("got %v", v)
	}
	// A safe module's lower-case helper is not automatically safe.
	if k := pickle.Classify(pickle.Import{Module: "sklearn.utils", Name: "some_helper"}).Kind; k != pickle.Unknown {
		t.Fatalf("sklearn helper judged %v", k)
	}
}

func TestLimits(t *testing.T) {
	deep := bytes.Repeat([]byte{'('}, 5000)
	lim := pickle.DefaultLimits
	lim.MaxStack = 1000
	r := pickle.Walk(bytes.NewReader(deep), lim)
	if !strings.Contains(r.Limit, "stack") {
		t.Fatalf("want stack limit, got %+v", r)
	}
	lim = pickle.DefaultLimits
	lim.MaxOps = 10
	r = pickle.Walk(bytes.NewReader(bytes.Repeat([]byte{'N', '0'}, 100)), lim)
	if !strings.Contains(r.Limit, "opcodes") {
		t.Fatalf("want opcode limit, got %+v", r)
	}
	lim = pickle.DefaultLimits
	lim.MaxMemo = 3
	p := (&gen.P{}).Proto(2).None()
	for i := 0; i < 10; i++ {
		p.Put(i)
	}
	if r := pickle.Walk(bytes.NewReader(p.B), lim); !strings.Contains(r.Limit, "memo") {
		t.Fatalf("want memo limit, got %+v", r)
	}
	// A huge declared string is skipped, not allocated.
	huge := (&gen.P{}).Proto(4).Raw(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40).B
	if r := walk(huge); r.Break == nil {
		t.Fatal("want truncation break for an 8 EiB declared length")
	}
}

func BenchmarkWalkDense(b *testing.B) {
	data := gen.Dense(10 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := walk(data)
		if r.Break != nil || r.Limit != "" {
			b.Fatal(r.Break, r.Limit)
		}
	}
}

// BenchmarkWalkMixed is a torch-like state dict of 40,000 tensors: mostly
// opcodes outside the fast loop (MARK, TUPLE, REDUCE, BINPERSID, SETITEMS)
// and a unique name per tensor.
func BenchmarkWalkMixed(b *testing.B) {
	p := (&gen.P{}).Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Put(0).
		Global("torch._utils", "_rebuild_tensor_v2").Put(1).Global("torch", "FloatStorage").Put(2).Pop().Pop().Mark()
	for i := 0; i < 40000; i++ {
		p.BinUnicode(fmt.Sprintf("layers.%d.weight", i)).Get(1).Mark().Mark().BinUnicode("storage").Get(2).
			BinUnicode(strconv.Itoa(i)).BinUnicode("cpu").Int(4096).Tuple().BinPersID().Int(0).Int(64).Int(64).Tuple2().
			Int(64).Int(1).Tuple2().Raw(0x89).Get(0).Raw(0x8f).Reduce().Tuple().Reduce()
	}
	data := p.SetItems().Stop().B
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if r := walk(data); r.Break != nil || r.Limit != "" {
			b.Fatal(r.Break, r.Limit)
		}
	}
}

func TestProtocolPerPickle(t *testing.T) {
	// Python 2 names are remapped by each pickle's own protocol: a
	// protocol-2 pickle after a protocol-4 one is remapped, the reverse not.
	b := append((&gen.P{}).Proto(4).None().Stop().B, gen.CallGlobal(2, "__builtin__", "eval", "1")...)
	if r := walk(b); r.Pickles != 2 || verdicts(r)["builtins.eval"] != pickle.Dangerous {
		t.Fatalf("got %+v", r)
	}
	b = append((&gen.P{}).Proto(2).None().Stop().B, (&gen.P{}).Proto(3).Global("__builtin__", "eval").Stop().B...)
	if v := verdicts(walk(b)); v["__builtin__.eval"] != pickle.Unknown {
		t.Fatalf("protocol 3 must not remap: %v", v)
	}
}

func TestMemoDoesNotLeakAcrossPickles(t *testing.T) {
	// Pickle 1 memoizes "os" at 0; pickle 2 GETs 0 without a PUT: the real
	// unpickler fails (fresh memo), so must the walk. It imports nothing,
	// so it is a harmless tail, not a broken pickle.
	b := append((&gen.P{}).Proto(2).BinUnicode("os").Put(0).Stop().B, (&gen.P{}).Proto(2).Get(0).Stop().B...)
	r := walk(b)
	if r.Break != nil || !strings.Contains(r.Trailing, "memo key 0 not found") {
		t.Fatalf("got %+v", r)
	}
	b = append((&gen.P{}).Proto(2).BinUnicode("os").Put(0).Stop().B, (&gen.P{}).Proto(2).Global("os", "system").Get(0).Stop().B...)
	if r := walk(b); r.Break == nil || !strings.Contains(r.Break.Error(), "memo key 0 not found") {
		t.Fatalf("a failing later pickle that imports must break: %+v", r)
	}
}

func TestMemoAcrossPages(t *testing.T) {
	// 70,000 memoized names cross the memo's first-page growth and its
	// 65,536-entry page boundary; every index must still read back.
	names := []string{"os", "system", "posix", "popen"}
	p := (&gen.P{}).Proto(4)
	for i := 0; i < 70000; i++ {
		p.Unicode(names[i%len(names)]).Memoize().Pop()
	}
	pairs := [][2]int{{0, 1}, {1023, 1025}, {1024, 2049}, {65535, 65537}, {65536, 69999}}
	for _, ij := range pairs {
		p.Get(ij[0]).Get(ij[1]).StackGlobal().Pop()
	}
	// A PUT far past the dense entries, then one reusing a dense index.
	p.Unicode("subprocess").Put(1 << 20).Pop().Unicode("run").Put(3).Pop().Get(1 << 20).Get(3).StackGlobal().Stop()
	r := walk(p.B)
	if r.Break != nil || r.Limit != "" {
		t.Fatalf("break %v limit %q", r.Break, r.Limit)
	}
	var got []string
	for _, imp := range r.Imports {
		got = append(got, pickle.Qualified(imp.Module, imp.Name))
	}
	want := []string{"os.system", "popen.system", "os.popen", "subprocess.run"} // each distinct callable once
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestMemoOutOfOrderEntryStaysReadable(t *testing.T) {
	// An index stored far ahead (kept aside) and then reached by the dense
	// entries must still read back: CPython's memo is a dict. Before the
	// fix the dense slot hid it, the GET broke the walk, and a global after
	// it went unseen.
	p := (&gen.P{}).Proto(4)
	p.Unicode("os").Put(8200).Pop()
	for i := 0; i < 5000; i++ {
		p.Unicode("x").Put(i).Pop()
	}
	p.Unicode("system").Put(8201).Pop()
	p.Get(8200).Get(8201).StackGlobal().Stop()
	r := walk(p.B)
	if r.Break != nil || r.Limit != "" {
		t.Fatalf("break %v limit %q", r.Break, r.Limit)
	}
	if len(r.Imports) != 1 || pickle.Qualified(r.Imports[0].Module, r.Imports[0].Name) != "os.system" {
		t.Fatalf("imports = %+v, want os.system", r.Imports)
	}
}

// TestHooks: a dict key naming a method the unpickler calls implicitly is
// recorded when it holds a value (a class dict cloudpickle rebuilds), not
// when it holds None (dataclasses set __hash__ = None) or is a plain value.
func TestHooks(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want []string
	}{
		{(&gen.P{}).Proto(4).EmptyDict().Unicode("__setstate__").Int(1).SetItem().Stop().B, []string{"__setstate__"}},
		{(&gen.P{}).Proto(4).EmptyDict().Mark().Unicode("__new__").Int(1).Unicode("__del__").Int(2).SetItems().Stop().B, []string{"__new__", "__del__"}},
		{(&gen.P{}).Proto(4).EmptyDict().Unicode("__getattr__").None().SetItem().Stop().B, nil},
		{(&gen.P{}).Proto(4).EmptyDict().Unicode("predict").Int(1).SetItem().Stop().B, nil},
		{(&gen.P{}).Proto(4).EmptyDict().Unicode("__init__").Int(1).SetItem().Stop().B, []string{"__init__"}},
	} {
		r := pickle.Walk(bytes.NewReader(c.b), pickle.DefaultLimits)
		if r.Break != nil || !reflect.DeepEqual(r.Hooks, c.want) {
			t.Errorf("%q: hooks %v (break %v), want %v", c.b, r.Hooks, r.Break, c.want)
		}
	}
}
