package pickle

import (
	"strings"
	"unicode"
)

// Kind is the verdict on one imported callable.
type Kind int

const (
	Unknown Kind = iota
	Safe
	Dangerous
)

// Verdict explains a Kind; Resolved is the callable that would actually be
// reached (a dotted name re-rooted at a module it traverses).
type Verdict struct {
	Kind     Kind
	Resolved string
	Reason   string
}

// dangerous modules match the module itself and every submodule: a
// denylist that only matched exact module names let `asyncio.unix_events`
// or `pip._internal` through other scanners (CVE-2025-10157, CVE-2025-1716).
var dangerousModules = map[string]string{
	"os": "executes shell commands and touches files", "posix": "executes shell commands and touches files",
	"nt": "executes shell commands and touches files", "subprocess": "runs processes",
	"_posixsubprocess": "runs processes", "pty": "runs processes", "commands": "runs processes",
	"sys": "reaches interpreter internals", "importlib": "imports arbitrary code",
	"runpy": "runs Python code", "code": "runs Python code", "codeop": "compiles Python code",
	"pdb": "runs Python code", "bdb": "runs Python code", "timeit": "runs Python code",
	"cProfile": "runs Python code", "profile": "runs Python code", "trace": "runs Python code",
	"doctest": "runs Python code", "pydoc": "imports arbitrary code or runs a pager command",
	"pickle": "loads a nested pickle", "_pickle": "loads a nested pickle",
	"cloudpickle": "rebuilds functions from pickled code", "dill": "rebuilds functions from pickled code", "joblib": "loads a nested pickle",
	"marshal": "loads code objects", "shelve": "loads a nested pickle", "types": "builds code and function objects",
	"ctypes": "calls native code", "_ctypes": "calls native code", "cffi": "calls native code",
	"socket": "opens network connections", "_socket": "opens network connections", "ssl": "opens network connections",
	"http": "opens network connections", "urllib": "opens network connections",
	"urllib3": "opens network connections", "requests": "opens network connections", "httpx": "opens network connections",
	"aiohttp": "opens network connections", "ftplib": "opens network connections", "smtplib": "opens network connections",
	"telnetlib": "opens network connections", "poplib": "opens network connections", "imaplib": "opens network connections",
	"nntplib": "opens network connections", "xmlrpc": "opens network connections", "socketserver": "opens network connections",
	"webbrowser": "runs a browser process", "shutil": "touches files and runs archivers", "glob": "lists files",
	"fileinput": "reads files", "tempfile": "writes files", "zipfile": "writes files", "tarfile": "writes files",
	"multiprocessing": "runs processes", "concurrent": "runs code in workers", "asyncio": "runs processes",
	"threading": "runs code in threads", "_thread": "runs code in threads", "signal": "changes process signal handling",
	"pip": "installs packages", "setuptools": "runs build code", "distutils": "runs build code",
	"ensurepip": "installs packages", "venv": "runs processes", "compileall": "compiles Python code",
	"idlelib": "runs Python code", "lib2to3": "runs Python code", "uuid": "runs processes (ifconfig helpers)",
	"platform": "runs processes", "ctypes.util": "runs processes", "gc": "reaches interpreter internals",
	"inspect": "reaches interpreter internals", "operator": "calls attributes by name (getattr gadget)",
	"_operator": "calls attributes by name (getattr gadget)", "functools": "builds calls of other callables",
	"torch.hub": "downloads and runs code", "torch.jit": "loads TorchScript code",
	"torch.serialization": "loads a nested pickle", "torch.utils.cpp_extension": "compiles native code",
	"torch._inductor": "compiles and runs code", "torch._dynamo": "compiles and runs code",
	"torch.package": "imports packaged code", "numpy.testing": "runs Python code (runstring)",
	"numpy.f2py": "compiles native code", "numpy.distutils": "runs build code",
	"pandas.io": "loads nested pickles and files", "keras.utils": "downloads files",
	"tensorflow.io": "touches files", "builtins.__import__": "imports arbitrary code",
	"sqlite3": "touches files", "dbm": "touches files", "mmap": "maps files",
	"site": "runs startup code", "sysconfig": "reaches interpreter internals", "builtins.open": "opens files",
}

// dangerousNames are single callables in otherwise unremarkable modules.
var dangerousNames = map[string]string{
	"builtins.eval": "evaluates Python code", "builtins.exec": "executes Python code",
	"builtins.compile": "compiles Python code", "builtins.open": "opens files",
	"builtins.__import__": "imports arbitrary code", "builtins.getattr": "reaches arbitrary attributes",
	"builtins.setattr": "changes arbitrary attributes", "builtins.delattr": "changes arbitrary attributes",
	"builtins.globals": "reaches interpreter internals", "builtins.locals": "reaches interpreter internals",
	"builtins.vars": "reaches interpreter internals", "builtins.input": "reads from the terminal",
	"builtins.breakpoint": "starts a debugger", "builtins.execfile": "executes Python code",
	"builtins.file": "opens files", "builtins.apply": "calls arbitrary callables",
	"builtins.help": "runs a pager", "builtins.memoryview": "reaches raw memory",
	"builtins.exit": "ends the process", "builtins.quit": "ends the process",
	"io.open": "opens files", "_io.open": "opens files", "_io.FileIO": "opens files", "io.FileIO": "opens files",
	"codecs.open": "opens files", "pathlib.Path": "touches files", "pathlib.PosixPath": "touches files",
	"pathlib.WindowsPath": "touches files", "numpy.load": "loads a nested pickle",
	"numpy.lib.npyio.load": "loads a nested pickle", "numpy.fromfile": "reads files",
	"numpy.save": "writes files", "numpy.savetxt": "writes files", "numpy.loadtxt": "reads files",
	"pandas.read_pickle": "loads a nested pickle", "pandas.read_csv": "reads files",
	"torch.load": "loads a nested pickle", "torch.save": "writes files",
	"logging.config.listen":     "opens a socket that runs received config",
	"logging.config.dictConfig": "instantiates arbitrary callables",
	"logging.config.fileConfig": "instantiates arbitrary callables",
	"code.interact":             "runs Python code", "random._os": "executes shell commands",
	"collections._sys": "reaches interpreter internals",
}

// safeNames are exact callables whose construction or call cannot run code
// beyond building data. Only exact (module, name) pairs qualify.
var safeNames = map[string]bool{}

// safeClassModules: classes (upper-case names) from these module trees are
// plain estimators or data containers.
var safeClassModules = []string{"sklearn", "xgboost", "lightgbm", "catboost", "scipy.sparse", "torch.nn.modules", "torch.nn.parameter"}

func init() {
	add := func(mod string, names ...string) {
		for _, n := range names {
			safeNames[mod+"."+n] = true
		}
	}
	add("builtins", "set", "frozenset", "dict", "list", "tuple", "int", "float", "complex", "str", "bytes",
		"bytearray", "bool", "slice", "range", "object", "NoneType", "Ellipsis", "NotImplemented")
	add("collections", "OrderedDict", "defaultdict", "Counter", "deque")
	add("copyreg", "_reconstructor")
	add("_codecs", "encode")
	add("codecs", "encode")
	add("datetime", "datetime", "date", "time", "timedelta", "timezone")
	add("decimal", "Decimal")
	add("fractions", "Fraction")
	add("uuid", "UUID")
	add("argparse", "Namespace")
	add("numpy", "dtype", "ndarray", "float64", "float32", "int64", "int32", "bool_", "core.multiarray._reconstruct",
		"core.multiarray.scalar")
	add("numpy.core.multiarray", "_reconstruct", "scalar")
	add("numpy._core.multiarray", "_reconstruct", "scalar")
	add("numpy.core.numeric", "_frombuffer")
	add("numpy._core.numeric", "_frombuffer")
	add("numpy.ma.core", "_mareconstruct", "MaskedArray")
	add("numpy.random._pickle", "__randomstate_ctor", "__generator_ctor", "__bit_generator_ctor")
	add("numpy.random", "__RandomState_ctor")
	add("numpy.random.mtrand", "RandomState")
	add("numpy.random._mt19937", "MT19937")
	add("numpy.random._pcg64", "PCG64")
	add("numpy.random._generator", "Generator")
	add("numpy.random.bit_generator", "SeedSequence", "__pyx_unpickle_SeedSequence")
	for _, t := range []string{"Float64DType", "Float32DType", "Float16DType", "Int64DType", "Int32DType", "Int16DType",
		"Int8DType", "UInt64DType", "UInt32DType", "UInt16DType", "UInt8DType", "BoolDType", "ObjectDType",
		"StrDType", "BytesDType", "Complex64DType", "Complex128DType", "LongDType", "ULongDType", "LongLongDType",
		"ULongLongDType", "ByteDType", "UByteDType", "ShortDType", "UShortDType", "IntDType", "UIntDType", "VoidDType",
		"DateTime64DType", "TimeDelta64DType"} {
		add("numpy.dtypes", t)
	}
	add("joblib.numpy_pickle", "NumpyArrayWrapper", "NDArrayWrapper")
	add("torch", "Size", "device", "dtype", "float32", "float16", "bfloat16", "float64", "int64", "int32", "int8",
		"uint8", "bool", "Tensor", "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
		"IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage",
		"ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage", "QInt32Storage", "UntypedStorage", "TypedStorage",
		"storage.UntypedStorage", "storage.TypedStorage", "per_tensor_affine", "contiguous_format", "channels_last")
	add("torch._utils", "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
		"_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor", "_rebuild_nested_tensor",
		"_rebuild_device_tensor_from_numpy", "_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass")
	add("torch._tensor", "_rebuild_from_type_v2")
	add("torch.storage", "UntypedStorage", "TypedStorage")
	add("torch.nn.parameter", "Parameter")
	add("scipy.sparse._csr", "csr_matrix", "csr_array")
	add("scipy.sparse._csc", "csc_matrix", "csc_array")
	add("sklearn.tree._tree", "Tree")
	add("sklearn._loss.link", "Interval")
}

func hasModulePrefix(qual, mod string) bool {
	return qual == mod || strings.HasPrefix(qual, mod+".")
}

// dangerous checks one fully qualified candidate against the denylists.
func dangerous(qual string) (string, bool) {
	if r, ok := dangerousNames[qual]; ok && r != "" {
		return r, true
	}
	// Longest matching module prefix wins, so "torch.hub" beats "torch".
	parts := strings.Split(qual, ".")
	for i := len(parts) - 1; i >= 1; i-- {
		if r, ok := dangerousModules[strings.Join(parts[:i], ".")]; ok {
			return r, true
		}
	}
	return "", false
}

// Classify judges one import. Dotted names (protocol 4+) are attribute
// chains: each segment that names a dangerous module re-roots the chain
// (pathlib + "os.system" is os.system).
func Classify(imp Import) Verdict {
	qual := Qualified(imp.Module, imp.Name)
	if imp.Computed {
		return Verdict{Kind: Dangerous, Resolved: qual, Reason: "is computed at load time (STACK_GLOBAL on a call result), so it cannot be checked"}
	}
	if imp.Opcode == "EXT" {
		return Verdict{Kind: Unknown, Resolved: qual, Reason: "resolves through the copyreg extension registry of the loading process"}
	}
	if isDunderTraversal(imp.Name) || strings.HasPrefix(imp.Module, "__builtins__") {
		return Verdict{Kind: Dangerous, Resolved: qual, Reason: "walks interpreter internals through dunder attributes"}
	}
	// Exact allowlisted pairs first: joblib's array wrapper lives in a
	// module whose loaders are dangerous, the wrapper itself is not.
	if safeNames[qual] {
		return Verdict{Kind: Safe, Resolved: qual}
	}
	if r, ok := dangerous(qual); ok {
		return Verdict{Kind: Dangerous, Resolved: qual, Reason: r}
	}
	if strings.Contains(imp.Name, ".") {
		segs := strings.Split(imp.Name, ".")
		for i := 0; i < len(segs)-1; i++ {
			cand := strings.Join(segs[i:], ".")
			if r, ok := dangerous(cand); ok {
				return Verdict{Kind: Dangerous, Resolved: cand, Reason: r}
			}
			if r, ok := dangerous("builtins." + cand); ok && i > 0 {
				return Verdict{Kind: Dangerous, Resolved: "builtins." + cand, Reason: r}
			}
		}
	}
	if !strings.Contains(imp.Name, ".") && imp.Name != "" && unicode.IsUpper(rune(imp.Name[0])) {
		for _, m := range safeClassModules {
			if hasModulePrefix(imp.Module, m) {
				return Verdict{Kind: Safe, Resolved: qual}
			}
		}
	}
	return Verdict{Kind: Unknown, Resolved: qual, Reason: "is not on the allowlist of known-safe callables"}
}
