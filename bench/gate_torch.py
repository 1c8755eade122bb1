"""Write a torch-format checkpoint (torch.save's zip layout) without torch.

argv: output path, size in MB. The layout is what torch.save writes with
its default zip serialization: <name>/data.pkl (protocol 2, a state dict of
torch._utils._rebuild_tensor_v2 calls whose storages are persistent ids),
<name>/data/<key> (raw float32 storages; torch also pads them to 64-byte offsets, which no reader needs),
<name>/byteorder, <name>/version, all stored uncompressed. As torch's
miniz writer does, every member's sizes follow its data in a data
descriptor (the zip is written to an unseekable stream). The torch
module is faked in sys.modules only so that pickle can name its globals.
"""
import collections
import os
import pickle
import sys
import types
import zipfile

out, mb = sys.argv[1], int(sys.argv[2])

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks):
    raise RuntimeError("never called")


class FloatStorage:
    pass


_rebuild_tensor_v2.__module__ = "torch._utils"
FloatStorage.__module__ = "torch"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch.FloatStorage = FloatStorage
torch._utils = utils
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils


class Tensor:
    def __init__(self, key, numel, shape):
        self.key, self.numel, self.shape = key, numel, shape

    def __reduce__(self):
        stride = (self.shape[1], 1)
        return (_rebuild_tensor_v2, (StorageRef(self.key, self.numel), 0, self.shape, stride, False, collections.OrderedDict()))


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Saver(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


layer = 16 << 20  # bytes per tensor (4M floats, 2048 x 2048)
n = max(1, (mb << 20) // layer)
state = collections.OrderedDict()
for i in range(n):
    state[f"layers.{i}.weight"] = Tensor(str(i), layer // 4, (2048, layer // 4 // 2048))
import io

buf = io.BytesIO()
Saver(buf, protocol=2).dump(state)
name = os.path.splitext(os.path.basename(out))[0]
chunk = os.urandom(1 << 20)
class Unseekable(io.RawIOBase):
    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


with open(out, "wb") as raw, zipfile.ZipFile(Unseekable(raw), "w", compression=zipfile.ZIP_STORED) as z:
    z.writestr(f"{name}/data.pkl", buf.getvalue())
    z.writestr(f"{name}/byteorder", "little")
    for i in range(n):
        with z.open(f"{name}/data/{i}", "w", force_zip64=True) as f:
            for _ in range(layer >> 20):
                f.write(chunk)
    z.writestr(f"{name}/version", "3\n")
print(out, os.path.getsize(out))
