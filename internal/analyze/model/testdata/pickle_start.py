"""Oracle for the pickle first-byte filter: for every byte value, try
CPython's unpickler on that byte followed by many continuations, with a
find_class that records instead of importing and a persistent_load that
accepts anything (as torch.load's does). Prints the bytes that ever load
or import anything: the only bytes a harmful pickle can start with.
"""

import io
import itertools
import json
import pickle

conts = [b"", b".", b"N.", b"os\nsystem\n.", b"os\nsystem\n)R.", b"(N.", b"\x00" * 8 + b"N.", b"1\n.", b"'a'\n.",
         b"\x01\x00\x00\x00aN.", b"\x01a.", b"\x02\x00ab.", b"0\n.", b"a\nb\n.", b"\x01N.", b"\x01\x00N.",
         b"\x01\x00\x00\x00N."]
conts += [bytes(p) + b"." for p in itertools.product([0, 1, 0x2E, 0x4E, 0x0A, 0x29], repeat=3)]


class Rec(pickle.Unpickler):
    imported = False

    def find_class(self, module, name):
        Rec.imported = True
        return object

    def persistent_load(self, pid):
        return pid


ok = []
for b in range(256):
    for c in conts:
        Rec.imported = False
        try:
            Rec(io.BytesIO(bytes([b]) + c)).load()
            ok.append(b)
            break
        except Exception:  # noqa: BLE001
            if Rec.imported:
                ok.append(b)
                break
print(json.dumps(sorted(set(ok))))
