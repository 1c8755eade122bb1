package gen

import (
	"fmt"
	"math/rand/v2"
)

// Names used by random streams: dangerous, allowlisted, Python 2 and
// nonsense names, so imports and verdicts vary.
var randNames = [][2]string{
	{"os", "system"}, {"posix", "system"}, {"builtins", "eval"}, {"__builtin__", "eval"},
	{"collections", "OrderedDict"}, {"copy_reg", "_reconstructor"}, {"numpy", "dtype"},
	{"pkgutil", "resolve_name"}, {"subprocess", "Popen"}, {"torch._utils", "_rebuild_tensor_v2"},
	{"a", "b"}, {"sklearn.linear_model._logistic", "LogisticRegression"},
}

// intTexts are INT/LONG arguments Python accepts (and a few it does not).
var intTexts = []string{"1", " 1", "+2", "1_0", "0x1f", "010", "00", "01", "-0", "3 ", "0b11", "0o7",
	"99999999999999999999", "1__0", "x", "", "0_0", "\t5"}

// Random builds a pickle-ish stream from random opcodes with plausible
// arguments: mostly valid, sometimes not, never larger than a few KB.
func Random(r *rand.Rand) []byte {
	p := &P{}
	switch r.IntN(4) {
	case 0: // no PROTO header
	default:
		p.Proto(byte(r.IntN(6)))
	}
	n := 3 + r.IntN(40)
	for i := 0; i < n; i++ {
		randOp(r, p)
	}
	if r.IntN(8) != 0 {
		p.Stop()
	}
	if r.IntN(5) == 0 { // a second pickle, any protocol
		p.B = append(p.B, Random(r)...)
	}
	return p.B
}

func randName(r *rand.Rand) [2]string { return randNames[r.IntN(len(randNames))] }

func randOp(r *rand.Rand, p *P) {
	nm := randName(r)
	s := nm[r.IntN(2)]
	switch r.IntN(34) {
	case 0:
		p.Unicode(s)
	case 1:
		p.BinUnicode(s)
	case 2:
		p.String(s)
	case 3: // STRING with escapes
		esc := map[string]string{"os": `o\x73`, "system": `sys\164em`, "eval": `ev\x61l`}[s]
		if esc == "" {
			esc = s + `\q`
		}
		p.op('S').str(`"` + esc + "\"\n")
	case 4:
		p.ShortBinString(s)
	case 5:
		p.BinString(s)
	case 6:
		p.TextUnicode(s)
	case 7:
		p.op('V').str(`\u006f\u0073` + "\n")
	case 8:
		p.Global(nm[0], nm[1])
	case 9:
		p.StackGlobal()
	case 10:
		p.Memoize()
	case 11:
		p.Put(r.IntN(6))
	case 12:
		p.Get(r.IntN(6))
	case 13:
		p.TextPut(r.IntN(6))
	case 14:
		p.TextGet(r.IntN(6))
	case 15:
		p.Mark()
	case 16:
		p.Tuple()
	case 17:
		p.op(byte(0x85 + r.IntN(3)))
	case 18:
		p.op([]byte{')', ']', '}', 0x8f}[r.IntN(4)])
	case 19:
		p.op([]byte{'l', 'd', 0x91}[r.IntN(3)])
	case 20:
		p.op([]byte{'a', 'e', 's', 'u', 0x90}[r.IntN(5)])
	case 21:
		p.Reduce()
	case 22:
		p.op([]byte{0x81, 0x92, 'b', 'o'}[r.IntN(4)])
	case 23:
		p.Pop()
	case 24:
		p.op([]byte{'1', '2'}[r.IntN(2)])
	case 25:
		p.op([]byte{'N', 0x88, 0x89}[r.IntN(3)])
	case 26:
		p.Int(r.IntN(300))
	case 27:
		t := intTexts[r.IntN(len(intTexts))]
		if r.IntN(2) == 0 {
			p.op('I').str(t + "\n")
		} else {
			p.op('L').str(t + "L\n")
		}
	case 28:
		p.Frame(uint64(r.IntN(12)))
	case 29:
		p.Inst(nm[0], nm[1])
	case 30:
		p.op(0x8a, 2, byte(r.IntN(256)), byte(r.IntN(256)))
	case 31:
		p.PersID(fmt.Sprint(r.IntN(9)))
	case 32:
		p.BinPersID()
	case 33:
		p.Stop()
	}
}

// Mutate flips, inserts, deletes or duplicates a few bytes of b.
func Mutate(r *rand.Rand, b []byte) []byte {
	out := append([]byte(nil), b...)
	for k := 1 + r.IntN(3); k > 0 && len(out) > 0; k-- {
		i := r.IntN(len(out))
		switch r.IntN(4) {
		case 0:
			out[i] ^= byte(1 << r.IntN(8))
		case 1:
			out = append(out[:i], append([]byte{byte(r.IntN(256))}, out[i:]...)...)
		case 2:
			out = append(out[:i], out[i+1:]...)
		case 3:
			j := min(len(out), i+1+r.IntN(8))
			out = append(out[:j], append(append([]byte(nil), out[i:j]...), out[j:]...)...)
		}
	}
	return out
}

// JoblibOpts shapes one inline joblib array.
type JoblibOpts struct {
	Shape     func(p *P) // pushes the shape value
	Dtype     string     // numpy type string ("<f8", "O")
	Align     int        // -1: no numpy_array_alignment_bytes key; 0: None; else the value
	Pad       int        // padding bytes after the padding-length byte
	Data      []byte     // the raw array bytes (or a nested pickle for "O")
	Proto     byte
	EndFrame  bool // wrap the pickle part before the data in a FRAME
	AfterData func(p *P)
}

// Joblib builds a joblib.dump-style stream holding one inline array:
// NumpyArrayWrapper via NEWOBJ, its state dict, BUILD, then the data read
// by joblib from the file, then AfterData's opcodes and STOP.
func Joblib(o JoblibOpts) []byte {
	body := &P{}
	body.Unicode("joblib.numpy_pickle").Unicode("NumpyArrayWrapper").StackGlobal().EmptyTuple().NewObj().
		EmptyDict().Mark().Unicode("subclass").Unicode("numpy").Unicode("ndarray").StackGlobal().
		Unicode("shape")
	o.Shape(body)
	body.Unicode("order").Unicode("C").Unicode("dtype").Unicode("numpy").Unicode("dtype").StackGlobal().
		Unicode(o.Dtype).Raw(0x89, 0x88).Raw(0x87).Reduce().
		Mark().Int(3).Unicode(endian(o.Dtype)).None().None().None().Int(-1).Raw('J', 0xff, 0xff, 0xff, 0xff).Int(flags(o.Dtype)).Tuple().Build().
		Unicode("allow_mmap").Raw(0x89)
	if o.Align >= 0 {
		body.Unicode("numpy_array_alignment_bytes")
		if o.Align == 0 {
			body.None()
		} else {
			body.Int(o.Align)
		}
	}
	body.SetItems().Build()
	p := (&P{}).Proto(o.Proto)
	if o.EndFrame {
		p.Frame(uint64(len(body.B)))
	}
	p.B = append(p.B, body.B...)
	if o.Align > 0 && o.Dtype != "O" { // object arrays are a nested pickle, no padding
		p.op(byte(o.Pad))
		for i := 0; i < o.Pad; i++ {
			p.op(0xff)
		}
	}
	p.B = append(p.B, o.Data...)
	if o.AfterData != nil {
		o.AfterData(p)
	}
	return p.Stop().B
}

func endian(dtype string) string {
	if dtype != "" && dtype[0] == 'O' {
		return "|"
	}
	return "<"
}

// flags are numpy's dtype flags in its pickled state: an object dtype with
// the wrong flags crashes numpy.
func flags(dtype string) int {
	if dtype != "" && dtype[0] == 'O' {
		return 63
	}
	return 0
}
