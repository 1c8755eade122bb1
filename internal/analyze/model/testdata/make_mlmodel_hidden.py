"""MLflow model directories whose MLmodel hides what runs on load behind
YAML that yaml.safe_load resolves (duplicate keys, merge keys, aliases).
argv[1]: output directory. With "load" as argv[2], instead load every model
in it with mlflow.pyfunc.load_model (the payloads only create the marker
file named in each model's README), and print one JSON line per model."""
import json
import os
import pickle
import sys

out = sys.argv[1]

LOADER = '''
import os
def _load_pyfunc(path):
    open(os.environ["MLG_MARKER_DIR"] + "/{name}", "w").close()
    raise RuntimeError("payload ran")
'''


class Marker:
    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        # Creates the marker file while unpickling, then stops the load.
        return (exec, ("open(__import__('os').environ['MLG_MARKER_DIR'] + '/%s', 'w').close()" % self.name,))


def loader_model(name, mlmodel):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "code"))
    with open(os.path.join(d, "code", "evil_loader_%s.py" % name.replace("-", "_")), "w") as f:
        f.write(LOADER.format(name=name))
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write(mlmodel.replace("LOADER", "evil_loader_%s" % name.replace("-", "_")))


def python_model(name, mlmodel):
    d = os.path.join(out, name)
    os.makedirs(d)
    with open(os.path.join(d, "python_model.pkl"), "wb") as f:
        pickle.dump(Marker(name), f)
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write(mlmodel)


HEAD = "artifact_path: model\nmlflow_version: 3.17.2\nmodel_uuid: 0123\n"

if len(sys.argv) > 2 and sys.argv[2] == "load":
    import mlflow.pyfunc

    for name in sorted(os.listdir(out)):
        try:
            mlflow.pyfunc.load_model(os.path.join(out, name))
            err = ""
        except Exception as e:  # the payloads raise once they ran
            err = type(e).__name__
        ran = os.path.exists(os.path.join(os.environ["MLG_MARKER_DIR"], name))
        print(json.dumps({"model": name, "ran": ran, "error": err}))
    sys.exit(0)

os.makedirs(out)
# The first loader_module looks like MLflow's; PyYAML keeps the last one.
loader_model("dup-loader", HEAD + "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
             "    code: null\n    python_version: 3.11.0\n    loader_module: LOADER\n    code: code\n")
# Merge keys: the flavor's own keys look benign, the merged anchor adds
# the loader and the code directory.
loader_model("merge-loader", "defaults: &d\n  loader_module: LOADER\n  code: code\n" + HEAD +
             "flavors:\n  python_function:\n    <<: *d\n    python_version: 3.11.0\n")
# Two merged mappings: the later one wins.
loader_model("merge-list-loader", "a: &a {loader_module: mlflow.sklearn}\nb: &b {loader_module: LOADER, code: code}\n" +
             HEAD + "flavors:\n  python_function: {<<: [*a, *b], python_version: 3.11.0}\n")
# A whole flavor behind an alias, with a duplicate flavors key.
python_model("alias-python-model", "t: &fl {loader_module: mlflow.pyfunc.model, python_model: python_model.pkl,"
             " python_version: 3.11.0}\n" + HEAD + "flavors:\n  sklearn: {pickled_model: model.skops}\n"
             "flavors:\n  python_function: *fl\n")
# A merged python_model under a non-specific tag and an escaped key.
python_model("merge-python-model", "p: &p {\"\\x70ython_model\": ! python_model.pkl}\n" + HEAD +
             "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    <<: *p\n    python_version: 3.11.0\n")
