package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrAmbiguous marks a request the gateway could read more than one way,
// or not the way MLflow reads it. Such requests are denied.
var ErrAmbiguous = errors.New("ambiguous request")

// Message is a request's proto fields as MLflow's handler sees them.
type Message struct {
	FromQuery bool
	Query     url.Values
	Body      map[string]any // nil when FromQuery
}

const maxJSONDepth = 64

// loneSurrogate finds \uD800-\uDFFF escapes: Python keeps them, Go
// replaces them, so the two would read different strings.
var loneSurrogate = regexp.MustCompile(`(?i)\\u[dD][89abAB][0-9a-fA-F]{2}|\\u[dD][c-fC-F][0-9a-fA-F]{2}`)

// ParseMessage reads the request's fields the way MLflow's
// _get_request_message does: a GET with a query string reads the query;
// everything else (PATCH and DELETE too, whatever the Content-Type) reads
// the body as JSON, decoding a JSON string body a second time. Anything
// that could read two ways is ErrAmbiguous.
func ParseMessage(method, rawQuery string, body []byte) (*Message, error) {
	if method == "GET" && rawQuery != "" {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return nil, fmt.Errorf("%w: query string: %v", ErrAmbiguous, err)
		}
		for k, vs := range q {
			// Werkzeug decodes invalid UTF-8 to U+FFFD; Go keeps the bytes.
			if !utf8.ValidString(k) {
				return nil, fmt.Errorf("%w: query key is not valid UTF-8", ErrAmbiguous)
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					return nil, fmt.Errorf("%w: query value of %q is not valid UTF-8", ErrAmbiguous, k)
				}
			}
		}
		if len(q) > 0 {
			return &Message{FromQuery: true, Query: q}, nil
		}
	}
	m, err := parseJSONBody(body)
	if err != nil {
		return nil, err
	}
	return &Message{Body: m}, nil
}

func parseJSONBody(body []byte) (map[string]any, error) {
	m, _, err := parseJSONBodyShared(body)
	return m, err
}

// strictJSONStd decodes one JSON value, refusing duplicate keys, keys that
// differ only in case, invalid UTF-8, lone surrogates and trailing data.
// It is the encoding/json reading strictJSON (jsonshared.go) replaced; the
// tests hold the two equal.
func strictJSONStd(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrAmbiguous)
	}
	if loneSurrogate.Match(b) {
		return nil, fmt.Errorf("%w: surrogate escape in JSON", ErrAmbiguous)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := walkJSON(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrAmbiguous)
	}
	return v, nil
}

func walkJSON(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: JSON nested deeper than %d", ErrAmbiguous, maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: JSON: %v", ErrAmbiguous, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := map[string]any{}
			folded := map[string]string{}
			camel := map[string]string{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("%w: JSON: %v", ErrAmbiguous, err)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("%w: JSON object key", ErrAmbiguous)
				}
				f := strings.ToLower(k)
				if prev, dup := folded[f]; dup {
					return nil, fmt.Errorf("%w: JSON key %q given twice (as %q)", ErrAmbiguous, k, prev)
				}
				folded[f] = k
				// A proto field spelt both snake_case and camelCase: MLflow
				// refuses it too, at any depth.
				if prev, dup := camel[jsonName(k)]; dup {
					return nil, fmt.Errorf("%w: JSON keys %q and %q name one field", ErrAmbiguous, prev, k)
				}
				camel[jsonName(k)] = k
				v, err := walkJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("%w: JSON: %v", ErrAmbiguous, err)
			}
			return obj, nil
		case '[':
			var arr []any
			for dec.More() {
				v, err := walkJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("%w: JSON: %v", ErrAmbiguous, err)
			}
			if arr == nil {
				arr = []any{}
			}
			return arr, nil
		}
		return nil, fmt.Errorf("%w: JSON: unexpected %v", ErrAmbiguous, t)
	default:
		return t, nil
	}
}

// jsonName is protobuf's JSON name of a snake_case field: lowerCamelCase.
func jsonName(field string) string {
	var b strings.Builder
	up := false
	for _, r := range field {
		if r == '_' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// Values returns the string values of one proto field (nil when absent).
// A non-repeated field given twice, a field spelt both snake_case and
// camelCase, or a value that is not a string is ErrAmbiguous.
func (m *Message) Values(field string, repeated bool) ([]string, error) {
	if m.FromQuery {
		v, ok := m.Query[field]
		if !ok {
			return nil, nil
		}
		if !repeated && len(v) > 1 {
			return nil, fmt.Errorf("%w: query field %q given %d times", ErrAmbiguous, field, len(v))
		}
		return v, nil
	}
	raw, ok := m.Body[field]
	if jn := jsonName(field); jn != field {
		if rawJ, okJ := m.Body[jn]; okJ {
			if ok {
				return nil, fmt.Errorf("%w: both %q and %q given", ErrAmbiguous, field, jn)
			}
			raw, ok = rawJ, true
		}
	}
	if !ok {
		return nil, nil
	}
	if repeated {
		arr, isArr := raw.([]any)
		if !isArr {
			return nil, fmt.Errorf("%w: field %q is not a list", ErrAmbiguous, field)
		}
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				return nil, fmt.Errorf("%w: field %q holds a non-string", ErrAmbiguous, field)
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, isStr := raw.(string)
	if !isStr {
		return nil, fmt.Errorf("%w: field %q is not a string", ErrAmbiguous, field)
	}
	return []string{s}, nil
}

// Value reads one field through its aliases (run_id, then run_uuid). Two
// aliases with different values are ErrAmbiguous, as MLflow would use one
// and the gateway might check the other.
func (m *Message) Value(fields []string) (string, bool, error) {
	var got string
	found := false
	for _, f := range fields {
		v, err := m.Values(f, false)
		if err != nil {
			return "", false, err
		}
		if len(v) == 0 {
			continue
		}
		if found && v[0] != got {
			return "", false, fmt.Errorf("%w: %s disagree", ErrAmbiguous, strings.Join(fields, " and "))
		}
		got, found = v[0], true
	}
	return got, found, nil
}

// field reads one key of obj by its proto name or JSON name; both present
// is ErrAmbiguous (the parser already refuses that; kept for safety).
func (m *Message) field(obj map[string]any, name string) (any, error) {
	v, ok := obj[name]
	if jn := jsonName(name); jn != name {
		if vj, okj := obj[jn]; okj {
			if ok {
				return nil, fmt.Errorf("%w: both %q and %q given", ErrAmbiguous, name, jn)
			}
			return vj, nil
		}
	}
	if !ok {
		return nil, nil
	}
	return v, nil
}

func asObject(v any) map[string]any {
	o, _ := v.(map[string]any)
	return o
}

// Nested reads a string field inside nested messages of the JSON body (nil
// when any level is absent). A level that is not an object, or a final
// value that is not a string, is ErrAmbiguous.
func (m *Message) Nested(path ...string) (*string, error) {
	if m.FromQuery {
		return nil, nil
	}
	cur := m.Body
	for i, p := range path {
		v, err := m.field(cur, p)
		if err != nil || v == nil {
			return nil, err
		}
		if i == len(path)-1 {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%w: %s is not a string", ErrAmbiguous, strings.Join(path, "."))
			}
			return &s, nil
		}
		next, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not an object", ErrAmbiguous, p)
		}
		cur = next
	}
	return nil, nil
}
