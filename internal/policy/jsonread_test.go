package policy

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdDecode is how decodeJSON read bodies before parseJSON: encoding/json's
// Decoder with UseNumber, refusing data after the value.
func stdDecode(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() || len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, false
	}
	return v, true
}

var jsonSeeds = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `tru`, `0`, `-0`, `01`, `-`, `1.`, `1.5e`, `1e+`, `1E-7`, `-12.5e+3`,
	`"a"`, `"\u00e9\n\t\"\\\/\b\f\r"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`,
	`"\u12"`, `"\u12G4"`, `"\x"`, "\"a\x01\"", `"é"`, `"unterminated`, `"a\`,
	`{}`, `[]`, `{ }`, `[ ]`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":[1,{"b":null}],"c":"d"}`, `[1,]`, `{"a":1,}`,
	`{"a" 1}`, `{a:1}`, `{"a":1}x`, `{"a":1} `, ` {"a":1}` + "\r\n", `{"a":1}{}`, `[1 2]`, `"x" "y"`, `1 2`, `[`, `{"a":`,
	`{"run_id":"r","params":[{"key":"k","value":"v"}],"metrics":[{"key":"m","value":0.5,"timestamp":1,"step":2}]}`,
	`"{\"key\":\"k\",\"value\":\"v\"}"`, "\ufeff{}", `{"a":NaN}`, `[Infinity]`, `{"\u0061":1,"a":2}`,
}

// TestParseJSONMatchesEncodingJSON: the hand-written reader builds the
// tree encoding/json builds and refuses what it refuses.
func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkParseJSON(t, []byte(s))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) || depth(b) > maxDepth {
			return // refused before parsing (decodeJSON)
		}
		checkParseJSON(t, b)
	})
}

func checkParseJSON(t *testing.T, b []byte) {
	t.Helper()
	want, wantOK := stdDecode(b)
	got, err := parseJSON(b)
	if wantOK != (err == nil) {
		t.Fatalf("%q: encoding/json ok=%v, parseJSON err=%v", b, wantOK, err)
	}
	if wantOK && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: parseJSON %#v, encoding/json %#v", b, got, want)
	}
}

// depth is the deepest bracket nesting outside strings (a cheap bound
// before decoding).
func depth(b []byte) int {
	d, max, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			if d > max {
				max = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return max
}

// TestParseJSONDepth: maxDepth levels are read, one more is refused.
func TestParseJSONDepth(t *testing.T) {
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := parseJSON([]byte(ok)); err != nil {
		t.Fatalf("depth %d: %v", maxDepth, err)
	}
	deep := `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`
	if _, err := decodeJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("depth %d: %v", maxDepth+1, err)
	}
}
