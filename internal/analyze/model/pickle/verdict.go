package pickle

import (
	"fmt"
	"strings"
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
	// Name resolvers, source runners, file/socket/thread classes and
	// loaders, found by reviewing the stdlib and the ML libraries.
	"pkgutil":                    "resolves names to objects (resolve_name) and imports packages",
	"logging":                    "resolves names (logging.config._resolve), writes files and opens sockets (handlers)",
	"_osx_support":               "runs shell commands (_read_output)",
	"_aix_support":               "runs processes",
	"_xxsubinterpreters":         "runs Python source in a subinterpreter (run_string)",
	"_interpreters":              "runs Python source in a subinterpreter",
	"_xxinterpchannels":          "reaches subinterpreters",
	"test":                       "runs Python scripts (test.support.script_helper)",
	"unittest":                   "resolves names to objects (unittest.mock._importer, patch)",
	"zipimport":                  "imports code from archives",
	"modulefinder":               "imports and runs module code",
	"py_compile":                 "compiles and writes files",
	"tkinter":                    "runs Tcl code (Tcl().eval can exec)",
	"_tkinter":                   "runs Tcl code",
	"antigravity":                "opens a browser on import",
	"gzip":                       "opens and writes files (GzipFile)",
	"bz2":                        "opens and writes files (BZ2File)",
	"lzma":                       "opens and writes files (LZMAFile)",
	"wave":                       "opens and writes files",
	"aifc":                       "opens and writes files",
	"sunau":                      "opens and writes files",
	"linecache":                  "reads any file",
	"tokenize":                   "opens files",
	"configparser":               "reads files",
	"netrc":                      "reads credential files",
	"mailcap":                    "runs commands from mailcap entries",
	"cgi":                        "runs CGI helpers",
	"cgitb":                      "writes files",
	"asyncore":                   "opens network connections",
	"asynchat":                   "opens network connections",
	"smtpd":                      "opens network connections",
	"selectors":                  "waits on sockets",
	"select":                     "waits on sockets",
	"syslog":                     "writes to the system log",
	"readline":                   "writes history files",
	"_pyio":                      "opens files",
	"imp":                        "imports arbitrary code",
	"_imp":                       "imports arbitrary code",
	"numpy.ctypeslib":            "loads native libraries",
	"numpy.lib.npyio":            "loads nested pickles and writes files",
	"numpy.lib._npyio_impl":      "loads nested pickles and writes files",
	"numpy.lib.format":           "loads nested pickles (read_array) and writes files (open_memmap)",
	"numpy._pytesttester":        "runs pytest",
	"numpy.lib.utils":            "reaches source and runs lookups",
	"sklearn.utils._testing":     "runs Python scripts (assert_run_python_script_without_output)",
	"sklearn.datasets":           "downloads and writes files",
	"sklearn.utils._joblib":      "re-exports joblib (nested pickle loads)",
	"sklearn.externals":          "re-exports vendored loaders",
	"scipy._lib._testutils":      "runs pytest",
	"scipy.io":                   "reads and writes files (loadmat, savemat)",
	"pandas.core.computation":    "evaluates expressions (pandas.eval)",
	"pandas.util._tester":        "runs pytest",
	"mlflow":                     "downloads, loads and runs models",
	"torch.distributed":          "opens network connections (rpc)",
	"torch.ops":                  "calls native operators by name",
	"torch._ops":                 "calls native operators by name",
	"torch.utils.data.datapipes": "runs callables and reads files",
	"torch.testing":              "runs Python code",
	"torch.fx":                   "generates and runs Python code",
	"torch.export":               "loads and runs exported programs",
	"tensorflow":                 "reads and writes files, runs ops",
	"keras":                      "loads models that run code",
	"huggingface_hub":            "downloads files",
	"transformers":               "downloads and runs code (trust_remote_code)",
	"onnx":                       "loads models and reads files",
	"skops":                      "loads models",
	"pexpect":                    "runs processes",
	"sh":                         "runs processes",
	"plumbum":                    "runs processes",
	"fabric":                     "runs remote commands",
	"paramiko":                   "opens network connections",
	"yaml":                       "constructs arbitrary objects (unsafe loaders)",
	"jinja2":                     "compiles and runs templates",
	"IPython":                    "runs Python code",
	"pytest":                     "runs test code",
	"_pytest":                    "runs test code",
	"nose":                       "runs test code",
	// Red-team round 2: stdlib and ML-library modules whose callables run
	// commands, exec source, import by name or write files (found by
	// walking every function that reaches such a sink, testdata/redteam.py).
	"_bootsubprocess":                   "runs shell commands (os.system)",
	"pipes":                             "runs shell pipelines",
	"_sitebuiltins":                     "runs a pager command (help) and reads files",
	"_pyrepl":                           "runs a pager command and Python code",
	"rlcompleter":                       "evaluates expressions",
	"turtle":                            "evaluates code and reads files",
	"turtledemo":                        "runs processes and imports modules",
	"mailbox":                           "creates, renames and deletes files",
	"tracemalloc":                       "loads nested pickles (Snapshot.load)",
	"uu":                                "writes files",
	"zipapp":                            "writes archives",
	"filecmp":                           "reads files",
	"imghdr":                            "reads files",
	"sndhdr":                            "reads files",
	"pstats":                            "reads profile files",
	"_winapi":                           "runs processes (CreateProcess)",
	"msvcrt":                            "reaches the C runtime",
	"winreg":                            "changes the registry",
	"_posixshmem":                       "creates shared memory files",
	"_multiprocessing":                  "runs processes",
	"faulthandler":                      "writes files",
	"_testcapi":                         "corrupts interpreter memory",
	"_testinternalcapi":                 "corrupts interpreter memory",
	"_lsprof":                           "runs code under a profiler",
	"scipy._lib._uarray":                "resolves names to objects (unpickle_function)",
	"scipy.datasets":                    "downloads and reads files (and pickles)",
	"scipy.special._precompute":         "writes files",
	"numpy._core.memmap":                "creates and writes files",
	"numpy.core.memmap":                 "creates and writes files",
	"numpy.lib._format_impl":            "loads nested pickles (read_array) and writes files (open_memmap)",
	"numpy.lib._datasource":             "downloads, copies and deletes files",
	"numpy.lib._utils_impl":             "imports modules by name",
	"sklearn.utils.discovery":           "imports modules by name",
	"sklearn.utils.estimator_checks":    "runs test code and nested pickle loads",
	"sklearn._build_utils":              "writes files",
	"pandas.util._print_versions":       "writes files",
	"pandas._config.localization":       "runs processes",
	"torch.multiprocessing":             "runs processes",
	"torch.utils.collect_env":           "runs processes",
	"torch.utils.bottleneck":            "runs Python scripts",
	"torch.utils.tensorboard":           "writes files",
	"torch.utils.hipify":                "rewrites files",
	"torch.utils.benchmark":             "compiles and runs code",
	"torch.utils._config_module":        "loads nested pickles",
	"torch.cuda.memory":                 "writes snapshot files",
	"scipy._lib.pyprima.common.message": "appends to files",
	"scipy.odr._odrpack":                "writes and deletes report files",
	"annotationlib":                     "evaluates Python expressions",
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
	"pydoc.locate":     "resolves names to objects", "pkgutil.resolve_name": "resolves names to objects",
	"logging.config._resolve": "resolves names to objects", "_osx_support._read_output": "runs shell commands",
	"_xxsubinterpreters.run_string": "runs Python source", "torch._utils._import_dotted_name": "resolves names to objects",
	"numpy.memmap": "creates and writes files", "numpy.core.memmap": "creates and writes files",
	"numpy.genfromtxt": "reads files", "numpy.fromregex": "reads files",
	"numpy.savez": "writes files", "numpy.savez_compressed": "writes files",
	"pandas.eval": "evaluates expressions", "pandas.read_table": "reads files", "pandas.read_json": "reads files and URLs",
	"pandas.read_html": "reads URLs", "pandas.read_sql": "runs SQL", "pandas.read_parquet": "reads files",
	"pandas.read_feather": "reads files", "pandas.read_excel": "reads files", "pandas.read_hdf": "reads files",
	"pandas.core.frame.DataFrame.eval": "evaluates expressions", "pandas.core.frame.DataFrame.query": "evaluates expressions",
	"pandas.DataFrame.eval": "evaluates expressions", "pandas.DataFrame.query": "evaluates expressions",
	"scipy.sparse.load_npz": "loads files", "scipy.sparse._matrix_io.load_npz": "loads files",
	"copyreg.add_extension": "changes the pickle extension registry",
	// Red-team round 2: single callables, each proven to run code or
	// resolve names under the real loader where the module is installed.
	"numpy.core._ufunc_reconstruct":                           "resolves names to objects (__import__ and getattr)",
	"numpy._core._ufunc_reconstruct":                          "resolves names to objects (__import__ and getattr)",
	"numpy._core.function_base.add_newdoc":                    "imports modules by name",
	"numpy.core.function_base.add_newdoc":                     "imports modules by name",
	"numpy.add_newdoc":                                        "imports modules by name",
	"numpy._core.records.fromfile":                            "reads files",
	"numpy.core.records.fromfile":                             "reads files",
	"numpy.rec.fromfile":                                      "reads files",
	"numpy._core._methods._dump":                              "writes files (pickle.dump)",
	"numpy.ma.mrecords.openfile":                              "opens files",
	"dataclasses._create_fn":                                  "executes function source given as text",
	"dataclasses._FuncBuilder":                                "executes function source given as text",
	"argparse.FileType":                                       "opens and creates files",
	"typing._eval_type":                                       "evaluates Python expressions (forward references)",
	"typing.get_type_hints":                                   "evaluates Python expressions (string annotations)",
	"typing.evaluate_forward_ref":                             "evaluates Python expressions",
	"typing.ForwardRef._evaluate":                             "evaluates Python expressions",
	"typing.ForwardRef.evaluate":                              "evaluates Python expressions",
	"typing._eval_or_none":                                    "evaluates Python expressions",
	"gettext.c2py":                                            "compiles a plural expression into Python code",
	"optparse.Values":                                         "executes files (read_file, read_module)",
	"warnings._getcategory":                                   "imports modules by name",
	"warnings._setoption":                                     "imports modules by name",
	"warnings._processoptions":                                "imports modules by name",
	"scipy.optimize._nonlin._nonlin_wrapper":                  "executes source built from its arguments",
	"scipy._lib.array_api_compat._internal.clone_module":      "imports modules by name and executes code",
	"scipy._lib.deprecation._sub_module_deprecation":          "imports modules by name",
	"scipy.signal._support_alternative_backends.delegate_xp":  "imports modules by name",
	"scipy.ndimage._support_alternative_backends.delegate_xp": "imports modules by name",
	"pandas.compat._optional.import_optional_dependency":      "imports modules by name",
	"pandas.compat.import_optional_dependency":                "imports modules by name",
	"pandas.plotting._core._load_backend":                     "imports modules by name",
	"sklearn.utils._set_output.check_library_installed":       "imports modules by name",
	"sklearn.tree._export.export_graphviz":                    "writes files",
	"sklearn.tree.export_graphviz":                            "writes files",
	"torch.storage._load_from_bytes":                          "loads a nested torch file with torch.load(weights_only=False)",
	"torch._utils._rebuild_from_type":                         "calls an arbitrary callable",
	"xml.etree.ElementTree.parse":                             "reads files",
	"xml.etree.ElementTree.iterparse":                         "reads files",
	"xml.etree.ElementTree.ElementTree":                       "reads and writes files",
	"xml.etree.ElementInclude.default_loader":                 "reads files",
	"xml.dom.minidom.parse":                                   "reads files",
	"xml.dom.pulldom.parse":                                   "reads files",
	"xml.dom.expatbuilder.parse":                              "reads files",
	"xml.sax.parse":                                           "reads files",
	"xml.sax.saxutils.prepare_input_source":                   "reads files",
}

// CloudpickleHelpers are cloudpickle's reconstruction helpers (and the
// builtins it hands them): a pickle that needs only these beyond the
// allowlist rebuilds functions and classes from pickled bytecode, which is
// how MLflow ships a python_model. It runs code by design (MLG108). The
// names come from cloudpickle's own reducers and real mlflow.pyfunc output.
var CloudpickleHelpers = map[string]bool{}

func init() {
	for _, mod := range []string{"cloudpickle.cloudpickle", "cloudpickle.cloudpickle_fast", "cloudpickle"} {
		for _, n := range []string{"_builtin_type", "_make_function", "_make_empty_cell", "_make_cell",
			"_make_skeleton_class", "_make_skeleton_enum", "_make_typevar", "_class_setstate", "_function_setstate",
			"_make_dict_keys", "_make_dict_values", "_make_dict_items", "_file_reconstructor",
			"_get_dataclass_field_type_sentinel", "subimport", "dynamic_subimport",
			// cloudpickle < 2
			"_fill_function", "_make_skel_func", "_rehydrate_skeleton_class", "_create_parametrized_type_hint"} {
			CloudpickleHelpers[mod+"."+n] = true
		}
	}
	CloudpickleHelpers["builtins.type"] = true
}

// safeNames are exact callables whose construction or call cannot run code
// beyond building data. Only exact (module, name) pairs qualify: no module
// prefix is trusted, since packages re-export file, socket and thread
// classes (gzip.GzipFile under sklearn).
var safeNames = map[string]bool{}

// recordedSafe is every callable that real models import, recorded by a
// find_class hook while loading what the test venv's libraries produce:
// every scikit-learn estimator that fits on a tiny dataset (and the meta
// estimators, pipelines, column transformers, searches), pickled with
// protocols 2-5, cloudpickle and joblib with every compressor; numpy and
// pandas values; MLflow sklearn models (testdata/record_real.py and record_meta.py). Each
// was reviewed: estimators, data containers and numeric functions; none
// writes files, opens sockets, starts threads or processes, or resolves
// names. functools.partial forwards calls only to a callable that is
// itself imported (and judged) by the pickle; sklearn's newObj helpers
// are cls.__new__(cls), like copyreg.__newobj__.
var recordedSafe = map[string][]string{
	"_codecs":                        {"encode"},
	"builtins":                       {"bytes", "slice"},
	"functools":                      {"partial"},
	"joblib.numpy_pickle":            {"NumpyArrayWrapper"},
	"numpy":                          {"dtype", "float64", "int64", "log1p", "mean", "ndarray", "number"},
	"numpy._core.multiarray":         {"_reconstruct", "scalar"},
	"numpy._core.numeric":            {"_frombuffer"},
	"numpy.ma":                       {"MaskedArray"},
	"numpy.ma.core":                  {"_mareconstruct"},
	"numpy.random._mt19937":          {"MT19937"},
	"numpy.random._pcg64":            {"PCG64"},
	"numpy.random._pickle":           {"__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"},
	"numpy.random.bit_generator":     {"SeedSequence", "__pyx_unpickle_SeedSequence"},
	"pandas":                         {"DataFrame", "Index", "RangeIndex", "Series", "StringDtype"},
	"pandas._libs.internals":         {"_unpickle_block"},
	"pandas.arrays":                  {"ArrowStringArray"},
	"pandas.core.indexes.base":       {"_new_Index"},
	"pandas.core.internals.managers": {"BlockManager", "SingleBlockManager"},
	"pyarrow.lib":                    {"_restore_array", "py_buffer", "type_for_alias"},
	"scipy._lib.array_api_compat.numpy._aliases":                 {"asarray"},
	"scipy.interpolate._bsplines":                                {"BSpline"},
	"scipy.sparse._csr":                                          {"csr_matrix"},
	"sklearn._loss._loss":                                        {"CyHalfBinomialLoss", "CyHalfGammaLoss", "CyHalfMultinomialLoss", "CyHalfPoissonLoss", "CyHalfSquaredError", "CyHalfTweedieLossIdentity", "__pyx_unpickle_CyHalfMultinomialLoss"},
	"sklearn._loss.link":                                         {"IdentityLink", "Interval", "LogLink", "LogitLink", "MultinomialLogit"},
	"sklearn._loss.loss":                                         {"HalfBinomialLoss", "HalfGammaLoss", "HalfMultinomialLoss", "HalfPoissonLoss", "HalfSquaredError", "HalfTweedieLossIdentity"},
	"sklearn.calibration":                                        {"CalibratedClassifierCV", "_CalibratedClassifier", "_SigmoidCalibration"},
	"sklearn.cluster._affinity_propagation":                      {"AffinityPropagation"},
	"sklearn.cluster._agglomerative":                             {"AgglomerativeClustering", "FeatureAgglomeration"},
	"sklearn.cluster._bicluster":                                 {"SpectralBiclustering", "SpectralCoclustering"},
	"sklearn.cluster._birch":                                     {"Birch", "_CFNode", "_CFSubcluster"},
	"sklearn.cluster._bisect_k_means":                            {"BisectingKMeans", "_BisectingTree"},
	"sklearn.cluster._dbscan":                                    {"DBSCAN"},
	"sklearn.cluster._hdbscan.hdbscan":                           {"HDBSCAN"},
	"sklearn.cluster._kmeans":                                    {"KMeans", "MiniBatchKMeans", "_kmeans_single_lloyd"},
	"sklearn.cluster._mean_shift":                                {"MeanShift"},
	"sklearn.cluster._optics":                                    {"OPTICS"},
	"sklearn.cluster._spectral":                                  {"SpectralClustering"},
	"sklearn.compose._column_transformer":                        {"ColumnTransformer", "make_column_selector"},
	"sklearn.compose._target":                                    {"TransformedTargetRegressor"},
	"sklearn.covariance._elliptic_envelope":                      {"EllipticEnvelope"},
	"sklearn.covariance._empirical_covariance":                   {"EmpiricalCovariance"},
	"sklearn.covariance._graph_lasso":                            {"GraphicalLasso", "GraphicalLassoCV"},
	"sklearn.covariance._robust_covariance":                      {"MinCovDet"},
	"sklearn.covariance._shrunk_covariance":                      {"LedoitWolf", "OAS", "ShrunkCovariance"},
	"sklearn.cross_decomposition._pls":                           {"CCA", "PLSCanonical", "PLSRegression", "PLSSVD"},
	"sklearn.decomposition._dict_learning":                       {"DictionaryLearning", "MiniBatchDictionaryLearning"},
	"sklearn.decomposition._factor_analysis":                     {"FactorAnalysis"},
	"sklearn.decomposition._fastica":                             {"FastICA"},
	"sklearn.decomposition._incremental_pca":                     {"IncrementalPCA"},
	"sklearn.decomposition._kernel_pca":                          {"KernelPCA"},
	"sklearn.decomposition._lda":                                 {"LatentDirichletAllocation"},
	"sklearn.decomposition._nmf":                                 {"MiniBatchNMF", "NMF"},
	"sklearn.decomposition._pca":                                 {"PCA"},
	"sklearn.decomposition._sparse_pca":                          {"MiniBatchSparsePCA", "SparsePCA"},
	"sklearn.decomposition._truncated_svd":                       {"TruncatedSVD"},
	"sklearn.discriminant_analysis":                              {"LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis"},
	"sklearn.dummy":                                              {"DummyClassifier", "DummyRegressor"},
	"sklearn.ensemble._bagging":                                  {"BaggingClassifier", "BaggingRegressor"},
	"sklearn.ensemble._forest":                                   {"ExtraTreesClassifier", "ExtraTreesRegressor", "RandomForestClassifier", "RandomForestRegressor", "RandomTreesEmbedding"},
	"sklearn.ensemble._gb":                                       {"GradientBoostingClassifier", "GradientBoostingRegressor"},
	"sklearn.ensemble._hist_gradient_boosting.binning":           {"_BinMapper"},
	"sklearn.ensemble._hist_gradient_boosting.gradient_boosting": {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"},
	"sklearn.ensemble._hist_gradient_boosting.predictor":         {"TreePredictor"},
	"sklearn.ensemble._iforest":                                  {"IsolationForest"},
	"sklearn.ensemble._stacking":                                 {"StackingClassifier", "StackingRegressor"},
	"sklearn.ensemble._voting":                                   {"VotingClassifier", "VotingRegressor"},
	"sklearn.ensemble._weight_boosting":                          {"AdaBoostClassifier", "AdaBoostRegressor"},
	"sklearn.feature_extraction._dict_vectorizer":                {"DictVectorizer"},
	"sklearn.feature_extraction._hash":                           {"FeatureHasher"},
	"sklearn.feature_extraction.image":                           {"PatchExtractor"},
	"sklearn.feature_extraction.text":                            {"CountVectorizer", "HashingVectorizer", "TfidfTransformer", "TfidfVectorizer"},
	"sklearn.feature_selection._from_model":                      {"SelectFromModel"},
	"sklearn.feature_selection._rfe":                             {"RFE", "RFECV"},
	"sklearn.feature_selection._sequential":                      {"SequentialFeatureSelector"},
	"sklearn.feature_selection._univariate_selection":            {"GenericUnivariateSelect", "SelectFdr", "SelectFpr", "SelectFwe", "SelectKBest", "SelectPercentile", "f_classif"},
	"sklearn.feature_selection._variance_threshold":              {"VarianceThreshold"},
	"sklearn.frozen._frozen":                                     {"FrozenEstimator"},
	"sklearn.gaussian_process._gpc":                              {"GaussianProcessClassifier", "_BinaryGaussianProcessClassifierLaplace"},
	"sklearn.gaussian_process._gpr":                              {"GaussianProcessRegressor"},
	"sklearn.gaussian_process.kernels":                           {"ConstantKernel", "Product", "RBF"},
	"sklearn.impute._base":                                       {"MissingIndicator", "SimpleImputer"},
	"sklearn.impute._iterative":                                  {"IterativeImputer", "_ImputerTriplet"},
	"sklearn.impute._knn":                                        {"KNNImputer"},
	"sklearn.isotonic":                                           {"IsotonicRegression"},
	"sklearn.kernel_approximation":                               {"AdditiveChi2Sampler", "Nystroem", "PolynomialCountSketch", "RBFSampler", "SkewedChi2Sampler"},
	"sklearn.kernel_ridge":                                       {"KernelRidge"},
	"sklearn.linear_model._base":                                 {"LinearRegression"},
	"sklearn.linear_model._bayes":                                {"ARDRegression", "BayesianRidge"},
	"sklearn.linear_model._coordinate_descent":                   {"ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "MultiTaskElasticNet", "MultiTaskElasticNetCV", "MultiTaskLasso", "MultiTaskLassoCV"},
	"sklearn.linear_model._glm.glm":                              {"GammaRegressor", "PoissonRegressor", "TweedieRegressor"},
	"sklearn.linear_model._huber":                                {"HuberRegressor"},
	"sklearn.linear_model._least_angle":                          {"Lars", "LarsCV", "LassoLars", "LassoLarsCV", "LassoLarsIC"},
	"sklearn.linear_model._logistic":                             {"LogisticRegression", "LogisticRegressionCV"},
	"sklearn.linear_model._omp":                                  {"OrthogonalMatchingPursuit", "OrthogonalMatchingPursuitCV"},
	"sklearn.linear_model._passive_aggressive":                   {"PassiveAggressiveClassifier", "PassiveAggressiveRegressor"},
	"sklearn.linear_model._perceptron":                           {"Perceptron"},
	"sklearn.linear_model._quantile":                             {"QuantileRegressor"},
	"sklearn.linear_model._ransac":                               {"RANSACRegressor"},
	"sklearn.linear_model._ridge":                                {"Ridge", "RidgeCV", "RidgeClassifier", "RidgeClassifierCV"},
	"sklearn.linear_model._sgd_fast":                             {"Hinge"},
	"sklearn.linear_model._stochastic_gradient":                  {"SGDClassifier", "SGDOneClassSVM", "SGDRegressor"},
	"sklearn.linear_model._theil_sen":                            {"TheilSenRegressor"},
	"sklearn.manifold._classical_mds":                            {"ClassicalMDS"},
	"sklearn.manifold._isomap":                                   {"Isomap"},
	"sklearn.manifold._locally_linear":                           {"LocallyLinearEmbedding"},
	"sklearn.manifold._mds":                                      {"MDS"},
	"sklearn.manifold._spectral_embedding":                       {"SpectralEmbedding"},
	"sklearn.manifold._t_sne":                                    {"TSNE"},
	"sklearn.metrics._classification":                            {"accuracy_score", "balanced_accuracy_score", "f1_score"},
	"sklearn.metrics._dist_metrics":                              {"EuclideanDistance64", "newObj"},
	"sklearn.metrics._scorer":                                    {"_CurveScorer", "_PassthroughScorer", "_Scorer"},
	"sklearn.mixture._bayesian_mixture":                          {"BayesianGaussianMixture"},
	"sklearn.mixture._gaussian_mixture":                          {"GaussianMixture"},
	"sklearn.model_selection._classification_threshold":          {"FixedThresholdClassifier", "TunedThresholdClassifierCV"},
	"sklearn.model_selection._search":                            {"GridSearchCV", "RandomizedSearchCV"},
	"sklearn.model_selection._search_successive_halving":         {"HalvingGridSearchCV"},
	"sklearn.model_selection._split":                             {"StratifiedKFold"},
	"sklearn.multiclass":                                         {"OneVsOneClassifier", "OneVsRestClassifier", "OutputCodeClassifier", "_ConstantPredictor"},
	"sklearn.multioutput":                                        {"ClassifierChain", "MultiOutputClassifier", "MultiOutputRegressor", "RegressorChain"},
	"sklearn.naive_bayes":                                        {"BernoulliNB", "CategoricalNB", "ComplementNB", "GaussianNB", "MultinomialNB"},
	"sklearn.neighbors._classification":                          {"KNeighborsClassifier", "RadiusNeighborsClassifier"},
	"sklearn.neighbors._graph":                                   {"KNeighborsTransformer", "RadiusNeighborsTransformer"},
	"sklearn.neighbors._kd_tree":                                 {"KDTree", "newObj"},
	"sklearn.neighbors._kde":                                     {"KernelDensity"},
	"sklearn.neighbors._lof":                                     {"LocalOutlierFactor"},
	"sklearn.neighbors._nca":                                     {"NeighborhoodComponentsAnalysis"},
	"sklearn.neighbors._nearest_centroid":                        {"NearestCentroid"},
	"sklearn.neighbors._regression":                              {"KNeighborsRegressor", "RadiusNeighborsRegressor"},
	"sklearn.neighbors._unsupervised":                            {"NearestNeighbors"},
	"sklearn.neural_network._multilayer_perceptron":              {"MLPClassifier", "MLPRegressor"},
	"sklearn.neural_network._rbm":                                {"BernoulliRBM"},
	"sklearn.neural_network._stochastic_optimizers":              {"AdamOptimizer"},
	"sklearn.pipeline":                                           {"FeatureUnion", "Pipeline"},
	"sklearn.preprocessing._data":                                {"Binarizer", "KernelCenterer", "MaxAbsScaler", "MinMaxScaler", "Normalizer", "PowerTransformer", "QuantileTransformer", "RobustScaler", "StandardScaler"},
	"sklearn.preprocessing._discretization":                      {"KBinsDiscretizer"},
	"sklearn.preprocessing._encoders":                            {"OneHotEncoder", "OrdinalEncoder"},
	"sklearn.preprocessing._function_transformer":                {"FunctionTransformer"},
	"sklearn.preprocessing._label":                               {"LabelBinarizer", "LabelEncoder", "MultiLabelBinarizer"},
	"sklearn.preprocessing._polynomial":                          {"PolynomialFeatures", "SplineTransformer"},
	"sklearn.preprocessing._target_encoder":                      {"TargetEncoder"},
	"sklearn.random_projection":                                  {"GaussianRandomProjection", "SparseRandomProjection"},
	"sklearn.semi_supervised._label_propagation":                 {"LabelPropagation", "LabelSpreading"},
	"sklearn.semi_supervised._self_training":                     {"SelfTrainingClassifier"},
	"sklearn.svm._classes":                                       {"LinearSVC", "LinearSVR", "NuSVC", "NuSVR", "OneClassSVM", "SVC", "SVR"},
	"sklearn.tree._classes":                                      {"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor"},
	"sklearn.tree._tree":                                         {"Tree"},
	"sklearn.utils._bunch":                                       {"Bunch"},
	"sklearn.utils._metadata_requests":                           {"MetadataRequest", "MethodMetadataRequest"},
	"sklearn.utils.validation":                                   {"check_array"},
}

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
	// numpy's scalar types: skops rebuilds a numpy scalar by calling its
	// type on the value (NdArrayNode), and they only hold numbers.
	add("numpy", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "float16", "longdouble", "complex64",
		"complex128", "clongdouble", "str_", "bytes_", "bool", "intc", "uintc", "intp", "uintp", "longlong",
		"ulonglong", "datetime64", "timedelta64")
	// numpy's elementwise and reduction math, which FunctionTransformer and
	// scorers hold by reference: they compute on arrays and nothing else.
	add("numpy", "sqrt", "cbrt", "square", "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "abs",
		"absolute", "fabs", "sign", "negative", "reciprocal", "power", "clip", "floor", "ceil", "rint", "round",
		"around", "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
		"arcsinh", "arccosh", "arctanh", "maximum", "minimum", "fmax", "fmin", "add", "subtract", "multiply",
		"divide", "true_divide", "floor_divide", "mean", "median", "sum", "prod", "std", "var", "max", "min",
		"amax", "amin", "nanmean", "nanmedian", "nansum", "nanstd", "nanvar", "nanmax", "nanmin", "argmax",
		"argmin", "cumsum", "cumprod", "average", "ptp", "percentile", "quantile", "nanpercentile",
		"nanquantile", "isnan", "isfinite", "nan_to_num", "asarray", "ravel")
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
	for mod, names := range recordedSafe {
		add(mod, names...)
	}
	// Reviewed by hand (libraries not in the test venv, or formats the
	// recording did not produce): sparse matrix containers and torch.nn
	// layers, the classes a whole-module torch.save pickles. All hold data;
	// none touches files, sockets, threads or processes.
	for _, f := range []string{"coo", "lil", "dok", "bsr", "dia"} {
		add("scipy.sparse._"+f, f+"_matrix", f+"_array")
	}
	add("scipy.sparse._csr", "csr_array")
	torchNN := map[string][]string{
		"linear":        {"Linear", "Identity", "Bilinear", "LazyLinear"},
		"container":     {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"},
		"activation":    {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softplus", "Hardswish", "Hardsigmoid", "Hardtanh", "MultiheadAttention", "GLU"},
		"conv":          {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"},
		"batchnorm":     {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"},
		"instancenorm":  {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"},
		"normalization": {"LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"},
		"pooling":       {"MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"},
		"dropout":       {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"},
		"sparse":        {"Embedding", "EmbeddingBag"},
		"rnn":           {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"},
		"flatten":       {"Flatten", "Unflatten"},
		"padding":       {"ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d"},
		"upsampling":    {"Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"},
		"pixelshuffle":  {"PixelShuffle", "PixelUnshuffle"},
		"transformer":   {"Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer"},
		"loss":          {"CrossEntropyLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "SmoothL1Loss", "HuberLoss"},
	}
	for mod, names := range torchNN {
		add("torch.nn.modules."+mod, names...)
	}
	add("mlflow.pyfunc.model", "PythonModel") // the abstract base of cloudpickled python models
	add("mlflow.models.signature", "_TypeHints")
	add("copyreg", "__newobj__", "__newobj_ex__")
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
		return Verdict{Kind: Dangerous, Resolved: qual, Reason: "cannot be resolved statically (a STACK_GLOBAL on a call result, or a name too long to keep), so it cannot be checked"}
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
	if seg, ok := moduleAttribute(imp.Name); ok {
		return Verdict{Kind: Dangerous, Resolved: qual, Reason: fmt.Sprintf("walks through %q, a module-level name that may be another module imported under an alias (random._os is os), so the callable it reaches cannot be known", seg)}
	}
	return Verdict{Kind: Unknown, Resolved: qual, Reason: "is not on the allowlist of known-safe callables"}
}

// lowercaseClasses are classes with lowercase names that a protocol 4
// attribute chain may legitimately walk through (dict.fromkeys,
// datetime.datetime.fromtimestamp, numpy.float64.fromhex): they are
// classes, not module aliases.
var lowercaseClasses = map[string]bool{}

func init() {
	for _, n := range []string{"dict", "list", "set", "frozenset", "tuple", "int", "float", "complex", "str",
		"bytes", "bytearray", "bool", "object", "type", "range", "slice", "datetime", "date", "time",
		"timedelta", "timezone", "defaultdict", "deque", "dtype", "ndarray", "matrix", "memmap", "recarray",
		"generic", "number", "integer", "floating", "float16", "float32", "float64", "int8", "int16",
		"int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool_", "str_", "bytes_", "void",
		"object_", "complex64", "complex128", "datetime64", "timedelta64"} {
		lowercaseClasses[n] = true
	}
}

// moduleAttribute reports the first segment of a dotted (protocol 4)
// name, short of the last, that is named like a module rather than a
// class: lowercase or underscored. Modules bind other modules under any
// name (random._os, threading._os, multiprocessing as mp), so a chain
// through one may reach any callable; a fail-closed walk cannot list them.
//
// A name with a segment no Python binding can have (space, '/', ':' ...)
// is not such a chain: aliases are identifiers. Text files that happen to
// start with a protocol 0 opcode ('c' of a go.sum line) read that way.
func moduleAttribute(name string) (string, bool) {
	segs := strings.Split(name, ".")
	for _, seg := range segs {
		if !identifierLike(seg) {
			return "", false
		}
	}
	for _, seg := range segs[:len(segs)-1] {
		if seg == "" || lowercaseClasses[seg] {
			continue
		}
		if c := seg[0]; c == '_' || (c >= 'a' && c <= 'z') {
			return seg, true
		}
	}
	return "", false
}

// identifierLike reports whether seg could be a Python identifier: ASCII
// letters, digits and '_' (not first a digit); non-ASCII bytes are allowed,
// since Python identifiers may be Unicode letters.
func identifierLike(seg string) bool {
	if seg == "" || (seg[0] >= '0' && seg[0] <= '9') {
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}
