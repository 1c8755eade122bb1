package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// strictJSON decodes one JSON value, refusing duplicate keys, keys that
// differ only in case or name one proto field, invalid UTF-8, lone
// surrogates, nesting deeper than maxJSONDepth and trailing data. It reads
// with the policies' parser in its strict mode, so the tree it builds is
// the one the policies read (parseJSONBodyShared hands it to them);
// TestStrictJSONMatchesStd and FuzzStrictJSON hold it to strictJSONStd,
// the encoding/json reader it replaced.
func strictJSON(b []byte) (any, error) {
	v, _, err := strictJSONDeep(b)
	return v, err
}

// strictJSONDeep is strictJSON that also returns the deepest nesting of
// objects and arrays it read.
func strictJSONDeep(b []byte) (any, int, error) {
	if !utf8.Valid(b) {
		return nil, 0, fmt.Errorf("%w: body is not valid UTF-8", ErrAmbiguous)
	}
	if loneSurrogate.Match(b) {
		return nil, 0, fmt.Errorf("%w: surrogate escape in JSON", ErrAmbiguous)
	}
	v, deep, err := policy.ParseStrict(b)
	var dup *policy.DuplicateKeyError
	switch {
	case err == nil:
		return v, deep, nil
	case errors.As(err, &dup):
		return nil, 0, fmt.Errorf("%w: %v", ErrAmbiguous, dup)
	case errors.Is(err, policy.ErrTooDeep):
		return nil, 0, fmt.Errorf("%w: JSON nested deeper than %d", ErrAmbiguous, maxJSONDepth)
	case errors.Is(err, policy.ErrTrailing):
		return nil, 0, fmt.Errorf("%w: data after the JSON value", ErrAmbiguous)
	}
	return nil, 0, fmt.Errorf("%w: JSON: %v", ErrAmbiguous, err)
}

// parseJSONBodyShared is the body half of ParseMessage. It also describes
// what it read for the policies (policy.Parsed), so they do not parse the
// same bytes again; nil when there was nothing to parse.
func parseJSONBodyShared(body []byte) (map[string]any, *policy.Parsed, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil, nil
	}
	v, deep, err := strictJSONDeep(body)
	if err != nil {
		return nil, nil, err
	}
	doubled := false
	if s, ok := v.(string); ok {
		// Old clients double-encode; MLflow decodes once more.
		doubled = true
		var inner int
		if v, inner, err = strictJSONDeep([]byte(s)); err != nil {
			return nil, nil, err
		}
		deep = max(deep, inner)
	}
	var obj map[string]any
	switch t := v.(type) {
	case nil:
		obj = map[string]any{}
	case map[string]any:
		obj = t
	default:
		return nil, nil, fmt.Errorf("%w: JSON body is not an object", ErrAmbiguous)
	}
	return obj, policy.NewParsed(body, obj, doubled, deep), nil
}

// parseMessageShared is ParseMessage, plus the parsed body for the
// policies when the message came from the body.
func parseMessageShared(method, rawQuery string, body []byte) (*Message, *policy.Parsed, error) {
	if method == "GET" && rawQuery != "" {
		m, err := ParseMessage(method, rawQuery, body)
		return m, nil, err
	}
	obj, parsed, err := parseJSONBodyShared(body)
	if err != nil {
		return nil, nil, err
	}
	return &Message{Body: obj}, parsed, nil
}
