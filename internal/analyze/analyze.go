// Package analyze defines the contract between the scan walk and the
// analyzers (Python code, deployment config, model artifacts). An analyzer is
// a plain value built fresh for each scan; the walk asks each one cheaply
// whether a file is relevant before handing it over.
package analyze

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// HeadSize is how many leading bytes of each file the walk reads for
// relevance checks (magic numbers, shebangs, "apiVersion:").
const HeadSize = 4096

// DefaultReadLimit caps ReadAll when File.MaxRead is 0: analyzers that need
// a whole file in memory (code, config) have no business with more.
const DefaultReadLimit int64 = 64 << 20

// File is one file of the scanned tree.
type File struct {
	// Path is relative to the scan root, slash-separated; findings use it.
	Path string
	// Abs is the path on disk.
	Abs  string
	Size int64
	// Head holds up to HeadSize leading bytes.
	Head []byte
	// Root is the scan root on disk (the argument the user gave).
	Root string
	// MaxRead caps ReadAll (0: DefaultReadLimit). The cap holds at read
	// time, whatever Size said: a file that grew, or lied in its stat,
	// still cannot make ReadAll read more.
	MaxRead int64

	data     []byte // the whole content once ReadAll has read it
	tooLarge bool   // ReadAll hit MaxRead; Run reports it as a limit error
}

// ErrTooLarge is wrapped by ReadAll's error when the file is over MaxRead.
var ErrTooLarge = safeio.ErrTooLarge

// ReadAll reads the whole file, at most MaxRead bytes (an error wrapping
// ErrTooLarge beyond). Analyzers that can stream (models) use Open. The
// content is kept for the walk, which reads the same file's lines for
// snippets and inline directives afterwards.
func (f *File) ReadAll() ([]byte, error) {
	if f.data != nil {
		return f.data, nil
	}
	limit := f.MaxRead
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	if f.Head != nil && int64(len(f.Head)) == f.Size && len(f.Head) < HeadSize && int64(len(f.Head)) <= limit {
		f.data = f.Head // the head is the whole file
		return f.data, nil
	}
	b, err := safeio.ReadFile(f.Abs, limit)
	if err != nil {
		if errors.Is(err, safeio.ErrTooLarge) {
			f.tooLarge = true
		}
		return nil, err
	}
	f.data = b
	return b, nil
}

// Content is what ReadAll returned, or nil when no analyzer read the file.
func (f *File) Content() []byte { return f.data }

// Open opens the file for streaming or random access; only a regular file
// opens (a FIFO or device swapped in after the walk is refused).
func (f *File) Open() (*os.File, error) { return safeio.OpenRegular(f.Abs) }

// Result is what an analyzer found in one file. Findings carry RuleID,
// location, Message (and Member); Path may be left empty: the walk fills it.
type Result struct {
	Findings []finding.Finding
	Errors   []finding.Error
}

// Add appends a finding.
func (r *Result) Add(f finding.Finding) { r.Findings = append(r.Findings, f) }

// Fail appends an input error.
func (r *Result) Fail(e finding.Error) { r.Errors = append(r.Errors, e) }

// Analyzer examines files. Analyze is called concurrently from several
// goroutines; an analyzer that keeps cross-file state must guard it.
type Analyzer interface {
	// Name is a short identifier ("python", "deploy", "model").
	Name() string
	// Relevant is the cheap check: path and the leading bytes only.
	Relevant(f *File) bool
	// Analyze does the real work on one relevant file.
	Analyze(ctx context.Context, f *File) Result
}

// Finisher is implemented by analyzers that judge across files after the walk
// (a server and the nginx in front of it; an MLflow model directory). Finish
// is called once, after every Analyze call has returned.
type Finisher interface {
	Finish(ctx context.Context) Result
}

// ReaderAtSize is what container parsers need: random access and a length.
type ReaderAtSize interface {
	io.ReaderAt
	Size() int64
}

// Options configure the analyzers of one scan.
type Options struct {
	Policy config.Policy
	Logger *slog.Logger
	// VerifyManifest is the --verify digest manifest (model analyzer), or "".
	VerifyManifest string
}

// SizeLimiter is implemented by analyzers that want a tighter file-size cap
// than the scan's (a Python parser has no business with a 2 GB file). The
// walk skips larger files for that analyzer and reports the skip.
type SizeLimiter interface {
	MaxFileSize() int64
}
