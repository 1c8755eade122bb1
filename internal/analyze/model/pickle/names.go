package pickle

import "strings"

// Python 2 names that CPython's unpickler remaps below protocol 3
// (fix_imports, Lib/_compat_pickle.py). Facts only: the mapping table.
var py2Modules = map[string]string{
	"__builtin__": "builtins", "copy_reg": "copyreg", "Queue": "queue",
	"SocketServer": "socketserver", "ConfigParser": "configparser", "repr": "reprlib",
	"tkFileDialog": "tkinter.filedialog", "tkSimpleDialog": "tkinter.simpledialog",
	"tkColorChooser": "tkinter.colorchooser", "tkCommonDialog": "tkinter.commondialog",
	"Dialog": "tkinter.dialog", "Tkdnd": "tkinter.dnd", "tkFont": "tkinter.font",
	"tkMessageBox": "tkinter.messagebox", "ScrolledText": "tkinter.scrolledtext",
	"Tkconstants": "tkinter.constants", "Tix": "tkinter.tix", "ttk": "tkinter.ttk",
	"Tkinter": "tkinter", "markupbase": "_markupbase", "_winreg": "winreg",
	"thread": "_thread", "dummy_thread": "_dummy_thread", "dbhash": "dbm.bsd",
	"dumbdbm": "dbm.dumb", "dbm": "dbm.ndbm", "gdbm": "dbm.gnu", "xmlrpclib": "xmlrpc.client",
	"SimpleXMLRPCServer": "xmlrpc.server", "httplib": "http.client",
	"htmlentitydefs": "html.entities", "HTMLParser": "html.parser", "Cookie": "http.cookies",
	"cookielib": "http.cookiejar", "BaseHTTPServer": "http.server",
	"test.test_support": "test.support", "commands": "subprocess", "urlparse": "urllib.parse",
	"robotparser": "urllib.robotparser", "urllib2": "urllib.request", "anydbm": "dbm",
	"_abcoll": "collections.abc", "cPickle": "pickle", "_elementtree": "xml.etree.ElementTree",
	"FileDialog": "tkinter.filedialog", "SimpleDialog": "tkinter.simpledialog",
	"DocXMLRPCServer": "xmlrpc.server", "SimpleHTTPServer": "http.server",
	"CGIHTTPServer": "http.server", "UserDict": "collections", "UserList": "collections",
	"UserString": "collections", "whichdb": "dbm", "StringIO": "io", "cStringIO": "io",
	"exceptions": "builtins", "multiprocessing.forking": "multiprocessing.popen_fork",
}

var py2Names = map[[2]string][2]string{
	{"__builtin__", "xrange"}:              {"builtins", "range"},
	{"__builtin__", "reduce"}:              {"functools", "reduce"},
	{"__builtin__", "intern"}:              {"sys", "intern"},
	{"__builtin__", "unichr"}:              {"builtins", "chr"},
	{"__builtin__", "unicode"}:             {"builtins", "str"},
	{"__builtin__", "long"}:                {"builtins", "int"},
	{"__builtin__", "basestring"}:          {"builtins", "str"},
	{"itertools", "izip"}:                  {"builtins", "zip"},
	{"itertools", "imap"}:                  {"builtins", "map"},
	{"itertools", "ifilter"}:               {"builtins", "filter"},
	{"itertools", "ifilterfalse"}:          {"itertools", "filterfalse"},
	{"itertools", "izip_longest"}:          {"itertools", "zip_longest"},
	{"UserDict", "IterableUserDict"}:       {"collections", "UserDict"},
	{"UserList", "UserList"}:               {"collections", "UserList"},
	{"UserString", "UserString"}:           {"collections", "UserString"},
	{"whichdb", "whichdb"}:                 {"dbm", "whichdb"},
	{"_socket", "fromfd"}:                  {"socket", "fromfd"},
	{"_multiprocessing", "Connection"}:     {"multiprocessing.connection", "Connection"},
	{"multiprocessing.process", "Process"}: {"multiprocessing.context", "Process"},
	{"multiprocessing.forking", "Popen"}:   {"multiprocessing.popen_fork", "Popen"},
	{"urllib", "ContentTooShortError"}:     {"urllib.error", "ContentTooShortError"},
	{"urllib", "getproxies"}:               {"urllib.request", "getproxies"},
	{"urllib", "pathname2url"}:             {"urllib.request", "pathname2url"},
	{"urllib", "quote_plus"}:               {"urllib.parse", "quote_plus"},
	{"urllib", "quote"}:                    {"urllib.parse", "quote"},
	{"urllib", "unquote_plus"}:             {"urllib.parse", "unquote_plus"},
	{"urllib", "unquote"}:                  {"urllib.parse", "unquote"},
	{"urllib", "url2pathname"}:             {"urllib.request", "url2pathname"},
	{"urllib", "urlcleanup"}:               {"urllib.request", "urlcleanup"},
	{"urllib", "urlencode"}:                {"urllib.parse", "urlencode"},
	{"urllib", "urlopen"}:                  {"urllib.request", "urlopen"},
	{"urllib", "urlretrieve"}:              {"urllib.request", "urlretrieve"},
	{"urllib2", "HTTPError"}:               {"urllib.error", "HTTPError"},
	{"urllib2", "URLError"}:                {"urllib.error", "URLError"},
}

// MapPy2 applies CPython's protocol<3 name fixes: exact pairs first, then the
// module table.
func MapPy2(module, name string) (string, string) {
	if v, ok := py2Names[[2]string{module, name}]; ok {
		return v[0], v[1]
	}
	if m, ok := py2Modules[module]; ok {
		return m, name
	}
	if module == "exceptions" {
		return "builtins", name
	}
	return module, name
}

// Qualified joins module and name.
func Qualified(module, name string) string {
	if module == "" {
		return name
	}
	return module + "." + name
}

func isDunderTraversal(name string) bool {
	for _, p := range strings.Split(name, ".") {
		if strings.HasPrefix(p, "__") && strings.HasSuffix(p, "__") && len(p) > 4 {
			return true
		}
	}
	return false
}
