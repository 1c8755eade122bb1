"""Differential oracle for the zip reader: writes well-formed and adversarial
archives into DIR (next to any the Go test already put there), then records
for every *.zip in DIR what Python's zipfile makes of it: whether it opens,
the entries in order, which entry open(name) returns, and each entry's bytes.

usage: zip_oracle.py DIR  (writes DIR/oracle.json)
"""

import io
import json
import os
import random
import struct
import sys
import warnings
import zipfile
import zlib

warnings.simplefilter("ignore")
out = sys.argv[1]


def write(name, data):
    with open(os.path.join(out, name + ".zip"), "wb") as f:
        f.write(data)


def made(members, **kw):
    """An archive written by zipfile itself."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", **kw) as z:
        for name, data, method in members:
            z.writestr(zipfile.ZipInfo(name) if method is None else name, data, compress_type=method)
    return buf.getvalue()


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors."""

    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)


def local(name, data, method=0, flags=0, comp=None):
    comp = data if comp is None else comp
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0, zlib.crc32(data), len(comp), len(data), len(name), 0) + name + comp


def central(name, size, csize, off, method=0, flags=0, extra=b"", version=20, crc=0):
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, version, flags, method, 0, 0, crc, csize, size,
                       len(name), len(extra), 0, 0, 0, 0, off) + name + extra


def eocd(count, cdsize, cdoff, comment=b""):
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cdsize, cdoff, len(comment)) + comment


def hand(entries, prepend=b"", count=None, comment=b"", cdsize_delta=0):
    """entries: (cd name, local name, data, flags); returns the archive."""
    body, cd = b"", b""
    for cdname, lname, data, flags in entries:
        off = len(body)
        body += local(lname, data, flags=flags)
        cd += central(cdname, len(data), len(data), off, flags=flags, crc=zlib.crc32(data))
    n = len(entries) if count is None else count
    return prepend + body + cd + eocd(n, len(cd) + cdsize_delta, len(body), comment)


pkl = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."

write("py_normal", made([("archive/data.pkl", pkl, zipfile.ZIP_STORED), ("archive/data/0", b"\0" * 64, zipfile.ZIP_DEFLATED),
                         ("b.bin", b"bz" * 500, zipfile.ZIP_BZIP2), ("l.bin", b"lz" * 500, zipfile.ZIP_LZMA)]))
c = made([("a.pkl", pkl, zipfile.ZIP_DEFLATED)])
write("py_comment", c[:-2] + struct.pack("<H", 9) + b"a comment")
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    with z.open("big.pkl", "w", force_zip64=True) as f:
        f.write(pkl)
    z.writestr("second", b"2" * 100)
write("py_zip64_member", b.getvalue())
u = Unseekable()
with zipfile.ZipFile(u, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", pkl)
    z.writestr("archive/version", b"3\n")
write("py_data_descriptor", bytes(u.buf))
write("dup_names", made([("archive/data.pkl", b"benign", zipfile.ZIP_STORED), ("archive/data.pkl", pkl, zipfile.ZIP_DEFLATED)]))
write("prepended", b"#!/bin/sh\nexit 0\n" * 50 + made([("archive/data.pkl", pkl, zipfile.ZIP_DEFLATED), ("x", b"y", zipfile.ZIP_STORED)]))
write("eocd_count_0", hand([(b"a", b"a", b"1", 0), (b"archive/data.pkl", b"archive/data.pkl", pkl, 0)], count=0))
write("eocd_count_1", hand([(b"a", b"a", b"1", 0), (b"b", b"b", b"2", 0), (b"c.pkl", b"c.pkl", pkl, 0)], count=1))
write("fake_eocd_in_comment", hand([(b"a.pkl", b"a.pkl", pkl, 0)], comment=b"PK\x05\x06" + b"\0" * 18))
write("null_in_name", hand([(b"archive/data.pkl\0.txt", b"archive/data.pkl\0.txt", pkl, 0)]))
write("cp437_name", hand([(b"d\x82j\xe0.pkl", b"d\x82j\xe0.pkl", pkl, 0)]))
write("cp437_all", hand([(bytes(range(0x80, 0x100)), bytes(range(0x80, 0x100)), pkl, 0)]))
write("utf8_flag_name", hand([("é.pkl".encode(), "é.pkl".encode(), pkl, 0x800)]))
write("utf8_flag_bad", hand([(b"\xff.pkl", b"\xff.pkl", pkl, 0x800)]))
write("local_name_differs", hand([(b"notes.txt", b"archive/data.pkl", pkl, 0)]))
write("cd_size_too_big", hand([(b"a.pkl", b"a.pkl", pkl, 0)], cdsize_delta=1000))
write("cd_size_short", hand([(b"a", b"a", b"1", 0), (b"b.pkl", b"b.pkl", pkl, 0)], cdsize_delta=-10))
# Overlap: the second entry's local header lies inside the first entry's data.
inner = local(b"archive/data.pkl", pkl)
outer = local(b"outer.bin", b"xxxx" + inner + b"yyyy")
cd = (central(b"outer.bin", len(inner) + 8, len(inner) + 8, 0, crc=zlib.crc32(b"xxxx" + inner + b"yyyy"))
      + central(b"archive/data.pkl", len(pkl), len(pkl), 30 + 9 + 4, crc=zlib.crc32(pkl)))
write("overlap", outer + cd + eocd(2, len(cd), len(outer)))
# The same local header listed twice under one name (a quine-like overlap).
one = local(b"a.pkl", pkl)
cd = central(b"a.pkl", len(pkl), len(pkl), 0, crc=zlib.crc32(pkl)) * 3
write("same_header_thrice", one + cd + eocd(3, len(cd), len(one)))
# zip64 extra that is too short for the saturated size it replaces.
one = local(b"a.pkl", pkl)
cd = central(b"a.pkl", 0xFFFFFFFF, len(pkl), 0, extra=struct.pack("<HH", 1, 4) + b"\0" * 4)
write("zip64_extra_short", one + cd + eocd(1, len(cd), len(one)))
one = local(b"a.pkl", pkl)
cd = central(b"a.pkl", len(pkl), len(pkl), 0, version=64)
write("extract_version_high", one + cd + eocd(1, len(cd), len(one)))
write("empty", eocd(0, 0, 0))
write("bad_cd_magic", hand([(b"a", b"a", b"1", 0)])[:-22 - 47] + b"XX" + hand([(b"a", b"a", b"1", 0)])[-22 - 45:])

# Mutations of well-formed archives (seeded): whatever zipfile makes of
# them, the Go reader must make the same.
rng = random.Random(9)
bases = [made([("archive/data.pkl", pkl, zipfile.ZIP_DEFLATED), ("archive/data/0", b"\1" * 40, zipfile.ZIP_STORED),
               ("archive/version", b"3\n", zipfile.ZIP_STORED)]),
         made([("a", b"x" * 300, zipfile.ZIP_BZIP2), ("b", b"y" * 300, zipfile.ZIP_LZMA)])]
for i in range(800):
    b = bytearray(rng.choice(bases))
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        pos = rng.randrange(len(b))
        if op < 0.6:
            b[pos] = rng.randrange(256)
        elif op < 0.8:
            del b[pos:pos + rng.randint(1, 8)]
        else:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    write("mut_%03d" % i, bytes(b))

oracle = {}
for fn in sorted(os.listdir(out)):
    if not fn.endswith(".zip"):
        continue
    rec = {"open_error": None, "entries": [], "last": {}}
    try:
        z = zipfile.ZipFile(os.path.join(out, fn))
    except Exception as e:  # noqa: BLE001 - every refusal is an outcome
        rec["open_error"] = "%s: %s" % (type(e).__name__, e)
        oracle[fn] = rec
        continue
    infos = z.infolist()
    for info in infos:
        ent = {"name": info.filename, "orig": info.orig_filename}
        got = b""
        try:
            f = z.open(info)
            while len(got) < 1 << 20:
                c = f.read(256)
                if not c:
                    break
                got += c
        except Exception as e:  # noqa: BLE001
            ent["error"] = "%s: %s" % (type(e).__name__, e)
        ent["hex"] = got.hex()
        rec["entries"].append(ent)
    for name, info in z.NameToInfo.items():
        rec["last"][name] = infos.index(info)
    oracle[fn] = rec
with open(os.path.join(out, "oracle.json"), "w") as f:
    json.dump(oracle, f)
