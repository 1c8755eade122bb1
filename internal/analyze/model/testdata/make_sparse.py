"""Write torch-style zips for the sparse spool tests, benign and with a
malicious pickle hidden in the places a streaming keeper could miss, and
print the oracle's verdict for each as JSON.

argv: output directory. torch is not in the test venv, so the oracle is
Python's own zipfile and pickle: every member zipfile can open is read
and unpickled by an Unpickler whose find_class records the import and
refuses it (nothing runs). A file is evil when some member imports
os.system / posix.system that way. The torch layout follows torch.save's
zip format (bench/gate_torch.py); storages are random bytes.
"""
import io
import json
import os
import pickle
import random
import struct
import sys
import zipfile

out = sys.argv[1]
MB = 1 << 20
STORAGE = 6 * MB  # above the keeper's 4 MiB threshold
# Fixed random bytes: whether a storage head breaks a pickle walk early
# depends on them, and the test wants the same files every run.
rnd = random.Random(20261204).randbytes(STORAGE)
if rnd[0] in b"(cSVILFNPTUXBCJKMG])}\x80\x82\x83\x84\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x95\x96":
    rnd = b"\x00" + rnd[1:]  # a storage head that is plainly not a pickle


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


EVIL = pickle.dumps(Evil(), protocol=2)
BENIGN = pickle.dumps({"layers.0.weight": ("storage", "0", "cpu", 4)}, protocol=2)


def torch_zip(z, pkl=BENIGN, n=3, storage=rnd, zip64=False, heads=b""):
    z.writestr("m/data.pkl", pkl)
    z.writestr("m/byteorder", "little")
    for i in range(n):
        with z.open(f"m/data/{i}", "w", force_zip64=zip64) as f:
            f.write(heads[i:i + 1] + storage[len(heads[i:i + 1]):])
    z.writestr("m/version", "3\n")


def write(name, fn, **kw):
    p = os.path.join(out, name)
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED) as z:
        fn(z, **kw)
    return p


class Unseekable(io.RawIOBase):
    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


os.makedirs(out, exist_ok=True)
write("benign.pt", torch_zip)
write("benign_zip64.pt", torch_zip, zip64=True)
# Storages whose random bytes start with opcodes a pickle may start with.
write("benign_opcode_heads.pt", torch_zip, n=8, heads=b"(cN]}\x80\x8c\x95")
write("evil_datapkl.pt", torch_zip, pkl=EVIL)
write("evil_zip64.pt", torch_zip, pkl=EVIL, zip64=True)
# A storage that is a pickle: torch never unpickles it, other loaders may.
write("evil_storage.pt", torch_zip, storage=EVIL + b"\x00" * (STORAGE - len(EVIL)))
# A storage whose pickle imports after a long run of NONE, POP: the
# keeper cannot see where the walk ends within the head it looks at.
write("evil_storage_deep.pt", torch_zip, storage=b"\x80\x02" + b"N0" * MB + EVIL[2:] + b"\x00" * (STORAGE - 2 * MB - len(EVIL)))
# A non-torch zip (no data.pkl) whose data/N member is a pickle.
write("evil_tensor_named.zip", lambda z: [z.writestr("m/readme", "x"), z.writestr("m/data/0", EVIL + rnd)])

# Data descriptors: written to an unseekable stream, sizes after the data.
with open(os.path.join(out, "evil_descriptor.pt"), "wb") as f:
    with zipfile.ZipFile(Unseekable(f), "w", compression=zipfile.ZIP_STORED) as z:
        torch_zip(z, pkl=EVIL)

# The same benign, as torch's miniz writes members: sizes in descriptors.
for name, z64 in (("benign_descriptor.pt", False), ("benign_descriptor64.pt", True)):
    with open(os.path.join(out, name), "wb") as f:
        with zipfile.ZipFile(Unseekable(f), "w", compression=zipfile.ZIP_STORED) as z:
            torch_zip(z, zip64=z64)

# Prepended data: zipfile shifts every offset.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    torch_zip(z, pkl=EVIL)
open(os.path.join(out, "evil_prepended.pt"), "wb").write(b"#!junk\n" * 1000 + buf.getvalue())

# Two archives: a benign torch zip with big storages, then an evil one;
# zipfile reads the last central directory.
a = io.BytesIO()
with zipfile.ZipFile(a, "w") as z:
    torch_zip(z)
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr("m/data.pkl", EVIL)
open(os.path.join(out, "evil_two_dirs.pt"), "wb").write(a.getvalue() + b.getvalue())


# Local header and central directory disagree: the local header calls the
# evil member a storage (which a keeper would skip), the directory calls it
# data.pkl. zipfile refuses a mismatch, so this one is evil for loaders that
# read local headers (torch's miniz reads the directory); the scan must
# refuse it either way.
p = os.path.join(out, "evil_local_name.pt")
with zipfile.ZipFile(p, "w") as z:
    z.writestr("m/byteorder", "little")
    z.writestr("m/data.pkl", EVIL + rnd)
    for i in range(2):
        z.writestr(f"m/data/{i}", rnd)
d = bytearray(open(p, "rb").read())
j = d.find(b"m/data.pkl")  # first occurrence: the local header
d[j:j + 10] = b"m/data/777"
open(p, "wb").write(bytes(d))

# Overlapping entries: an evil member hidden inside a storage's bytes, with
# its own local header, and a central directory entry pointing into it.
p = os.path.join(out, "evil_overlap.pt")
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w") as z:
    z.writestr("m/evil.pkl", EVIL)
inner = inner.getvalue()
ilocal_len = inner.find(b"PK\x01\x02")  # the inner local header + data
hidden_at = 2 * MB
storage = bytearray(rnd)
storage[hidden_at:hidden_at + ilocal_len] = inner[:ilocal_len]
with zipfile.ZipFile(p, "w") as z:
    torch_zip(z, storage=bytes(storage), n=1)
# Append a central directory entry for the hidden member: rewrite the
# archive's directory with one more record.
d = bytearray(open(p, "rb").read())
with zipfile.ZipFile(p) as z:
    st = [i for i in z.infolist() if i.filename == "m/data/0"][0]
    base = st.header_offset + 30 + len(st.filename.encode()) + len(st.extra)
eocd = d.rfind(b"PK\x05\x06")
n_ent, cd_size, cd_off = struct.unpack_from("<HII", d, eocd + 10)
icd = inner[ilocal_len:inner.find(b"PK\x05\x06")]
icd = bytearray(icd)
struct.pack_into("<I", icd, 42, base + hidden_at)
new_cd = d[cd_off:cd_off + cd_size] + icd
tail = bytearray(d[eocd:])
struct.pack_into("<HHII", tail, 8, n_ent + 1, n_ent + 1, len(new_cd), cd_off)
open(p, "wb").write(bytes(d[:cd_off]) + bytes(new_cd) + bytes(tail))


class Recorder(pickle.Unpickler):
    def __init__(self, f, seen):
        super().__init__(f)
        self.seen = seen

    def find_class(self, module, name):
        self.seen.append(f"{module}.{name}")
        raise pickle.UnpicklingError("refused by the oracle")

    def persistent_load(self, pid):
        return None


def oracle(path):
    seen = []
    try:
        z = zipfile.ZipFile(path)
    except Exception as e:  # noqa: BLE001
        return {"opens": False, "error": str(e), "imports": []}
    for info in z.infolist():
        try:
            data = z.open(info).read()
        except Exception:  # noqa: BLE001
            continue
        try:
            Recorder(io.BytesIO(data), seen).load()
        except Exception:  # noqa: BLE001
            pass
    return {"opens": True, "imports": sorted(set(seen))}


print(json.dumps({n: oracle(os.path.join(out, n)) for n in sorted(os.listdir(out))}))
