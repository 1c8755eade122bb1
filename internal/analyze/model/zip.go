package model

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

var (
	torchStorageRe = regexp.MustCompile(`(^|/)data/\d+$`)
	torchScriptRe  = regexp.MustCompile(`(^|/)code/.+\.py$`)
	driveRe        = regexp.MustCompile(`^[A-Za-z]:`)
)

// escapes reports whether an archive name would land outside the extraction
// directory: absolute, drive-qualified or climbing with "..".
func escapes(name string) bool {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || driveRe.MatchString(n) {
		return true
	}
	for _, seg := range strings.Split(n, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

func (s *scan) zip(r *io.SectionReader, member string, depth int) {
	ents, err := readZip(r, r.Size())
	if err != nil {
		s.fail("unchecked", member, "zip archive could not be read: %v", err)
		return
	}
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name] = true
	}
	isTorch := false
	for n := range names {
		if n == "data.pkl" || strings.HasSuffix(n, "/data.pkl") {
			isTorch = true
		}
	}
	torchScript := ""
	var kerasConfig *zipEntry
	for i := range ents {
		e := &ents[i]
		// One budget for the whole file: overlapping or self-containing
		// entries would otherwise multiply work at every nesting level.
		s.members++
		if s.members > maxMembers {
			if !s.memberCapHit {
				s.memberCapHit = true
				s.fail("limit", member, "more than %d archive members in this file; the rest are unchecked", maxMembers)
			}
			return
		}
		for _, n := range uniq(e.Name, e.LocalName) {
			if escapes(n) {
				s.add("MLG109", joinMember(member, n), fmt.Sprintf("archive member name %q resolves outside the extraction directory", n))
			}
		}
		if e.LocalName != "" && e.LocalName != e.Name {
			s.fail("parse", joinMember(member, e.Name), "local header names the member %q but the central directory says %q; both are checked", e.LocalName, e.Name)
		}
		if torchScript == "" && torchScriptRe.MatchString(e.Name) {
			torchScript = e.Name
		}
		// Keras's saving_lib reads the root config.json of any zip it is
		// given (metadata.json is not needed); the last duplicate wins, as
		// in zipfile. A nested one counts next to a metadata.json.
		if e.Name == "config.json" || path.Base(e.Name) == "config.json" && (names["metadata.json"] || names[path.Join(path.Dir(e.Name), "metadata.json")]) {
			kerasConfig = e
		}
		if strings.HasSuffix(e.Name, "/") && e.Size == 0 {
			continue
		}
		s.member(r, e, joinMember(member, displayName(e)), depth, isTorch && torchStorageRe.MatchString(e.Name))
		if s.ctx.Err() != nil {
			return
		}
	}
	if torchScript != "" {
		s.add("MLG108", joinMember(member, torchScript), "TorchScript archive: its code/ runs when loaded with torch.jit.load")
	}
	if kerasConfig != nil {
		s.kerasConfig(r, kerasConfig, joinMember(member, kerasConfig.Name))
	}
}

func displayName(e *zipEntry) string {
	if e.LocalName != "" && e.LocalName != e.Name {
		return e.Name + " (local header: " + e.LocalName + ")"
	}
	return e.Name
}

func uniq(a, b string) []string {
	if b == "" || a == b {
		return []string{a}
	}
	return []string{a, b}
}

// openMember returns a stream of the member's uncompressed bytes, and a
// random-access view when it is stored.
func (s *scan) openMember(r *io.SectionReader, e *zipEntry) (io.Reader, *io.SectionReader, error) {
	if e.DataOff < 0 {
		return nil, nil, fmt.Errorf("local header unreadable")
	}
	comp := int64(e.CompSize)
	if e.DataOff+comp > r.Size() || comp < 0 {
		comp = r.Size() - e.DataOff
	}
	raw := io.NewSectionReader(r, e.DataOff, comp)
	switch e.Method {
	case 0:
		return raw, raw, nil
	case 8:
		return flate.NewReader(raw), nil, nil
	}
	return nil, nil, fmt.Errorf("compression method %d not supported", e.Method)
}

func (s *scan) member(r *io.SectionReader, e *zipEntry, member string, depth int, torchStorage bool) {
	stream, ra, err := s.openMember(r, e)
	if err != nil {
		s.fail("unchecked", member, "archive member not checked: %v", err)
		return
	}
	if c, ok := stream.(io.Closer); ok {
		defer c.Close()
	}
	if ra != nil {
		if torchStorage {
			// Tensor storage is raw bytes the loader never unpickles; only a
			// pickle-looking head is walked, and its breaks are expected.
			head := make([]byte, 2)
			if n, _ := ra.ReadAt(head, 0); n == 2 && head[0] == 0x80 && head[1] <= 5 {
				s.pickleQuiet(ra, member)
			}
			return
		}
		s.any(ra, member, e.Name, depth+1)
		return
	}
	br := bufio.NewReaderSize(io.LimitReader(stream, maxInflate-s.budget), 64<<10)
	head, _ := br.Peek(analyze.HeadSize)
	f := sniff(head, e.Name)
	switch {
	case f == fmtNone:
		return
	case torchStorage && f != fmtPickle:
		return
	case f == fmtPickle:
		cr := &countReader{r: br}
		if torchStorage {
			s.pickleQuiet(cr, member)
		} else {
			s.pickle(cr, member)
		}
		s.budget += cr.n
	default:
		b, err := io.ReadAll(io.LimitReader(br, maxBufferMember+1))
		if err != nil {
			s.fail("unchecked", member, "archive member could not be inflated: %v", err)
			return
		}
		if len(b) > maxBufferMember {
			s.fail("unchecked", member, "compressed %s member larger than %d MiB not checked", f, maxBufferMember>>20)
			return
		}
		s.budget += int64(len(b))
		s.any(io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))), member, e.Name, depth+1)
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
