package model

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ulikunitz/xz/lzma"

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
	d, err := readZip(r, r.Size(), max(maxEntries-s.entries, 0))
	if err != nil {
		s.fail("unchecked", member, "zip archive could not be read: %v", err)
		return
	}
	for _, an := range d.Anomalies {
		s.fail("parse", member, "zip archive: %s; the members found were checked", an)
	}
	s.entries += len(d.Entries)
	if d.Capped {
		s.capReached("entries", member, "more than %d archive members in this file; the rest are unchecked", maxEntries)
	}
	ents := d.Entries
	isTorch := false
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name] = true
		if e.Name == "data.pkl" || strings.HasSuffix(e.Name, "/data.pkl") {
			isTorch = true
		}
	}
	torchScript := ""
	var kerasConfig, skopsSchema *zipEntry
	for i := range ents {
		e := &ents[i]
		for _, n := range uniq(e.Name, e.LocalName) {
			if escapes(n) {
				s.add("MLG109", joinMember(member, n), fmt.Sprintf("archive member name %q resolves outside the extraction directory", n))
			}
		}
		if e.LocalName != "" && e.LocalName != e.OrigName {
			s.fail("parse", joinMember(member, e.Name), "local header names the member %q but the central directory says %q; both are checked", e.LocalName, e.OrigName)
		}
		if torchScript == "" && torchScriptRe.MatchString(e.Name) {
			torchScript = e.Name
		}
		// Keras's saving_lib reads the root config.json of any zip it is
		// given (metadata.json is not needed); the last duplicate wins, as
		// in zipfile. A nested one counts next to a metadata.json.
		if path.Base(e.Name) == "config.json" && (e.Name == "config.json" || names["metadata.json"] || names[path.Join(path.Dir(e.Name), "metadata.json")]) && !e.Shadowed {
			kerasConfig = e
		}
		// skops.io.load reads the root schema.json (the last duplicate).
		if e.Name == "schema.json" && !e.Shadowed {
			skopsSchema = e
		}
		if strings.HasSuffix(e.Name, "/") && e.Size == 0 && e.CompSize == 0 {
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
	if skopsSchema != nil {
		s.skopsSchema(r, skopsSchema, joinMember(member, skopsSchema.Name))
	}
}

func displayName(e *zipEntry) string {
	n := e.Name
	if e.OrigName != e.Name {
		n = fmt.Sprintf("%q", e.OrigName)
	}
	if e.LocalName != "" && e.LocalName != e.OrigName {
		n += " (local header: " + e.LocalName + ")"
	}
	if e.Shadowed {
		n += " (shadowed by a later entry of the same name)"
	}
	return n
}

func uniq(a, b string) []string {
	if b == "" || a == b {
		return []string{a}
	}
	return []string{a, b}
}

// openMember returns a stream of the member's uncompressed bytes, and a
// random-access view when it is stored, both charged to the file's budget.
// Sizes come from the central directory, as zipfile reads them.
func (s *scan) openMember(r *io.SectionReader, e *zipEntry) (io.Reader, *io.SectionReader, error) {
	return s.openMemberAs(r, e, e.Name)
}

func (s *scan) openMemberAs(r *io.SectionReader, e *zipEntry, member string) (io.Reader, *io.SectionReader, error) {
	if e.DataOff < 0 {
		return nil, nil, fmt.Errorf("local header unreadable")
	}
	// Flag bits (encryption included) are ignored, as torch's reader
	// ignores them (CVE-2025-1945): the bytes are judged as they are.
	comp := int64(e.CompSize)
	if e.DataOff > r.Size() {
		return nil, nil, fmt.Errorf("data offset %d beyond the archive", e.DataOff)
	}
	if comp < 0 || e.DataOff+comp > r.Size() {
		comp = r.Size() - e.DataOff
	}
	raw := s.chargeAt(io.NewSectionReader(r, e.DataOff, comp), member)
	switch e.Method {
	case 0:
		return raw, raw, nil
	case 8:
		return s.charge(flate.NewReader(raw), member), nil, nil
	case 12:
		return s.charge(bzip2.NewReader(raw), member), nil, nil
	case 14:
		z, err := zipLZMA(raw)
		if err != nil {
			return nil, nil, err
		}
		return s.charge(z, member), nil, nil
	}
	return nil, nil, fmt.Errorf("compression method %d not supported", e.Method)
}

// zipLZMA reads zipfile's LZMA member layout: version (2 bytes), properties
// size (2), the LZMA1 properties, then a raw stream read to its end marker
// or the member's end; zipfile does not stop at the directory's size.
func zipLZMA(raw io.Reader) (io.Reader, error) {
	var h [4]byte
	if _, err := io.ReadFull(raw, h[:]); err != nil {
		return nil, fmt.Errorf("lzma member header: %w", err)
	}
	psize := int(binary.LittleEndian.Uint16(h[2:]))
	if psize != 5 {
		return nil, fmt.Errorf("lzma member with %d-byte properties not supported", psize)
	}
	hdr := make([]byte, 13)
	if _, err := io.ReadFull(raw, hdr[:5]); err != nil {
		return nil, fmt.Errorf("lzma member header: %w", err)
	}
	binary.LittleEndian.PutUint64(hdr[5:], ^uint64(0))
	// Buffered: the decoder reads byte by byte.
	z, err := lzma.ReaderConfig{DictCap: maxDict}.NewReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(hdr), raw), 64<<10))
	if err != nil {
		return nil, err
	}
	return &drained{r: z}, nil
}

// maxDict is the largest LZMA dictionary allocated (xz -9 uses 64 MiB).
const maxDict = 64 << 20

func (s *scan) member(r *io.SectionReader, e *zipEntry, member string, depth int, torchStorage bool) {
	stream, ra, err := s.openMemberAs(r, e, member)
	if err != nil {
		s.fail("unchecked", member, "archive member not checked: %v", err)
		return
	}
	if torchStorage {
		s.storage(stream, member)
		return
	}
	if ra != nil {
		s.any(ra, member, e.Name, depth+1)
		return
	}
	br := bufio.NewReaderSize(stream, 64<<10)
	head, _ := br.Peek(analyze.HeadSize)
	f := sniff(head, e.Name)
	switch {
	case f == fmtNone && !(len(head) > 0 && pickleStart[head[0]]):
		return
	case f == fmtPickle && head[0] == 0x80:
		s.pickle(br, member)
	case f == fmtNone || f == fmtPickle:
		s.pickleText(br, member)
	default:
		sr, done, err := s.spool(br, member)
		if err != nil {
			if !errors.Is(err, errBudget) {
				s.fail("unchecked", member, "archive member could not be inflated: %v", err)
			}
			return
		}
		defer done()
		s.any(sr, member, e.Name, depth+1)
	}
}

// storage walks a tensor storage member: raw bytes torch.load never
// unpickles, walked anyway in case another loader does. Only imports are
// reported, and only those CPython could perform: a module or name that is
// not a dotted identifier fails to decode or import before anything runs,
// and random tensor bytes produce exactly such names.
func (s *scan) storage(r io.Reader, member string) {
	// A first byte CPython cannot start a pickle with (or no byte at all)
	// ends the judgement without a walk.
	br := bufio.NewReaderSize(r, 4096)
	if b, err := br.Peek(1); err != nil || !pickleStart[b[0]] {
		return
	}
	// A small storage without a byte of an importing opcode (GLOBAL, INST,
	// STACK_GLOBAL, EXT1/2/4) imports nothing: no walk needed.
	if b, _ := br.Peek(4096); len(b) < 4096 && !hasImportOpcode(b) {
		return
	}
	res := s.walk(br)
	kept := res.Imports[:0]
	for _, imp := range res.Imports {
		if dottedIdent(imp.Module) && dottedIdent(imp.Name) {
			kept = append(kept, imp)
		}
	}
	if len(kept) == 0 {
		return
	}
	res.Imports = kept
	res.Break, res.Anomalies, res.Limit, res.Embedded = nil, nil, "", ""
	s.reportPickle(res, member)
}

func dottedIdent(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		for i, r := range part {
			if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
				return false
			}
		}
		if part == "" {
			return false
		}
	}
	return true
}

func hasImportOpcode(b []byte) bool {
	for _, c := range b {
		switch c {
		case 'c', 'i', 0x93, 0x82, 0x83, 0x84:
			return true
		}
	}
	return false
}
