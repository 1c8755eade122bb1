package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// fileResult is what one worker learned about one file. Only findings and
// directives travel back; file contents never do.
type fileResult struct {
	read       bool
	findings   []finding.Finding
	errors     []finding.Error
	directives []*directive
}

// process reads a file's head once, offers it to every analyzer, then
// re-reads its lines (text files only) for snippets and inline directives.
// A gitignored file is offered only to the analyzers in Options.SeeIgnored.
func (s *scanner) process(ctx context.Context, j job) fileResult {
	var out fileResult
	if ctx.Err() != nil {
		return out
	}
	head, err := analyze.ReadHead(j.abs)
	if err != nil {
		if j.ignored {
			s.log.Debug("gitignored file unreadable", "path", j.rel, "error", err)
			return out
		}
		out.errors = append(out.errors, finding.Error{Path: j.rel, Kind: finding.ErrRead, Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
		return out
	}
	f := &analyze.File{Path: j.rel, Abs: j.abs, Size: j.size, Head: head, Root: j.root}
	accepted := false
	for _, a := range s.analyzers {
		if j.ignored && !s.seeIgnored[a.Name()] {
			continue
		}
		if !a.Relevant(f) {
			continue
		}
		if sl, ok := a.(analyze.SizeLimiter); ok {
			if lim := sl.MaxFileSize(); lim > 0 && j.size > lim {
				out.errors = append(out.errors, finding.Error{Path: j.rel, Kind: finding.ErrSkipped,
					Message: fmt.Sprintf("%d bytes is over the %s analyzer's %d-byte limit; not analyzed", j.size, a.Name(), lim)})
				continue
			}
		}
		accepted = true
		r := analyze.Run(ctx, a, f)
		out.findings = append(out.findings, r.Findings...)
		out.errors = append(out.errors, r.Errors...)
	}
	out.read = !j.ignored || accepted
	if !accepted || bytes.IndexByte(head, 0) >= 0 {
		return out // binary or nobody's business: no lines to read
	}
	want := map[int][]int{}
	for i, fd := range out.findings {
		if fd.Path == j.rel && fd.Member == "" && fd.Line > 0 {
			want[fd.Line] = append(want[fd.Line], i)
		}
	}
	if data := f.Content(); data != nil && len(want) == 0 && !bytes.Contains(data, []byte(Marker)) {
		return out // read already: no findings and no directives
	}
	ds, es := s.readLines(j.abs, j.rel, want, out.findings, nil)
	out.directives = append(out.directives, ds...)
	out.errors = append(out.errors, es...)
	return out
}

// readLines streams one text file: snippets for the wanted lines (indexes
// into fs) and every inline directive that keep accepts (nil: all).
func (s *scanner) readLines(abs, rel string, want map[int][]int, fs []finding.Finding, keep func(*directive) bool) ([]*directive, []finding.Error) {
	fh, err := safeio.OpenRegular(abs)
	if err != nil {
		return nil, []finding.Error{{Path: rel, Kind: finding.ErrRead, Message: fmt.Sprintf("cannot re-read for snippets: %v", unwrapPath(err))}}
	}
	defer fh.Close()
	var dirs []*directive
	var errs []finding.Error
	lx := newStringLexer(rel)
	notebook := isNotebook(rel)
	err = eachLine(fh, func(n int, line []byte) bool {
		if notebook {
			// a notebook's code sits in JSON strings: snippets and
			// directives are about the cell text, not its JSON quoting
			text, ok := notebookText(line)
			if !ok {
				return true
			}
			line = text
		}
		strs := lx.spans(line) // every line: Python strings span lines
		if idx, ok := want[n]; ok && s.redact != nil {
			snip := makeSnippet(line, s.redact)
			for _, i := range idx {
				fs[i].Snippet = snip
			}
		}
		if bytes.Contains(line, []byte(Marker)) {
			d, es := parseDirective(s.ix, rel, n, string(line), strs)
			if d != nil && (keep == nil || keep(d)) {
				dirs = append(dirs, d)
			}
			if keep == nil || (d != nil && keep(d)) {
				errs = append(errs, es...)
			}
		}
		return true
	})
	if err != nil {
		errs = append(errs, finding.Error{Path: rel, Kind: finding.ErrRead, Message: fmt.Sprintf("reading lines: %v", unwrapPath(err))})
	}
	return dirs, errs
}

// isNotebook reports a Jupyter notebook by its name.
func isNotebook(rel string) bool { return strings.EqualFold(path.Ext(rel), ".ipynb") }

// notebookText is the text of an .ipynb line that holds one JSON string
// (a line of a cell's source or output), without its trailing newline.
func notebookText(line []byte) ([]byte, bool) {
	t := bytes.TrimSuffix(bytes.TrimSpace(line), []byte(","))
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return nil, false
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		// "source": "...": a cell held as one string
		i := bytes.Index(t, []byte(`": "`))
		if i < 0 || json.Unmarshal(t[i+3:], &s) != nil {
			return nil, false
		}
	}
	return []byte(strings.TrimRight(s, "\r\n")), true
}
