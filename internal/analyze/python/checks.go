package python

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// distinctiveClientMethods exist on MlflowClient and almost nowhere else, so
// a receiver we cannot type (a free name, a parameter) is taken as a client.
var distinctiveClientMethods = map[string]bool{
	"download_artifacts": true, "transition_model_version_stage": true, "set_registered_model_alias": true,
	"get_latest_versions": true, "set_model_version_tag": true, "get_model_version_download_uri": true,
	"create_registered_model": true, "create_model_version": true,
}

// clientMethods take MlflowClient's positional layout (run_id first).
var clientMethods = map[string]bool{
	"log_param": true, "set_tag": true, "log_dict": true, "log_text": true, "log_artifact": true, "log_artifacts": true,
	"create_experiment": true, "create_run": true, "log_batch": true, "set_experiment_tag": true,
}

// isClient decides whether a method call is on an MlflowClient.
func (s *scope) isClient(c *call) bool {
	r := c.recv
	if r == nil {
		return false
	}
	if r.inst == "mlflow.MlflowClient" {
		return true
	}
	if r.inst != "" || r.hasStr || r.dict != nil || r.isList || r.hasNum || r.envMap {
		return false
	}
	// an untyped receiver counts when it is named like a client or, for
	// MlflowClient-only method names, when it is a free name (snippets)
	named := strings.Contains(strings.ToLower(c.recvText), "client")
	if distinctiveClientMethods[c.method] && (named || r.t&tFree != 0) {
		return true
	}
	return (clientMethods[c.method] || registryLookups[c.method]) && named
}

// registryLookups return the tracking server's or registry's own records
// (a version's source, a run's artifact URI, a logged model's location):
// an argument chosen on the command line selects a record, it does not
// become the URI that is loaded.
var registryLookups = map[string]bool{
	"get_model_version": true, "get_latest_versions": true, "get_model_version_by_alias": true,
	"get_model_version_download_uri": true, "search_model_versions": true, "get_registered_model": true,
	"get_logged_model": true, "search_logged_models": true, "get_run": true, "search_runs": true,
}

var loadModelRe = regexp.MustCompile(`^mlflow\.[a-z0-9_]+\.(load_model|load_pyfunc)$`)
var logModelRe = regexp.MustCompile(`^mlflow\.([a-z0-9_]+)\.log_model$`)
var latestRe = regexp.MustCompile(`(?i)^models:/[^/@]+/latest/?$`)

const (
	fixPickle = "use a format that cannot run code (skops, ONNX, safetensors)"
)

func (s *scope) checkCall(c *call) {
	key := c.qual
	if key == "" && c.recv != nil {
		if s.isClient(c) {
			key = "client." + c.method
		} else {
			key = "." + c.method
		}
	}
	s.checkLatest(c)
	s.checkPublicACL(c)
	switch {
	case loadModelRe.MatchString(key):
		s.checkModelURI(c, key, c.arg("model_uri", 0))
		s.checkTraversal(c, key, destInput, c.arg("dst_path", -1), "dst_path")
		return
	case logModelRe.MatchString(key):
		s.checkLogModel(c, logModelRe.FindStringSubmatch(key)[1])
		return
	}
	switch key {
	// MLG101: pickle-family dumps
	case "pickle.dump", "cloudpickle.dump", "dill.dump", "joblib.dump", "torch.save":
		p := c.arg("file", 1)
		if key == "joblib.dump" {
			p = c.arg("filename", 1)
		}
		if p != nil && p.file != nil {
			p = p.file
		}
		s.f.dumps = append(s.f.dumps, dumpEvt{n: c.n, fn: s, path: p, inRun: s.inRun > 0, what: key})
	case "pickle.dumps", "cloudpickle.dumps", "dill.dumps":
		if s.inRun > 0 {
			s.f.dumps = append(s.f.dumps, dumpEvt{n: c.n, fn: s, inRun: true, what: key})
		}
	case "mlflow.shap.log_explainer":
		s.f.report(c.n, "MLG101", "mlflow.shap.log_explainer pickles the explainer; loading it runs code: log the model itself with a safe flavor format instead")

	// MLG102
	case "pickle.load", "pickle.loads", "pickle.Unpickler", "cloudpickle.load", "cloudpickle.loads", "dill.load",
		"dill.loads", "dill.Unpickler", "joblib.load", "pandas.read_pickle":
		s.checkUnpickle(c, key, c.arg("file", 0))
	case "torch.load":
		if !c.arg("weights_only", -1).isTrue() {
			s.checkUnpickle(c, "torch.load without weights_only=True", c.arg("f", 0))
		}
	case "numpy.load":
		if c.arg("allow_pickle", 2).isTrue() {
			s.checkUnpickle(c, "numpy.load(allow_pickle=True)", c.arg("file", 0))
		}

	// MLG103 / MLG301
	case "mlflow.pyfunc.spark_udf":
		s.checkModelURI(c, key, c.arg("model_uri", 1))
	case "mlflow.artifacts.download_artifacts":
		s.checkModelURI(c, key, c.arg("artifact_uri", 0))
		s.checkTraversal(c, key, tUser|tCLI|tFree, c.arg("artifact_path", 2), "artifact_path")
		s.checkTraversal(c, key, destInput, c.arg("dst_path", 3), "dst_path")
	case "client.download_artifacts":
		s.checkTraversal(c, "MlflowClient.download_artifacts", tUser|tCLI|tFree, c.arg("path", 1), "path")
		s.checkTraversal(c, "MlflowClient.download_artifacts", destInput, c.arg("dst_path", 2), "dst_path")

	// MLG104
	case "client.get_latest_versions":
		if !s.checked && !stagesChosen(s, c.arg("stages", 1)) && c.n != s.discard { // a dropped (or notebook-displayed) result loads nothing
			s.f.report(c.n, "MLG104", "get_latest_versions returns whatever was registered last; load a pinned version or an approved alias (models:/name@champion)")
		}

	// MLG105
	case "client.transition_model_version_stage":
		s.checkPromotion(c, "stage", c.arg("stage", 2), c.arg("archive_existing_versions", 3))
	case "client.set_registered_model_alias":
		s.checkPromotion(c, "alias", c.arg("alias", 1), nil)

	// MLG201-203
	case "mlflow.log_param", "mlflow.set_tag", "mlflow.set_experiment_tag":
		s.checkKV(c, c.arg("key", 0), c.arg("value", 1))
	case "client.log_param", "client.set_tag", "client.set_experiment_tag":
		s.checkKV(c, c.arg("key", 1), c.arg("value", 2))
	case "mlflow.log_params", "mlflow.set_tags", "mlflow.set_experiment_tags":
		s.checkDict(c, c.arg("params", 0), "params")
		if key != "mlflow.log_params" {
			s.checkDict(c, c.arg("tags", 0), "tags")
		}
	case "mlflow.log_dict":
		s.checkDict(c, c.arg("dictionary", 0), "dictionary")
		s.checkTraversal(c, key, tUser, c.arg("artifact_file", 1), "artifact_file")
	case "client.log_dict":
		s.checkDict(c, c.arg("dictionary", 1), "dictionary")
		s.checkTraversal(c, key, tUser, c.arg("artifact_file", 2), "artifact_file")
	case "mlflow.log_text":
		s.checkText(c, c.arg("text", 0))
		s.checkTraversal(c, key, tUser, c.arg("artifact_file", 1), "artifact_file")
	case "client.log_text":
		s.checkText(c, c.arg("text", 1))
		s.checkTraversal(c, key, tUser, c.arg("artifact_file", 2), "artifact_file")
	case "mlflow.start_run":
		s.checkKV(c, strVal("run_name"), c.arg("run_name", 2))
		s.checkDict(c, c.arg("tags", 5), "tags")
	case "client.create_run":
		s.checkKV(c, strVal("run_name"), c.arg("run_name", 3))
		s.checkDict(c, c.arg("tags", 2), "tags")

	// MLG204 / MLG301
	case "mlflow.log_artifact", "mlflow.log_artifacts":
		s.f.logged = append(s.f.logged, logEvt{fn: s, path: c.arg("local_path", 0)})
		s.checkUpload(c, key, c.arg("local_path", 0), key == "mlflow.log_artifacts")
		if key == "mlflow.log_artifacts" {
			s.checkUpload(c, key, c.arg("local_dir", -1), true)
		}
		s.checkTraversal(c, key, tUser, c.arg("artifact_path", 1), "artifact_path")
	case "client.log_artifact", "client.log_artifacts":
		s.f.logged = append(s.f.logged, logEvt{fn: s, path: c.arg("local_path", 1)})
		s.checkUpload(c, "MlflowClient."+c.method, c.arg("local_path", 1), key == "client.log_artifacts")
		if key == "client.log_artifacts" {
			s.checkUpload(c, key, c.arg("local_dir", -1), true)
		}
		s.checkTraversal(c, key, tUser, c.arg("artifact_path", 2), "artifact_path")

	// MLG205
	case "mlflow.create_experiment", "client.create_experiment":
		s.checkLocation(c, c.arg("artifact_location", 1))

	// MLG302
	case "builtins.exec", "builtins.eval", "builtins.compile", "runpy.run_path", "runpy.run_module",
		"importlib.import_module", "builtins.__import__", "os.system", "os.popen", "subprocess.run", "subprocess.call",
		"subprocess.check_call", "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
		"subprocess.getstatusoutput", "os.startfile", "os.execv", "os.execvp", "os.execl", "os.execlp", "os.spawnv",
		"importlib.util.spec_from_file_location", "importlib.machinery.SourceFileLoader":
		v := c.arg("", 0)
		if key == "importlib.util.spec_from_file_location" || key == "importlib.machinery.SourceFileLoader" {
			v = c.arg("location", 1)
			if key == "importlib.machinery.SourceFileLoader" {
				v = c.arg("path", 1)
			}
		}
		if key == "subprocess.run" || strings.HasPrefix(key, "subprocess.") {
			if a := c.arg("args", 0); a != nil {
				v = a
			}
		}
		if isDownloaded(v) {
			s.f.report(c.n, "MLG302", fmt.Sprintf("%s runs code from %s; never execute downloaded artifacts: ship code with the application and treat artifacts as data", strings.TrimPrefix(key, "builtins."), srcOf(v, "a downloaded artifact")))
		}

	// MLG305
	case ".generate_presigned_url", "client.generate_presigned_url":
		s.checkExpiry(c, c.arg("ExpiresIn", 2), "ExpiresIn")
	case ".generate_presigned_post":
		s.checkExpiry(c, c.arg("ExpiresIn", 4), "ExpiresIn")
	case ".generate_signed_url":
		s.checkExpiry(c, c.arg("expiration", 0), "expiration")

	// MLG403 / MLG407
	case "mlflow.set_tracking_uri", "mlflow.set_registry_uri":
		s.checkURI(c, c.arg("uri", 0), key)
	case "mlflow.MlflowClient":
		s.checkURI(c, c.arg("tracking_uri", 0), "MlflowClient(tracking_uri=...)")
		s.checkURI(c, c.arg("registry_uri", 1), "MlflowClient(registry_uri=...)")
	case "sqlalchemy.create_engine":
		s.checkURI(c, c.arg("url", 0), key)
	case "boto3.client", "boto3.resource", "boto3.Session", "boto3.session.Session":
		for _, k := range []string{"aws_secret_access_key", "aws_session_token"} {
			if v := c.arg(k, -1); s.f.hardcodedSecret(v) {
				s.f.report(c.n, "MLG403", fmt.Sprintf("%s is hard-coded in %s; take credentials from the environment, an instance role or a secret manager", k, key))
				break
			}
		}
		// An S3 endpoint is judged as MLFLOW_S3_ENDPOINT_URL is, here and
		// in deployment config.
		if host, ok := plainHTTPHost(c.arg("endpoint_url", -1)); ok {
			s.reportPlainHTTP(c.n, "MLG304", host, fmt.Sprintf("%s endpoint_url uses plain http for the artifact store; use https", key))
		}
	case "os.environ.update":
		if d := c.arg("", 0); d != nil && d.dict != nil {
			for _, k := range d.dict.keys {
				s.checkEnvSet(c.n, strVal(k), d.dict.vals[k])
			}
		}
		for k, v := range c.kw {
			s.checkEnvSet(c.n, strVal(k), v)
		}
	case "os.environ.setdefault", "os.putenv":
		s.checkEnvSet(c.n, c.arg("key", 0), c.arg("value", 1))
	case "os.getenv", "os.environ.get":
		s.checkEnvFallback(c, c.arg("key", 0), c.arg("default", 1))
	}
	switch lastPart(key) {
	case "generate_blob_sas", "generate_container_sas", "generate_account_sas", "generate_file_sas", "generate_share_sas":
		s.checkExpiry(c, c.arg("expiry", -1), "expiry")
	}
	if strings.HasPrefix(key, "mlflow.data.") && slices.Contains(mlflowDataSources, lastPart(key)) {
		if v := c.arg("source", -1); v != nil && v.hasStr {
			if kind, ok := s.f.sec.SecretValue(v.literalText()); ok {
				s.f.report(c.n, "MLG201", "dataset source contains a credential ("+kind+"); it is stored with the run: reference the data without credentials")
			}
		}
	}
}

func srcOf(v *val, dflt string) string {
	if v != nil && v.src != "" {
		return v.src
	}
	return dflt
}

func isDownloaded(v *val) bool {
	// lists hold lists (x = [x, x] in a loop shares one value many times):
	// each value is visited once, and the search is bounded
	if v == nil {
		return false
	}
	seen := map[*val]bool{}
	stack := []*val{v}
	for steps := 0; len(stack) > 0 && steps < maxElems*4; steps++ {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == nil || seen[x] {
			continue
		}
		seen[x] = true
		if x.t&tDown != 0 || x.file != nil && x.file.t&tDown != 0 {
			return true
		}
		stack = append(stack, x.list...)
	}
	return false
}

// stagesChosen reports a get_latest_versions stage list that names the
// stage to resolve: every stage is protected, or is the caller's or the
// operator's choice (a parameter, a command-line option, the stage part of
// a models:/name/<stage> URI), which resolves the way MLflow resolves
// models:/name/<stage>. A known unprotected stage ("None", "Staging") or
// one taken from a web request is still whatever was registered last.
func stagesChosen(s *scope, v *val) bool {
	if v == nil || !v.isList || len(v.list) == 0 {
		return false
	}
	for _, e := range v.list {
		switch {
		case e == nil || e.t&tUser != 0:
			return false
		case e.known() && !s.f.policy.IsProtectedStage(e.tmpl):
			return false
		}
	}
	return true
}

// checkLatest reports models:/name/latest passed to any call (MLG104).
func (s *scope) checkLatest(c *call) {
	for _, v := range c.allArgs() {
		if v != nil && v.hasStr && latestRe.MatchString(v.literalText()) {
			s.f.report(c.n, "MLG104", "model URI "+v.literalText()+" loads whatever was registered last; pin a version (models:/name/3) or an approved alias (models:/name@champion)")
			return
		}
	}
}

func (s *scope) checkUnpickle(c *call, what string, v *val) {
	if v == nil {
		if len(c.pos) == 0 && len(c.kw) == 0 {
			return
		}
		v = unknownVal
	}
	t := v.t
	if v.file != nil {
		t |= v.file.t
	}
	if t == 0 {
		return // a literal path shipped with the code
	}
	if v.own || v.file != nil && v.file.own {
		return // the model's own packaged artifact, as trusted as the model being loaded
	}
	if isDownloaded(v) {
		s.f.report(c.n, "MLG102", fmt.Sprintf("%s on a downloaded artifact runs any code the file contains; %s, or verify a recorded digest and load with a safe loader", what, fixPickle))
		return
	}
	from := "data that is not known safe"
	if src := v.src; src != "" && t&untrusted != 0 {
		from = src
	} else if v.file != nil && v.file.src != "" && v.file.t&untrusted != 0 {
		from = v.file.src
	}
	s.f.report(c.n, "MLG102", fmt.Sprintf("%s deserializes %s and can run code; %s", what, from, fixPickle))
}

// checkModelURI is MLG103: an untrusted URI reaching a model loader.
func (s *scope) checkModelURI(c *call, what string, v *val) {
	if v == nil || v.t&callerInput == 0 {
		return
	}
	if pinnedLocation(v) {
		return // the code fixes the scheme (and bucket): only a registry or run reference, or its own store, can load
	}
	s.f.report(c.n, "MLG103", fmt.Sprintf("%s loads a model URI from %s without an allowlist or format check; validate it (e.g. startswith((\"models:/\", \"runs:/\")) or an allowlist) before loading", what, srcOf(v, "an untrusted source")))
}

// destInput is what MLG301 judges in a download's destination: where the
// operator's own command line says to write is the tool's purpose, not an
// escape; a request (or snippet input) choosing it is.
const destInput = tUser | tFree

// checkTraversal is MLG301 for artifact paths and destinations.
func (s *scope) checkTraversal(c *call, what string, mask taint, v *val, arg string) {
	if v == nil || v.t&mask == 0 {
		return
	}
	s.f.report(c.n, "MLG301", fmt.Sprintf("%s %s comes from %s unchecked and can leave its root; reject '..', absolute paths and backslashes, or resolve it under a fixed base", what, arg, srcOf(v, "an untrusted source")))
}

func (s *scope) checkLogModel(c *call, flavor string) {
	var why string
	switch flavor {
	case "sklearn", "lightgbm", "pytorch", "xgboost", "shap":
		f := c.arg("serialization_format", -1)
		if f != nil {
			t := strings.ToLower(f.tmpl)
			if f.known() && (t == "pickle" || t == "cloudpickle") ||
				strings.HasSuffix(f.qual, "SERIALIZATION_FORMAT_PICKLE") || strings.HasSuffix(f.qual, "SERIALIZATION_FORMAT_CLOUDPICKLE") {
				why = "serialization_format selects pickle"
			}
		}
		if flavor == "shap" {
			why = "SHAP explainers are pickled"
		}
	case "statsmodels", "pmdarima":
		why = "this flavor always pickles the model"
	case "pyfunc":
		if pm := c.arg("python_model", -1); pm != nil && !pm.none && !pm.hasStr && pm.inst != "path" {
			why = "python_model objects are cloudpickled (log a models-from-code file path instead)"
		}
	}
	if why != "" {
		s.f.report(c.n, "MLG101", fmt.Sprintf("mlflow.%s.log_model: %s, and loading it runs code; %s", flavor, why, fixPickle))
	}
}

func (s *scope) checkPromotion(c *call, what string, target, archive *val) {
	var probs []string
	known := target != nil && target.known()
	protected := known && (what == "stage" && s.f.policy.IsProtectedStage(target.tmpl) || what == "alias" && s.f.policy.IsProtectedAlias(target.tmpl))
	if target != nil && target.copied {
		return // replicates another version's stage or alias (a migration), not a new promotion
	}
	if !s.approval && (protected || target != nil && !known) {
		if protected {
			probs = append(probs, fmt.Sprintf("moves a version to protected %s %q with no approval recorded", what, target.tmpl))
		} else if target.src != "" {
			probs = append(probs, fmt.Sprintf("sets a %s taken from %s (possibly protected) with no approval recorded", what, target.src))
		} else {
			probs = append(probs, fmt.Sprintf("sets a computed %s (possibly protected) with no approval recorded", what))
		}
	}
	if what == "stage" && known && strings.EqualFold(target.tmpl, "Production") && !archive.isTrue() {
		probs = append(probs, "does not archive the previous Production version (archive_existing_versions=True)")
	}
	if len(probs) > 0 {
		s.f.report(c.n, "MLG105", strings.Join(probs, "; ")+"; record a second person's approval (e.g. an approved_by tag) before promoting")
	}
}
