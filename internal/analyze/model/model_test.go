package model_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// scanBytes writes files (name -> content) into a temp dir and scans it.
func scanFiles(t *testing.T, files map[string][]byte) ([]finding.Finding, []finding.Error) {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return analyzetest.Scan(t, model.New(analyze.Options{}), dir)
}

func rulesOf(fs []finding.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func has(fs []finding.Finding, rule, member, msgPart string) bool {
	for _, f := range fs {
		if f.RuleID == rule && (member == "" || f.Member == member) && strings.Contains(f.Message, msgPart) {
			return true
		}
	}
	return false
}

var evil = gen.CallGlobal(2, "os", "system", "touch /tmp/pwned")

func TestContainers(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		data   []byte
		rule   string
		member string
		msg    string
	}{
		{"raw pickle with odd extension", "weights.txt", evil, "MLG106", "", "os.system"},
		{"torch zip", "model.pt", gen.TorchZip(evil, make([]byte, 64)), "MLG106", "archive/data.pkl", "os.system"},
		{"zip member not named pkl", "bundle.zip", gen.Zip(gen.ZipMember{Name: "README.md", Data: evil, Deflate: true}), "MLG106", "README.md", "os.system"},
		{"CVE-2025-1944 name mismatch", "m.zip", gen.Zip(gen.ZipMember{Name: "archive/notes.txt", LocalName: "archive/data.pkl", Data: evil}), "MLG106", "", "os.system"},
		{"CVE-2025-10156 bad CRC", "m.pth", gen.Zip(gen.ZipMember{Name: "archive/data.pkl", Data: evil, BadCRC: true, Deflate: true}), "MLG106", "archive/data.pkl", "os.system"},
		{"CVE-2025-1945 flag bits", "m.pth", gen.Zip(gen.ZipMember{Name: "archive/data.pkl", Data: evil, Flags: 0x1 | 0x40}), "MLG106", "archive/data.pkl", "os.system"},
		{"CVE-2025-10155 extension", "model.bin", evil, "MLG106", "", "os.system"},
		{"zip slip", "m.zip", gen.Zip(gen.ZipMember{Name: "../../etc/cron.d/x", Data: []byte("* * * * * root id")}), "MLG109", "", "outside"},
		{"absolute member", "m.zip", gen.Zip(gen.ZipMember{Name: "/etc/passwd", Data: []byte("x")}), "MLG109", "", "outside"},
		{"nested zip", "outer.zip", gen.Zip(gen.ZipMember{Name: "inner.zip", Data: gen.TorchZip(evil, nil), Deflate: true}), "MLG106", "inner.zip!archive/data.pkl", "os.system"},
		{"legacy torch 2nd", "old.pt", gen.TorchLegacy(2, evil), "MLG106", "", "pickle 2 of the stream"},
		{"legacy torch 5th", "old.pt", gen.TorchLegacy(5, evil), "MLG106", "", "pickle 5 of the stream"},
		{"torchscript", "ts.pt", gen.Zip(gen.ZipMember{Name: "m/data.pkl", Data: gen.TorchStateDict(2)}, gen.ZipMember{Name: "m/code/__torch__/m.py", Data: []byte("def forward(self): pass\n")}), "MLG108", "m/code/__torch__/m.py", "TorchScript"},
		{"npy object array", "a.npy", gen.Npy("|O", evil), "MLG106", "object array", "os.system"},
		{"npz", "a.npz", gen.Zip(gen.ZipMember{Name: "arr_0.npy", Data: gen.Npy("|O", evil), Deflate: true}), "MLG106", "arr_0.npy!object array", "os.system"},
		{"gzip pickle", "m.gz", gen.Gzip(evil), "MLG106", "m (decompressed)", "os.system"},
		{"xz pickle", "m.xz", gen.Xz(evil), "MLG106", "m (decompressed)", "os.system"},
		{"gzip of zip", "m.tgz", gen.Gzip(gen.TorchZip(evil, nil)), "MLG106", "m.tgz (decompressed)!archive/data.pkl", "os.system"},
		{"tar of torch zip", "m.tar", gen.Tar("model/ckpt.pt", string(gen.TorchZip(evil, nil)), "model/README", "hi"), "MLG106", "model/ckpt.pt!archive/data.pkl", "os.system"},
		{"tar pickle", "m.tar", gen.Tar("a/b.pkl", string(evil)), "MLG106", "a/b.pkl", "os.system"},
		{"tar slip", "m.tar", gen.Tar("../../x.pkl", "data"), "MLG109", "", "outside"},
		{"keras lambda", "m.keras", gen.Keras(true), "MLG108", "config.json", "Lambda"},
		{"keras h5 lambda", "m.h5", gen.H5(true, true), "MLG108", "", "Lambda"},
		{"onnx custom domain", "m.onnx", gen.ONNX("com.evil", "", false), "MLG108", "", "com.evil"},
		{"onnx custom in subgraph", "m.onnx", gen.ONNX("my.ops", "", true), "MLG108", "", "my.ops"},
		{"onnx external escape", "m.onnx", gen.ONNX("", "../../../etc/shadow", false), "MLG109", "", "external_data"},
		{"savedmodel file op", "sm/saved_model.pb", gen.SavedModelPB("WriteFile"), "MLG108", "", "writes host files"},
		{"savedmodel pyfunc", "sm/saved_model.pb", gen.SavedModelPB("EagerPyFunc"), "MLG108", "", "EagerPyFunc"},
		{"mlmodel cloudpickle", "m/MLmodel", gen.MLmodel("cloudpickle", "mlflow.sklearn", "", "", "model.pkl"), "MLG101", "", "cloudpickle"},
		{"mlmodel loader", "m/MLmodel", gen.MLmodel("skops", "evil_loader", "", "", "model.skops"), "MLG108", "", "evil_loader"},
		{"mlmodel python_model", "m/MLmodel", gen.MLmodel("skops", "mlflow.pyfunc.model", "python_model.pkl", "", "m"), "MLG108", "", "python_model"},
		{"mlmodel code", "m/MLmodel", gen.MLmodel("skops", "mlflow.sklearn", "", "code", "m"), "MLG108", "", "ships code"},
		{"mlmodel escape", "m/MLmodel", gen.MLmodel("skops", "mlflow.sklearn", "", "", "../../other/model.pkl"), "MLG109", "", "outside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, es := scanFiles(t, map[string][]byte{c.file: c.data})
			if !has(fs, c.rule, c.member, c.msg) {
				t.Fatalf("want %s member %q msg %q; got %+v errors %v", c.rule, c.member, c.msg, fs, es)
			}
		})
	}
}

func TestBenignShapes(t *testing.T) {
	files := map[string][]byte{
		"torch/model.pt":       gen.TorchZip(gen.TorchStateDict(4), make([]byte, 16)),
		"torch/legacy.pt":      gen.TorchLegacy(0, nil),
		"np/a.npy":             gen.Npy("<f8", make([]byte, 8)),
		"st/model.safetensors": gen.Safetensors(4, false),
		"k/model.keras":        gen.Keras(false),
		"k/model.h5":           gen.H5(false, true),
		"o/model.onnx":         gen.ONNX("", "weights.bin", false),
		"o/ms.onnx":            gen.ONNX("com.microsoft", "", false),
		"sm/saved_model.pb":    gen.SavedModelPB("MatMul"),
		"m/MLmodel":            gen.MLmodel("skops", "mlflow.sklearn", "", "", "model.skops"),
	}
	fs, es := scanFiles(t, files)
	if len(fs) != 0 {
		t.Fatalf("benign shapes reported: %+v", fs)
	}
	if len(es) != 0 {
		t.Fatalf("benign shapes produced errors: %+v", es)
	}
}

// Whatever the scanner cannot fully judge fails the gate as MLG111, with its
// cause in the message; it is never only an error note.
func TestUncheckedAndBroken(t *testing.T) {
	unverified := func(name string, files map[string][]byte, member, cause string) {
		t.Helper()
		fs, es := scanFiles(t, files)
		if !has(fs, "MLG111", member, "("+cause+")") {
			t.Fatalf("%s: want MLG111 (%s) on member %q, got %+v errors %v", name, cause, member, fs, es)
		}
	}
	unverified("7z", map[string][]byte{"m.7z": []byte("7z\xbc\xaf\x27\x1c\x00\x04rest")}, "", "unchecked")
	unverified("H5 without config", map[string][]byte{"m.h5": gen.H5(false, false)}, "", "unchecked")
	fs, _ := scanFiles(t, map[string][]byte{"m.safetensors": gen.Safetensors(4, true)})
	if !has(fs, "MLG111", "", "data_offsets") {
		t.Fatalf("bad safetensors: got %v", fs)
	}
	// nullifAI: payload, then a broken stream. The import counts, the break fails the gate too.
	broken := append(append([]byte{}, evil[:len(evil)-1]...), 0xff, 0xff)
	fs, _ = scanFiles(t, map[string][]byte{"m.pkl": gen.Zip(gen.ZipMember{Name: "archive/data.pkl", Data: broken, Deflate: true})})
	if !has(fs, "MLG106", "archive/data.pkl", "os.system") || !has(fs, "MLG111", "archive/data.pkl", "(parse)") {
		t.Fatalf("broken stream: %v", fs)
	}
	unverified("broken zip", map[string][]byte{"junk.zip": []byte("PK\x03\x04garbage")}, "", "unchecked")
}

func TestUnknownAggregated(t *testing.T) {
	p := (&gen.P{}).Proto(2).Global("mypkg", "Model").EmptyTuple().Reduce().Pop().
		Global("mypkg", "Model").EmptyTuple().Reduce().Stop().B
	fs, _ := scanFiles(t, map[string][]byte{"m.pkl": p})
	if rulesOf(fs) != "MLG107" || !strings.Contains(fs[0].Message, "mypkg.Model") {
		t.Fatalf("want one MLG107, got %+v", fs)
	}
}

func TestLargeStorageNotRead(t *testing.T) {
	// A storage member whose bytes look like a broken pickle is not reported.
	st := append([]byte{0x80, 0x02, 0xff}, make([]byte, 1<<20)...)
	fs, es := scanFiles(t, map[string][]byte{"m.pt": gen.TorchZip(gen.TorchStateDict(4), st)})
	if len(fs) != 0 || len(es) != 0 {
		t.Fatalf("storage misread: %v %v", fs, es)
	}
}

func TestTextIsNotAPickle(t *testing.T) {
	fs, es := scanFiles(t, map[string][]byte{
		"notes.txt":  []byte("cat\ndog\nsome text that is not a pickle\n"),
		"paren.md":   []byte("(see below).\nmore words\n"),
		"real_p0.pk": gen.CallGlobal(0, "os", "system", "id"),
		// "x " is a valid zlib header (FDICT set) and "x\x9c" a plain one;
		// neither decodes a byte, in Go or in CPython, so nothing can load.
		"ok.py":    []byte("x = 1\n"),
		"zlib.bin": []byte("x\x9c garbage"),
	})
	if rulesOf(fs) != "MLG106" || len(es) != 0 {
		t.Fatalf("got %v %v", fs, es)
	}
}
