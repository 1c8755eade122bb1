package secrets

import (
	"regexp"
	"strings"
)

// PEM private keys are found by hand: a regex that looks for the END line
// lazily rescans the rest of the input for every BEGIN line, which is
// quadratic on input made of many headers. Here each byte is visited once and
// a block may span at most maxPEM bytes.
const maxPEM = 16 << 10

var (
	pemBeginRe = regexp.MustCompile(`^-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----`)
	pemEndRe   = regexp.MustCompile(`^-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----`)
)

// isPEMBody: base64, whitespace, the backslash-n of a quoted string, and the
// characters of "Proc-Type: 4,ENCRYPTED" style headers.
func isPEMBody(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		strings.IndexByte("+/= \t\r\n\\:,.-", c) >= 0
}

// findPEM returns the spans of private key blocks: header, body and footer
// when there is one, else header and the body up to where it stops.
func findPEM(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "-----BEGIN")
		if j < 0 {
			break
		}
		start := i + j
		hdr := pemBeginRe.FindStringIndex(s[start:min(len(s), start+80)])
		if hdr == nil {
			i = start + len("-----BEGIN")
			continue
		}
		k := start + hdr[1]
		limit := min(len(s), k+maxPEM)
		end := -1
		for ; k < limit && isPEMBody(s[k]); k++ {
			if s[k] == '-' && strings.HasPrefix(s[k:], "-----") {
				if f := pemEndRe.FindStringIndex(s[k:min(len(s), k+80)]); f != nil {
					end = k + f[1]
				}
				break // a footer, or the next block's header
			}
		}
		if end < 0 {
			end = k
			for end > start+hdr[1] && strings.IndexByte(" \t\r\n\\", s[end-1]) >= 0 {
				end-- // leave trailing whitespace outside the span
			}
		}
		out = append(out, [2]int{start, end})
		i = max(end, start+hdr[1])
	}
	return out
}
