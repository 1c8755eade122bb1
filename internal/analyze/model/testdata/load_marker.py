"""Load each fixture the way its real loader does, in this process:
argv = directory, then loader:file pairs. Loaders: "pickle" (pickle.load on
open(path, "rb"), repeated until the file ends, as legacy torch reads
several pickles), "bytesio" (the same on an io.BytesIO, as torch.load
passes), "joblib" (joblib.load), "numpy" (numpy.load, allow_pickle=True).
Errors after the payload ran are expected and ignored: the test checks the
marker file each payload creates."""
import io, os, pickle, sys, warnings
warnings.filterwarnings("ignore")

def many(f):
    end = len(f.getbuffer()) if isinstance(f, io.BytesIO) else os.fstat(f.fileno()).st_size
    while f.tell() < end:
        pickle.load(f)

d = sys.argv[1]
os.chdir(d)
for spec in sys.argv[2:]:
    loader, name = spec.split(":", 1)
    try:
        if loader == "pickle":
            with open(name, "rb") as f:
                many(f)
        elif loader == "bytesio":
            with open(name, "rb") as f:
                many(io.BytesIO(f.read()))
        elif loader == "joblib":
            import joblib
            joblib.load(name)
        elif loader == "numpy":
            import numpy as np
            np.load(name, allow_pickle=True)
    except BaseException as e:  # noqa: BLE001
        print("%s %s: %s: %s" % (loader, name, type(e).__name__, e), file=sys.stderr)
