package report

import (
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// fullReport is a hand-built report that exercises every writer branch:
// several files, an archive member, line-less findings, a level lowered by
// config, inline and config suppressions, a path with a space, a redacted
// secret in a message, input errors and an incomplete run.
func fullReport() *Report {
	return &Report{
		Tool: Tool{Name: "mlflow-guard", Version: "v0.3.1", Command: "scan"},
		Root: "/src/project",
		Findings: []finding.Finding{
			{RuleID: "MLG104", Rule: "unpinned-model-version", Level: finding.Warning, Path: "src/serve.py",
				Line: 20, Column: 13, EndLine: 20, EndColumn: 58,
				Message: `load_model("models:/fraud/latest") loads whatever was registered last`,
				CWE:     []string{"CWE-494"}, Fingerprint: "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
			{RuleID: "MLG102", Rule: "unsafe-deserialization", Level: finding.Strict, Path: "src/serve.py",
				Line: 7, Column: 9, EndLine: 7, EndColumn: 33,
				Message: "pickle.load on a downloaded artifact (client.download_artifacts, line 6)",
				CWE:     []string{"CWE-502"}, Fingerprint: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
				Snippet: "model = pickle.load(open(local, 'rb'))"},
			{RuleID: "MLG106", Level: finding.Strict, Path: "models/fraud/model.zip", Member: "model/data.pkl",
				Message: "pickle calls os.system (opcode REDUCE at offset 0x2f)"},
			{RuleID: "MLG201", Rule: "secret-in-tracking-data", Level: finding.Strict, Path: "notebooks/my exp.py",
				Line: 3, Column: 1, EndLine: 5, EndColumn: 2,
				Message: `log_params key "api_key" carries a secret (value ghp_****************wxyz) & <redacted>`,
				CWE:     []string{"CWE-200", "CWE-532"}, Fingerprint: "5d41402abc4b2a76b9719d911017c592"},
			{RuleID: "MLG201", Rule: "secret-in-tracking-data", Level: finding.Strict, Path: "notebooks/my exp.py",
				Line: 9, Column: 1, Message: `log_param key "db_password"`, CWE: []string{"CWE-200", "CWE-532"},
				Fingerprint: "7d793037a0760186574b0282f2f435e7", Suppressed: true,
				Suppression: &finding.Suppression{Kind: "inline", Reason: "test fixture credential", Where: "notebooks/my exp.py:9"}},
			{RuleID: "MLG103", Rule: "unvalidated-model-uri", Level: finding.Strict, Path: "notebooks/train.ipynb",
				Line: 57, EndLine: 57, Cell: 4, CellLine: 2, Message: "model URI from command-line arguments is loaded unchecked",
				CWE: []string{"CWE-502", "CWE-20"}, Fingerprint: "3b5d5c3712955042212316173ccf37be"},
			{RuleID: "MLG403", Rule: "hardcoded-credentials", Level: finding.Strict, Path: "notebooks/train.ipynb",
				Line: 88, EndLine: 88, Cell: 6, Message: "the saved output of cell 6 holds a credential (github token)",
				CWE: []string{"CWE-798"}, Fingerprint: "800fd3b1c4f1a4b5a1e2d3c4b5a6978f"},
			{RuleID: "MLG402", Rule: "server-binds-all-interfaces", Level: finding.Advisory, Path: "deploy/docker-compose.yml",
				Line: 12, Column: 0, Message: "mlflow server --host 0.0.0.0", CWE: []string{"CWE-1327"},
				Fingerprint: "9e107d9d372bb6826bd81d3542a419d6"},
			{RuleID: "MLG401", Rule: "server-without-auth", Level: finding.Strict, Path: "deploy/docker-compose.yml",
				Line: 12, Message: "mlflow server published on 0.0.0.0:5000 with no --app-name and no proxy in front",
				CWE: []string{"CWE-306"}, Fingerprint: "e4d909c290d0fb1ca068ffaddf22cbd0"},
			{RuleID: "MLG405", Rule: "sqlite-backend-served", Level: finding.Warning, Path: "deploy/docker-compose.yml",
				Line: 14, Message: "sqlite:///mlflow.db served with --workers 4", CWE: []string{"CWE-1188"},
				Fingerprint: "d8e8fca2dc0f896fd7cb4cb0031ba249", Suppressed: true,
				Suppression: &finding.Suppression{Kind: "config", Reason: "dev-only compose file"}},
		},
		Errors: []finding.Error{
			{Path: "src/broken.py", Line: 4, Kind: finding.ErrParse, Message: "syntax error near 'def'"},
			{Path: "models/huge.pt", Member: "archive/data.pkl", Kind: finding.ErrLimit, Message: "member larger than 512 MiB; not inspected"},
		},
		Summary: Summary{Files: 12, Incomplete: true},
		Rules:   rules.Catalog(),
	}
}

// emptyReport is a clean run: no findings, no errors.
func emptyReport() *Report {
	return &Report{Tool: Tool{Name: "mlflow-guard", Version: "dev", Command: "scan"}, Root: "/src/project", Summary: Summary{Files: 3}}
}
