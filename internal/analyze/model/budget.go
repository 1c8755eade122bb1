package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/pickle"
)

const (
	// maxBufferMember bounds a member read whole into memory (a Keras config).
	maxBufferMember = 64 << 20
	// maxSpool bounds a nested archive copied to a temporary file for
	// random access (a zip inside a tar.gz).
	maxSpool = 1 << 30
)

// errBudget stops a nested read once the file's one budget is spent.
var errBudget = errors.New("decompression budget of this file spent")

// charged draws a nested stream's bytes from the file's budget. When the
// budget runs out the read fails, and the cap is reported once as MLG111:
// the walk that stops there is not trusted to be harmless.
type charged struct {
	s      *scan
	r      io.Reader
	member string
	out    int64 // bytes handed out so far
}

func (s *scan) charge(r io.Reader, member string) io.Reader {
	return &charged{s: s, r: r, member: member}
}

func (c *charged) Read(p []byte) (int, error) {
	left := maxInflate - c.s.inflated
	if left <= 0 {
		c.s.capReached("inflate", c.member, "more than %d GiB decompressed or read from nested members of this file; the rest is unchecked", maxInflate>>30)
		return 0, errBudget
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.Read(p)
	c.s.inflated += int64(n)
	c.out += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, errBudget) && c.out > 0 {
		// The loader fails here too, but only after handing out what came
		// before, which a streaming unpickler has already run. (A stream
		// that fails before its first byte is the caller's to judge.)
		c.s.capReached("decode\x00"+c.member, c.member, "stream could not be fully decompressed: %v", err)
	}
	return n, err
}

// chargedAt is charged for random access (stored zip members): each read
// is paid, so overlapping members cost what reading them costs.
type chargedAt struct {
	s      *scan
	r      io.ReaderAt
	member string
}

func (s *scan) chargeAt(r *io.SectionReader, member string) *io.SectionReader {
	return io.NewSectionReader(&chargedAt{s: s, r: r, member: member}, 0, r.Size())
}

func (c *chargedAt) ReadAt(p []byte, off int64) (int, error) {
	left := maxInflate - c.s.inflated
	if left <= 0 {
		c.s.capReached("inflate", c.member, "more than %d GiB decompressed or read from nested members of this file; the rest is unchecked", maxInflate>>30)
		return 0, errBudget
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.ReadAt(p, off)
	c.s.inflated += int64(n)
	return n, err
}

// spool makes a nested stream randomly accessible: small ones in memory,
// larger ones in a temporary file, so memory stays bounded whatever the
// nesting. The stream must already be charged. done releases it.
func (s *scan) spool(r io.Reader, member string) (*io.SectionReader, func(), error) {
	small := make([]byte, maxInMemory+1)
	n, err := io.ReadFull(r, small)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if s.buffered+int64(n) > maxBuffered {
			s.capReached("memory", member, "nested members held in memory exceed %d MiB", maxBuffered>>20)
			return nil, nil, errBudget
		}
		s.buffered += int64(n)
		return io.NewSectionReader(bytes.NewReader(small[:n]), 0, int64(n)), func() { s.buffered -= int64(n) }, nil
	}
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.CreateTemp("", "mlflow-guard-member-*")
	if err != nil {
		return nil, nil, fmt.Errorf("spooling %s: %w", member, err)
	}
	done := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	if _, err := tmp.Write(small); err != nil {
		done()
		return nil, nil, fmt.Errorf("spooling %s: %w", member, err)
	}
	limit := int64(maxSpool)
	if s.spoolCap > 0 {
		limit = s.spoolCap
	}
	m, err := io.Copy(tmp, io.LimitReader(r, limit-int64(len(small))+1))
	if err != nil {
		done()
		return nil, nil, err
	}
	if int64(len(small))+m > limit {
		done()
		s.fail("size", member, "nested archive larger than %d MiB; its members are not checked", limit>>20)
		return nil, nil, errBudget
	}
	return io.NewSectionReader(tmp, 0, int64(len(small))+m), done, nil
}

// drained returns what a decoder decoded before it failed. The lzma
// decoder keeps bytes decoded before an error in its window and returns
// only the error; Python's decoders hand those bytes out first, and a
// pickle read incrementally runs its payload before the failure.
type drained struct {
	r   io.Reader
	err error
}

func (d *drained) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	if n > 0 {
		return n, nil
	}
	if n, _ = d.r.Read(p); n > 0 {
		return n, nil
	}
	d.err = err
	return 0, err
}

// walk runs the pickle walker under the file's one opcode budget: every
// stream in a file (members, nested archives, storages) draws from the
// same MaxOps, so a file of many large pickles costs what one would. The
// cap, when reached, is reported by the walk's Limit like any other.
func (s *scan) walk(r io.Reader) pickle.Result { return s.walkBy(pickle.Walk, r) }

// walkBy is walk with another reading of the stream (pickle.WalkPlain),
// charged to the same opcode budget.
func (s *scan) walkBy(walker func(io.Reader, pickle.Limits) pickle.Result, r io.Reader) pickle.Result {
	lim := s.a.lim
	if s.ops >= lim.MaxOps {
		// Spent: the file-level MLG111 stands for every stream not walked.
		s.capReached("ops", "", "more than %d pickle opcodes in this file; the remaining streams are unchecked", lim.MaxOps)
		return pickle.Result{}
	}
	lim.MaxOps -= s.ops
	res := walker(r, lim)
	s.ops += res.Ops
	for _, imp := range res.Imports {
		if (imp.Name == "NDArrayWrapper" || imp.Name == "ZNDArrayWrapper") && strings.HasPrefix(imp.Module, "joblib") {
			// joblib < 0.10 kept arrays in companion files the wrapper names;
			// joblib.load joins that name to the pickle's directory (an
			// absolute or ../ name escapes it) and reads it with
			// numpy.load(allow_pickle=True): a second pickle this scan does
			// not open.
			s.once("ndarraywrapper", "unsupported variant", "", "old joblib %s loads a companion array file named inside the pickle, with pickles allowed; that file is not checked", imp.Name)
		}
	}
	return res
}
