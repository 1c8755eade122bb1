package rules

import "github.com/mlflow-guard/mlflow-guard/internal/finding"

const (
	seedModel    = "Secure Model Registration and Loading"
	seedTracking = "Protect Experiment Data and Parameters"
	seedArtifact = "Secure Artifact Storage and Access"
	seedServer   = "Secure MLflow Server Configuration"
)

// catalog is the one explicit list of rules. Keep IDs stable; never reuse one.
// SecuritySeverity follows the scale documented on SeverityScale.
func catalog() []Rule {
	return []Rule{
		// MLG1xx: model registration and loading.
		{
			ID: "MLG101", Name: "pickle-model-serialization", Level: finding.Warning, SeedRule: seedModel,
			CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "6.5",
			Summary:    "A model serialized with pickle, cloudpickle, joblib or dill and logged where a safe format (skops, ONNX, safetensors) exists.",
			EnforcedIn: []string{InCode, InModel, InAudit, InGateway},
			Description: "Pickle-family formats (pickle, cloudpickle, joblib, dill) store a program, not data: whoever loads the file runs " +
				"whatever the file says. The security rule \"" + seedModel + "\" calls `pickle.dump` followed by `log_artifact` an RCE risk, and " +
				"the deserialization CVEs against MLflow flavors (CVE-2024-37052 to CVE-2024-37060) show how such files reach every " +
				"consumer of the registry. Logging a model this way hands each future user of the model a code-execution primitive when a " +
				"data-only format exists.",
			Fix: "Save the model in a data-only format (skops, ONNX or safetensors) and log that instead of a pickle.",
			Do: `with mlflow.start_run():
    # skops stores data only and loads without running code
    mlflow.sklearn.log_model(model, name="model", serialization_format="skops")
    mlflow.onnx.log_model(onnx_model, name="model_onnx")   # or ONNX`,
			Dont: `import pickle

with mlflow.start_run():
    pickle.dump(model, open("model.pkl", "wb"))
    mlflow.log_artifact("model.pkl")    # RCE for whoever loads it`,
		},
		{
			ID: "MLG102", Name: "unsafe-deserialization", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "9.8",
			Summary:    "pickle/joblib/cloudpickle/dill loads, torch.load without weights_only=True, numpy.load(allow_pickle=True) or pandas.read_pickle on data not known to be safe.",
			EnforcedIn: []string{InCode},
			Description: "Loading a pickle-family file executes the opcodes in it; `torch.load` without `weights_only=True`, " +
				"`numpy.load(allow_pickle=True)` and `pandas.read_pickle` do the same under another name. A model downloaded from a " +
				"registry or artifact store is only as trustworthy as everyone who could write to that store, so one poisoned upload " +
				"becomes code execution on every machine that loads it (CVE-2024-37052 to CVE-2024-37060; MITRE ATLAS AML.T0010). " +
				"The security rule \"" + seedModel + "\" names this as the supply-chain risk it exists to stop.",
			Fix: "Load with a format that cannot run code (safetensors, skops with explicit trusted types, torch.load(weights_only=True)) or scan the file first.",
			Do: `from safetensors.torch import load_file

state = load_file(path)                         # tensors only
weights = torch.load(path, weights_only=True)   # refuses arbitrary objects
arr = numpy.load(path, allow_pickle=False)`,
			Dont: `local = client.download_artifacts(run_id, "model.pkl")
model = pickle.load(open(local, "rb"))   # runs whatever the file says
model = joblib.load(local)
obj = torch.load(local)                  # no explicit weights_only=True`,
		},
		{
			ID: "MLG103", Name: "unvalidated-model-uri", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-502", "CWE-20"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "8.8",
			Summary:    "A model is loaded or downloaded from a URI that comes from an untrusted source and is not checked against an allowlist or format.",
			EnforcedIn: []string{InCode},
			Description: "`mlflow.<flavor>.load_model`, `pyfunc.spark_udf` and `download_artifacts` accept `runs:/`, `models:/`, `s3://`, " +
				"`http(s)://` and `file:` URIs. When the URI comes from a request, a handler parameter, `sys.argv`, `input()` or the " +
				"environment, the caller chooses which model (and so which code) runs in your process and can point it at a file they " +
				"control. The security rule's \"Don't\" example is exactly this (`load_model(user_provided_uri)`); its \"Do\" example checks the URI first.",
			Fix: "Check the model URI against an allowlist of schemes and registered model names, or build it yourself from an approved alias, before loading.",
			Do: `ALLOWED = {"fraud-detector", "churn"}

def load_approved(name: str):
    if name not in ALLOWED:
        raise ValueError("unknown model")
    return mlflow.pyfunc.load_model(f"models:/{name}@champion")`,
			Dont: `@app.post("/predict")
def predict():
    uri = request.json["model_uri"]           # the caller picks the code you run
    return mlflow.pyfunc.load_model(uri).predict(df)`,
		},
		{
			ID: "MLG104", Name: "unpinned-model-version", Level: finding.Warning, SeedRule: seedModel,
			CWE: []string{"CWE-494"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "5.3",
			Summary:    "A model reference that loads whatever was registered last (models:/name/latest, get_latest_versions) instead of an approved alias or pinned version.",
			EnforcedIn: []string{InCode, InDeploy},
			Description: "`models:/name/latest` and `client.get_latest_versions(...)` resolve to whatever was registered last, so an " +
				"unreviewed version reaches production the moment someone registers it. The security rule's \"Don't\" example loads " +
				"`models:/{model_name}/latest` and notes it \"could be unapproved model\". A pinned version number, or an alias that only " +
				"an approver may move, makes the deployed model an explicit decision (registry stages are deprecated since MLflow 2.9).",
			Fix: "Load a pinned version (models:/name/7) or an alias that only approvers may set (models:/name@champion).",
			Do: `model = mlflow.pyfunc.load_model("models:/fraud-detector@champion")
model = mlflow.pyfunc.load_model("models:/fraud-detector/7")
# deploy: mlflow models serve -m "models:/fraud-detector@champion"`,
			Dont: `model = mlflow.pyfunc.load_model(f"models:/{name}/latest")
version = client.get_latest_versions(name)[0]
# deploy: mlflow models serve -m "models:/fraud-detector/latest"`,
		},
		{
			ID: "MLG105", Name: "unapproved-promotion", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-862"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "7.5",
			Summary:    "A version moved to a protected stage or alias without a recorded approval by someone other than the requester, or to Production without archiving the previous version.",
			EnforcedIn: []string{InCode, InGateway, InAudit},
			Description: "Moving a version to `Production` or `Staging`, or pointing a protected alias (`prod*`, `production`, `champion` " +
				"by default) at it, decides what serves traffic. MLflow OSS has no approval workflow, so without an approval recorded by a " +
				"second person one account, or one stolen token, can ship any model. The security rule \"" + seedModel + "\" tags the " +
				"approver before the transition and passes `archive_existing_versions=True` so two versions never both claim Production.",
			Fix: "Record an approval by someone other than the requester before promoting, and archive the previous Production version.",
			Do: `if approver == requester:
    raise PermissionError("approval needs a second person")
client.set_model_version_tag(name, version, "mlflow-guard.approved_by", approver)
client.transition_model_version_stage(
    name, version, "Production", archive_existing_versions=True)`,
			Dont: `client.transition_model_version_stage(name, version, "Production")  # no approval
client.set_registered_model_alias(name, "champion", version)         # no approval`,
		},
		{
			ID: "MLG106", Name: "malicious-pickle", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-502", "CWE-94"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "9.8",
			Summary:    "A pickle stream that imports or calls a callable known to execute code or touch files, processes or the network.",
			EnforcedIn: []string{InModel, InGateway, InAudit},
			Description: "The pickle stream imports or calls a callable that runs commands, evaluates code, or opens files, processes or " +
				"sockets (`os.system`, `subprocess.Popen`, `builtins.exec`, `runpy`, `socket` ...). Loading it runs that callable with " +
				"the loader's privileges. mlflow-guard walks the opcodes without executing them, in plain files, zip members, torch " +
				"archives, numpy object arrays and joblib files. This is the payload behind CVE-2024-37052 to CVE-2024-37060 and the " +
				"\"RCE risk\" of the security rule \"" + seedModel + "\".",
			Fix: "Do not load this file: remove it from the registry, find out who uploaded it, and rebuild the model from source in a data-only format.",
			Do: `from safetensors.torch import save_file

save_file(model.state_dict(), "model.safetensors")   # nothing in it can execute
mlflow.log_artifact("model.safetensors")`,
			Dont: `class Payload:
    def __reduce__(self):
        return (os.system, ("id",))   # runs on every load

pickle.dump(Payload(), open("model.pkl", "wb"))`,
		},
		{
			ID: "MLG107", Name: "unknown-pickle-import", Level: finding.Warning, SeedRule: seedModel,
			CWE: []string{"CWE-502"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "6.5",
			Summary:    "A pickle that imports a callable that is neither known safe nor known dangerous, so it cannot be shown safe.",
			EnforcedIn: []string{InModel, InGateway, InAudit},
			Description: "The pickle imports a callable that is on neither the known-safe allowlist (numpy, torch storages, scikit-learn " +
				"estimators, collections ...) nor the known-dangerous denylist. Any importable callable can have side effects, so \"not " +
				"known bad\" is not \"safe\": the file cannot be shown safe until someone reviews that import. Often it is a class from " +
				"your own package; sometimes it is a gadget picked to slip past denylists.",
			Fix: "Review the imported callable; ship the model in a data-only format, or load it with an explicit list of reviewed types.",
			Do: `import skops.io as sio

sio.dump(pipeline, "model.skops")
model = sio.load("model.skops", trusted=["mypkg.features.Scaler"])  # reviewed type`,
			Dont: `joblib.dump(pipeline, "model.joblib")   # pipeline holds mypkg.features.Scaler
model = joblib.load("model.joblib")     # imports whatever the file names`,
		},
		{
			ID: "MLG108", Name: "model-runs-code-on-load", Level: finding.Warning, SeedRule: seedModel,
			CWE: []string{"CWE-94"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "6.5",
			Summary:    "A model that executes shipped code when loaded (pyfunc loader_module, code_paths, cloudpickled python_model, Keras Lambda, TF PyFunc ops, ONNX custom ops, TorchScript).",
			EnforcedIn: []string{InModel},
			Description: "Some model formats carry code that runs when the model is loaded: a pyfunc `loader_module` outside mlflow, " +
				"`code_paths` directories put on `sys.path`, a cloudpickled `python_model`, Keras `Lambda` layers (marshalled bytecode), " +
				"TensorFlow `PyFunc`/`ReadFile`/`WriteFile` ops, ONNX custom operator domains and TorchScript code. That code is not " +
				"necessarily malicious, but it runs with the loader's privileges and deserves the review any other dependency gets.",
			Fix: "Review the shipped code before loading, or re-export the model with built-in layers and ops only.",
			Do: `model = keras.Sequential([
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(1),
])                                     # built-in layers: the file is data
mlflow.keras.log_model(model, name="model")`,
			Dont: `model = keras.Sequential([keras.layers.Lambda(lambda x: x * 2)])  # bytecode in the file
mlflow.pyfunc.log_model(name="model", python_model=MyModel(),      # cloudpickled
                        code_paths=["src/"])`,
		},
		{
			ID: "MLG109", Name: "model-archive-escape", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-22"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "8.1",
			Summary:    "An archive member or reference that resolves outside the model directory (zip-slip, absolute paths, symlinks, ONNX external_data with ..).",
			EnforcedIn: []string{InModel},
			Description: "Archive members named `../x`, `/etc/x` or `C:\\x`, symlinks, and ONNX `external_data` locations containing `..` " +
				"resolve outside the model directory when the model is extracted or loaded, so a model file can overwrite or read " +
				"arbitrary files (zip-slip, CWE-22). MLflow's own artifact handling has had a series of traversal CVEs of the same shape " +
				"(CVE-2023-1177, CVE-2023-6831, CVE-2024-1560).",
			Fix: "Rebuild the archive with relative member names that stay inside the model directory, and without symlinks.",
			Do: `root = pathlib.Path(dest).resolve()
with zipfile.ZipFile(path) as zf:
    for name in zf.namelist():
        if not (root / name).resolve().is_relative_to(root):
            raise ValueError(f"member escapes the model directory: {name}")
    zf.extractall(root)`,
			Dont: `with zipfile.ZipFile("model.zip", "w") as zf:
    zf.writestr("../../.bashrc", payload)          # lands outside on extraction
onnx.save_model(m, "model.onnx", save_as_external_data=True,
                location="../weights.bin")`,
		},
		{
			ID: "MLG110", Name: "model-digest-mismatch", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-354", "CWE-494"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "8.1",
			Summary:    "Model files that differ from their recorded SHA-256 manifest, or an approved version with no recorded digest.",
			EnforcedIn: []string{InModel, InGateway, InAudit},
			Description: "An approved model version should be exactly the bytes that were reviewed. Files that differ from the recorded " +
				"SHA-256 manifest mean something changed after approval: a tampered artifact store or a re-upload over the same path. " +
				"An approved version with no recorded digest leaves the deploy side nothing to check (CWE-354, CWE-494).",
			Fix: "Record a SHA-256 manifest on approval (mlflow-guard digest -o MANIFEST DIR) and verify it before every load (mlflow-guard scan --verify MANIFEST DIR).",
			Do: `digest = hashlib.sha256(pathlib.Path(local).read_bytes()).hexdigest()
client.set_model_version_tag(name, version, "mlflow-guard.digest", digest)
# at deploy time: refuse to load when the digest differs`,
			Dont: `client.set_registered_model_alias(name, "champion", version)  # no digest recorded
model = mlflow.pyfunc.load_model(f"models:/{name}@champion")   # bytes never checked`,
		},
		{
			ID: "MLG111", Name: "unverified-model-file", Level: finding.Strict, SeedRule: seedModel,
			CWE: []string{"CWE-502", "CWE-693"}, OWASP: []string{"OWASP LLM05"}, SecuritySeverity: "8.1",
			Summary:    "A model file or container member that could not be fully judged (parse anomaly, unsupported variant, cap or size reached, unreadable, symlink): it fails the gate like a malicious one.",
			EnforcedIn: []string{InModel, InAudit, InGateway},
			Description: "A model gate is only as strong as the files it could read to the end. A pickle that the scanner gives up on while " +
				"Python's loader does not, an archive variant the scanner does not know, a file past a size or work cap, or a symlink " +
				"are exactly what an attacker crafts to slip a payload past a scanner: the loader runs what the scanner never saw. " +
				"mlflow-guard therefore fails closed: a model-candidate file that was not fully judged is a strict finding with its " +
				"cause, not a warning or a silent skip (CWE-502, CWE-693).",
			Fix: "Re-save the model with its library's own writer in a data-only format (safetensors, skops, ONNX), or remove the file; never load it unjudged.",
			Do: `# a format the gate can read completely
safetensors.torch.save_file(model.state_dict(), "model.safetensors")
mlflow.sklearn.log_model(model, name="model", serialization_format="skops")`,
			Dont: `# a hand-made or exotic container the scanner cannot follow
with open("model.pkl", "wb") as f:
    f.write(crafted_bytes)      # loads in Python, unreadable to the gate
model = pickle.load(open("model.pkl", "rb"))`,
		},

		// MLG2xx: experiment tracking data.
		{
			ID: "MLG201", Name: "secret-in-tracking-data", Level: finding.Strict, SeedRule: seedTracking,
			CWE: []string{"CWE-200", "CWE-532"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.2",
			Summary:    "Secrets in params, tags, metric names, logged dicts or text, dataset sources or run names, found by key or by value.",
			EnforcedIn: []string{InCode, InGateway, InAudit},
			Description: "Params, tags, metric names, logged dicts and text, dataset sources and run names are stored in plain text and " +
				"shown to everyone who can read the experiment, in the UI and through the REST API; search results were not even " +
				"filtered per user before CVE-2026-2734. A password, token or key logged there is published. Detection works by key " +
				"(password, secret, token, api_key, credential, private_key ..., word-aware) and by value (known token formats, private " +
				"keys, JWTs, URLs with embedded passwords). Security rule: \"" + seedTracking + "\".",
			Fix: "Stop logging the secret and rotate it; delete the run, then run mlflow gc, since a deleted run keeps its values until then.",
			Do: `mlflow.log_params({
    "learning_rate": 0.01,
    "db_secret_name": "prod/mlflow/db",   # a reference, not the value
})`,
			Dont: `mlflow.log_params({
    "api_key": os.environ["API_KEY"],      # shown in the UI
    "password": "secret123",
})`,
		},
		{
			ID: "MLG202", Name: "environment-dump", Level: finding.Strict, SeedRule: seedTracking,
			CWE: []string{"CWE-200", "CWE-532"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.2",
			Summary:    "Whole environments or config objects logged at once (log_params(os.environ), dict(os.environ), settings objects holding credentials).",
			EnforcedIn: []string{InCode},
			Description: "`log_params(os.environ)`, `log_dict(dict(os.environ))` or logging a settings object records every variable at " +
				"once, including cloud keys, database URLs and tokens that are in the environment today or will be tomorrow. It is the " +
				"widest form of MLG201 and cannot be made safe by filtering afterwards: the values are already stored.",
			Fix: "Log an explicit allowlist of named, non-secret settings instead of the whole environment or config object.",
			Do: `KEEP = ("GIT_COMMIT", "TRAIN_REGION")
mlflow.log_params({k: os.environ[k] for k in KEEP if k in os.environ})`,
			Dont: `mlflow.log_params(dict(os.environ))
mlflow.log_dict(vars(settings), "config.json")   # settings holds DB_PASSWORD`,
		},
		{
			ID: "MLG203", Name: "untrusted-input-logged", Level: finding.Warning, SeedRule: seedTracking,
			CWE: []string{"CWE-117", "CWE-20"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "4.3",
			Summary:    "Request or user input logged as a param or tag without validation or a length bound.",
			EnforcedIn: []string{InCode, InGateway},
			Description: "Request data or user input logged as a param or tag lands in the shared tracking store unvalidated: it can carry " +
				"secrets a user pasted, megabytes of text, control characters that forge log lines (CWE-117) or markup that a later " +
				"consumer renders. The security rule's \"Don't\" example is `mlflow.log_param(\"user_query\", user_input)`; its \"Do\" example caps every value at 250 " +
				"characters.",
			Fix: "Validate the input against the expected pattern and cap its length (the security rule uses 250 characters) before logging it.",
			Do: `query = CONTROL_CHARS.sub("", user_input)[:250]
mlflow.set_tag("query_kind", classify(query))
mlflow.log_param("query_length", len(user_input))`,
			Dont: `mlflow.log_param("user_query", request.args["q"])   # unbounded, unvalidated`,
		},
		{
			ID: "MLG204", Name: "sensitive-artifact-upload", Level: finding.Strict, SeedRule: seedTracking,
			CWE: []string{"CWE-200", "CWE-538"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.2",
			Summary:    "log_artifact(s) of sensitive paths (.env, ~/.aws, ~/.ssh, *.pem, id_rsa, kubeconfig, home or root) or of a directory from untrusted input.",
			EnforcedIn: []string{InCode, InGateway, InAudit},
			Description: "`log_artifact(s)` copies files into the artifact store, readable by anyone who can read the experiment. " +
				"Uploading `.env`, `~/.aws`, `~/.ssh`, `*.pem`, `id_rsa`, a kubeconfig, or a home or root directory leaks credentials " +
				"wholesale; uploading a directory named by untrusted input lets the caller choose what leaks. The security rule's \"Don't\" example is " +
				"`mlflow.log_artifacts(\"/path/to/anything\")`; its \"Do\" example checks type, size and content of a dedicated output directory.",
			Fix: "Log only a dedicated output directory whose files you have checked for type, size and secrets.",
			Do: `out = pathlib.Path("outputs").resolve()
for f in out.rglob("*"):
    if f.is_file() and f.suffix not in {".json", ".csv", ".png", ".md"}:
        raise ValueError(f"unexpected artifact: {f}")
mlflow.log_artifacts(str(out), artifact_path="reports")`,
			Dont: `mlflow.log_artifact(".env")
mlflow.log_artifacts(os.path.expanduser("~"))
mlflow.log_artifacts(request.args["dir"])`,
		},
		{
			ID: "MLG205", Name: "unsafe-artifact-location", Level: finding.Strict, SeedRule: seedTracking,
			CWE: []string{"CWE-22", "CWE-200"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.6",
			Summary:    "An experiment or workspace artifact location outside the allowlist, on a public bucket, with file:/http: schemes, or with #, ; or .. after URL-decoding.",
			EnforcedIn: []string{InCode, InGateway, InAudit},
			Description: "An experiment's or workspace's artifact location decides where the server reads and writes files. Locations " +
				"outside the allowlist, on public buckets, with `file:` or `http:` schemes, or containing `#`, `;` or `..` after " +
				"repeated URL-decoding were the entry point of a family of local-file-read CVEs (CVE-2023-6909, CVE-2024-1483, " +
				"CVE-2024-1594, CVE-2024-2928, CVE-2024-3848, CVE-2024-8859) and of SSRF towards cloud metadata addresses. The security rule's \"Do\" example " +
				"checks the location against allowed prefixes.",
			Fix: "Create experiments only with artifact locations under an allowlisted private prefix, with no fragment, ; parameters or .. segments.",
			Do: `ALLOWED = ("s3://mlflow-artifacts/",)
decoded = unquote(unquote(location))
if not location.startswith(ALLOWED) or any(s in decoded for s in ("#", ";", "..")):
    raise ValueError("invalid artifact location")
client.create_experiment(name, artifact_location=location)`,
			Dont: `client.create_experiment("exp", artifact_location="s3://public-bucket/")
client.create_experiment("exp", artifact_location="http:///#/../../../../etc/")`,
		},

		// MLG3xx: artifact storage and access.
		{
			ID: "MLG301", Name: "artifact-path-traversal", Level: finding.Strict, SeedRule: seedArtifact,
			CWE: []string{"CWE-22"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.6",
			Summary:    "Artifact paths or destinations that can leave their root: user-controlled artifact_path/dst_path, .., absolute, encoded forms.",
			EnforcedIn: []string{InCode, InGateway},
			Description: "An `artifact_path` or `dst_path` the caller controls, or one containing `..`, an absolute path, backslashes, NUL " +
				"or their (double) URL-encoded forms, can read, write or delete files outside the artifact root. MLflow has shipped this " +
				"bug repeatedly: `get-artifact` and model-version `source` (CVE-2023-1177, CVE-2023-2356, CVE-2023-2780, CVE-2023-6977, " +
				"CVE-2025-11201) and artifact deletion with double-encoded `..` (CVE-2024-1560). Security rule: \"" + seedArtifact + "\".",
			Fix: "Reject artifact paths with .., a leading /, backslashes or NUL, and check the resolved destination stays under a fixed base directory.",
			Do: `if ".." in artifact_path or artifact_path.startswith("/") or "\\" in artifact_path:
    raise ValueError("invalid artifact path")
dst = pathlib.Path(dst_path).resolve()
if not dst.is_relative_to(pathlib.Path("/app/artifacts").resolve()):
    raise ValueError("destination outside the allowed directory")
client.download_artifacts(run_id, artifact_path, str(dst))`,
			Dont: `def download_artifact(run_id: str, path: str):
    return client.download_artifacts(run_id, path, "/tmp")   # user controls path`,
		},
		{
			ID: "MLG302", Name: "executes-downloaded-artifact", Level: finding.Strict, SeedRule: seedArtifact,
			CWE: []string{"CWE-94"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "9.8",
			Summary:    "exec/eval/compile, runpy, importlib, subprocess or os.system on downloaded artifacts.",
			EnforcedIn: []string{InCode},
			Description: "Running a downloaded artifact with `exec`, `eval`, `compile`, `runpy`, `importlib` or `subprocess`/`os.system` " +
				"turns write access to the artifact store into code execution wherever the artifact is run (CWE-94). The security rule's \"Don't\" example, " +
				"`exec(open(artifact_path).read())`, is the canonical form; artifacts are data and should be parsed as data.",
			Fix: "Never execute artifact contents: ship code through your reviewed package and parse artifacts as data.",
			Do: `path = client.download_artifacts(run_id, "config.json")
config = json.loads(pathlib.Path(path).read_text())`,
			Dont: `path = client.download_artifacts(run_id, "script.py")
exec(open(path).read())                                          # RCE
subprocess.run(["bash", client.download_artifacts(run_id, "setup.sh")])`,
		},
		{
			ID: "MLG303", Name: "unencrypted-artifact-store", Level: finding.Warning, SeedRule: seedArtifact,
			CWE: []string{"CWE-311"}, OWASP: []string{"OWASP A02:2025"}, SecuritySeverity: "5.3",
			Summary:    "An S3 artifact root without server-side encryption, or the equivalent for other stores.",
			EnforcedIn: []string{InDeploy, InAudit},
			Description: "Artifacts hold model weights, evaluation data and sometimes training samples. An S3 artifact root without " +
				"server-side encryption (no `ServerSideEncryption` in `MLFLOW_S3_UPLOAD_EXTRA_ARGS`) stores them in clear at rest, as do " +
				"the equivalents on other stores (CWE-311). The security rule's \"Do\" example sets `aws:kms` with a dedicated key.",
			Fix: "Set MLFLOW_S3_UPLOAD_EXTRA_ARGS with ServerSideEncryption (aws:kms and a key), or enforce default encryption on the bucket.",
			Do: `export MLFLOW_S3_UPLOAD_EXTRA_ARGS='{"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/mlflow-key"}'
mlflow server --artifacts-destination s3://mlflow-artifacts/ --host 127.0.0.1`,
			Dont: `export MLFLOW_ARTIFACT_ROOT=s3://mlflow-artifacts/
mlflow server --default-artifact-root "$MLFLOW_ARTIFACT_ROOT"   # no encryption configured`,
		},
		{
			ID: "MLG304", Name: "public-artifact-store", Level: finding.Strict, SeedRule: seedArtifact,
			CWE: []string{"CWE-284", "CWE-319"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "8.2",
			Summary:    "Artifact roots on public buckets or plain http://, anonymous access, MLFLOW_S3_IGNORE_TLS=true.",
			EnforcedIn: []string{InCode, InDeploy, InAudit},
			Description: "An artifact root on a public bucket, on plain `http://`, with anonymous access, or with " +
				"`MLFLOW_S3_IGNORE_TLS=true` lets anyone read every model and artifact, or anyone on the network path swap them, " +
				"including versions that were approved. The security rule's \"Don't\" examples use `s3://public-bucket/` for both experiments and the server.",
			Fix: "Use a private bucket reached over TLS, with access limited to the MLflow server's own identity.",
			Do: `# bucket: public access blocked, only the server's role may read and write
mlflow server --artifacts-destination s3://mlflow-artifacts/ --host 127.0.0.1`,
			Dont: `export MLFLOW_S3_IGNORE_TLS=true
mlflow server --default-artifact-root s3://public-bucket/`,
		},
		{
			ID: "MLG305", Name: "long-lived-artifact-url", Level: finding.Warning, SeedRule: seedArtifact,
			CWE: []string{"CWE-613"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "4.3",
			Summary:    "Presigned or signed artifact URLs that live longer than one hour.",
			EnforcedIn: []string{InCode, InGateway},
			Description: "A presigned or signed URL is a bearer credential: anyone who sees it (logs, chat, browser history, a proxy) " +
				"can fetch the artifact until it expires, without authentication or an audit trail. The security rule signs URLs for one hour " +
				"(`ExpiresIn=3600`); S3 allows up to seven days, which turns a leaked link into a lasting leak (CWE-613).",
			Fix: "Sign artifact URLs for at most one hour (ExpiresIn <= 3600) and issue them per request.",
			Do: `url = s3.generate_presigned_url(
    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900)`,
			Dont: `url = s3.generate_presigned_url(
    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604800)  # 7 days`,
		},
		{
			ID: "MLG306", Name: "disallowed-artifact-type", Level: finding.Warning, SeedRule: seedArtifact,
			CWE: []string{"CWE-434"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "4.3",
			Summary:    "An uploaded artifact whose sniffed type is outside the allowlist or whose size is over the limit.",
			EnforcedIn: []string{InGateway},
			Description: "The security rule limits artifact uploads to data and report types (`.json`, `.yaml`, `.txt`, `.csv`, `.png`, `.jpg`, " +
				"`.html`, `.md`) and 100 MB per file. An upload whose sniffed content is outside that allowlist (an executable, a " +
				"script, a pickle renamed to `.json`) is an unreviewed path for code into the store (CWE-434); one over the size limit " +
				"is a storage-exhaustion risk. Models go through `log_model`, where they are scanned.",
			Fix: "Upload only allowlisted data and report types under the size limit, and log models with log_model so they are scanned.",
			Do: `mlflow.log_artifact("outputs/metrics.json")
mlflow.log_artifact("outputs/confusion_matrix.png")
mlflow.sklearn.log_model(model, name="model", serialization_format="skops")`,
			Dont: `mlflow.log_artifact("build/helper.so")          # native code as an artifact
mlflow.log_artifact("data/full_dump.parquet")   # 4 GB`,
		},

		// MLG4xx: server configuration.
		{
			ID: "MLG401", Name: "server-without-auth", Level: finding.Strict, SeedRule: seedServer,
			CWE: []string{"CWE-306"}, OWASP: []string{"OWASP A01:2025"}, SecuritySeverity: "9.1",
			Summary:    "An MLflow server reachable beyond loopback with no authentication in front of it.",
			EnforcedIn: []string{InDeploy, InAudit, InGateway},
			Description: "An MLflow server without `--app-name basic-auth` or an authenticating proxy gives anyone who reaches the port " +
				"full read and write access: every experiment and artifact, model registration and promotion, and, where job execution " +
				"is enabled, running jobs. MLflow's built-in auth has had gaps of its own (job and trace routes left open, " +
				"CVE-2026-0545 and CVE-2026-2652; fail-open routes before 3.16; GraphQL authorization opt-in), so the security rule binds to " +
				"loopback and requires authentication in front (CWE-306).",
			Fix: "Put authentication in front of the server, one of:\n" +
				"- mlflow server --app-name basic-auth (behind a TLS proxy)\n" +
				"- bind 127.0.0.1 behind a proxy that authenticates (nginx auth_basic or auth_request)\n" +
				"- mlflow-guard serve in front",
			FixFor: map[string]string{
				CtxDockerfile: "Put authentication in front of the server, one of:\n" +
					"- add --app-name basic-auth to the mlflow server CMD or ENTRYPOINT (behind a TLS proxy)\n" +
					"- publish the container port only to a proxy that authenticates, never on every interface\n" +
					"- mlflow-guard serve in front",
				CtxCompose: "Put authentication in front of the server, one of:\n" +
					"- add --app-name basic-auth to the service's command (behind a TLS proxy)\n" +
					"- remove the MLflow service's ports: and publish only a proxy service that authenticates (nginx auth_basic)\n" +
					"- mlflow-guard serve as the only published service",
				CtxKubernetes: "Put authentication in front of the server, one of:\n" +
					"- add --app-name basic-auth to the container args (behind a TLS proxy)\n" +
					"- keep the Service ClusterIP and expose it through an Ingress with nginx.ingress.kubernetes.io/auth-url or auth-type\n" +
					"- mlflow-guard serve as the only Service that reaches the pod",
			},
			Do: `mlflow server \
    --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
    --host 127.0.0.1 --port 5000 \
    --app-name basic-auth`,
			Dont: `mlflow server --host 0.0.0.0 --port 5000   # anyone who can reach it owns it`,
		},
		{
			ID: "MLG402", Name: "server-binds-all-interfaces", Level: finding.Warning, SeedRule: seedServer,
			CWE: []string{"CWE-1327"}, OWASP: []string{"OWASP A05:2025"}, SecuritySeverity: "5.3",
			Summary:    "The server binds to 0.0.0.0 or ::; the security rule's setup binds to 127.0.0.1 behind a proxy.",
			EnforcedIn: []string{InDeploy},
			Description: "`--host 0.0.0.0` or `::` publishes the server on every interface, so any host that can route to the machine " +
				"reaches MLflow directly and bypasses the proxy that terminates TLS and authenticates. Even with basic-auth on, the " +
				"security rule's setup binds to 127.0.0.1 and makes the proxy the only way in (CWE-1327).",
			Fix: "Bind with --host 127.0.0.1 and reach MLflow only through the authenticating TLS proxy.",
			FixFor: map[string]string{
				CtxDockerfile: "0.0.0.0 inside the image is fine; publish the port only on loopback (docker run -p 127.0.0.1:5000:5000) and reach it through the authenticating TLS proxy.",
				CtxCompose:    "Remove the MLflow service's ports: entry (or bind it as 127.0.0.1:5000:5000) and publish only the authenticating TLS proxy service.",
				CtxKubernetes: "Keep the MLflow Service ClusterIP (no LoadBalancer, NodePort or hostPort) and expose it only through an authenticating TLS Ingress.",
			},
			Do:   `mlflow server --host 127.0.0.1 --port 5000 --app-name basic-auth`,
			Dont: `mlflow server --host 0.0.0.0 --port 5000`,
		},
		{
			ID: "MLG403", Name: "hardcoded-credentials", Level: finding.Strict, SeedRule: seedServer,
			CWE: []string{"CWE-798"}, OWASP: []string{"OWASP A07:2025"}, SecuritySeverity: "8.2",
			Summary:    "Passwords or keys written into backend-store URIs, artifact roots, tracking URIs, environment literals or Kubernetes env values.",
			EnforcedIn: []string{InCode, InDeploy},
			Description: "Passwords and keys written into `--backend-store-uri`, artifact roots, tracking URIs, `ENV` lines, compose " +
				"files or Kubernetes `env.value` end up in version control, images, process listings and CI logs, and cannot be " +
				"rotated without a change and a redeploy (CWE-798). The security rule's \"Don't\" example is a backend URI with the password inline; its \"Do\" example " +
				"assembles the URI from the environment and uses `secretKeyRef` in Kubernetes.",
			Fix: "Move the credential to a secret store and inject it at run time as an environment variable; rotate the exposed value.",
			FixFor: map[string]string{
				CtxDockerfile:     "Remove the credential from ENV and ARG (both stay in the image history); pass it at run time (docker run -e, a BuildKit secret mount) and rotate it.",
				CtxCompose:        "Move the credential to a secrets: entry or an env_file kept out of version control and reference it as ${VAR}; rotate it.",
				CtxKubernetes:     "Move the credential into a Secret and reference it with valueFrom.secretKeyRef (in Helm values, an existingSecret); rotate it.",
				CtxNotebookOutput: "Rotate the credential, clear outputs before committing (jupyter nbconvert --clear-output, or nbstripout) and purge it from the history.",
			},
			Do: `env:
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: mlflow-secrets
      key: db-password`,
			Dont: `mlflow server --backend-store-uri postgresql://admin:password123@db/mlflow
# Kubernetes: env: [{name: DB_PASSWORD, value: "password123"}]`,
		},
		{
			ID: "MLG404", Name: "default-credentials", Level: finding.Strict, SeedRule: seedServer,
			CWE: []string{"CWE-1392", "CWE-521"}, OWASP: []string{"OWASP A07:2025"}, SecuritySeverity: "9.1",
			Summary:    "MLflow's historic default admin password, admin passwords under 12 characters, or an auth config that ships a default.",
			EnforcedIn: []string{InDeploy, InAudit},
			Description: "Through MLflow 3.16.0 the shipped `basic_auth.ini` gave the admin account a fixed, published password, and a " +
				"server that kept it can be taken over with one request (CVE-2026-2635). Admin passwords under 12 characters, or an auth " +
				"config that ships any default password, have the same effect; MLflow itself had no password policy until " +
				"CVE-2025-11200 and CVE-2025-1474 were fixed.",
			Fix: "Set a unique admin password of at least 12 characters from a secret (MLFLOW_AUTH_ADMIN_PASSWORD) and remove defaults from basic_auth.ini.",
			FixFor: map[string]string{
				CtxAdminPassword:     "Set a unique admin password of at least 12 characters from a secret (MLFLOW_AUTH_ADMIN_PASSWORD), not in basic_auth.ini.",
				CtxDefaultPermission: "Set default_permission = READ or NO_PERMISSIONS in basic_auth.ini and grant write access per experiment and model.",
			},
			Do: `[mlflow]
default_permission = NO_PERMISSIONS
admin_username = mlflow-admin
# admin password: MLFLOW_AUTH_ADMIN_PASSWORD from a secret, 12+ characters`,
			Dont: `[mlflow]
admin_username = admin
admin_password = changeme`,
		},
		{
			ID: "MLG405", Name: "sqlite-backend-served", Level: finding.Warning, SeedRule: seedServer,
			CWE: []string{"CWE-1188"}, OWASP: []string{"OWASP A05:2025"}, SecuritySeverity: "4.0",
			Summary:    "A SQLite backend store for a server served beyond loopback or with several workers.",
			EnforcedIn: []string{InDeploy},
			Description: "A SQLite backend serialises every writer behind one file lock on one machine's disk: with several workers or " +
				"users it yields `database is locked` errors and lost writes (including approval and audit records), and it cannot be " +
				"replicated or backed up safely while running. The security rule's \"Don't\" example marks `sqlite:///mlflow.db` \"not suitable for " +
				"multi-user production\". A single-user server on loopback is not reported.",
			Fix: "Use PostgreSQL or MySQL, with TLS, as the backend store of any shared or multi-worker server.",
			Do: `mlflow server --host 127.0.0.1 \
    --backend-store-uri "postgresql://mlflow@db.internal/mlflow?sslmode=verify-full"`,
			Dont: `mlflow server --host 0.0.0.0 --workers 4 --backend-store-uri sqlite:///mlflow.db`,
		},
		{
			ID: "MLG406", Name: "database-without-tls", Level: finding.Warning, SeedRule: seedServer,
			CWE: []string{"CWE-319"}, OWASP: []string{"OWASP A02:2025"}, SecuritySeverity: "5.9",
			Summary:    "PostgreSQL/MySQL backend URIs without sslmode=require/verify-ca/verify-full or the driver's equivalent.",
			EnforcedIn: []string{InDeploy},
			Description: "Without `sslmode=require` (better `verify-full`) a PostgreSQL client may fall back to plaintext, and MySQL " +
				"drivers connect without TLS unless told to: every param, tag, user record and password hash of the backend store then " +
				"crosses the network readable and modifiable (CWE-319). The security rule's \"Do\" example appends `?sslmode=require`.",
			Fix:  "Add sslmode=verify-full (PostgreSQL) or the driver's TLS option (MySQL) to the backend store URI.",
			Do:   `--backend-store-uri "postgresql://mlflow@db.internal/mlflow?sslmode=verify-full"`,
			Dont: `--backend-store-uri "postgresql://mlflow@db.internal/mlflow"   # may fall back to plaintext`,
		},
		{
			ID: "MLG407", Name: "plaintext-transport", Level: finding.Strict, SeedRule: seedServer,
			CWE: []string{"CWE-319"}, OWASP: []string{"OWASP A02:2025"}, SecuritySeverity: "7.5",
			Summary:    "http:// tracking URIs to non-loopback hosts, MLFLOW_TRACKING_INSECURE_TLS=true, proxies without TLS or below TLS 1.2, no HSTS.",
			EnforcedIn: []string{InCode, InDeploy, InAudit},
			Description: "An `http://` tracking URI to a non-loopback host sends credentials, params and model files in clear; " +
				"`MLFLOW_TRACKING_INSECURE_TLS=true` switches certificate checks off so anyone on the path can impersonate the server; " +
				"a proxy without TLS, with TLS below 1.2 or without HSTS leaves the same gap on the server side (CWE-319). The security rule " +
				"terminates TLS at nginx in front of a loopback-bound server.",
			Fix: "Use https:// tracking URIs with certificate verification, and terminate TLS 1.2 or newer with HSTS at the proxy.",
			Do: `server {
    listen 443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=31536000" always;
    location / { proxy_pass http://127.0.0.1:5000; }
}`,
			Dont: `mlflow.set_tracking_uri("http://mlflow.example.com:5000")
os.environ["MLFLOW_TRACKING_INSECURE_TLS"] = "true"`,
		},
		{
			ID: "MLG408", Name: "security-middleware-weakened", Level: finding.Strict, SeedRule: seedServer,
			CWE: []string{"CWE-346", "CWE-1021"}, OWASP: []string{"OWASP A05:2025"}, SecuritySeverity: "7.5",
			Summary:    "--disable-security-middleware, --allowed-hosts '*', --cors-allowed-origins '*', --x-frame-options NONE, GraphQL outside authorization.",
			EnforcedIn: []string{InDeploy, InAudit},
			Description: "Since 3.5.0 the MLflow server checks the Host header, CORS origins and framing; that is the fix for DNS " +
				"rebinding (CVE-2025-14279). `--disable-security-middleware`, `--allowed-hosts '*'`, `--cors-allowed-origins '*'` and " +
				"`--x-frame-options NONE` switch those checks off, so a web page open in a user's browser can drive the API. Leaving " +
				"`MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH` unset lets GraphQL queries skip basic-auth's authorization.",
			Fix: "Keep the security middleware on with explicit host and origin lists, and set MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH=true with basic-auth.",
			Do: `export MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH=true
mlflow server --host 127.0.0.1 --app-name basic-auth \
    --allowed-hosts mlflow.example.com \
    --cors-allowed-origins https://mlflow.example.com`,
			Dont: `mlflow server --allowed-hosts '*' --cors-allowed-origins '*' --x-frame-options NONE
mlflow server --disable-security-middleware`,
		},
		{
			ID: "MLG409", Name: "missing-proxy-hardening", Level: finding.Warning, SeedRule: seedServer,
			CWE: []string{"CWE-693", "CWE-770"}, OWASP: []string{"OWASP A05:2025"}, SecuritySeverity: "4.3",
			Summary:    "A proxy in front of MLflow without security headers, request rate limits or a body size limit.",
			EnforcedIn: []string{InDeploy, InAudit},
			Description: "The proxy is where the security rule adds the defences MLflow lacks: `X-Content-Type-Options` and `X-Frame-Options` or a " +
				"Content-Security-Policy against content sniffing and clickjacking of the UI, `limit_req` against password guessing and " +
				"expensive queries (the `/graphql` batching DoS, CVE-2025-0453), and `client_max_body_size` against storage " +
				"exhaustion. A proxy without them forwards all of that straight to MLflow.",
			Fix: "Add security headers, a limit_req rate limit and client_max_body_size to the proxy that serves MLflow.",
			Do: `add_header X-Content-Type-Options nosniff;
add_header X-Frame-Options DENY;
add_header Content-Security-Policy "default-src 'self'";
limit_req zone=mlflow burst=20 nodelay;
client_max_body_size 100M;`,
			Dont: `location / {
    proxy_pass http://127.0.0.1:5000;   # no headers, no rate or size limit
}`,
		},
		{
			ID: "MLG410", Name: "insecure-container", Level: finding.Warning, SeedRule: seedServer,
			CWE: []string{"CWE-250", "CWE-770"}, OWASP: []string{"OWASP A05:2025"}, SecuritySeverity: "5.3",
			Summary:    "An MLflow container or pod that may run as root, allows privilege escalation, is privileged, has a writable root filesystem or no resource limits.",
			EnforcedIn: []string{InDeploy},
			Description: "A container that runs MLflow as root, allows privilege escalation, is privileged, has a writable root " +
				"filesystem or no resource limits turns any server-side bug (the artifact traversal and job execution CVEs above) into " +
				"control of the node, and lets one runaway request starve its neighbours (CWE-250, CWE-770). The security rule's Kubernetes \"Do\" example " +
				"sets `runAsNonRoot`, `allowPrivilegeEscalation: false`, `readOnlyRootFilesystem: true` and limits.",
			Fix: "Run as a non-root user, without privilege escalation, with a read-only root filesystem and CPU and memory limits.",
			FixFor: map[string]string{
				CtxDockerfile: "Add a non-root USER (e.g. USER 10001) to the image, and run it with --read-only, --security-opt no-new-privileges and --memory/--cpus limits.",
				CtxCompose:    "Set user: a non-root UID, read_only: true, security_opt: [no-new-privileges:true] and deploy.resources.limits; remove privileged: true.",
				CtxKubernetes: "Set securityContext runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true and resources.limits for cpu and memory.",
			},
			Do: `securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
resources:
  limits: {memory: "2Gi", cpu: "1"}`,
			Dont: `securityContext:
  privileged: true        # root, writable filesystem, no limits`,
		},
	}
}
