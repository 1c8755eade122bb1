package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Text is the human format: findings grouped by file, each with its fix.
type Text struct {
	Color bool
}

var _ Writer = (*Text)(nil)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

func (t *Text) paint(code, s string) string {
	if !t.Color {
		return s
	}
	return code + s + ansiReset
}

func levelColor(l finding.Level) string {
	switch l {
	case finding.Strict:
		return ansiRed
	case finding.Warning:
		return ansiYellow
	}
	return ansiCyan
}

// displayPath shows an archive member as path!member.
func displayPath(path, member string) string {
	if member == "" {
		return path
	}
	return path + "!" + member
}

func location(f finding.Finding) string {
	if f.Line <= 0 {
		return "-"
	}
	if f.Cell > 0 && f.CellLine > 0 {
		return fmt.Sprintf("%d (cell %d, line %d)", f.Line, f.Cell, f.CellLine)
	}
	if f.Cell > 0 {
		return fmt.Sprintf("%d (cell %d)", f.Line, f.Cell)
	}
	if f.Column <= 0 {
		return strconv.Itoa(f.Line)
	}
	return strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column)
}

// Write renders the report. Suppressed findings are counted, not listed.
func (t *Text) Write(w io.Writer, r *Report) error {
	v := prepare(r)
	bw := bufio.NewWriter(w)
	var shown []finding.Finding
	for _, f := range v.findings {
		if !f.Suppressed {
			shown = append(shown, f)
		}
	}
	for i := 0; i < len(shown); {
		// One group per file (and archive member).
		j := i
		key := displayPath(shown[i].Path, shown[i].Member)
		width := 0
		for j < len(shown) && displayPath(shown[j].Path, shown[j].Member) == key {
			width = max(width, len(location(shown[j])))
			j++
		}
		if i > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintln(bw, t.paint(ansiBold, oneLine(key)))
		for _, f := range shown[i:j] {
			lvl := fmt.Sprintf("%-8s", f.Level)
			fmt.Fprintf(bw, "  %-*s  %s %s %s  %s\n", width, location(f), t.paint(levelColor(f.Level), lvl),
				f.RuleID, f.Rule, oneLine(f.Message))
			// A fix may be a short list of options, one per line.
			for i, l := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
				if l == "" {
					continue
				}
				lead := "fix: "
				if i > 0 {
					lead = "     "
				}
				fmt.Fprintf(bw, "  %*s  %s\n", width, "", t.paint(ansiDim, lead+oneLine(l)))
			}
		}
		i = j
	}
	// Errors are input that was not fully analyzed (they make the run
	// incomplete, exit 3); everything else (files the user left out,
	// unused or malformed suppressions, stale config) is a note: listed
	// apart, and it does not change the exit code.
	errs, notes := SplitNotes(v.errors)
	for _, sec := range []struct {
		title string
		list  []finding.Error
	}{{"errors:", errs}, {"notes:", notes}} {
		if len(sec.list) == 0 {
			continue
		}
		if len(shown) > 0 || (sec.title != "errors:" && len(errs) > 0) {
			bw.WriteString("\n")
		}
		fmt.Fprintln(bw, t.paint(ansiBold, sec.title))
		for _, e := range sec.list {
			fmt.Fprintf(bw, "  %s\n", oneLine(e.String()))
		}
	}
	if len(shown) > 0 || len(v.errors) > 0 {
		bw.WriteString("\n")
	}
	if v.summary.Incomplete {
		fmt.Fprintln(bw, t.paint(ansiRed+ansiBold, "INCOMPLETE: not everything could be checked; the findings above are partial."))
	}
	fmt.Fprintln(bw, summaryLine(v.summary, len(notes)))
	return bw.Flush()
}

// SplitNotes separates the errors that make a run incomplete from the
// notes, which do not change the exit code (finding.ErrorKind.Incomplete).
func SplitNotes(all []finding.Error) (errs, notes []finding.Error) {
	for _, e := range all {
		if e.Kind.Incomplete() {
			errs = append(errs, e)
		} else {
			notes = append(notes, e)
		}
	}
	return errs, notes
}

// SummaryLine is the one-line tally of a report, as the text format ends
// with it: "1 finding (...)", "2 findings (...)", errors and notes apart.
func SummaryLine(r *Report) string {
	v := prepare(r)
	_, notes := SplitNotes(v.errors)
	return summaryLine(v.summary, len(notes))
}

// summaryLine is the one-line tally under every text report.
func summaryLine(s Summary, notes int) string {
	line := fmt.Sprintf("%s (%d strict, %d warning, %d advisory), %d suppressed, %s, %s",
		plural(s.Findings, "finding"), s.ByLevel["strict"], s.ByLevel["warning"], s.ByLevel["advisory"],
		s.Suppressed, plural(s.Files, "file"), plural(s.Errors-notes, "error"))
	if notes > 0 {
		line += ", " + plural(notes, "note")
	}
	if s.Ignored > 0 || s.Excluded > 0 {
		// -v lists them one by one.
		line += fmt.Sprintf(" (%d ignored by .gitignore, %d excluded)", s.Ignored, s.Excluded)
	}
	return line
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// oneLine keeps a multi-line message (or a hostile one carrying escape
// sequences) from breaking the layout or the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			return -1
		}
		return r
	}, s)
}
