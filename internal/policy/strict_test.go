package policy

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkParseStrict: what ParseStrict accepts within maxDepth, parseJSON
// reads to the same tree (Parsed relies on it), and ParseStrict refuses
// every object with two keys equal after ToLower or naming one field.
func checkParseStrict(t *testing.T, b []byte) {
	t.Helper()
	v, deep, err := ParseStrict(b)
	if err != nil || deep > maxDepth {
		return
	}
	w, werr := parseJSON(b)
	if werr != nil || !reflect.DeepEqual(v, w) {
		t.Fatalf("%q: strict %#v, parseJSON %#v %v", b, v, w, werr)
	}
	var walk func(any)
	walk = func(x any) {
		switch t2 := x.(type) {
		case map[string]any:
			folded, camel := map[string]bool{}, map[string]bool{}
			for k, e := range t2 {
				if folded[strings.ToLower(k)] || camel[jsonName(k)] {
					t.Fatalf("%q: twin keys accepted", b)
				}
				folded[strings.ToLower(k)], camel[jsonName(k)] = true, true
				walk(e)
			}
		case []any:
			for _, e := range t2 {
				walk(e)
			}
		}
	}
	walk(v)
}

func TestParseStrict(t *testing.T) {
	for _, s := range jsonSeeds {
		checkParseStrict(t, []byte(s))
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"run_id":1,"runId":2}`, `{"x":{"a":1,"a":2}}`} {
		if _, _, err := ParseStrict([]byte(s)); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	ok := strings.Repeat("[", 65) + strings.Repeat("]", 65) // an empty container one level deeper is read
	if _, deep, err := ParseStrict([]byte(ok)); err != nil || deep != 65 {
		t.Fatalf("65 empty: %d %v", deep, err)
	}
	if _, _, err := ParseStrict([]byte(strings.Repeat("[", 65) + "1" + strings.Repeat("]", 65))); err != ErrTooDeep {
		t.Fatalf("a value inside 65: %v", err)
	}
}

func FuzzParseStrict(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		checkParseStrict(t, b)
	})
}
