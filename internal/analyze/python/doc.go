// Package python checks Python source for the code-enforced rules of the
// catalog: MLG101-MLG105, MLG201-MLG205, MLG301-MLG305 (303 is deploy-only),
// MLG403 and MLG407.
//
// A file is parsed with tree-sitter only when its bytes name one of the
// sinks (mlflow, pickle/joblib/dill/torch with a load/dump verb, presigned
// URLs, MLFLOW_ variables ...: the gate, gate.go), and then only its
// module-level code and the definitions whose words can make a check fire
// (the slicer, outline.go; the word classes are in sinkwords.go). The tree
// is flattened into Go nodes in one cgo call and then walked in pure Go.
//
// The walk is an abstract interpretation per function: imports and aliases
// resolve call targets to qualified names (mlflow.pyfunc.load_model,
// pickle.load, MlflowClient instances held in variables, on self or at
// module level), and every expression evaluates to a value that carries its
// literal text (f-strings and concatenation keep their literal parts), dict
// entries (for **kwargs and log_params), and taint bits:
//
//	user    request data, web handler parameters, input()
//	cli     sys.argv, argparse results, click/typer command parameters
//	env     os.environ / os.getenv
//	param   a parameter of a public function or method: the caller decides
//	free    a name bound nowhere in the file (snippets: user_provided_uri)
//	down    a downloaded artifact's path or content
//	comp    computed by code we do not model
//
// Each sink states which bits make it fire: model URIs (MLG103) take user,
// cli, env, param and free unless the code fixes the scheme
// (f"models:/{x}"); download paths (MLG301) take user, cli, param and free;
// upload paths and logged params (MLG203, MLG204, MLG205) only user (and
// free for MLG203);
// unpickling (MLG102) fires on anything but a value built from literals
// only; code execution (MLG302) on down. Taint flows through assignment,
// f-strings, concatenation, %, .format, str(), os.path and pathlib calls,
// subscripts and attributes; unknown calls add comp.
//
// A guard clears user/env/param/free (and turns down into comp): an if whose
// condition validates the value (startswith/endswith, re.match/fullmatch,
// is_relative_to, ==/!=/in/not in against literals or allowlists,
// ".." in x, a call to validate*/check*/is_valid*/sanitize*/verify* ...)
// sanitizes it on the branch that survives: after the if when the other
// branch raises/returns/continues, inside the branch for positive checks.
// assert and bare validator calls sanitize from there on; validating a value
// derived from x (Path(x).resolve()) sanitizes x too. Branches are joined,
// loops run once, calls into other functions are not followed.
package python
