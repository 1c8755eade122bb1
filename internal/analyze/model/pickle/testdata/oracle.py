"""Recording-unpickler oracle for the walker's differential tests.

Reads JSON lines {"id": ..., "mode": "pickle"|"joblib", "b64": ...} on stdin
and answers one JSON line per input: the (module, name) pairs CPython's
unpickler asks find_class for, in every pickle it loads from the stream one
after another (as torch's legacy loader does), how many pickles loaded, and
the error that stopped it.

mode "pickle" is CPython's C Unpickler (what pickle.load uses). find_class
records and returns a stub class that accepts any call, state or item, so
nothing real is imported or run.

mode "pure" is the same with CPython's pure-Python unpickler
(pickle._Unpickler, which joblib builds on).

mode "joblib" is joblib's NumpyUnpickler (pure Python): the few classes its
array format needs are the real ones (numpy dtypes and arrays, joblib's
wrappers, copyreg's reconstructors), so array bytes are read as joblib
reads them; everything else is a stub.
"""
import base64
import io
import json
import pickle
import sys
import warnings

warnings.filterwarnings("ignore")

MAX_PICKLES = 64  # the walker's DefaultLimits.MaxPickles


class Stub:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Stub()

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        for _ in items:
            pass

    def add(self, item):
        pass


def stub_class():
    # A fresh class per import: NEWOBJ and OBJ need a class.
    return type("Stub", (Stub,), {})


REAL_FOR_JOBLIB = {
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("builtins", "object"),
}


def make_recorder(base, seen, real):
    class Recorder(base):
        def find_class(self, module, name):
            seen.append([module, name])
            if (module, name) in real:
                return super().find_class(module, name)
            return stub_class()

        def persistent_load(self, pid):
            return Stub()

    return Recorder


def run(data, mode):
    seen = []
    loaded = 0
    err = ""
    f = io.BytesIO(data)
    if mode == "joblib":
        from joblib import numpy_pickle

        real = REAL_FOR_JOBLIB

        class JoblibRecorder(numpy_pickle.NumpyUnpickler):
            def find_class(self, module, name):
                seen.append([module, name])
                if (module, name) in real:
                    return pickle._Unpickler.find_class(self, module, name)
                return stub_class()

        def new():
            return JoblibRecorder("", f, ensure_native_byte_order=False)
    else:
        base = pickle._Unpickler if mode == "pure" else pickle.Unpickler
        cls = make_recorder(base, seen, set())

        def new():
            return cls(f)

    while loaded < MAX_PICKLES and f.tell() < len(data):
        try:
            new().load()
            loaded += 1
        except BaseException as e:  # noqa: BLE001 - any failure ends the load
            err = "%s: %s" % (type(e).__name__, str(e)[:200])
            break
    return {"imports": seen, "loaded": loaded, "err": err}


def main():
    sys.setrecursionlimit(10000)
    # The C unpickler keeps its memo in an array: a PUT index of 2**30
    # allocates gigabytes. A memory cap turns that into MemoryError (a
    # failed load) instead of a machine brought to its knees.
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    for line in sys.stdin:
        req = json.loads(line)
        try:
            out = run(base64.b64decode(req["b64"]), req.get("mode", "pickle"))
        except BaseException as e:  # noqa: BLE001
            out = {"imports": [], "loaded": 0, "err": "oracle: %r" % (e,)}
        out["id"] = req["id"]
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
