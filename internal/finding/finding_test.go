package finding

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLevelRoundTrip(t *testing.T) {
	for _, l := range []Level{Advisory, Warning, Strict} {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("critical"); err == nil {
		t.Error("ParseLevel(critical) accepted an unknown level")
	}
}

func TestFingerprintIgnoresLineAndWhitespace(t *testing.T) {
	a := Finding{RuleID: "MLG102", Path: "a.py", Line: 3, Snippet: "pickle.load(f)"}
	b := Finding{RuleID: "MLG102", Path: "a.py", Line: 40, Snippet: "  pickle.load(f)  "}
	if ComputeFingerprint(&a, 0) != ComputeFingerprint(&b, 0) {
		t.Error("fingerprint changed when only the line and indentation moved")
	}
	if ComputeFingerprint(&a, 0) == ComputeFingerprint(&a, 1) {
		t.Error("occurrence index does not separate identical lines")
	}
	c := a
	c.RuleID = "MLG101"
	if ComputeFingerprint(&a, 0) == ComputeFingerprint(&c, 0) {
		t.Error("fingerprint ignores the rule")
	}
}

func TestSortIsTotal(t *testing.T) {
	fs := []Finding{{Path: "b", Line: 1}, {Path: "a", Line: 9}, {Path: "a", Line: 2, RuleID: "MLG2"}, {Path: "a", Line: 2, RuleID: "MLG1"}}
	Sort(fs)
	if fs[0].Path != "a" || fs[0].Line != 2 || fs[0].RuleID != "MLG1" || fs[1].RuleID != "MLG2" || fs[2].Line != 9 || fs[3].Path != "b" {
		t.Errorf("unexpected order: %+v", fs)
	}
}

// TestErrorKindsMatchSchema compares the kind constants with the enum of
// schema/report.schema.json, so the report and its contract cannot drift.
func TestErrorKindsMatchSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs struct {
			Error struct {
				Properties struct {
					Kind struct {
						Enum []string `json:"enum"`
					} `json:"kind"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range ErrorKinds() {
		got = append(got, string(k))
	}
	want := doc.Defs.Error.Properties.Kind.Enum
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ErrorKinds() = %v\nschema enum  = %v", got, want)
	}
}

func TestIncompleteKinds(t *testing.T) {
	for _, k := range []ErrorKind{ErrParse, ErrRead, ErrSkipped, ErrLimit, ErrUnchecked, ErrPanic, ErrCancelled, "some-new-kind"} {
		if !k.Incomplete() {
			t.Errorf("%s does not make a report incomplete", k)
		}
	}
	for _, k := range []ErrorKind{ErrExcluded, ErrConfig, ErrSuppression, ErrUnusedSuppression, ErrUnknownRule} {
		if k.Incomplete() {
			t.Errorf("%s makes a report incomplete", k)
		}
	}
}
