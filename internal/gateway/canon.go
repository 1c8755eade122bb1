package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// Request shapes that the router, the policies and MLflow could read
// differently. Each was found by sending it through the gateway to the
// pinned MLflow server (redteam_e2e_test.go).

// encodedUnreserved finds a percent-escape of a character RFC 3986 calls
// unreserved (letters, digits, "-", ".", "_", "~"). No client needs one,
// werkzeug decodes it before routing, and the policies match routes on
// the escaped path: "runs/set%2Dtag" was set-tag to the router and to
// MLflow but no known route to the secret policy, so a secret went in.
func encodedUnreserved(escapedPath string) (string, bool) {
	for i := 0; i+2 < len(escapedPath); i++ {
		if escapedPath[i] != '%' {
			continue
		}
		h, l := unhex(escapedPath[i+1]), unhex(escapedPath[i+2])
		if h < 0 || l < 0 {
			continue
		}
		c := byte(h<<4 | l)
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			return escapedPath[i : i+3], true
		}
	}
	return "", false
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// checkCanonical refuses what checkRawPath does not: an escaped
// unreserved character in the path, and a HEAD with a body. Flask hands
// HEAD to the GET view, whose non-proto handlers (get-history-bulk,
// get-artifact) read the query string whatever the method, while
// _get_request_message reads the body for anything but GET: with a body
// and a query a HEAD named two resources. A HEAD has no use for a body.
func checkCanonical(r *http.Request) *Denial {
	if esc, bad := encodedUnreserved(r.URL.EscapedPath()); bad {
		return denyForbidden("path-not-canonical", fmt.Sprintf("path %q escapes an unreserved character (%s); send it unescaped", r.URL.EscapedPath(), esc))
	}
	if r.Method == http.MethodHead && (r.ContentLength != 0 || len(r.TransferEncoding) > 0) {
		return denyForbidden("ambiguous-request", "a HEAD request with a body")
	}
	if strings.ContainsAny(r.URL.Path, "\x00") {
		return denyForbidden("path-not-canonical", "path holds a NUL")
	}
	return nil
}
