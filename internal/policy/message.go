package policy

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrUnreadable marks a request MLflow would read differently from us (or
// not at all). It is denied rather than guessed at.
var ErrUnreadable = errors.New("request MLflow would read differently")

// message is a request's fields as MLflow's _get_request_message sees them,
// before protobuf parsing: the query arguments of a GET that has any, the
// JSON body otherwise.
type message struct {
	fromQuery bool
	query     url.Values
	body      map[string]any
	// doubled: the body was a JSON string holding the JSON object (old
	// clients); a rewrite sends the object itself, which MLflow reads the same.
	doubled bool
}

// loneSurrogate finds \uD800-\uDFFF escapes: Python keeps a lone surrogate,
// Go turns it into U+FFFD, so the two would read different strings.
var loneSurrogate = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// readMessage mirrors mlflow.server.handlers._get_request_message:
//   - GET with a non-empty query string reads the query (werkzeug args);
//   - everything else reads the body with get_json(force=True): PATCH and
//     DELETE whatever their Content-Type; POST and PUT only with a
//     Content-Type whose part before ';' is exactly "application/json"
//     (server/validation.py; MLflow answers 400 otherwise);
//   - a body that decodes to a JSON string is decoded once more;
//   - duplicate keys: Python's json keeps the last one, and so does
//     decoding into a Go map. Keys differing in case are different keys
//     (protobuf's ParseDict ignores the unknown spelling).
//
// Where Python and Go JSON differ (invalid UTF-8, which Flask turns into an
// empty message; lone surrogates; NaN; a BOM; trailing data, which Flask
// also turns into an empty message) the request is unreadable.
//
// pre, when it describes these exact bytes (Parsed.usable), is the tree the
// gateway already built: it replaces the decoding, every other step stays.
func readMessage(method, rawQuery, contentType string, body []byte, pre *Parsed) (*message, error) {
	if method == "GET" && rawQuery != "" {
		m, err := readQuery(rawQuery)
		if err != nil {
			return nil, err
		}
		if len(m.query) > 0 {
			return m, nil
		}
	}
	if method == "POST" || method == "PUT" {
		if strings.Split(contentType, ";")[0] != "application/json" {
			return nil, fmt.Errorf("%w: Content-Type %q (MLflow requires application/json)", ErrUnreadable, clipShow(contentType, 60))
		}
	}
	m := &message{}
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		m.body = map[string]any{}
		return m, nil
	}
	if pre.usable(body) {
		m.body, m.doubled = pre.body, pre.doubled
		return m, nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		m.doubled = true
		if v, err = decodeJSON([]byte(s)); err != nil {
			return nil, err
		}
	}
	switch t := v.(type) {
	case nil:
		m.body = map[string]any{}
	case map[string]any:
		m.body = t
	default:
		return nil, fmt.Errorf("%w: JSON body is not an object", ErrUnreadable)
	}
	return m, nil
}

const maxDepth = 64

func decodeJSON(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrUnreadable)
	}
	if loneSurrogate.Match(b) {
		return nil, fmt.Errorf("%w: surrogate escape in JSON", ErrUnreadable)
	}
	v, err := parseJSON(b)
	if errors.Is(err, errTooDeep) {
		return nil, fmt.Errorf("%w: JSON nested deeper than %d", ErrUnreadable, maxDepth)
	}
	if errors.Is(err, errTrailing) {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JSON: %v", ErrUnreadable, err)
	}
	return v, nil
}

// jsonName is protobuf's JSON name for a field: snake_case to lowerCamel.
func jsonName(field string) string {
	if !strings.Contains(field, "_") {
		return field
	}
	var sb strings.Builder
	up := false
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		sb.WriteByte(c)
	}
	return sb.String()
}

// lookup reads a proto field from a JSON object the way ParseDict does: by
// its name or its JSON name. MLflow refuses an object that has both
// (_reject_conflicting_field_aliases); so do we. The returned key is the
// spelling present (for a rewrite).
func lookup(obj map[string]any, field string) (v any, key string, err error) {
	jn := jsonName(field)
	v1, ok1 := obj[field]
	v2, ok2 := obj[jn]
	switch {
	case ok1 && ok2 && jn != field:
		return nil, "", fmt.Errorf("%w: both %q and %q given", ErrUnreadable, field, jn)
	case ok1:
		return v1, field, nil
	case ok2:
		return v2, jn, nil
	}
	return nil, "", nil
}

// str reads a string field. null means unset (ParseDict skips it); any
// other non-string value is refused: ParseDict would fail part way and
// MLflow might act on a half-parsed message.
func str(obj map[string]any, field string) (s, key string, present bool, err error) {
	v, k, err := lookup(obj, field)
	if err != nil || k == "" || v == nil {
		return "", k, false, err
	}
	s, ok := v.(string)
	if !ok {
		return "", k, false, fmt.Errorf("%w: field %q is not a string", ErrUnreadable, k)
	}
	return s, k, true, nil
}

// list reads a repeated message field.
func list(obj map[string]any, field string) ([]map[string]any, error) {
	v, k, err := lookup(obj, field)
	if err != nil || k == "" || v == nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: field %q is not a list", ErrUnreadable, k)
	}
	out := make([]map[string]any, 0, len(arr))
	for i, it := range arr {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s[%d] is not an object", ErrUnreadable, k, i)
		}
		out = append(out, m)
	}
	return out, nil
}

// object reads a singular message field.
func object(obj map[string]any, field string) (map[string]any, error) {
	v, k, err := lookup(obj, field)
	if err != nil || k == "" || v == nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: field %q is not an object", ErrUnreadable, k)
	}
	return m, nil
}

func clipShow(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// readQuery reads a query string as werkzeug's request.args; what Go and
// werkzeug could split or decode differently is refused.
func readQuery(rawQuery string) (*message, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query string: %v", ErrUnreadable, err)
	}
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("%w: query key is not UTF-8", ErrUnreadable)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("%w: query value of %q is not UTF-8", ErrUnreadable, k)
			}
		}
	}
	return &message{fromQuery: true, query: q}, nil
}
