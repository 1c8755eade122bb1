package python

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// MaxNotebookSize is the largest .ipynb read: saved outputs (plots as
// base64) make notebooks far larger than their code, which is still held to
// MaxSize once the cells are joined.
const MaxNotebookSize = 64 << 20

// Notebooks analyses Jupyter notebooks with a Python analyzer: the code
// cells, in file order, are one module (a name defined in cell 1 is known
// in cell 5, as in a kernel that ran them top to bottom), and the saved
// outputs are searched for credentials.
type Notebooks struct{ py *Analyzer }

// NewNotebooks wraps py, whose parsers and policy it shares.
func NewNotebooks(py *Analyzer) *Notebooks { return &Notebooks{py: py} }

var (
	_ analyze.Analyzer    = (*Notebooks)(nil)
	_ analyze.SizeLimiter = (*Notebooks)(nil)
)

// Name implements analyze.Analyzer.
func (n *Notebooks) Name() string { return "notebook" }

// MaxFileSize implements analyze.SizeLimiter.
func (n *Notebooks) MaxFileSize() int64 { return MaxNotebookSize }

// Relevant accepts .ipynb files.
func (n *Notebooks) Relevant(f *analyze.File) bool {
	return strings.EqualFold(path.Ext(f.Path), ".ipynb")
}

// Analyze implements analyze.Analyzer.
func (n *Notebooks) Analyze(ctx context.Context, f *analyze.File) (res analyze.Result) {
	if f.MaxRead <= 0 || f.MaxRead > MaxNotebookSize {
		f.MaxRead = MaxNotebookSize
	}
	b, err := f.ReadAll()
	if err != nil {
		res.Fail(finding.Error{Path: f.Path, Kind: finding.ErrRead, Message: fmt.Errorf("reading %s: %w", f.Path, err).Error()})
		return res
	}
	return n.analyzeBytes(ctx, f.Path, b)
}

func (n *Notebooks) analyzeBytes(ctx context.Context, name string, b []byte) (res analyze.Result) {
	if len(bytes.TrimSpace(b)) == 0 {
		return res // an empty file holds no code (Jupyter shows it as unreadable, not as a notebook)
	}
	nb, err := readNotebook(b)
	if err != nil {
		e := finding.Error{Path: name, Kind: finding.ErrParse, Message: fmt.Sprintf("%s is not a readable notebook: %v", name, err)}
		if ne, ok := err.(*errNotebook); ok {
			e.Line = ne.line
		}
		res.Fail(e)
		return res
	}
	n.outputSecrets(nb, name, &res)
	if !pythonKernel(nb.language) {
		return res
	}
	m := buildModule(nb)
	if len(m.src) > MaxSize {
		res.Fail(finding.Error{Path: name, Kind: finding.ErrLimit, Message: fmt.Sprintf("the code cells hold %d bytes, over the %d-byte limit for Python code", len(m.src), MaxSize)})
		return res
	}
	r := n.py.analyzeSource(ctx, name, m.src, srcKind{notebook: true, starImp: m.runs})
	for _, f := range r.Findings {
		if p, ok := m.at(f.Line); ok {
			f.Line, f.Cell, f.CellLine = p.line, p.cell, p.cellLine
			f.Column, f.EndColumn = 0, 0 // columns of the cell, not of the JSON line
			if q, ok := m.at(f.EndLine); ok && q.line >= f.Line {
				f.EndLine = q.line
			} else {
				f.EndLine = f.Line
			}
		}
		res.Add(f)
	}
	for _, e := range r.Errors {
		if p, ok := m.at(e.Line); ok {
			e.Line = p.line
		}
		e.Message = m.cellLines(e.Message)
		res.Fail(e)
	}
	return res
}

// pythonKernel reports whether the notebook's language is Python (an
// unnamed one is taken to be: that is Jupyter's default).
func pythonKernel(lang string) bool {
	l := strings.ToLower(strings.TrimSpace(lang))
	return l == "" || strings.HasPrefix(l, "python") || l == "ipython" || l == "pyspark"
}

// nbPos is where a line of the joined module came from.
type nbPos struct{ cell, cellLine, line int }

// nbModule is the code cells joined into one Python source.
type nbModule struct {
	src   []byte
	lines []nbPos // module line i (1-based) is lines[i-1]
	runs  bool    // a "%run" may define any name
}

func (m *nbModule) at(line int) (nbPos, bool) {
	if line < 1 || line > len(m.lines) {
		return nbPos{}, false
	}
	return m.lines[line-1], true
}

var lineRefRe = regexp.MustCompile(`\bline (\d+)( column \d+)?`)

// cellLines rewrites "line N" of the module in a message as "cell C, line L".
func (m *nbModule) cellLines(msg string) string {
	return lineRefRe.ReplaceAllStringFunc(msg, func(s string) string {
		sub := lineRefRe.FindStringSubmatch(s)
		n, _ := strconv.Atoi(sub[1])
		p, ok := m.at(n)
		if !ok {
			return s
		}
		return fmt.Sprintf("cell %d, line %d%s", p.cell, p.cellLine, sub[2])
	})
}

// pythonCellMagics are cell magics whose body is Python run in the kernel;
// every other cell magic (%%bash, %%sh, %%writefile, %%html, %%sql, ...)
// holds something else.
var pythonCellMagics = map[string]bool{"time": true, "timeit": true, "capture": true, "prun": true, "debug": true}

// escapeAssignRe is "x = !cmd" and "x = %magic": the value is the
// command's output, a list of lines.
var escapeAssignRe = regexp.MustCompile(`^([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[!%]`)

// helpRe is IPython's object help: "obj?", "obj.attr??", "?obj".
var helpRe = regexp.MustCompile(`^(?:\?\??\S.*|[A-Za-z_*][\w.*]*(?:\(\))?\?\??)$`)

// buildModule joins the code cells, replacing what IPython handles itself
// (magics, shell escapes, help) with Python that binds the same names, and
// records where each line came from.
func buildModule(nb *notebook) *nbModule {
	m := &nbModule{}
	var b strings.Builder
	emit := func(text string, c *nbCell, i int) {
		b.WriteString(text)
		b.WriteByte('\n')
		m.lines = append(m.lines, nbPos{cell: c.index, cellLine: i + 1, line: c.src[i].line})
	}
	for ci := range nb.cells {
		c := &nb.cells[ci]
		if c.kind != "code" {
			continue
		}
		first := 0
		for first < len(c.src) && strings.TrimSpace(c.src[first].text) == "" {
			first++
		}
		var lx pyLexer
		cont := false // the previous line was an escape continued by a backslash
		for i, l := range c.src {
			text := l.text
			if i == first && strings.HasPrefix(strings.TrimSpace(text), "%%") {
				if !pythonCellMagics[magicName(strings.TrimSpace(text)[2:])] {
					for j := i; j < len(c.src); j++ {
						emit("", c, j)
					}
					break
				}
				emit("", c, i)
				continue
			}
			trimmed := strings.TrimLeft(text, " \t")
			indent := text[:len(text)-len(trimmed)]
			switch {
			case cont:
				cont = strings.HasSuffix(text, "\\")
				emit("", c, i)
				continue
			case !lx.logicalStart():
				// inside a string, brackets or a continued line: Python's own
			case strings.HasPrefix(trimmed, "%") || strings.HasPrefix(trimmed, "!"):
				if strings.HasPrefix(trimmed, "%run") {
					m.runs = true
				}
				cont = strings.HasSuffix(trimmed, "\\")
				emit(indent+"pass", c, i)
				continue
			case escapeAssignRe.MatchString(trimmed) && !strings.Contains(trimmed, "!="):
				lhs := escapeAssignRe.FindStringSubmatch(trimmed)[1]
				cont = strings.HasSuffix(trimmed, "\\")
				emit(indent+lhs+" = []", c, i)
				continue
			case helpRe.MatchString(strings.TrimRight(trimmed, " \t")):
				emit(indent+"pass", c, i)
				continue
			}
			lx.feed(text)
			emit(text, c, i)
		}
	}
	m.src = []byte(b.String())
	return m
}

// magicName is the name of a magic from the text after its % signs.
func magicName(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	return s
}

// pyLexer follows strings, brackets and backslash continuations across
// the lines of a cell, so an escape is recognised only where IPython
// recognises one: at the start of a logical line.
type pyLexer struct {
	triple string // the closing quotes while inside a triple-quoted string
	depth  int    // open brackets
	cont   bool   // the last line ended with a backslash
}

func (lx *pyLexer) logicalStart() bool { return lx.triple == "" && lx.depth == 0 && !lx.cont }

func (lx *pyLexer) feed(line string) {
	lx.cont = false
	i := 0
	for i < len(line) {
		if lx.triple != "" {
			j := strings.Index(line[i:], lx.triple)
			if j < 0 {
				return
			}
			i += j + 3
			lx.triple = ""
			continue
		}
		switch c := line[i]; c {
		case '#':
			return
		case '(', '[', '{':
			lx.depth++
		case ')', ']', '}':
			if lx.depth > 0 {
				lx.depth--
			}
		case '\\':
			if i == len(line)-1 {
				lx.cont = true
			}
			i++
		case '"', '\'':
			if i+2 < len(line) && line[i+1] == c && line[i+2] == c {
				lx.triple = line[i : i+3]
				i += 3
				continue
			}
			j := i + 1
			for j < len(line) && line[j] != c {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) && strings.HasSuffix(line, "\\") {
				lx.cont = true
			}
			i = j
		}
		i++
	}
}

// outputSecrets reports credentials in the saved outputs: a token printed
// by mistake is committed with the notebook. Only value-shaped matches
// count (known token formats, private keys, or a secret-named key assigned
// a value), as in free text anywhere else. Each output text is read whole,
// as a reader of the notebook sees it, so a private key printed over many
// lines is found; a finding names the .ipynb line where the credential
// starts, one per line.
func (n *Notebooks) outputSecrets(nb *notebook, name string, res *analyze.Result) {
	type hit struct {
		kind  string
		start int
	}
	for _, c := range nb.cells {
		seen := map[int]bool{} // .ipynb lines of the cell already reported
		for _, o := range c.outputs {
			if len(o.lines) == 0 {
				continue
			}
			// starts[i] is the offset of o.lines[i] in the joined text
			starts := make([]int, len(o.lines))
			var b strings.Builder
			for i, l := range o.lines {
				if i > 0 {
					b.WriteByte('\n')
				}
				starts[i] = b.Len()
				b.WriteString(l.text)
			}
			var hits []hit
			n.py.sec.ScanText(b.String(), func(kind string, start int) { hits = append(hits, hit{kind, start}) })
			// windows report in their own order; the earliest match on a
			// line names its kind
			sort.SliceStable(hits, func(i, j int) bool { return hits[i].start < hits[j].start })
			for _, h := range hits {
				i := sort.SearchInts(starts, h.start+1) - 1
				line := o.lines[max(i, 0)].line
				if seen[line] {
					continue
				}
				seen[line] = true
				res.Add(finding.Finding{RuleID: "MLG403", Path: name, Line: line, EndLine: line, Cell: c.index,
					Context: rules.CtxNotebookOutput,
					Message: fmt.Sprintf("the saved output of cell %d holds a credential (%s); outputs are committed with the notebook", c.index, h.kind)})
			}
		}
	}
}
