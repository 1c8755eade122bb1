package policy

import (
	"context"
	"testing"
)

// Secrets in the free-text fields found unchecked in the red-team pass
// (routes_tree.go); benign values in the same fields pass.
func TestTreeFields(t *testing.T) {
	e := engine(t, Config{})
	v2, v3 := "/api/2.0/mlflow/", "/api/3.0/mlflow/"
	traceV3 := func(info map[string]any) string {
		info["trace_id"] = "tr-0123456789abcdef0123456789abcdef"
		return mustJSON(map[string]any{"trace": map[string]any{"trace_info": info}})
	}
	cases := []struct {
		name, method, path, body string
		deny                     bool
	}{
		{"dataset profile", "POST", v2 + "runs/log-inputs", mustJSON(map[string]any{"run_id": "r", "datasets": []any{map[string]any{"dataset": map[string]any{"name": "d", "digest": "x", "source_type": "local", "source": "s", "profile": `{"num_rows": 3, "token": "` + ghToken + `"}`}}}}), true},
		{"dataset schema", "POST", v2 + "runs/log-inputs", mustJSON(map[string]any{"run_id": "r", "datasets": []any{map[string]any{"dataset": map[string]any{"name": "d", "digest": "x", "source_type": "local", "source": "s", "schema": awsKey}}}}), true},
		{"dataset source_type", "POST", v2 + "runs/log-inputs", mustJSON(map[string]any{"run_id": "r", "datasets": []any{map[string]any{"dataset": map[string]any{"name": "d", "digest": "x", "source_type": slackTok, "source": "s"}}}}), true},
		{"dataset benign", "POST", v2 + "runs/log-inputs", mustJSON(map[string]any{"run_id": "r", "datasets": []any{map[string]any{"dataset": map[string]any{"name": "d", "digest": "x", "source_type": "local", "source": "s", "profile": `{"num_rows": 3}`, "schema": `{"mlflow_colspec": [{"type": "double", "name": "max_tokens"}]}`}}}}), false},
		{"log-model json", "POST", v2 + "runs/log-model", mustJSON(map[string]any{"run_id": "r", "model_json": mustJSON(map[string]any{"artifact_path": "m", "flavors": map[string]any{"x": map[string]any{"api_key": ghToken}}})}), true},
		{"log-model benign", "POST", v2 + "runs/log-model", mustJSON(map[string]any{"run_id": "r", "model_json": mustJSON(map[string]any{"artifact_path": "m", "run_id": "0123456789abcdef0123456789abcdef", "model_uuid": "5f0c7e1a9b3d4c2e8f6a0b1c2d3e4f5a", "flavors": map[string]any{"python_function": map[string]any{"loader_module": "mlflow.sklearn"}}})}), false},
		{"v2 start trace tag", "POST", v2 + "traces", mustJSON(map[string]any{"experiment_id": "1", "tags": []any{map[string]any{"key": "t", "value": ghToken}}}), true},
		{"v2 start trace metadata", "POST", v2 + "traces", mustJSON(map[string]any{"experiment_id": "1", "request_metadata": []any{map[string]any{"key": "db_password", "value": "S3cr3tP4ssw0rd!x"}}}), true},
		{"v2 end trace tag", "PATCH", v2 + "traces/abc", mustJSON(map[string]any{"request_id": "abc", "tags": []any{map[string]any{"key": "t", "value": awsKey}}}), true},
		{"v3 start trace tags", "POST", v3 + "traces", traceV3(map[string]any{"tags": map[string]any{"t": ghToken}}), true},
		{"v3 start trace metadata", "POST", v3 + "traces", traceV3(map[string]any{"trace_metadata": map[string]any{"m": awsKey}}), true},
		{"v3 start trace benign", "POST", v3 + "traces", traceV3(map[string]any{"tags": map[string]any{"mlflow.traceName": "predict"}, "trace_metadata": map[string]any{"mlflow.user": "alice", "mlflow.source.git.commit": "9fceb02d0ae598e95dc970b74767f19372d61af8", "mlflow.traceInputs": `{"max_tokens": 10}`}}), false},
		{"assessment rationale", "POST", v3 + "traces/tr-1/assessments", mustJSON(map[string]any{"assessment": map[string]any{"assessment_name": "x", "rationale": "key is " + ghToken}}), true},
		{"assessment feedback", "PATCH", v3 + "traces/tr-1/assessments/a-1", mustJSON(map[string]any{"assessment": map[string]any{"feedback": map[string]any{"value": []any{awsKey}}}}), true},
		{"registered model description", "PATCH", v2 + "registered-models/update", mustJSON(map[string]any{"name": "m", "description": ghToken}), true},
		{"version description", "PATCH", v2 + "model-versions/update", mustJSON(map[string]any{"name": "m", "version": "1", "description": awsKey}), true},
		{"description on create", "POST", v2 + "registered-models/create", mustJSON(map[string]any{"name": "m", "description": "token " + slackTok}), true},
		{"description benign", "POST", v2 + "registered-models/create", mustJSON(map[string]any{"name": "m", "description": "tokenizer and max_tokens tuned"}), false},
		{"experiment rename", "POST", v2 + "experiments/update", mustJSON(map[string]any{"experiment_id": "1", "new_name": ghToken}), true},
		{"logged model type", "POST", v2 + "logged-models", mustJSON(map[string]any{"experiment_id": "1", "model_type": awsKey}), true},
		{"alias name", "POST", v2 + "registered-models/alias", mustJSON(map[string]any{"name": "m", "alias": ghToken, "version": "1"}), true},
		{"alias benign", "POST", v2 + "registered-models/alias", mustJSON(map[string]any{"name": "m", "alias": "champion", "version": "1"}), false},
		{"model name", "POST", v2 + "registered-models/create", mustJSON(map[string]any{"name": awsKey}), true},
		{"token as a map key", "POST", v3 + "traces", traceV3(map[string]any{"trace_metadata": map[string]any{ghToken: ""}}), true},
	}
	for _, c := range cases {
		r := &Request{Method: c.method, Path: c.path, ContentType: "application/json", Body: []byte(c.body)}
		d := e.Decide(context.Background(), r)
		if (d.Action == Deny) != c.deny {
			t.Errorf("%s: action %v (%s), want deny=%v", c.name, d.Action, d.Reason, c.deny)
		}
		if c.deny && d.Action == Deny && d.Rule != RuleSecret {
			t.Errorf("%s: rule %s (%s), want %s", c.name, d.Rule, d.Reason, RuleSecret)
		}
	}
}
