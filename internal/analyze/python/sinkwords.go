package python

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// wordMask classifies the words of a piece of source by the sinks they can
// take part in. The slicer (outline.go) keeps a function only when its words
// could make some check fire; a check that needs a new call name must add
// that name here (TestSinkWordsCoverChecks compares this table with the
// case labels of checkCall).
type wordMask uint16

const (
	wSink       wordMask = 1 << iota // names a sink on its own (log_param, MlflowClient, ACL ...)
	wPickleVerb                      // load/loads/dump/dumps/save: a sink with a pickler
	wPickler                         // pickle, joblib, dill, torch ... (and their aliases)
	wNumpy                           // numpy.load(allow_pickle=True), also positional
	wExec                            // runs code: fires only on a downloaded artifact
	wDown                            // yields a downloaded artifact
	wLatest                          // "latest" in models:/name/latest
	wModels                          // "models" in models:/name/latest
	wEnviron                         // os.environ (set through a subscript, update, setdefault)
	wEnvSet                          // update/setdefault, or a subscript assignment
)

// relevant: the words can make a check fire.
func (m wordMask) relevant() bool {
	return m&wSink != 0 ||
		m&wPickleVerb != 0 && m&(wPickler|wNumpy) != 0 ||
		m&wExec != 0 && m&wDown != 0 ||
		m&wLatest != 0 && m&wModels != 0 ||
		m&wEnviron != 0 && m&wEnvSet != 0
}

// sinkWords maps lower-cased words to their classes.
var sinkWords = func() map[string]wordMask {
	m := map[string]wordMask{}
	add := func(c wordMask, words string) {
		for _, w := range strings.Fields(words) {
			m[strings.ToLower(w)] |= c
		}
	}
	add(wSink, `log_explainer Unpickler read_pickle allow_pickle load_model load_pyfunc log_model spark_udf
		download_artifacts get_latest_versions transition_model_version_stage set_registered_model_alias
		log_param set_tag set_experiment_tag log_params set_tags set_experiment_tags log_dict log_text
		start_run create_run log_artifact log_artifacts create_experiment
		generate_presigned_url generate_presigned_post generate_signed_url
		generate_blob_sas generate_container_sas generate_account_sas generate_file_sas generate_share_sas
		set_tracking_uri set_registry_uri MlflowClient create_engine putenv ACL ExtraArgs
		aws_secret_access_key aws_session_token`)
	add(wSink, strings.Join(mlflowDataSources, " "))
	add(wPickleVerb, `load loads dump dumps save`)
	add(wPickler, `pickle cPickle _pickle pickle5 cloudpickle dill joblib torch`)
	add(wNumpy, `numpy np`)
	add(wExec, `exec eval compile run_path run_module import_module __import__ system popen run call check_call
		check_output Popen getoutput getstatusoutput startfile execv execvp execl execlp spawnv
		spec_from_file_location SourceFileLoader`)
	add(wDown, `download_artifacts load_text`)
	add(wLatest, `latest`)
	add(wModels, `models`)
	add(wEnviron, `environ`)
	add(wEnvSet, `update setdefault`)
	return m
}()

// mlflowDataSources are the mlflow.data constructors whose source= is
// stored with the run (MLG201 checks it for credentials).
var mlflowDataSources = []string{"from_pandas", "from_numpy", "from_spark", "from_huggingface", "from_polars", "from_tensorflow"}

// isWordByte is ASCII-only, unlike the lexer's isIdentByte: a non-ASCII
// byte splits a word here, so a sink name glued to one is still seen.
func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lenFilter has bit n set for the lengths n (n < 64) of the table's words
// that start with a given lower-case byte: most words are rejected by it
// without a map lookup.
type lenFilter [256]uint64

func (f *lenFilter) add(w string) {
	if len(w) < 64 {
		f[lower(w[0])] |= 1 << len(w)
	} else {
		f[lower(w[0])] |= 1 // long words: always look up
	}
}

func (f *lenFilter) may(w []byte) bool {
	n := len(w)
	if n >= 64 {
		return f[lower(w[0])]&1 != 0
	}
	return f[lower(w[0])]&(1<<n) != 0
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

var sinkFilter = func() *lenFilter {
	f := &lenFilter{}
	for w := range sinkWords {
		f.add(w)
	}
	return f
}()

// aliasSet holds a file's module-level names that carry word classes.
type aliasSet struct {
	m map[string]wordMask
	f lenFilter
}

func newAliasSet() *aliasSet { return &aliasSet{m: map[string]wordMask{}} }

func (a *aliasSet) add(name string, m wordMask) {
	name = strings.ToLower(normIdent(name))
	a.m[name] |= m
	a.f.add(name)
}

// wordClasses looks a word up, case-insensitively, in the table and in the
// file's aliases (nil: none).
func wordClasses(w []byte, aliases *aliasSet) wordMask {
	inTable := sinkFilter.may(w)
	inAliases := aliases != nil && aliases.f.may(w)
	if !inTable && !inAliases {
		return 0
	}
	var buf [48]byte
	if len(w) > len(buf) {
		if inAliases {
			return aliases.m[strings.ToLower(string(w))]
		}
		return 0
	}
	for i, c := range w {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	lw := buf[:len(w)]
	var m wordMask
	if inTable {
		m = sinkWords[string(lw)]
	}
	if inAliases {
		m |= aliases.m[string(lw)]
	}
	return m
}

// maskOf classifies every word in b, strings and comments included (a URI
// or dict key in a string counts), plus subscript assignments for wEnvSet.
func maskOf(b []byte, aliases *aliasSet) wordMask {
	var m wordMask
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(b) && isWordByte(b[j]) {
				j++
			}
			m |= wordClasses(b[i:j], aliases)
			if j < len(b) && b[j] >= 0x80 {
				m |= wideWord(b, i, aliases)
			}
			i = j
		case c >= '0' && c <= '9':
			// digits only: a name glued to a number (0name) is still a name
			for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			}
		case c == ']':
			// x[k] = v, x[k] += v: may set an environment variable
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			for k := 0; k < 3 && j < len(b) && strings.IndexByte("=+-*/%&|^<>@:!", b[j]) >= 0; k++ {
				if b[j] == '=' {
					m |= wEnvSet
					break
				}
				j++
			}
			i++
		case c >= 0x80:
			// a name with non-ASCII letters: Python reads it NFKC-normalised
			// (ｌｏａｄ is load, an alias pé is pé)
			if i == 0 || !isWordByte(b[i-1]) {
				m |= wideWord(b, i, aliases)
			}
			// only the non-ASCII bytes: an ASCII sink name glued after them
			// is still a word of its own
			for i++; i < len(b) && b[i] >= 0x80; i++ {
			}
		default:
			i++
		}
	}
	return m
}

// wideWord classifies the whole name starting at b[i] (ASCII and non-ASCII
// bytes), normalised as Python normalises names.
func wideWord(b []byte, i int, aliases *aliasSet) wordMask {
	j := i
	for j < len(b) && isIdentByte(b[j]) {
		j++
	}
	w := b[i:j]
	if !norm.NFKC.IsNormal(w) {
		w = norm.NFKC.Bytes(w)
	}
	return wordClasses(w, aliases)
}
