package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// viewFields are the flavor keys MLflow acts on when it loads a model.
var viewFields = []string{"loader_module", "python_model", "code", "code_paths", "model_code_path",
	"data", "serialization_format", "pickled_model"}

func typedView(v *yval) any {
	switch v.kind {
	case yStr:
		return []any{"str", v.str}
	case ySeq:
		items := []any{}
		for _, it := range v.items {
			items = append(items, typedView(it))
		}
		return []any{"list", items}
	}
	return []any{v.kind.String(), nil}
}

// mlmodelView is what testdata/yaml_oracle.py prints for the same document.
func mlmodelView(b []byte) map[string]any {
	root, err := resolveYAML(b)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	if root.kind != yMap {
		return map[string]any{"root": root.kind.String()}
	}
	fl := root.get("flavors")
	if fl == nil {
		return map[string]any{"flavors_type": "NoneType"}
	}
	if fl.kind != yMap {
		return map[string]any{"flavors_type": fl.kind.String()}
	}
	out := []any{}
	for i, k := range fl.keys {
		name := "<" + k.kind.String() + ">"
		if k.kind == yStr {
			name = k.str
		}
		conf := fl.vals[i]
		if conf.kind != yMap {
			out = append(out, []any{name, conf.kind.String()})
			continue
		}
		m := map[string]any{}
		for _, f := range viewFields {
			if v := conf.get(f); v != nil {
				m[f] = typedView(v)
			}
		}
		out = append(out, []any{name, m})
	}
	return map[string]any{"flavors": out}
}

// handwritten MLmodel variants: each hides (or seems to hide) a loader or a
// python_model the way an attacker would, or is an unusual benign shape.
var yamlEdgeCases = []string{
	"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    loader_module: evil\n",
	"flavors:\n  python_function:\n    loader_module: evil\n    loader_module: mlflow.sklearn\n",
	"flavors:\n  python_function: {loader_module: mlflow.sklearn}\nflavors:\n  python_function: {loader_module: evil}\n",
	"flavors:\n  python_function: {loader_module: mlflow.sklearn}\n  python_function: {python_model: x.pkl, loader_module: mlflow.pyfunc.model}\n",
	"x: &h {python_model: p.pkl}\nflavors:\n  python_function:\n    <<: *h\n    loader_module: mlflow.pyfunc.model\n",
	"x: &h {loader_module: evil}\nflavors:\n  python_function:\n    <<: *h\n    loader_module: mlflow.sklearn\n",
	"x: &h {loader_module: evil}\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    <<: *h\n",
	"a: &a {loader_module: evil1}\nb: &b {loader_module: evil2}\nflavors:\n  python_function:\n    <<: [*a, *b]\n",
	"a: &a {loader_module: evil1}\nb: &b {<<: *a, code: c}\nflavors:\n  python_function:\n    <<: [*b]\n",
	"a: &a {loader_module: evil1}\nflavors:\n  python_function:\n    !!merge <<: *a\n",
	"a: &a {loader_module: evil1}\nflavors:\n  python_function:\n    \"<<\": *a\n",
	"a: &a {loader_module: evil1}\nflavors:\n  python_function:\n    '<<': {loader_module: evil2}\n",
	"v: &v evil\nflavors:\n  python_function:\n    loader_module: *v\n",
	"t: &fl {loader_module: evil, code: src}\nflavors: {python_function: *fl, other: *fl}\n",
	"flavors: {python_function: {\"loader_module\": evil, 'python_model': \"p.pkl\"}}\n",
	"flavors:\n  python_function:\n    \"\\x6coader_module\": evil\n",
	"flavors:\n  python_function:\n    \"loader_\\\n      module\": evil\n",
	"flavors:\n  python_function:\n    ? loader_module\n    : evil\n",
	"flavors:\n  python_function:\n    !!str loader_module: !!str evil\n",
	"flavors:\n  python_function:\n    loader_module: |-\n      evil\n",
	"flavors:\n  python_function:\n    loader_module: >\n      evil\n      mod\n",
	"flavors:\n  python_function:\n    loader_module: evil\n      continued\n",
	"flavors:\n  python_function:\n    loader_module: !!python/name:os.system\n",
	"flavors:\n  python_function:\n    loader_module: !custom evil\n",
	"flavors:\n  python_function:\n    loader_module: !!binary ZXZpbA==\n",
	"flavors:\n  python_function:\n    loader_module: 0x1f\n    python_model: 010\n    code: 1_000\n    data: 1:30\n    model_code_path: .inf\n",
	"flavors:\n  python_function:\n    code: false\n    python_model: ~\n    loader_module: mlflow.sklearn\n    code_paths: []\n",
	"flavors:\n  python_function:\n    code: \"\"\n    python_model: null\n    model_code_path: 0\n",
	"flavors:\n  python_function:\n    code: no\n    python_model: off\n    model_code_path: 2001-12-14\n    data: 2001-12-14 21:59:43.10 -5\n",
	"flavors:\n  python_function:\n    code: [a, b]\n    code_paths: [\"x\", !!str 1]\n",
	"flavors:\n  1: {loader_module: evil}\n  True: {loader_module: evil2}\n  1.0: {code: c}\n",
	"flavors:\n  yes: {loader_module: evil}\n  on: {loader_module: evil2}\n",
	"flavors:\n  python_function: {loader_module: evil}\n---\nflavors: {}\n",
	"",
	"# only a comment\n",
	"- flavors\n",
	"flavors: &r\n  python_function: *r\n",
	"a: &a [*a]\nflavors: {}\n",
	"flavors:\n  python_function:\n    =: evil\n",
	"flavors:\n  python_function:\n    loader_module: =\n",
	"flavors:\n  python_function:\n    loader_module: <<\n",
	"flavors:\n  python_function: !!set {loader_module, python_model}\n",
	"flavors:\n  python_function: !!omap [loader_module: evil]\n",
	"flavors:\n  python_function: !!map {loader_module: evil}\n",
	"flavors:\n  python_function:\n    [a]: b\n    loader_module: evil\n",
	"flavors:\n  python_function:\n    {a: 1}: b\n",
	"\ufeffflavors:\n  python_function:\n    loader_module: evil\n",
	"flavors:\n  python_function:\n\tloader_module: evil\n",
	"flavors:\n  python_function:\n    loader_module: evil # comment\n    python_model: a#b\n",
	"flavors:\n  python_function:\n    loader_module: 'it''s'\n    python_model: \"\\u0070.pkl\\N\"\n",
	"%YAML 1.1\n---\nflavors:\n  python_function: {loader_module: evil}\n",
	"%TAG !e! tag:yaml.org,2002:\n---\nflavors:\n  python_function: {loader_module: !e!str evil}\n",
	"flavors:\n  python_function: {loader_module: ! evil, python_model: ! 12}\n",
	"flavors:\n  python_function: {<<: {loader_module: a}, <<: {loader_module: b}}\n",
	"flavors:\n  python_function: {<<: [{loader_module: a}, {code: c}], code: null}\n",
	"flavors:\n  python_function: {<<: 3}\n",
	"flavors:\n  python_function: {<<: [3]}\n",
	"flavors:\n  python_function:\n    loader_module: \"mlflow.\\\n      pyfunc\"\n",
	"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n...\n",
	"{flavors: {python_function: {loader_module: evil,},},}\n",
	"flavors:\n  python_function: {? loader_module : evil}\n",
	"flavors:\n  python_function: [loader_module: evil]\n",
	"flavors:\n  python_function:\n    loader_module: NULL\n    python_model: Null\n    code: nULL\n",
	"flavors:\n  python_function:\n    loader_module: .5\n    python_model: +.5e+3\n    code: 1e3\n    data: -0b101\n",
	"a: &a {loader_module: evil}\nb: &b {<<: *a, loader_module: mlflow.x}\nflavors:\n  python_function: {<<: [*b, *a]}\n",
	"a: &a {loader_module: evil}\nb: &b {<<: *a, loader_module: mlflow.x}\nflavors:\n  python_function: {<<: [*a, *b]}\n",
	"a: &a {loader_module: evil}\nflavors:\n  python_function: {<<: [*a, *a], code: x}\n",
	"a: &a {l: evil, loader_module: e2}\nb: &b {l: ok, loader_module: e3}\nflavors:\n  python_function: {<<: [*a, *b]}\n",
	"flavors:\n  python_function: {python_model: ! \"12\", loader_module: ! \"yes\", code: ! 'a'}\n",
	"flavors:\n  python_function:\n    &k loader_module: evil\n    *k : mlflow.sklearn\n",
	"k: &k loader_module\nflavors:\n  python_function:\n    *k : evil\n",
	"flavors:\r\n  python_function:\r\n    loader_module: evil\r\n",
	"flavors:\n  python_function:\n    code: a\u2028    loader_module: evil\n",
	"flavors:\n  python_function:\n    code: a\u0085    loader_module: evil\n",
	"flavors:\n  python_function:\n    loader_module: ev\x00il\n",
	"flavors:\n  python_function:\n    loader_module: ev\x07il\n",
	"flavors:\n  python_function:\n    loader_module: \"ev\\til\\x00\"\n",
	"flavors:\n  python_function:\n    " + strings.Repeat("k", 1100) + ": v\n    loader_module: evil\n",
	"flavors:\n  python_function:\n    loader_module: evil\t\n    code:\tx\n",
	"flavors:\n  python_function: {loader_module: evil}   \n  \n",
	"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  python_function:\n    loader_module: evil\n",
	"flavors:\n  python_function:\n  - loader_module: evil\n",
	"flavors:\n  python_function:\n    loader_module:\n      - evil\n",
	"flavors:\n  python_function:\n    loader_module: [evil]\n    python_model: {a: b}\n",
	"flavors:\n  python_function:\n    loader_module: 'evil\n      mod'\n",
	"flavors:\n  python_function:\n    loader_module: \"evil\\\n      \\ mod\"\n",
	"flavors:\n  python_function:\n    loader_module: |+\n      evil\n\n",
	"flavors:\n  python_function:\n    loader_module: |2-\n        evil\n",
	"flavors: !!map\n  !!str python_function: !!map {!!str loader_module: !!str evil}\n",
	"flavors:\n  python_function:\n    loader_module: !<tag:yaml.org,2002:str> evil\n",
	"flavors:\n  python_function:\n    loader_module: !!python/str evil\n",
	"!!map\nflavors:\n  python_function:\n    loader_module: evil\n",
	"--- !!map\nflavors:\n  python_function:\n    loader_module: evil\n",
	"flavors:\n  python_function:\n    ? - a\n    : b\n",
	"x: &x 1\nflavors:\n  python_function:\n    loader_module: evil\n    *x : 2\n",
	"flavors:\n  python_function:\n    loader_module: 1:60\n    python_model: 1:59.5\n    code: 0b\n    data: 0x\n",
	"flavors:\n  python_function:\n    loader_module: 09\n    python_model: 0_7\n    code: 1__0\n    data: 6.8523015e+5\n",
	"flavors:\n  python_function:\n    loader_module: 2001-1-1\n    python_model: 2001-12-14t21:59:43.10-05:00\n    code: 2001-12-14 21:59:43.10\n",
	"\ufeff'flavors': {python_function: {loader_module: ! 'x'}}\n",
	"description: Great model!\nutc_time_created: '2026-12-04 15:39:33'\nflavors:\n  python_function:\n    loader_module: 'mlflow.sklearn'\n    python_model: \"p!.pkl\"\n    code: |\n      x!\n",
	"ünïcødé: 'é!'\nflavors:\n  python_function: {ключ: 'знач', loader_module: \"mlflow.sklearn\", code: ! \"0\"}\n",
	"flavors:\r\n  python_function:\r\n    loader_module: ! 'evil'\r\n    code: 'a!'\r\n",
	"flavors:\n  python_function:\n    loader_module: &a ! \"1\"\n    code: *a\n    python_model: ! &b '2'\n",
}

// randomMLmodel composes one variant from the hiding techniques an
// attacker has: quoting, tags, duplicate keys, merges, aliases, flow style.
func randomMLmodel(r *rand.Rand) string {
	vals := []string{"evil_mod", "mlflow.sklearn", "p.pkl", "../x", "0x1f", "yes", "~", "", "1_000", "code",
		"2001-01-01", "1:30", ".inf", "mlflow.pyfunc.model", "a b", "-", "0o17", "+1", "0.", "NaN", ".NaN"}
	keys := viewFields
	styleVal := func(v string) string {
		switch r.IntN(6) {
		case 0:
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case 1:
			return fmt.Sprintf("%q", v)
		case 2:
			if v == "" {
				return "!!str ''"
			}
			return "!!str " + v
		}
		if v == "" || strings.ContainsAny(v, ":#{}[],&*!|>'\"%@`") && v != "1:30" || v == "-" {
			return "'" + v + "'"
		}
		return v
	}
	styleKey := func(k string) string {
		switch r.IntN(5) {
		case 0:
			return "'" + k + "'"
		case 1:
			return fmt.Sprintf("%q", k)
		case 2:
			return `"\x` + fmt.Sprintf("%02x", k[0]) + k[1:] + `"`
		}
		return k
	}
	var anchors strings.Builder
	anchors.WriteString("anchors:\n")
	na := 0
	entry := func() string {
		k, v := keys[r.IntN(len(keys))], vals[r.IntN(len(vals))]
		switch r.IntN(4) {
		case 0: // alias of a value
			na++
			fmt.Fprintf(&anchors, "  v%d: &v%d %s\n", na, na, styleVal(v))
			return fmt.Sprintf("%s: *v%d", styleKey(k), na)
		case 1: // merged mapping
			na++
			fmt.Fprintf(&anchors, "  m%d: &m%d {%s: %s}\n", na, na, styleKey(k), styleVal(v))
			if r.IntN(2) == 0 && na > 1 {
				return fmt.Sprintf("<<: [*m%d, *m%d]", na, na-1)
			}
			return fmt.Sprintf("<<: *m%d", na)
		}
		return styleKey(k) + ": " + styleVal(v)
	}
	var fl strings.Builder
	n := 1 + r.IntN(6)
	flow := r.IntN(3) == 0
	var entries []string
	for range n {
		entries = append(entries, entry())
	}
	// Merged anchors must be defined before use; "<<: [*mN, *mN-1]" needs
	// an m anchor as N-1: fall back to a single merge when it is a v one.
	for i, e := range entries {
		var a, b int
		if _, err := fmt.Sscanf(e, "<<: [*m%d, *m%d]", &a, &b); err == nil && !strings.Contains(anchors.String(), fmt.Sprintf("m%d: &m%d", b, b)) {
			entries[i] = fmt.Sprintf("<<: *m%d", a)
		}
	}
	if flow {
		fmt.Fprintf(&fl, "  python_function: {%s}\n", strings.Join(entries, ", "))
	} else {
		fl.WriteString("  python_function:\n")
		for _, e := range entries {
			fl.WriteString("    " + e + "\n")
		}
	}
	if r.IntN(3) == 0 { // a duplicate flavor: the last one wins
		fmt.Fprintf(&fl, "  python_function: {%s}\n", entry())
	}
	doc := ""
	if na > 0 {
		doc = anchors.String()
	}
	return doc + "artifact_path: model\nflavors:\n" + fl.String() + "mlflow_version: 3.17.2\n"
}

// mutateMLmodels inserts, deletes or replaces one to three bytes of the
// handwritten cases with YAML indicators.
func mutateMLmodels(r *rand.Rand, n int) []string {
	alphabet := []byte(" \t:-?&*!|>'\"{}[],#%@\n<=~.0xa")
	var out []string
	for range n {
		b := []byte(yamlEdgeCases[r.IntN(len(yamlEdgeCases))])
		for range 1 + r.IntN(3) {
			if len(b) == 0 {
				break
			}
			p, c := r.IntN(len(b)), alphabet[r.IntN(len(alphabet))]
			switch r.IntN(3) {
			case 0:
				b = append(b[:p], append([]byte{c}, b[p:]...)...)
			case 1:
				b = append(b[:p:p], b[p+1:]...)
			default:
				b[p] = c
			}
		}
		if utf8.Valid(b) { // the oracle gets its input as JSON text
			out = append(out, string(b))
		}
	}
	return out
}

// TestMLmodelAgainstPyYAML runs yaml.safe_load (what MLflow's Model.load
// uses) over every variant in one venv process and compares the flavor
// fields it resolves with ours. A document we cannot resolve exactly must
// be an error (MLG111 in the scan); one PyYAML refuses must not look
// loadable to us.
func TestMLmodelAgainstPyYAML(t *testing.T) {
	py := testenv.Python(t)
	docs := append([]string{}, yamlEdgeCases...)
	seeds, _ := filepath.Glob("testdata/mlmodel/*")
	for _, p := range seeds {
		if strings.Contains(p, "bomb") {
			continue // its view unfolds to 10^10 strings on both sides
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	r := rand.New(rand.NewPCG(9, 7))
	for range 600 {
		docs = append(docs, randomMLmodel(r))
	}
	// Byte mutations of the handwritten cases: PyYAML may refuse what we
	// accept there (MLflow cannot load it, nothing runs), but where both
	// accept, both must resolve the same.
	mutStart := len(docs)
	docs = append(docs, mutateMLmodels(r, 5000)...)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i, d := range docs {
		if err := enc.Encode(map[string]any{"id": i, "doc": d}); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(py, filepath.Join("testdata", "yaml_oracle.py"))
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yaml_oracle.py: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n, goErr, bothErr, pyOnly := 0, 0, 0, 0
	for sc.Scan() {
		var want map[string]any
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		id := int(want["id"].(float64))
		delete(want, "id")
		doc := docs[id]
		n++
		gotRaw := mlmodelView([]byte(doc))
		_, pyFailed := want["error"]
		_, goFailed := gotRaw["error"]
		switch {
		case pyFailed && goFailed:
			bothErr++
		case pyFailed && id >= mutStart:
			pyOnly++
		case pyFailed:
			t.Errorf("variant %d: yaml.safe_load fails (%v) but we resolve %v\n%s", id, want["error"], gotRaw, doc)
		case goFailed:
			// Not resolved exactly: the scan says MLG111. Count it; a benign
			// shape in this list must not land here.
			goErr++
			if id < mutStart {
				t.Logf("variant %d: PyYAML resolves it, we report MLG111 (%v)\n%s", id, gotRaw["error"], doc)
			}
			if _, err := JudgeMLmodel([]byte(doc)); err == nil {
				t.Errorf("variant %d: view failed but JudgeMLmodel did not", id)
			}
		default:
			got := roundTrip(t, gotRaw)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("variant %d differs from yaml.safe_load:\n got  %v\n want %v\n%s", id, got, want, doc)
			}
		}
	}
	if n != len(docs) {
		t.Fatalf("oracle answered %d of %d variants\n%s", n, len(docs), stderr.String())
	}
	t.Logf("%d variants: %d resolved identically, %d refused by both, %d refused only by us (MLG111), %d mutations refused only by PyYAML",
		n, n-bothErr-goErr-pyOnly, bothErr, goErr, pyOnly)
}

func roundTrip(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
