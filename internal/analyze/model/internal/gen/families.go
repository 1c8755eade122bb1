package gen

import (
	"fmt"
	"strings"
)

// Family is one class of fixture: a public bypass class, a container, or a
// benign real-world shape. Make(i) varies the payload so files differ.
type Family struct {
	Name      string
	Malicious bool
	File      string // file name pattern; %d is the index
	Make      func(i int) []byte
}

func cmd(i int) string { return fmt.Sprintf("id # %d", i) }

// Families lists every fixture family used by tests and the benchmark.
func Families() []Family {
	evil := func(i int) []byte { return CallGlobal(2, "os", "system", cmd(i)) }
	return []Family{
		{"protocols 0-5", true, "p%d.pkl", func(i int) []byte { return CallGlobal(byte(i%6), "os", "system", cmd(i)) }},
		{"python 2 names", true, "py2_%d.pkl", func(i int) []byte {
			if i%2 == 0 {
				return CallGlobal(2, "__builtin__", "eval", "1+1")
			}
			return CallGlobal(0, "commands", "getoutput", cmd(i))
		}},
		{"dotted names (proto 4)", true, "dotted_%d.pkl", func(i int) []byte { return CallGlobal(4, "pathlib", "os.system", cmd(i)) }},
		{"memo confusion", true, "memo_%d.pkl", func(i int) []byte {
			return (&P{}).Proto(4).Unicode("builtins").Put(0).Pop().Unicode("os").Put(0).Pop().
				Unicode("system").Put(1).Pop().Get(0).Get(1).StackGlobal().Unicode(cmd(i)).Tuple1().Reduce().Stop().B
		}},
		{"nullifAI broken stream", true, "broken_%d.pt", func(i int) []byte {
			b := evil(i)
			b = append(b[:len(b)-1], 0xff, 0x00, 0x13)
			return TorchZip(b, make([]byte, 16))
		}},
		{"FRAME straddling", true, "frame_%d.pkl", func(i int) []byte {
			return (&P{}).Proto(4).Frame(3).Unicode("os").Unicode("system").StackGlobal().Unicode(cmd(i)).Tuple1().Reduce().Stop().B
		}},
		{"legacy torch pickles 2-5", true, "legacy_%d.pt", func(i int) []byte { return TorchLegacy(2+i%4, evil(i)) }},
		{"CVE-2025-1944 zip name mismatch", true, "mismatch_%d.pt", func(i int) []byte {
			return Zip(ZipMember{Name: "archive/notes.txt", LocalName: "archive/data.pkl", Data: evil(i)})
		}},
		{"CVE-2025-10156 zip bad CRC", true, "crc_%d.pt", func(i int) []byte {
			return Zip(ZipMember{Name: "archive/data.pkl", Data: evil(i), BadCRC: true, Deflate: true})
		}},
		{"CVE-2025-1945 zip flag bits", true, "flags_%d.pt", func(i int) []byte {
			return Zip(ZipMember{Name: "archive/data.pkl", Data: evil(i), Flags: 0x1 | 0x20})
		}},
		{"CVE-2025-1889/-10155 extension", true, "weights_%d.bin", evil},
		{"CVE-2025-1716 pip.main", true, "pip_%d.pkl", func(i int) []byte {
			return CallGlobal(2, "pip", "main", "install")
		}},
		{"CVE-2025-10157 submodule", true, "asyncio_%d.pkl", func(i int) []byte {
			return CallGlobal(2, "asyncio.unix_events", "_UnixSubprocessTransport", cmd(i))
		}},
		{"numpy object array", true, "obj_%d.npy", func(i int) []byte { return Npy("|O", evil(i)) }},
		{"gzip pickle", true, "gz_%d.pkl.gz", func(i int) []byte { return Gzip(evil(i)) }},
		{"nested zip", true, "nested_%d.zip", func(i int) []byte {
			return Zip(ZipMember{Name: "inner/model.pt", Data: TorchZip(evil(i), nil), Deflate: true})
		}},
		{"benign torch state dict", false, "state_%d.pt", func(i int) []byte { return TorchZip(TorchStateDict(4+i), make([]byte, 4*(4+i))) }},
		{"benign sklearn estimator", false, "sk_%d.pkl", func(i int) []byte {
			return (&P{}).Proto(4).Unicode("sklearn.linear_model._logistic").Unicode("LogisticRegression").StackGlobal().
				EmptyTuple().NewObj().EmptyDict().Unicode("C").Int(i % 200).SetItem().Build().Stop().B
		}},
		{"benign numpy array", false, "arr_%d.npy", func(i int) []byte { return Npy("<f8", make([]byte, 8)) }},
		{"benign ndarray pickle", false, "nd_%d.pkl", func(i int) []byte {
			return (&P{}).Proto(2).Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").
				Int(0).Tuple1().ShortBinBytes([]byte("b")).Raw(0x87).Reduce().
				Mark().Int(1).Int(1).Tuple1().Global("numpy", "dtype").ShortBinString("f8").Raw(0x89, 0x88).Raw(0x87).Reduce().
				Mark().Int(3).String("<").None().None().None().Int(255).Int(255).Int(0).Tuple().Build().
				Raw(0x89).ShortBinBytes(make([]byte, 8)).Tuple().Build().Stop().B
		}},
	}
}

// Slug is a family's directory name.
func (f Family) Slug() string {
	r := strings.NewReplacer(" ", "_", "/", "_", "(", "", ")", "", ".", "")
	return strings.ToLower(r.Replace(f.Name))
}
