package rules

import "github.com/mlflow-guard/mlflow-guard/internal/finding"

const (
	seedModel    = "Secure Model Registration and Loading"
	seedTracking = "Protect Experiment Data and Parameters"
	seedArtifact = "Secure Artifact Storage and Access"
	seedServer   = "Secure MLflow Server Configuration"
)

// catalog is the one explicit list of rules. Keep IDs stable; never reuse one.
func catalog() []Rule {
	return []Rule{
		{ID: "MLG101", Name: "pickle-model-serialization", Level: finding.Warning, SeedRule: seedModel, CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A model serialized with pickle, cloudpickle, joblib or dill and logged where a safe format (skops, ONNX, safetensors) exists.", EnforcedIn: []string{InCode, InModel, InAudit, InGateway}},
		{ID: "MLG102", Name: "unsafe-deserialization", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"},
			Summary: "pickle/joblib/cloudpickle/dill loads, torch.load without weights_only=True, numpy.load(allow_pickle=True) or pandas.read_pickle on data not known to be safe.", EnforcedIn: []string{InCode}},
		{ID: "MLG103", Name: "unvalidated-model-uri", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-502", "CWE-20"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A model is loaded or downloaded from a URI that comes from an untrusted source and is not checked against an allowlist or format.", EnforcedIn: []string{InCode}},
		{ID: "MLG104", Name: "unpinned-model-version", Level: finding.Warning, SeedRule: seedModel, CWE: []string{"CWE-494"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A model reference that loads whatever was registered last (models:/name/latest, get_latest_versions) instead of an approved alias or pinned version.", EnforcedIn: []string{InCode, InDeploy}},
		{ID: "MLG105", Name: "unapproved-promotion", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-862"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A version moved to a protected stage or alias without a recorded approval by someone other than the requester, or to Production without archiving the previous version.", EnforcedIn: []string{InCode, InGateway, InAudit}},
		{ID: "MLG106", Name: "malicious-pickle", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-502", "CWE-94"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A pickle stream that imports or calls a callable known to execute code or touch files, processes or the network.", EnforcedIn: []string{InModel, InGateway, InAudit}},
		{ID: "MLG107", Name: "unknown-pickle-import", Level: finding.Warning, SeedRule: seedModel, CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A pickle that imports a callable that is neither known safe nor known dangerous, so it cannot be shown safe.", EnforcedIn: []string{InModel, InGateway, InAudit}},
		{ID: "MLG108", Name: "model-runs-code-on-load", Level: finding.Warning, SeedRule: seedModel, CWE: []string{"CWE-94"}, OWASP: []string{"OWASP LLM05"},
			Summary: "A model that executes shipped code when loaded (pyfunc loader_module, code_paths, cloudpickled python_model, Keras Lambda, TF PyFunc ops, ONNX custom ops, TorchScript).", EnforcedIn: []string{InModel}},
		{ID: "MLG109", Name: "model-archive-escape", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-22"}, OWASP: []string{"OWASP LLM05"},
			Summary: "An archive member or reference that resolves outside the model directory (zip-slip, absolute paths, symlinks, ONNX external_data with ..).", EnforcedIn: []string{InModel}},
		{ID: "MLG110", Name: "model-digest-mismatch", Level: finding.Strict, SeedRule: seedModel, CWE: []string{"CWE-354", "CWE-494"}, OWASP: []string{"OWASP LLM05"},
			Summary: "Model files that differ from their recorded SHA-256 manifest, or an approved version with no recorded digest.", EnforcedIn: []string{InModel, InGateway, InAudit}},

		{ID: "MLG201", Name: "secret-in-tracking-data", Level: finding.Strict, SeedRule: seedTracking, CWE: []string{"CWE-200", "CWE-532"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Secrets in params, tags, metric names, logged dicts or text, dataset sources or run names, found by key or by value.", EnforcedIn: []string{InCode, InGateway, InAudit}},
		{ID: "MLG202", Name: "environment-dump", Level: finding.Strict, SeedRule: seedTracking, CWE: []string{"CWE-200", "CWE-532"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Whole environments or config objects logged at once (log_params(os.environ), dict(os.environ), settings objects holding credentials).", EnforcedIn: []string{InCode}},
		{ID: "MLG203", Name: "untrusted-input-logged", Level: finding.Warning, SeedRule: seedTracking, CWE: []string{"CWE-117", "CWE-20"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Request or user input logged as a param or tag without validation or a length bound.", EnforcedIn: []string{InCode, InGateway}},
		{ID: "MLG204", Name: "sensitive-artifact-upload", Level: finding.Strict, SeedRule: seedTracking, CWE: []string{"CWE-200", "CWE-538"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "log_artifact(s) of sensitive paths (.env, ~/.aws, ~/.ssh, *.pem, id_rsa, kubeconfig, home or root) or of a directory from untrusted input.", EnforcedIn: []string{InCode, InGateway, InAudit}},
		{ID: "MLG205", Name: "unsafe-artifact-location", Level: finding.Strict, SeedRule: seedTracking, CWE: []string{"CWE-22", "CWE-200"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "An experiment or workspace artifact location outside the allowlist, on a public bucket, with file:/http: schemes, or with #, ; or .. after URL-decoding.", EnforcedIn: []string{InCode, InGateway, InAudit}},

		{ID: "MLG301", Name: "artifact-path-traversal", Level: finding.Strict, SeedRule: seedArtifact, CWE: []string{"CWE-22"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Artifact paths or destinations that can leave their root: user-controlled artifact_path/dst_path, .., absolute, encoded forms.", EnforcedIn: []string{InCode, InGateway}},
		{ID: "MLG302", Name: "executes-downloaded-artifact", Level: finding.Strict, SeedRule: seedArtifact, CWE: []string{"CWE-94"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "exec/eval/compile, runpy, importlib, subprocess or os.system on downloaded artifacts.", EnforcedIn: []string{InCode}},
		{ID: "MLG303", Name: "unencrypted-artifact-store", Level: finding.Warning, SeedRule: seedArtifact, CWE: []string{"CWE-311"}, OWASP: []string{"OWASP A02:2025"},
			Summary: "An S3 artifact root without server-side encryption, or the equivalent for other stores.", EnforcedIn: []string{InDeploy, InAudit}},
		{ID: "MLG304", Name: "public-artifact-store", Level: finding.Strict, SeedRule: seedArtifact, CWE: []string{"CWE-284", "CWE-319"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Artifact roots on public buckets or plain http://, anonymous access, MLFLOW_S3_IGNORE_TLS=true.", EnforcedIn: []string{InCode, InDeploy, InAudit}},
		{ID: "MLG305", Name: "long-lived-artifact-url", Level: finding.Warning, SeedRule: seedArtifact, CWE: []string{"CWE-613"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "Presigned or signed artifact URLs that live longer than one hour.", EnforcedIn: []string{InCode, InGateway}},
		{ID: "MLG306", Name: "disallowed-artifact-type", Level: finding.Warning, SeedRule: seedArtifact, CWE: []string{"CWE-434"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "An uploaded artifact whose sniffed type is outside the allowlist or whose size is over the limit.", EnforcedIn: []string{InGateway}},

		{ID: "MLG401", Name: "server-without-auth", Level: finding.Strict, SeedRule: seedServer, CWE: []string{"CWE-306"}, OWASP: []string{"OWASP A01:2025"},
			Summary: "An MLflow server reachable beyond loopback with no authentication in front of it.", EnforcedIn: []string{InDeploy, InAudit, InGateway}},
		{ID: "MLG402", Name: "server-binds-all-interfaces", Level: finding.Warning, SeedRule: seedServer, CWE: []string{"CWE-1327"}, OWASP: []string{"OWASP A05:2025"},
			Summary: "The server binds to 0.0.0.0 or ::; the seed binds to 127.0.0.1 behind a proxy.", EnforcedIn: []string{InDeploy}},
		{ID: "MLG403", Name: "hardcoded-credentials", Level: finding.Strict, SeedRule: seedServer, CWE: []string{"CWE-798"}, OWASP: []string{"OWASP A07:2025"},
			Summary: "Passwords or keys written into backend-store URIs, artifact roots, tracking URIs, environment literals or Kubernetes env values.", EnforcedIn: []string{InCode, InDeploy}},
		{ID: "MLG404", Name: "default-credentials", Level: finding.Strict, SeedRule: seedServer, CWE: []string{"CWE-1392", "CWE-521"}, OWASP: []string{"OWASP A07:2025"},
			Summary: "MLflow's historic default admin password, admin passwords under 12 characters, or an auth config that ships a default.", EnforcedIn: []string{InDeploy, InAudit}},
		{ID: "MLG405", Name: "sqlite-backend-served", Level: finding.Warning, SeedRule: seedServer, CWE: []string{"CWE-1188"}, OWASP: []string{"OWASP A05:2025"},
			Summary: "A SQLite backend store for a server served beyond loopback or with several workers.", EnforcedIn: []string{InDeploy}},
		{ID: "MLG406", Name: "database-without-tls", Level: finding.Warning, SeedRule: seedServer, CWE: []string{"CWE-319"}, OWASP: []string{"OWASP A02:2025"},
			Summary: "PostgreSQL/MySQL backend URIs without sslmode=require/verify-ca/verify-full or the driver's equivalent.", EnforcedIn: []string{InDeploy}},
		{ID: "MLG407", Name: "plaintext-transport", Level: finding.Strict, SeedRule: seedServer, CWE: []string{"CWE-319"}, OWASP: []string{"OWASP A02:2025"},
			Summary: "http:// tracking URIs to non-loopback hosts, MLFLOW_TRACKING_INSECURE_TLS=true, proxies without TLS or below TLS 1.2, no HSTS.", EnforcedIn: []string{InCode, InDeploy, InAudit}},
		{ID: "MLG408", Name: "security-middleware-weakened", Level: finding.Strict, SeedRule: seedServer, CWE: []string{"CWE-346", "CWE-1021"}, OWASP: []string{"OWASP A05:2025"},
			Summary: "--disable-security-middleware, --allowed-hosts '*', --cors-allowed-origins '*', --x-frame-options NONE, GraphQL outside authorization.", EnforcedIn: []string{InDeploy, InAudit}},
		{ID: "MLG409", Name: "missing-proxy-hardening", Level: finding.Warning, SeedRule: seedServer, CWE: []string{"CWE-693", "CWE-770"}, OWASP: []string{"OWASP A05:2025"},
			Summary: "A proxy in front of MLflow without security headers, request rate limits or a body size limit.", EnforcedIn: []string{InDeploy, InAudit}},
		{ID: "MLG410", Name: "insecure-container", Level: finding.Warning, SeedRule: seedServer, CWE: []string{"CWE-250", "CWE-770"}, OWASP: []string{"OWASP A05:2025"},
			Summary: "An MLflow container or pod that may run as root, allows privilege escalation, is privileged, has a writable root filesystem or no resource limits.", EnforcedIn: []string{InDeploy}},
	}
}
