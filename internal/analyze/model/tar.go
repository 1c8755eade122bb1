package model

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

// tar members are streamed in order: pickles are walked from the stream,
// other formats are buffered up to the member cap.
func (s *scan) tar(r *io.SectionReader, member string, depth int) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.fail("parse", member, "tar archive: %v; later members are unchecked", err)
			return
		}
		s.entries++
		if s.entries > maxEntries {
			s.capReached("entries", member, "more than %d archive members in this file; the rest are unchecked", maxEntries)
			return
		}
		name := joinMember(member, h.Name)
		if escapes(h.Name) {
			s.add("MLG109", name, fmt.Sprintf("archive member name %q resolves outside the extraction directory", h.Name))
		}
		if (h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) && escapes(h.Linkname) {
			s.add("MLG109", name, fmt.Sprintf("archive link %q points to %q, outside the extraction directory", h.Name, h.Linkname))
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		br := bufio.NewReaderSize(tr, 64<<10)
		head, _ := br.Peek(analyze.HeadSize)
		switch f := sniff(head, h.Name); {
		case f == fmtNone && !(len(head) > 0 && pickleStart[head[0]]):
		case f == fmtPickle && head[0] == 0x80:
			s.pickle(br, name)
		case f == fmtNone || f == fmtPickle:
			s.pickleText(br, name)
		case depth >= maxDepth:
			s.capReached("depth", name, "archive nesting deeper than %d; %s member not checked", maxDepth, f)
		default:
			sr, done, err := s.spool(br, name)
			if err != nil {
				if !errors.Is(err, errBudget) {
					s.fail("parse", name, "tar member: %v", err)
				}
				return
			}
			s.any(sr, name, h.Name, depth+1)
			done()
		}
	}
}
