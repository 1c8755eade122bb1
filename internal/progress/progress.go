// Package progress draws one live progress line (count, rate, elapsed) on an
// interactive stderr for long scans and audits. Drawing is left to
// github.com/schollz/progressbar; this package decides whether to draw at all
// and delays the line until the work is big enough to be worth one.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Wanted reports whether a progress line may be drawn on w: never with -q,
// never when w is not a terminal (a pipe, a file, a CI log), never under CI
// or TERM=dumb, whose logs would fill with redraws.
func Wanted(w io.Writer, quiet bool, getenv func(string) string) bool {
	if quiet || getenv("CI") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// IsTerminal reports whether w is an *os.File open on a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Line is a live counter. Its zero value and a nil *Line do nothing, so
// callers hold one unconditionally and only New decides whether it draws.
type Line struct {
	w         io.Writer
	desc      string
	unit      string
	threshold int64

	mu   sync.Mutex
	n    int64
	bar  *progressbar.ProgressBar
	gate *gate
}

// gate drops the bar's output until the count passes the threshold: the bar
// itself runs from the start so its rate and elapsed time are true.
type gate struct {
	w    io.Writer
	open bool // guarded by Line.mu: the bar writes only under Add/Set/Finish
}

func (g *gate) Write(p []byte) (int, error) {
	if !g.open {
		return len(p), nil
	}
	return g.w.Write(p)
}

// New returns a Line that starts drawing on w once the count reaches
// threshold (0: at once). desc prefixes the line ("scan"); unit names what is
// counted ("files"). Pass a nil w (progress not Wanted) for a silent Line.
func New(w io.Writer, desc, unit string, threshold int64) *Line {
	if w == nil {
		return nil
	}
	g := &gate{w: w, open: threshold <= 0}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(g),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		// no redraw goroutine: every draw happens under Line.mu, from Add/Set
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
	return &Line{w: w, desc: desc, unit: unit, threshold: threshold, bar: bar, gate: g}
}

// Add counts n more items done.
func (l *Line) Add(n int64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setLocked(l.n + n)
}

// Set sets the count (for callers that poll a counter of their own).
func (l *Line) Set(n int64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setLocked(n)
}

// Describe changes the text in front of the counter.
func (l *Line) Describe(desc string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.desc = desc
	if l.bar != nil {
		l.bar.Describe(desc)
	}
}

func (l *Line) setLocked(n int64) {
	l.n = n
	if l.bar == nil {
		return // finished
	}
	opened := false
	if !l.gate.open && n >= l.threshold {
		l.gate.open, opened = true, true
	}
	_ = l.bar.Set64(n) // a failed write to the terminal is not worth failing the work for
	if opened {
		// The bar's last (swallowed) draw may be under its throttle: draw
		// now, so crossing the threshold always shows the line at once.
		_ = l.bar.RenderBlank()
	}
}

// Active reports whether the line has started drawing.
func (l *Line) Active() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bar != nil && l.gate.open
}

// Finish clears the line, so the report or the next log line starts on a
// clean row.
func (l *Line) Finish() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bar != nil {
		_ = l.bar.Finish()
		l.bar = nil // never redraw after Finish
	}
}
