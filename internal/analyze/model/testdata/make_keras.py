"""Keras 3 models with lambdas, written under argv[1] with the real keras
(KERAS_BACKEND=jax, CPU). With "load" as argv[2], load each one the normal
way with safe_mode=False and print one JSON line per file saying whether
its payload ran (it only creates a marker file named after the model)."""
import json
import os
import sys
import warnings
import zipfile

warnings.filterwarnings("ignore")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import keras

out = sys.argv[1]
markers = os.environ["MLG_MARKER_DIR"]

if len(sys.argv) > 2 and sys.argv[2] == "load":
    for name in sorted(os.listdir(out)):
        try:
            if name.endswith((".h5", ".keras")):
                keras.saving.load_model(os.path.join(out, name), safe_mode=False)
            else:
                # From a file object the name does not matter: saving_lib
                # reads config.json of any zip.
                with open(os.path.join(out, name), "rb") as f:
                    keras.src.saving.saving_lib.load_model(f, safe_mode=False)
            err = ""
        except Exception as e:
            err = "%s: %s" % (type(e).__name__, str(e)[:120])
        print(json.dumps({"model": name, "ran": os.path.exists(os.path.join(markers, name)), "error": err}))
    sys.exit(0)

os.makedirs(out)


def payload(name):
    # A lambda that creates the marker when Keras rebuilds the graph.
    return eval('lambda x: (open(%r, "w").close(), x)[1]' % os.path.join(markers, name))


for name in ("lambda.keras", "lambda.h5"):
    inp = keras.Input((3,))
    keras.Model(inp, keras.layers.Lambda(payload(name))(inp)).save(os.path.join(out, name))
# A .keras archive without metadata.json, under another name.
tmp = os.path.join(markers, "tmp.keras")
inp = keras.Input((3,))
keras.Model(inp, keras.layers.Lambda(payload("renamed.bin"))(inp)).save(tmp)
with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(os.path.join(out, "renamed.bin"), "w") as dst:
    for item in src.infolist():
        if item.filename != "metadata.json":
            dst.writestr(item, src.read(item.filename))
os.remove(tmp)
# Nested: the Lambda deep inside Sequential models.
inner = keras.Sequential([keras.layers.Lambda(payload("nested.keras"))])
for _ in range(5):
    inner = keras.Sequential([inner])
inp = keras.Input((3,))
keras.Model(inp, inner(inp)).save(os.path.join(out, "nested.keras"))
# A harmless lambda (MLG108 only) and a lambda activation (Keras 3.15 saves
# it but cannot load it back; older Keras could).
inp = keras.Input((3,))
keras.Model(inp, keras.layers.Lambda(lambda x: x * 2)(inp)).save(os.path.join(out, "double.keras"))
keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=lambda x: x * 2)]).save(os.path.join(out, "activation.keras"))
for f in os.listdir(markers):
    os.remove(os.path.join(markers, f))
