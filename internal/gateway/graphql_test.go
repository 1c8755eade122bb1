package gateway

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// uiQueries reads the GraphQL documents the pinned MLflow UI sends, from
// its built bundle in the test virtualenv (template literals holding an
// operation with variables).
func uiQueries(t testing.TB) map[string]string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(testenv.Venv(), "lib", "python3*", "site-packages", "mlflow", "server", "js", "build", "static", "js"))
	if len(dirs) == 0 {
		testenv.Require(t, "the MLflow UI bundle in "+testenv.Venv())
	}
	files, _ := filepath.Glob(filepath.Join(dirs[0], "*.js"))
	op := regexp.MustCompile("`(\\s*(?:query|mutation) ([A-Za-z]+)\\s*\\(\\$[^`]*)`")
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range op.FindAllStringSubmatch(string(b), -1) {
			out[m[2]] = m[1]
		}
	}
	if len(out) == 0 {
		t.Fatalf("no GraphQL operation found in the UI bundle under %s", dirs[0])
	}
	return out
}

// withTypename adds __typename to every nested selection set, as Apollo's
// cache does before sending.
func withTypename(q string) string {
	var b strings.Builder
	depth := 0
	for _, c := range q {
		b.WriteRune(c)
		switch c {
		case '{':
			depth++
			if depth > 1 {
				b.WriteString(" __typename ")
			}
		case '}':
			depth--
		}
	}
	return b.String()
}

func gqlBody(t testing.TB, query string, vars any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func needIDs(p *GraphQLPlan) []string {
	var out []string
	for _, n := range p.needs {
		out = append(out, n.id)
	}
	sort.Strings(out)
	return out
}

func TestGraphQLUIQueries(t *testing.T) {
	qs := uiQueries(t)
	vars := map[string]any{
		"GetRun":                       map[string]any{"data": map[string]any{"runId": "r1"}},
		"SearchRuns":                   map[string]any{"data": map[string]any{"experimentIds": []any{"1"}, "filter": "attributes.run_id = 'x'"}},
		"GetMetricHistoryBulkInterval": map[string]any{"data": map[string]any{"runIds": []any{"r1", "r2"}, "metricKey": "loss", "maxResults": 320}},
		"MlflowGetExperimentQuery":     map[string]any{"input": map[string]any{"experimentId": "7"}},
	}
	want := map[string]string{"GetRun": "r1", "SearchRuns": "1", "GetMetricHistoryBulkInterval": "r1,r2", "MlflowGetExperimentQuery": "7"}
	for name, w := range want {
		q, ok := qs[name]
		if !ok {
			t.Errorf("UI operation %s not found in the bundle (have %v)", name, keys(qs))
			continue
		}
		for _, variant := range []string{q, withTypename(q)} {
			p, err := planGraphQL(gqlBody(t, variant, vars[name]))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got := strings.Join(needIDs(p), ","); got != w {
				t.Errorf("%s: ids %s, want %s", name, got, w)
			}
		}
	}
	// Runs' model versions are filtered in the answer.
	p, err := planGraphQL(gqlBody(t, qs["SearchRuns"], vars["SearchRuns"]))
	if err != nil || len(p.filters) != 1 || strings.Join(p.filters[0].path, ".") != "mlflowSearchRuns.runs.modelVersions" || p.filters[0].nameKey != "name" {
		t.Errorf("SearchRuns filters: %+v %v", p, err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestGraphQLPlan(t *testing.T) {
	ok := []struct {
		name, query string
		vars        any
		ids         string
		via         Via
	}{
		{"inline", `{ mlflowGetExperiment(input: {experimentId: "3"}) { experiment { name } } }`, nil, "3", Direct},
		{"variable", `query Q($i: MlflowGetRunInput!) { mlflowGetRun(input: $i) { run { info { runId } } } }`, map[string]any{"i": map[string]any{"runId": "abc"}}, "abc", RunToExperiment},
		{"nested variable", `query Q($r: String) { mlflowGetRun(input: {runUuid: $r}) { apiError { code } } }`, map[string]any{"r": "u1"}, "u1", RunToExperiment},
		{"default value", `query Q($r: String = "d1") { mlflowListArtifacts(input: {runId: $r}) { files { path } } }`, nil, "d1", RunToExperiment},
		{"given beats default", `query Q($r: String = "d1") { mlflowListArtifacts(input: {runId: $r}) { files { path } } }`, map[string]any{"r": "g1"}, "g1", RunToExperiment},
		{"alias and fragment", `query { a: mlflowGetExperiment(input: {experimentId: "1"}) { ...E } b: mlflowGetExperiment(input: {experimentId: "2"}) { ... on MlflowGetExperimentResponse { experiment { name } } } } fragment E on MlflowGetExperimentResponse { experiment { experimentId } }`, nil, "1,2", Direct},
		{"single value coerced to a list", `mutation { mlflowSearchRuns(input: {experimentIds: "5"}) { runs { info { runId } } } }`, nil, "5", Direct},
		{"same run twice", `{ mlflowGetRun(input: {runId: "x", runUuid: "x"}) { run { info { runId } } } }`, nil, "x", RunToExperiment},
		{"datasets", `mutation M($e: [String]) { mlflowSearchDatasets(input: {experimentIds: $e}) { datasetSummaries { name } } }`, map[string]any{"e": []any{"1", "2"}}, "1,2", Direct},
		{"echo", `{ test(inputString: "hi") { output } }`, nil, "", Direct},
		{"comments commas bom", "\ufeff# c\n{ mlflowGetExperiment(input: {experimentId: \"3\",},) { __typename, experiment { name } } }", nil, "3", Direct},
		{"component directive", `query Q @component(name: "x") { mlflowGetExperiment(input: {experimentId: "9"}) @component(name: "y") { experiment { name } } }`, nil, "9", Direct},
	}
	for _, c := range ok {
		p, err := planGraphQL(gqlBody(t, c.query, c.vars))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := strings.Join(needIDs(p), ","); got != c.ids {
			t.Errorf("%s: ids %q, want %q", c.name, got, c.ids)
		}
		for _, n := range p.needs {
			if n.via != c.via || n.perm != R {
				t.Errorf("%s: need %+v", c.name, n)
			}
		}
	}
	// Search model versions: no id, but the answer is filtered by name.
	p, err := planGraphQL(gqlBody(t, `{ mlflowSearchModelVersions(input: {filter: "name='m'"}) { modelVersions { n: name version } } }`, nil))
	if err != nil || len(p.filters) != 1 || p.filters[0].nameKey != "n" {
		t.Errorf("search model versions: %+v %v", p, err)
	}

	bad := []struct{ name, body string }{
		{"unknown root field", `{"query":"{ mlflowDeleteExperiment(input: {experimentId: \"1\"}) { x } }"}`},
		{"unknown nested field", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\"}) { experiment { secret } } }"}`},
		{"introspection", `{"query":"{ __schema { types { name } } }"}`},
		{"type introspection", `{"query":"{ __type(name: \"Query\") { name } }"}`},
		{"no input", `{"query":"{ mlflowGetRun { run { info { runId } } } }"}`},
		{"null input", `{"query":"{ mlflowGetRun(input: null) { run { info { runId } } } }"}`},
		{"empty id", `{"query":"{ mlflowGetRun(input: {runId: \"\"}) { run { info { runId } } } }"}`},
		{"ids disagree", `{"query":"{ mlflowGetRun(input: {runId: \"a\", runUuid: \"b\"}) { run { info { runId } } } }"}`},
		{"empty then other", `{"query":"{ mlflowGetRun(input: {runId: \"\", runUuid: \"b\"}) { run { info { runId } } } }"}`},
		{"number id", `{"query":"{ mlflowGetExperiment(input: {experimentId: 1}) { experiment { name } } }"}`},
		{"number id in variables", `{"query":"query Q($i: MlflowGetExperimentInput) { mlflowGetExperiment(input: $i) { experiment { name } } }","variables":{"i":{"experimentId":1}}}`},
		{"snake_case variable key", `{"query":"query Q($i: MlflowGetRunInput) { mlflowGetRun(input: $i) { run { info { runId } } } }","variables":{"i":{"run_id":"a"}}}`},
		{"unknown input field", `{"query":"{ mlflowGetRun(input: {runId: \"a\", other: \"b\"}) { run { info { runId } } } }"}`},
		{"undeclared variable", `{"query":"{ mlflowGetRun(input: {runId: $x}) { run { info { runId } } } }"}`},
		{"absent variable", `{"query":"query Q($x: String) { mlflowGetRun(input: {runId: $x}) { run { info { runId } } } }"}`},
		{"empty search", `{"query":"mutation { mlflowSearchRuns(input: {}) { runs { info { runId } } } }"}`},
		{"list with a number", `{"query":"mutation { mlflowSearchRuns(input: {experimentIds: [\"1\", 2]}) { runs { info { runId } } } }"}`},
		{"list with null", `{"query":"mutation { mlflowSearchRuns(input: {experimentIds: [\"1\", null]}) { runs { info { runId } } } }"}`},
		{"model versions without name", `{"query":"{ mlflowSearchModelVersions(input: {}) { modelVersions { version } } }"}`},
		{"run model versions without name", `{"query":"{ mlflowGetRun(input: {runId: \"a\"}) { run { modelVersions { version source } } } }"}`},
		{"subscription", `{"query":"subscription { mlflowGetRun(input: {runId: \"a\"}) { run { info { runId } } } }"}`},
		{"batch array", `[{"query":"{ test(inputString: \"a\") { output } }"}]`},
		{"no query", `{"variables":{}}`},
		{"query not a string", `{"query":["{ test { output } }"]}`},
		{"variables a string", `{"query":"{ test(inputString: \"a\") { output } }","variables":"{}"}`},
		{"unicode escape", `{"query":"{ mlflowGetRun(input: {runId: \"\\u0061\"}) { run { info { runId } } } }"}`},
		{"block string", `{"query":"{ mlflowGetRun(input: {runId: \"\"\"a\"\"\"}) { run { info { runId } } } }"}`},
		{"unused fragment", `{"query":"{ test(inputString: \"a\") { output } } fragment F on Query { mlflowGetRun(input: {runId: \"a\"}) { run { info { runId } } } }"}`},
		{"unknown fragment", `{"query":"{ ...F }"}`},
		{"fragment cycle", `{"query":"{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}`},
		{"fragment wrong type", `{"query":"{ mlflowGetRun(input: {runId: \"a\"}) { ...F } } fragment F on MlflowExperiment { name }"}`},
		{"fragment hides a field", `{"query":"{ ...F } fragment F on Query { mlflowGetExperiment(input: {experimentId: \"\"}) { experiment { name } } }"}`},
		{"type system definition", `{"query":"type Foo { a: String } { test(inputString: \"a\") { output } }"}`},
		{"duplicate argument", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\"}, input: {experimentId: \"2\"}) { experiment { name } } }"}`},
		{"duplicate input field", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\", experimentId: \"2\"}) { experiment { name } } }"}`},
		{"duplicate JSON key", `{"query":"{ test(inputString: \"a\") { output } }","query":"{ __schema { types { name } } }"}`},
		{"scalar with selection", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\"}) { experiment { name { x } } } }"}`},
		{"object without selection", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\"}) { experiment } }"}`},
		{"syntax error", `{"query":"{ mlflowGetExperiment(input: {experimentId: \"1\"}) { experiment { name } }"}`},
		{"bad number", `{"query":"{ mlflowSearchRuns(input: {maxResults: 01, experimentIds: \"1\"}) { runs { info { runId } } } }"}`},
	}
	for _, c := range bad {
		if p, err := planGraphQL([]byte(c.body)); err == nil {
			t.Errorf("%s: accepted: %+v", c.name, p)
		}
	}
}

func TestGraphQLLimits(t *testing.T) {
	// Batch: more than 10 root fields.
	var b strings.Builder
	b.WriteString(`{ test(inputString: "x") { output }`)
	for i := 0; i < 10; i++ {
		b.WriteString(` t` + string(rune('a'+i)) + `: test(inputString: "x") { output }`)
	}
	b.WriteString("}")
	if _, err := planGraphQL(gqlBody(t, b.String(), nil)); err == nil || !strings.Contains(err.Error(), "batch") {
		t.Errorf("11 root fields: %v", err)
	}
	// Depth: the schema is shallow, so nest through a fragment-free chain
	// of braces; the parser's nesting bound stops it before the checker.
	deep := strings.Repeat("{ a ", 100) + strings.Repeat("}", 100)
	if _, err := planGraphQL(gqlBody(t, deep, nil)); err == nil {
		t.Error("deep document accepted")
	}
	// Size.
	if _, err := planGraphQL(gqlBody(t, "{ test(inputString: \""+strings.Repeat("x", gqlMaxSource)+"\") { output } }", nil)); err == nil {
		t.Error("oversized document accepted")
	}
	// Exponential fragments.
	var f strings.Builder
	f.WriteString(`{ ...F0 }`)
	for i := 0; i < 30; i++ {
		f.WriteString(` fragment F` + strconv.Itoa(i) + ` on Query { ...F` + strconv.Itoa(i+1) + ` ...F` + strconv.Itoa(i+1) + ` }`)
	}
	f.WriteString(` fragment F30 on Query { test(inputString: "x") { output } }`)
	if _, err := planGraphQL(gqlBody(t, f.String(), nil)); err == nil {
		t.Error("exponential fragments accepted")
	}
	// Aliases.
	var a strings.Builder
	a.WriteString(`{ mlflowGetExperiment(input: {experimentId: "1"}) { experiment {`)
	for i := 0; i < 11; i++ {
		a.WriteString(" n" + strconv.Itoa(i) + ": name")
	}
	a.WriteString(" } } }")
	if _, err := planGraphQL(gqlBody(t, a.String(), nil)); err == nil {
		t.Error("11 aliases at one level accepted")
	}
}

func TestGraphQLAnswerFilter(t *testing.T) {
	p, err := planGraphQL(gqlBody(t, `query { r: mlflowSearchRuns(input: {experimentIds: ["1"]}) { runs { modelVersions { nm: name version } } } mlflowSearchModelVersions(input: {}) { modelVersions { name } } }`, nil))
	if err != nil {
		t.Fatal(err)
	}
	answer := `{"data":{"r":{"runs":[{"modelVersions":[{"nm":"ok","version":"1"},{"nm":"secret","version":"2"},{"version":"3"}]},{"modelVersions":null}]},
		"mlflowSearchModelVersions":{"modelVersions":[{"name":"secret"},{"name":"ok"},{"name":7}]}},"errors":null}`
	var asked []string
	out, err := filterGraphQLAnswer([]byte(answer), p.filters, func(n []string) (map[string]bool, error) {
		asked = n
		return map[string]bool{"ok": true}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "secret") || !strings.Contains(s, `"nm":"ok"`) || strings.Contains(s, `"version":"3"`) || strings.Contains(s, `"name":7`) {
		t.Errorf("filtered answer: %s", s)
	}
	if strings.Join(asked, ",") != "ok,secret" {
		t.Errorf("asked %v", asked)
	}
	if _, err := filterGraphQLAnswer([]byte(answer), p.filters, func([]string) (map[string]bool, error) { return nil, errors.New("store down") }); err == nil {
		t.Error("a failed permission lookup let the answer through")
	}
}

// FuzzGraphQLPlan: the reader and checker never panic on any body, and
// whatever they accept names only non-empty ids and filters that can work.
func FuzzGraphQLPlan(f *testing.F) {
	seeds := []string{
		`{"query":"{ mlflowGetExperiment(input: {experimentId: \"3\"}) { experiment { name } } }"}`,
		`{"query":"query Q($i: MlflowGetRunInput!) { mlflowGetRun(input: $i) { run { info { runId } modelVersions { name } } } }","variables":{"i":{"runId":"abc"}}}`,
		`{"query":"{ ...F } fragment F on Query { test(inputString: \"a\") { output } }"}`,
		`{"query":"mutation { mlflowSearchRuns(input: {experimentIds: [\"1\"]}) { runs { info { runId } } } }"}`,
		`{"query":"{ mlflowSearchModelVersions(input: {}) { modelVersions { name } } }"}`,
		`{"query":"{ a: mlflowGetRun(input: {runId: \"a\"}) { run { info { runId } } } b: test(inputString: \"x\") { output } }"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := planGraphQL(body)
		if err != nil {
			if !errors.Is(err, ErrGraphQL) && !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		for _, n := range p.needs {
			if n.id == "" || n.perm != R {
				t.Fatalf("accepted need %+v", n)
			}
		}
		for _, fl := range p.filters {
			if fl.nameKey == "" || len(fl.path) < 2 {
				t.Fatalf("accepted filter %+v", fl)
			}
		}
	})
}

// FuzzGraphQLLex: the lexer alone, on raw query text.
func FuzzGraphQLLex(f *testing.F) {
	for _, s := range []string{`{ a(b: "c\n", d: [1, -2.5e3, $v, {e: null}]) @x { ... on T { f } ...G } }`, "\"\\", "1.", "-", "#\r{", `"""x"""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		doc, err := parseGraphQL(q)
		if err != nil {
			if !errors.Is(err, ErrGraphQL) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		if len(doc.ops) == 0 {
			t.Fatal("accepted a document with no operation")
		}
	})
}

// BenchmarkGraphQLPlan: the check's own cost on the UI's largest query
// (SearchRuns with the __typename fields Apollo adds).
func BenchmarkGraphQLPlan(b *testing.B) {
	q := withTypename(uiQueries(b)["SearchRuns"])
	body := gqlBody(b, q, map[string]any{"data": map[string]any{"experimentIds": []any{"1", "2"}}})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := planGraphQL(body); err != nil {
			b.Fatal(err)
		}
	}
}
