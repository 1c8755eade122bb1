package policy

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// protoOf names the request message MLflow parses for each checked route.
var protoOf = map[string]string{
	"runs/log-parameter":             "LogParam",
	"runs/log-batch":                 "LogBatch",
	"runs/set-tag":                   "SetTag",
	"runs/log-metric":                "LogMetric",
	"runs/create":                    "CreateRun",
	"runs/update":                    "UpdateRun",
	"runs/log-inputs":                "LogInputs",
	"experiments/create":             "CreateExperiment",
	"experiments/set-experiment-tag": "SetExperimentTag",
	"registered-models/create":       "CreateRegisteredModel",
	"registered-models/set-tag":      "SetRegisteredModelTag",
	"model-versions/create":          "CreateModelVersion",
	"model-versions/set-tag":         "SetModelVersionTag",
	"logged-models":                  "CreateLoggedModel",
	"logged-models/{id}/tags":        "SetLoggedModelTags",
	"logged-models/{id}/params":      "LogLoggedModelParamsRequest",
	"webhooks":                       "CreateWebhook",
}

// bodyMutations turn one benign body into the spellings MLflow reads the
// same or differently: camelCase, \u-escaped keys, duplicates, case
// variants, double encoding, wrong types.
func bodyMutations(base map[string]any) []string {
	b := mustJSON(base)
	out := []string{b, mustJSON(b)} // as is, double-encoded
	for k, v := range base {
		kv := mustJSON(v)
		esc := ""
		for _, r := range k {
			esc += fmt.Sprintf(`\u%04x`, r)
		}
		rest := strings.TrimPrefix(b, "{")
		out = append(out,
			`{"`+esc+`":`+kv+`,`+rest,                    // escaped duplicate before: the later (plain) one wins
			strings.TrimSuffix(b, "}")+`,"`+esc+`":"x"}`, // escaped duplicate after: "x" wins
			strings.TrimSuffix(b, "}")+`,"`+strings.ToUpper(k)+`":"x"}`,
			strings.TrimSuffix(b, "}")+`,"`+jsonName(k)+`":`+kv+`}`,
			strings.Replace(b, `"`+k+`":`, `"`+jsonName(k)+`":`, 1),
			strings.TrimSuffix(b, "}")+`,"`+k+`":null}`,
			strings.TrimSuffix(b, "}")+`,"`+k+`":7}`,
			strings.TrimSuffix(b, "}")+`,"`+k+`":{"a":"b"}}`,
			strings.TrimSuffix(b, "}")+`,"`+k+`":["x"]}`,
		)
	}
	return out
}

var oracleBodies = map[string]map[string]any{
	"runs/log-parameter": {"run_id": "r", "key": "k", "value": "v"},
	"runs/log-batch": {"run_id": "r", "params": []any{map[string]any{"key": "a", "value": "1"}},
		"tags": []any{map[string]any{"key": "t", "value": "2"}}, "metrics": []any{map[string]any{"key": "m", "value": 1, "timestamp": 1, "step": 0}}},
	"runs/set-tag":                   {"run_id": "r", "key": "k", "value": "v"},
	"runs/log-metric":                {"run_id": "r", "key": "k", "value": 1.5, "timestamp": 1},
	"runs/create":                    {"experiment_id": "0", "run_name": "n", "tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"runs/update":                    {"run_id": "r", "run_name": "n"},
	"runs/log-inputs":                {"run_id": "r", "datasets": []any{map[string]any{"dataset": map[string]any{"name": "d", "digest": "x", "source_type": "s", "source": "src"}, "tags": []any{map[string]any{"key": "k", "value": "v"}}}}},
	"experiments/create":             {"name": "e", "artifact_location": "mlflow-artifacts:/x", "tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"experiments/set-experiment-tag": {"experiment_id": "1", "key": "k", "value": "v"},
	"registered-models/create":       {"name": "m", "tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"registered-models/set-tag":      {"name": "m", "key": "k", "value": "v"},
	"model-versions/create":          {"name": "m", "source": "models:/m-1", "tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"model-versions/set-tag":         {"name": "m", "version": "1", "key": "k", "value": "v"},
	"logged-models":                  {"experiment_id": "1", "name": "n", "params": []any{map[string]any{"key": "k", "value": "v"}}, "tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"logged-models/{id}/tags":        {"tags": []any{map[string]any{"key": "k", "value": "v"}}},
	"logged-models/{id}/params":      {"params": []any{map[string]any{"key": "k", "value": "v"}}},
	"webhooks":                       {"name": "w", "url": "https://hooks.example.com/x"},
}

type seen struct {
	Field      Field
	Key, Value string
	Has        bool
}

func extract(rt *route, body []byte) ([]seen, error) {
	m, err := readMessage("POST", "", "application/json", body, nil)
	if err != nil {
		return nil, err
	}
	items, err := collect(rt, m)
	if err != nil {
		return nil, err
	}
	out := []seen{}
	for _, it := range items {
		out = append(out, seen{it.spec.field, it.key, it.value, it.hasValue})
	}
	return out, nil
}

// Every body is read by MLflow's own code (json.loads, alias check,
// parse_dict) and by ours. Where MLflow stores something, we extract
// exactly the same keys and values; where MLflow fails, we refuse too or
// extract the same (it then stores what ParseDict filled in).
func TestReadDifferential(t *testing.T) {
	py := testenv.Python(t)
	type qq struct {
		route string
		body  string
	}
	var qs []qq
	var in strings.Builder
	for name, base := range oracleBodies {
		for _, b := range bodyMutations(base) {
			qs = append(qs, qq{name, b})
			in.WriteString(mustJSON(map[string]string{"message": protoOf[name], "body": base64.StdEncoding.EncodeToString([]byte(b))}) + "\n")
		}
	}
	// Raw bytes Go and Python decode differently.
	for _, b := range []string{"\xef\xbb\xbf{\"run_id\":\"r\",\"key\":\"k\",\"value\":\"v\"}", "{\"run_id\":\"r\",\"key\":\"k\",\"value\":\"\xff\"}",
		`{"run_id":"r","key":"k","value":NaN}`, `{"run_id":"r","key":"k","value":"v"} x`, `"\"{}\""`, `[]`, `{"key":"k","value":"\ud83d"}`} {
		qs = append(qs, qq{"runs/log-parameter", b})
		in.WriteString(mustJSON(map[string]string{"message": "LogParam", "body": base64.StdEncoding.EncodeToString([]byte(b))}) + "\n")
	}
	cmd := exec.Command(py, filepath.Join("testdata", "parse_oracle.py"))
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Env = append(os.Environ(), "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	i, agree, refused, partial, failedRead := 0, 0, 0, 0, 0
	for sc.Scan() {
		var res struct {
			OK      map[string]any `json:"ok"`
			Partial bool           `json:"partial"`
			Error   string         `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		q := qs[i]
		i++
		rt, _ := matchRoute("POST", "/api/2.0/mlflow/"+strings.ReplaceAll(q.route, "{id}", "m-1"))
		if rt == nil {
			rt, _ = matchRoute("PATCH", "/api/2.0/mlflow/"+strings.ReplaceAll(q.route, "{id}", "m-1"))
		}
		ours, ourErr := extract(rt, []byte(q.body))
		if res.Error != "" {
			if ourErr == nil {
				// MLflow failed before storing anything; our reading must not be looser.
				failedRead++
			}
			continue
		}
		theirs, err := extract(rt, []byte(mustJSON(res.OK)))
		if err != nil {
			t.Fatalf("re-reading MLflow's parse of %s: %v", q.body, err)
		}
		if ourErr != nil {
			refused++ // we deny what MLflow would read: fail closed
			if os.Getenv("POLICY_ORACLE_VERBOSE") != "" {
				t.Logf("refused %s: %v", q.body, ourErr)
			}
			continue
		}
		if res.Partial {
			// ParseDict stopped part way: MLflow may store a subset of the
			// fields; each must be one we read and checked.
			for _, s := range theirs {
				if s.Has && !slices.Contains(ours, s) {
					t.Errorf("%s %s: MLflow's partial parse holds %v, which we did not read", q.route, q.body, s)
				}
			}
			partial++
			continue
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Errorf("%s %s:\n ours   %v\n MLflow %v", q.route, q.body, ours, theirs)
			continue
		}
		agree++
	}
	if i != len(qs) {
		t.Fatalf("oracle answered %d of %d", i, len(qs))
	}
	t.Logf("%d bodies: %d read exactly as MLflow reads them; %d partially parsed by MLflow (a subset of ours); %d refused by us; %d refused by MLflow only (%d)",
		len(qs), agree, partial, refused, failedRead, i)
}
