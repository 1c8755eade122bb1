package secrets

import (
	"errors"
	"fmt"
	"io"
)

// Streams (uploaded text artifacts, a version's files in audit --deep) are
// read in overlapping windows rather than line by line: a line has no
// length bound (minified JSON, a token pasted into one huge line), and a
// private key spans lines. Every detector match is bounded: the token
// formats by their regexes (in practice under a few hundred bytes), a PEM
// block by maxPEM, an assignment by maxKeyLen plus its value. A window
// holds StreamOverlap bytes of the previous one, so any match of at most
// StreamOverlap-2*streamMargin bytes lies, with streamMargin bytes of
// context on each side, wholly inside some window, where the detectors see
// what they would see on the whole stream.
const (
	// StreamWindow is the text handed to the detectors at once.
	StreamWindow = 128 << 10
	// StreamOverlap is kept from the previous window: more than the
	// longest PEM block (maxPEM) with its header, footer and margins.
	StreamOverlap = 32 << 10
	// streamMargin is the context a match needs around it to be judged as
	// on the whole stream: \b and the tail group need one byte, an
	// assignment its key (maxKeyLen) and quotes, the AWS secret rule its
	// key name.
	streamMargin = 512
)

// streamWhole is the longest match some window is sure to hold with its
// margins; longer ones are reported from a window edge (see ScanReader).
// It must exceed the longest PEM block, and a window must hold two
// overlaps (so a match is never seen by more than two windows).
const streamWhole = StreamOverlap - 2*streamMargin

const _ = uint(streamWhole - maxPEM - 200)
const _ = uint(StreamWindow - 2*StreamOverlap)

// ScanReader runs FindInValue over r in overlapping windows and calls fn
// for each secret with its span in the stream, in stream order of the
// windows (not sorted across windows), each secret once. A match that touches the cut edge of a window
// (within streamMargin) is left to the neighbouring window that holds it
// with its context, unless it is too long to fit in one; then it is
// reported as it stands, so a secret longer than the overlap is not a way
// past the scan. fn returning an error stops the scan with that error.
func (d *Detector) ScanReader(r io.Reader, fn func(Match) error) error {
	buf := make([]byte, StreamWindow)
	var base int // stream offset of buf[0]
	n := 0       // bytes of buf in use
	eof := false
	// prev holds what the previous window reported that the next window
	// can see again (its start is in the overlap); a window's matches
	// never reach the window after next (StreamWindow >= 2*StreamOverlap).
	type seen struct {
		start int
		kind  string
	}
	prev := map[seen]bool{}
	for {
		for n < len(buf) && !eof {
			m, err := r.Read(buf[n:])
			n += m
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return fmt.Errorf("reading at byte %d: %w", base+n, err)
			}
		}
		first, last := base == 0, eof
		cur := map[seen]bool{}
		for _, m := range d.FindInValue(string(buf[:n])) {
			clean := (first || m.Start >= streamMargin) && (last || m.End <= n-streamMargin)
			if !clean && m.End-m.Start <= streamWhole {
				continue
			}
			abs := Match{Kind: m.Kind, Start: base + m.Start, End: base + m.End}
			key := seen{abs.Start, abs.Kind}
			if prev[key] {
				continue
			}
			cur[key] = true
			if err := fn(abs); err != nil {
				return err
			}
		}
		if last {
			return nil
		}
		next := base + n - StreamOverlap
		prev = map[seen]bool{}
		for k := range cur {
			if k.start >= next {
				prev[k] = true
			}
		}
		copy(buf, buf[n-StreamOverlap:n])
		base, n = next, StreamOverlap
	}
}

// ValueReason is the reason Check gives for a match found by its value
// alone (no key to judge it by); it never holds the value.
func (d *Detector) ValueReason(kind string) string {
	if kind == KindHighEntropy || kind == KindAssignment {
		return "value contains " + d.describe(kind)
	}
	return "value looks like " + d.describe(kind)
}
