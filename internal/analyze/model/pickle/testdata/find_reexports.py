import importlib, pkgutil, sys, json, warnings, os, io, contextlib
warnings.filterwarnings("ignore")
DENIED = {"os","posix","nt","subprocess","shutil","tempfile","socket","ssl","http","urllib","threading","_thread",
 "multiprocessing","concurrent","asyncio","pickle","_pickle","marshal","ctypes","gzip","bz2","lzma","zipfile","tarfile",
 "importlib","runpy","code","pdb","pkgutil","logging","webbrowser","ftplib","smtplib","glob","shelve","sqlite3","requests",
 "urllib3","joblib","cloudpickle","dill","sys","builtins_open","io_open","pty","signal","platform","uuid","inspect","types",
 "operator","functools","pydoc","site","tkinter","unittest","test","doctest","timeit","trace","cProfile","profile","mmap",
 "fileinput","configparser","linecache","tokenize","zipimport","codeop","compileall","py_compile","pathlib","selectors","select"}
out = {}
roots = sys.argv[1:]
for root in roots:
    try:
        pkg = importlib.import_module(root)
    except Exception:
        continue
    mods = [root]
    if hasattr(pkg, "__path__"):
        for m in pkgutil.walk_packages(pkg.__path__, root + "."):
            n = m.name
            if ".tests" in n or "._tests" in n or ".test_" in n or "conftest" in n:
                continue
            mods.append(n)
    for n in mods:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                mod = importlib.import_module(n)
        except BaseException:
            continue
        for attr, v in list(vars(mod).items()):
            if attr.startswith("__"):
                continue
            origin = getattr(v, "__module__", None)
            if not isinstance(origin, str) or not (callable(v)):
                continue
            top = origin.split(".")[0]
            if origin == "io" and attr in ("open", "FileIO"): top = "io_open"
            if origin in ("_io",) and attr in ("open", "FileIO"): top = "io_open"
            if top in DENIED and not n.startswith(top):
                out["%s.%s" % (n, attr)] = "%s.%s" % (origin, getattr(v, "__qualname__", attr))
print(json.dumps(out, indent=0, sort_keys=True))
