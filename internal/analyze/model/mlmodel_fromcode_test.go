package model_test

import (
	"os"
	"strings"
	"testing"
)

// TestModelsFromCode pins the models-from-code judgement on MLmodel files
// shaped as MLflow writes them: the code file runs on load (MLG108), and
// the recorded model_code_path, an absolute or relative path on the machine
// that saved the model, is not an escape (MLflow loads its base name from
// the model directory), while a real escaping path key still is (MLG109).
func TestModelsFromCode(t *testing.T) {
	cases := []struct {
		fixture, want, msg string
	}{
		{"from-code-absolute.yaml", "MLG108", `"fc_model.py" in the model directory (saved from "/tmp/tmptt4ceicz/fc_model.py")`},
		{"from-code-relative.yaml", "MLG108", `"chain.py" in the model directory`},
		{"from-code-escaping-code.yaml", "MLG108 MLG108 MLG109", `C:\\Users\\dev\\project\\model.py`},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			b, err := os.ReadFile("testdata/mlmodel/" + c.fixture)
			if err != nil {
				t.Fatal(err)
			}
			// The scan-side analyzer, on a model directory as logged.
			fs, errs := scanFiles(t, map[string][]byte{"MLmodel": b, "fc_model.py": []byte("x = 1\n")})
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if got := rulesOf(fs); got != c.want {
				t.Errorf("rules %q, want %q: %v", got, c.want, fs)
			}
			if !has(fs, "MLG108", "", c.msg) {
				t.Errorf("no MLG108 naming %s: %v", c.msg, fs)
			}
			for _, f := range fs {
				if f.RuleID == "MLG109" && strings.Contains(f.Message, "model_code_path") {
					t.Errorf("MLG109 for the recorded model_code_path: %s", f.Message)
				}
			}
		})
	}
}
