package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Jupyter notebooks (nbformat 3 and 4) are JSON. Cells hold their text as a
// string or as a list of strings that nbformat joins with "" (tracebacks are
// the exception: a list of lines joined with "\n"). The reader streams the
// JSON tokens, so it knows the line of the .ipynb each string sits on: that
// is the line a report must point at for an editor or code scanning to show
// it, since the cell's own line numbers exist nowhere in the file.

// maxNotebookDepth bounds JSON nesting; real notebooks nest a handful deep
// (widget state and metadata a few more).
const maxNotebookDepth = 256

// nbLine is one line of a cell's text and the .ipynb line its JSON string
// is on.
type nbLine struct {
	text string
	line int
}

// nbCell is one cell, numbered from 1 in file order (markdown cells count,
// as editors number them).
type nbCell struct {
	index   int
	kind    string     // "code", "markdown", "raw", "heading" (v3)
	src     []nbLine   // v4 "source" or v3 "input"
	outputs []nbOutput // stream text, text/plain results, error values and tracebacks
}

// nbOutput is one text of a cell's saved outputs as Jupyter shows it: a
// text/plain result, an error's value or traceback, or what consecutive
// outputs to one stream wrote. Jupyter shows those writes as one text (the
// kernel flushes a stream in chunks, cut anywhere), so a key printed
// across two of them is read whole.
type nbOutput struct {
	stream string // the stream's name ("stdout", "stderr"); "" when not a stream
	lines  []nbLine
	open   bool // the text ends inside a line, which the stream's next write continues
}

// merge appends the next write to the same stream.
func (o *nbOutput) merge(next nbOutput) {
	ls := next.lines
	if len(ls) == 0 {
		return
	}
	if o.open && len(o.lines) > 0 {
		o.lines[len(o.lines)-1].text += ls[0].text
		ls = ls[1:]
	}
	o.lines = append(o.lines, ls...)
	o.open = next.open
}

// notebook is what the reader keeps of an .ipynb.
type notebook struct {
	cells []nbCell
	// language is the kernel's language (metadata.kernelspec.language,
	// metadata.language_info.name or v3 metadata.language), "" when unnamed.
	language string
}

// errNotebook is a malformed notebook: its line in the .ipynb and why.
type errNotebook struct {
	line int
	msg  string
}

func (e *errNotebook) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

type nbReader struct {
	dec   *json.Decoder
	b     []byte
	off   int64 // bytes already counted into line
	line  int   // the line at off (1-based)
	depth int
	cells int
}

// readNotebook parses an .ipynb. Anything that is not a notebook's shape
// where a notebook's shape is required (cells not a list, a source that is
// not text) is an error, as nbformat would refuse it.
func readNotebook(b []byte) (*notebook, error) {
	r := &nbReader{dec: json.NewDecoder(bytes.NewReader(b)), b: b, line: 1}
	r.dec.UseNumber()
	nb := &notebook{}
	if err := r.object("notebook", func(key string) error {
		switch key {
		case "cells":
			return r.cellList(nb)
		case "worksheets": // nbformat 3
			return r.array("worksheets", func() error {
				return r.object("worksheet", func(k string) error {
					if k == "cells" {
						return r.cellList(nb)
					}
					return r.skip()
				})
			})
		case "metadata":
			return r.metadata(nb)
		}
		return r.skip()
	}); err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, r.fail(err, "data after the notebook's closing brace")
	}
	return nb, nil
}

// lineAt is the line of byte offset off; offsets only grow while reading.
func (r *nbReader) lineAt(off int64) int {
	if off > int64(len(r.b)) {
		off = int64(len(r.b))
	}
	if off > r.off {
		r.line += bytes.Count(r.b[r.off:off], []byte{'\n'})
		r.off = off
	}
	return r.line
}

// token reads one token and the line it ends on (a JSON string never spans
// lines, so for strings that is its line).
func (r *nbReader) token() (json.Token, int, error) {
	t, err := r.dec.Token()
	if err != nil {
		return nil, 0, r.fail(err, "")
	}
	return t, r.lineAt(r.dec.InputOffset()), nil
}

// fail turns a decoder error (or a shape complaint when err is nil or EOF)
// into an errNotebook carrying the line.
func (r *nbReader) fail(err error, msg string) error {
	var ne *errNotebook
	if errors.As(err, &ne) {
		return err
	}
	off := r.dec.InputOffset()
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off, msg = se.Offset, "invalid JSON: "+se.Error()
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if msg == "" {
			msg = "the JSON ends early"
		}
	case err != nil && msg == "":
		msg = "invalid JSON: " + err.Error()
	}
	return &errNotebook{line: r.lineAt(off), msg: msg}
}

func (r *nbReader) open(what string, want json.Delim) error {
	t, line, err := r.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		kind := "an object"
		if want == '[' {
			kind = "a list"
		}
		return &errNotebook{line: line, msg: what + " is not " + kind}
	}
	r.depth++
	if r.depth > maxNotebookDepth {
		return &errNotebook{line: line, msg: fmt.Sprintf("JSON nested deeper than %d levels", maxNotebookDepth)}
	}
	return nil
}

func (r *nbReader) close() error {
	if _, _, err := r.token(); err != nil {
		return err
	}
	r.depth--
	return nil
}

// object reads an object, calling each for every key; each must consume
// the key's value.
func (r *nbReader) object(what string, each func(key string) error) error {
	if err := r.open(what, '{'); err != nil {
		return err
	}
	for r.dec.More() {
		t, _, err := r.token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		if err := each(k); err != nil {
			return err
		}
	}
	return r.close()
}

func (r *nbReader) array(what string, each func() error) error {
	if err := r.open(what, '['); err != nil {
		return err
	}
	for r.dec.More() {
		if err := each(); err != nil {
			return err
		}
	}
	return r.close()
}

// skip consumes one value of any shape, bounded in depth.
func (r *nbReader) skip() error {
	depth := 0
	for {
		t, line, err := r.token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if r.depth+depth > maxNotebookDepth {
					return &errNotebook{line: line, msg: fmt.Sprintf("JSON nested deeper than %d levels", maxNotebookDepth)}
				}
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func (r *nbReader) cellList(nb *notebook) error {
	return r.array("cells", func() error {
		r.cells++
		c := nbCell{index: r.cells}
		var input []nbLine
		hasSource := false
		prevStream := "" // the stream the previous output wrote to, if it was one
		err := r.object(fmt.Sprintf("cell %d", c.index), func(k string) error {
			var err error
			switch k {
			case "cell_type":
				c.kind, err = r.str("cell_type")
			case "source":
				c.src, err = r.text(fmt.Sprintf("the source of cell %d", c.index), false)
				hasSource = true
			case "input": // nbformat 3 code cells
				input, err = r.text(fmt.Sprintf("the input of cell %d", c.index), false)
			case "outputs":
				err = r.array(fmt.Sprintf("the outputs of cell %d", c.index), func() error { return r.output(&c, &prevStream) })
			default:
				err = r.skip()
			}
			return err
		})
		if !hasSource {
			c.src = input
		}
		nb.cells = append(nb.cells, c)
		return err
	})
}

// output reads one output of c. prevStream is the stream the previous
// output of the cell wrote to ("" if it was no stream output): a write to
// the same stream continues that text.
func (r *nbReader) output(c *nbCell, prevStream *string) error {
	what := fmt.Sprintf("an output of cell %d", c.index)
	var texts []nbOutput
	streamText := -1 // index in texts of the "text" of a stream output
	var typ, name string
	err := r.object(what, func(k string) error {
		var o nbOutput
		var err error
		switch k {
		case "output_type":
			typ, err = r.anyStr()
			return err
		case "name", "stream": // a stream's name (v4, v3)
			name, err = r.anyStr()
			return err
		case "text", "evalue": // stream and v3 pyout text; an error's message
			o.lines, o.open, err = r.textEnd(what, false)
		case "traceback":
			o.lines, o.open, err = r.textEnd(what, true)
		case "data":
			err = r.object(what, func(mime string) error {
				if mime != "text/plain" {
					return r.skip()
				}
				var e error
				o.lines, o.open, e = r.textEnd(what, false)
				return e
			})
		default:
			return r.skip()
		}
		if len(o.lines) > 0 {
			if k == "text" {
				streamText = len(texts)
			}
			texts = append(texts, o)
		}
		return err
	})
	stream := ""
	if typ == "stream" {
		stream = "stream:" + name // never "", so a nameless stream still merges with itself
	}
	for i, o := range texts {
		if i == streamText && stream != "" {
			o.stream = stream
			if n := len(c.outputs); *prevStream == stream && n > 0 && c.outputs[n-1].stream == stream {
				c.outputs[len(c.outputs)-1].merge(o)
				continue
			}
		}
		c.outputs = append(c.outputs, o)
	}
	*prevStream = stream
	return err
}

func (r *nbReader) metadata(nb *notebook) error {
	return r.object("metadata", func(k string) error {
		switch k {
		case "kernelspec", "language_info":
			return r.object("metadata."+k, func(k2 string) error {
				if (k == "kernelspec" && k2 == "language") || (k == "language_info" && k2 == "name") {
					s, err := r.anyStr()
					if nb.language == "" || k == "kernelspec" {
						nb.language = s
					}
					return err
				}
				return r.skip()
			})
		case "language": // nbformat 3
			s, err := r.anyStr()
			if nb.language == "" {
				nb.language = s
			}
			return err
		}
		return r.skip()
	})
}

// str reads a string value.
func (r *nbReader) str(what string) (string, error) {
	t, line, err := r.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", &errNotebook{line: line, msg: what + " is not a string"}
	}
	return s, nil
}

// anyStr reads a value that should be a string and tolerates anything else
// (metadata is free-form; a bad one only loses the language).
func (r *nbReader) anyStr() (string, error) {
	t, _, err := r.token()
	if err != nil {
		return "", err
	}
	switch v := t.(type) {
	case string:
		return v, nil
	case json.Delim:
		// a container: consume the rest of it
		r.depth++
		depth := 1
		for depth > 0 {
			t, line, err := r.token()
			if err != nil {
				return "", err
			}
			if d, ok := t.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
					if r.depth+depth > maxNotebookDepth {
						return "", &errNotebook{line: line, msg: fmt.Sprintf("JSON nested deeper than %d levels", maxNotebookDepth)}
					}
				} else {
					depth--
				}
			}
		}
		r.depth--
	}
	return "", nil
}

// text reads a multi-line string: one string, or a list of strings joined
// with "" (lines true: joined with "\n", as tracebacks are). Each line keeps
// the .ipynb line of the string it starts in.
func (r *nbReader) text(what string, lines bool) ([]nbLine, error) {
	out, _, err := r.textEnd(what, lines)
	return out, err
}

// textEnd is text that also reports whether the text ends inside a line
// (no final newline).
func (r *nbReader) textEnd(what string, lines bool) ([]nbLine, bool, error) {
	var out []nbLine
	var cur strings.Builder
	curLine, open := 0, false
	add := func(s string, line int) {
		for s != "" {
			if !open {
				curLine, open = line, true
			}
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				cur.WriteString(s)
				return
			}
			cur.WriteString(s[:i])
			out = append(out, nbLine{text: strings.TrimSuffix(cur.String(), "\r"), line: curLine})
			cur.Reset()
			open = false
			s = s[i+1:]
		}
	}
	t, line, err := r.token()
	if err != nil {
		return nil, false, err
	}
	switch v := t.(type) {
	case string:
		add(v, line)
	case json.Delim:
		if v != '[' {
			return nil, false, &errNotebook{line: line, msg: what + " is neither a string nor a list of strings"}
		}
		for r.dec.More() {
			t, line, err := r.token()
			if err != nil {
				return nil, false, err
			}
			s, ok := t.(string)
			if !ok {
				return nil, false, &errNotebook{line: line, msg: what + " holds something other than strings"}
			}
			add(s, line)
			if lines {
				add("\n", line)
			}
		}
		if _, _, err := r.token(); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, &errNotebook{line: line, msg: what + " is neither a string nor a list of strings"}
	}
	open = open && cur.Len() > 0
	if open {
		out = append(out, nbLine{text: strings.TrimSuffix(cur.String(), "\r"), line: curLine})
	}
	return out, open, nil
}
