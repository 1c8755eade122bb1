package gateway

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestGraphQLSchemaMatchesMLflow compares the gateway's copy of MLflow's
// GraphQL schema with the pinned server's: a field MLflow adds (which may
// resolve another resource) fails here until the gateway knows it.
func TestGraphQLSchemaMatchesMLflow(t *testing.T) {
	out := testenv.RunPython(t, filepath.Join("testdata", "graphql_oracle.py"), nil, "schema")
	var s struct {
		Objects map[string]map[string]struct {
			Type string            `json:"type"`
			Args map[string]string `json:"args"`
		} `json:"objects"`
		Inputs map[string]map[string]struct {
			Type string `json:"type"`
			List bool   `json:"list"`
		} `json:"inputs"`
	}
	line := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &s); err != nil {
		t.Fatalf("schema: %v\n%s", err, out)
	}
	for name, fields := range s.Objects {
		ours, ok := gqlSchemaTypes[name]
		if !ok {
			t.Errorf("MLflow type %s is not in the gateway's schema", name)
			continue
		}
		for f, fd := range fields {
			o, ok := ours[f]
			args := o.args
			if args == nil {
				args = map[string]string{}
			}
			if !ok || o.typ != fd.Type || !reflect.DeepEqual(args, fd.Args) {
				t.Errorf("%s.%s: MLflow %+v, gateway %+v (known %v)", name, f, fd, o, ok)
			}
		}
		if len(ours) != len(fields) {
			t.Errorf("%s: MLflow has %d fields, the gateway %d", name, len(fields), len(ours))
		}
	}
	for name := range gqlSchemaTypes {
		if _, ok := s.Objects[name]; !ok {
			t.Errorf("gateway type %s is not in MLflow's schema", name)
		}
	}
	for name, fields := range s.Inputs {
		ours := gqlInputTypes[name]
		if len(ours) != len(fields) {
			t.Errorf("input %s: MLflow %v, gateway %v", name, fields, ours)
		}
		for f, fd := range fields {
			if o, ok := ours[f]; !ok || o.typ != fd.Type || o.list != fd.List {
				t.Errorf("input %s.%s: MLflow %+v, gateway %+v", name, f, fd, o)
			}
		}
	}
	// Every root field has a rule.
	for _, root := range []string{"Query", "Mutation"} {
		for f := range s.Objects[root] {
			if _, ok := gqlRootRules[root+"."+f]; !ok {
				t.Errorf("root field %s.%s has no authorization rule", root, f)
			}
		}
	}
}

type oracleCase struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// TestGraphQLOracle runs the gateway's check and graphql-core (with
// MLflow's schema and safety scan) on the same documents: seeds and
// thousands of mutations of them. Whenever the gateway accepts a document
// that graphql-core would execute, the ids the gateway authorizes must be
// exactly the ids MLflow's handlers receive.
func TestGraphQLOracle(t *testing.T) {
	testenv.SkipIfShort(t, "the graphql-core oracle")
	seeds := []oracleCase{
		{`{ mlflowGetExperiment(input: {experimentId: "3"}) { experiment { name } } }`, nil},
		{`query Q($i: MlflowGetRunInput!) { mlflowGetRun(input: $i) { run { info { runId } modelVersions { name } } } }`, map[string]any{"i": map[string]any{"runId": "abc", "runUuid": "abc"}}},
		{`query Q($r: String = "d1", $u: String) { mlflowListArtifacts(input: {runId: $r, runUuid: $u}) { files { path } } }`, map[string]any{"u": "d1"}},
		{`query Q($e: [String]) { mlflowSearchRuns(input: {experimentIds: $e}) { runs { info { runId } } } }`, map[string]any{"e": []any{"1", "2"}}},
		{`mutation M($e: [String!]) { mlflowSearchRuns(input: {experimentIds: $e}) { runs { info { runId } } } mlflowSearchDatasets(input: {experimentIds: "4"}) { datasetSummaries { name } } }`, map[string]any{"e": "3"}},
		{`query { a: mlflowGetExperiment(input: {experimentId: "1"}) { ...E } b: mlflowGetExperiment(input: {experimentId: "2"}) { ... on MlflowGetExperimentResponse { experiment { name } } } } fragment E on MlflowGetExperimentResponse { experiment { experimentId } }`, nil},
		{`query G($d: MlflowGetMetricHistoryBulkIntervalInput!) { mlflowGetMetricHistoryBulkInterval(input: $d) { metrics { runId } } }`, map[string]any{"d": map[string]any{"runIds": []any{"r1", "r2"}, "metricKey": "m"}}},
		{`{ mlflowSearchModelVersions(input: {filter: "name='m'"}) { modelVersions { name version } } test(inputString: "x") { output } }`, nil},
		{"{ mlflowGetRun(input: {runId: \"a\\tb\\\"c\\\\\"}) { run { info { runId } } } }", nil},
		{`{ ...F } fragment F on Query { mlflowGetRun(input: {runUuid: "u"}) { run { info { runId } } } }`, nil},
	}
	for name, q := range uiQueries(t) {
		v := map[string]any{"data": map[string]any{"runId": "r1", "experimentIds": []any{"1"}, "runIds": []any{"r1"}}}
		if strings.Contains(q, "$input") {
			v = map[string]any{"input": map[string]any{"experimentId": "7"}}
		}
		if name == "GetRun" {
			v = map[string]any{"data": map[string]any{"runId": "r1"}}
		} else if name == "SearchRuns" {
			v = map[string]any{"data": map[string]any{"experimentIds": []any{"1"}}}
		} else if name == "GetMetricHistoryBulkInterval" {
			v = map[string]any{"data": map[string]any{"runIds": []any{"r1"}}}
		}
		seeds = append(seeds, oracleCase{q, v}, oracleCase{withTypename(q), v})
	}
	rng := rand.New(rand.NewSource(11))
	pieces := []string{"{", "}", "(", ")", "[", "]", ":", "$", "!", "@", ",", "...", " on ", "\"", "\\", "#", "\n", " ", "null", "runUuid", "runId",
		"experimentIds", "\"x\"", "\"\"", "1", "-0", "1.5e3", "input", "__typename", "__schema", "fragment", "query", "mutation", "a:", "$i", "= \"z\""}
	cases := append([]oracleCase(nil), seeds...)
	for i := 0; i < 3000; i++ {
		c := seeds[rng.Intn(len(seeds))]
		q := []byte(c.Query)
		for m := 0; m < 1+rng.Intn(3); m++ {
			pos := rng.Intn(len(q) + 1)
			switch rng.Intn(3) {
			case 0: // insert
				p := pieces[rng.Intn(len(pieces))]
				q = append(q[:pos], append([]byte(p), q[pos:]...)...)
			case 1: // delete a short span
				end := pos + 1 + rng.Intn(4)
				if end > len(q) {
					end = len(q)
				}
				q = append(q[:pos], q[end:]...)
			case 2: // duplicate a span
				end := pos + rng.Intn(30)
				if end > len(q) {
					end = len(q)
				}
				q = append(q[:end], append([]byte(string(q[pos:end])), q[end:]...)...)
			}
		}
		cases = append(cases, oracleCase{string(q), c.Variables})
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	out := testenv.RunPython(t, filepath.Join("testdata", "graphql_oracle.py"), nil, "cases", f.Name())
	var results []struct {
		OK  bool     `json:"ok"`
		IDs []string `json:"ids"`
		Why string   `json:"why"`
	}
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "CASE "); ok {
			var r struct {
				OK  bool     `json:"ok"`
				IDs []string `json:"ids"`
				Why string   `json:"why"`
			}
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
	}
	if len(results) != len(cases) {
		t.Fatalf("oracle answered %d of %d cases:\n%s", len(results), len(cases), out[:min(len(out), 4000)])
	}
	var bothOK, weOnly, theyOnly int
	for i, c := range cases {
		body := gqlBody(t, c.Query, c.Variables)
		p, err := planGraphQL(body)
		r := results[i]
		switch {
		case err == nil && r.OK:
			bothOK++
			ours := needIDs(p)
			theirs := append([]string(nil), r.IDs...)
			sort.Strings(theirs)
			if strings.Join(ours, "\x00") != strings.Join(theirs, "\x00") {
				t.Errorf("case %d: gateway authorizes %q, MLflow reads %q\n%s %v", i, ours, theirs, c.Query, c.Variables)
			}
		case err == nil:
			weOnly++ // graphql-core refuses it: nothing runs
		case r.OK:
			theyOnly++
		}
	}
	t.Logf("%d cases: both accept %d, gateway only %d (graphql-core refuses), graphql-core only %d (gateway denies)", len(cases), bothOK, weOnly, theyOnly)
	if bothOK < len(seeds) {
		t.Errorf("only %d cases accepted by both; the seeds alone are %d", bothOK, len(seeds))
	}
}
