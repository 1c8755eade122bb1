"""Differential oracle for the npy header parser: generates .npy preambles
and headers (real numpy.save output, hand-written variants, random
combinations) and records what numpy's own header reader makes of each:
"object" (dtype.hasobject: numpy.load unpickles the data), "plain", or
"refuse" (numpy raises before reading data).

usage: npy_oracle.py OUT.json
"""

import io
import json
import random
import struct
import sys
import warnings

import numpy as np
from numpy.lib import _format_impl as fmt  # numpy.lib.format re-exports it, minus the private reader

warnings.simplefilter("ignore")
cases = []


def verdict(blob):
    f = io.BytesIO(blob)
    try:
        version = fmt.read_magic(f)
        # numpy.load ignores max_header_size when allow_pickle=True.
        _, _, dtype = fmt._read_array_header(f, version, max_header_size=2**64)
    except Exception:  # noqa: BLE001 - any refusal loads nothing
        return "refuse"
    return "object" if dtype.hasobject else "plain"


def add(blob, canonical=False):
    cases.append({"hex": blob.hex(), "numpy": verdict(blob), "canonical": canonical})


def npy(header, version=(1, 0), encoding="latin1"):
    h = header.encode(encoding, "surrogatepass")
    if version == (1, 0):
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h
    return b"\x93NUMPY" + bytes(version) + struct.pack("<I", len(h)) + h


# Real numpy.save output for many dtypes.
for dt in ["<f8", "<f4", "<i8", "u1", "?", "<c16", "S5", "<U7", "<M8[ns]", "<m8[s]", "V4", "O",
           [("a", "<i4"), ("b", "O")], [("a", "<f8"), ("b", [("c", "O")])], [("x", "<i2", (3,))],
           [("a", "O", (2,))], "i4,f8", [("a", "S3"), ("b", "<U2")], ">i4", "e", "<g"]:
    b = io.BytesIO()
    arr = np.zeros(2, dtype=dt)
    np.save(b, arr, allow_pickle=True)
    v = b.getvalue()
    hl = struct.unpack("<H", v[8:10])[0]
    add(v[:10 + hl], canonical=True)
for version in [(2, 0), (3, 0)]:
    b = io.BytesIO()
    fmt.write_array(b, np.zeros(2, dtype=[("é", "<f8")] if version == (3, 0) else "<f8"), version=version)
    v = b.getvalue()
    hl = struct.unpack("<I", v[8:12])[0]
    add(v[:12 + hl], canonical=True)

descrs = ["'<f8'", "'|O'", "'O'", "'object'", "'|O8'", "'O8'", "'<O'", '"O"', "'''O'''", "r'O'", "u'O'", "'O' ''",
          "'\\x4f'", "'\\117'", "'\\u004f'", "'object_'", "'float64'", "'int32'", "'bool'", "'str'", "'U5'", "'<U5'",
          "'i4,O'", "'i4, f8'", "'(2,)O'", "'(2,3)<f8'", "('O', (2,))", "('<f8', (2,))", "[('a', 'O')]",
          "[('a', '<i4'), ('b', [('c', 'O')])]", "[('a', '<i4', (2,))]", "[('', '|V4'), ('b', 'O')]", "['aO']",
          "['af']", "{'aO': 1}", "[(('t', 'a'), 'O')]", "[('a', ('O', (1,)))]", "'<M8[ns]'", "'V8'", "'?'", "'b1'",
          "'S10'", "'|S10'", "'c16'", "'<c8'", "'q'", "'P'", "'p'", "'G'", "'e'", "b'O'", "1", "None", "'Q'", "'M8'",
          "[('a', 'i4'), ('a', 'O')]", "'object0'", "'O4'", "'=O'", "'>O'", "'!O'", "'|O4'", "'i4,(2,)O'", "'Oi'"]
shapes = ["()", "(1,)", "(2, 3)", "(True,)", "(1.0,)", "[1]", "(-1,)", "(3L,)", "(1_0,)", "(0x2,)"]
orders = ["False", "True", "0", "None"]
for d in descrs:
    add(npy("{'descr': %s, 'fortran_order': False, 'shape': (1,), }" % d))
rng = random.Random(5)
for i in range(1500):
    d = rng.choice(descrs)
    parts = ["'descr': %s" % d, "'fortran_order': %s" % rng.choice(orders), "'shape': %s" % rng.choice(shapes)]
    if rng.random() < 0.1:
        parts.append("'extra': 1")
    if rng.random() < 0.1:
        parts.append("'descr': %s" % rng.choice(descrs))
    if rng.random() < 0.05:
        parts.pop(rng.randrange(len(parts)))
    rng.shuffle(parts)
    sep = rng.choice([", ", ",", " ,\n ", ",  # c\n"])
    text = "{" + sep.join(parts) + rng.choice(["", ",", ", "]) + "}" + rng.choice(["", " " * 7 + "\n", "\n", " # x\n"])
    text = text.replace("'descr'", rng.choice(["'descr'", '"descr"', "'de' 'scr'", "u'descr'"]))
    version = rng.choice([(1, 0), (2, 0), (3, 0), (1, 1)])
    try:
        add(npy(text, version, "utf8" if version == (3, 0) else "latin1"))
    except UnicodeEncodeError:
        pass

with open(sys.argv[1], "w") as f:
    json.dump(cases, f)
