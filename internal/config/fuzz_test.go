package config

import (
	"errors"
	"testing"
)

// FuzzParse: any bytes give a config or Errors whose every problem names
// the file; never a panic. Seeds cover the strictness cases (a second
// document, a rule set twice, deep nesting, aliases).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rules:\n  MLG104: strict\n---\ndisable: [MLG102]\n",
		"rules:\n  MLG102: advisory\n  unsafe-deserialization: strict\n",
		"disable: [MLG104, unpinned-model-version]\n",
		"ignore:\n  - reason: x\n",
		"a: &a [*a]\n",
		"rules: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n",
		"---\n---\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("c.yaml", data)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without an error")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not Errors: %v", err)
		}
		for _, p := range errs {
			if p.File != "c.yaml" {
				t.Fatalf("problem without the file: %+v", p)
			}
		}
	})
}
