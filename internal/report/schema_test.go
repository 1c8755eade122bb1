package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaDir holds the published report schema and the official SARIF schema.
var schemaDir = filepath.Join("..", "..", "schema")

// loadSchema compiles a schema file once per test binary. The file is added
// as a resource under its own declared ID so nothing is fetched.
func loadSchema(t testing.TB, file string) *jsonschema.Schema {
	t.Helper()
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s, ok := schemas[file]; ok {
		return s
	}
	f, err := os.Open(filepath.Join(schemaDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	url := "file:///schema/" + file
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", file, err)
	}
	schemas[file] = s
	return s
}

var (
	schemasMu sync.Mutex
	schemas   = map[string]*jsonschema.Schema{}
)

func validate(t testing.TB, s *jsonschema.Schema, out []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return s.Validate(doc)
}

func TestJSONMatchesPublishedSchema(t *testing.T) {
	s := loadSchema(t, "report.schema.json")
	for name, r := range map[string]*Report{"full": fullReport(), "empty": emptyReport()} {
		out := render(t, "json", Options{}, r)
		if err := validate(t, s, out); err != nil {
			t.Errorf("%s report does not match schema/report.schema.json: %v", name, err)
		}
	}
	// The schema must be able to say no: null findings, a bad level and a
	// missing summary key are all contract violations.
	for _, bad := range []string{
		`{"tool":{"name":"m","version":"","command":"scan"},"findings":null,"errors":[],"summary":{"files_scanned":0,"findings":0,"suppressed":0,"by_level":{"strict":0,"warning":0,"advisory":0},"by_rule":{},"errors":0,"incomplete":false}}`,
		`{"tool":{"name":"m","version":"","command":"scan"},"findings":[{"rule_id":"MLG102","rule":"x","level":"fatal","message":"","path":"a","line":1,"column":1,"end_line":0,"end_column":0,"fingerprint":"00112233445566778899aabbccddeeff","suppressed":false,"cwe":[]}],"errors":[],"summary":{"files_scanned":0,"findings":0,"suppressed":0,"by_level":{"strict":0,"warning":0,"advisory":0},"by_rule":{},"errors":0,"incomplete":false}}`,
		`{"tool":{"name":"m","version":"","command":"scan"},"findings":[],"errors":[],"summary":{"files_scanned":0}}`,
	} {
		if err := validate(t, s, []byte(bad)); err == nil {
			t.Errorf("schema accepted an invalid report: %s", bad)
		}
	}
}

func TestJSONArraysNeverNull(t *testing.T) {
	r := emptyReport()
	r.Findings = nil
	r.Errors = nil
	out := string(render(t, "json", Options{}, r))
	for _, want := range []string{`"findings": []`, `"errors": []`, `"by_rule": {}`} {
		if !strings.Contains(out, want) {
			t.Errorf("empty report lacks %s:\n%s", want, out)
		}
	}
	full := render(t, "json", Options{}, fullReport())
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(full, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		if _, ok := f["cwe"].([]any); !ok {
			t.Errorf("finding %v: cwe is not an array", f["rule_id"])
		}
	}
}

func TestSARIFMatchesOfficialSchema(t *testing.T) {
	s := loadSchema(t, "sarif-schema-2.1.0.json")
	for name, r := range map[string]*Report{"full": fullReport(), "empty": emptyReport()} {
		out := render(t, "sarif", Options{}, r)
		if err := validate(t, s, out); err != nil {
			t.Errorf("%s SARIF does not match the SARIF 2.1.0 schema: %v", name, err)
		}
	}
	// A result without a message breaks the spec; the schema must catch it.
	bad := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"MLG102"}]}]}`
	if err := validate(t, s, []byte(bad)); err == nil {
		t.Error("SARIF schema accepted a result without a message")
	}
}

func TestReportSchemaIsValidJSONSchema(t *testing.T) {
	// Compiling checks the schema against the 2020-12 meta-schema.
	loadSchema(t, "report.schema.json")
	data, err := os.ReadFile(filepath.Join(schemaDir, "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"https://json-schema.org/draft/2020-12/schema"`)) {
		t.Error("report schema does not declare draft 2020-12")
	}
}

// The SARIF $schema we write must name the schema file we validate against,
// and that file must be the one recorded in schema/README.md.
func TestSARIFSchemaFileIdentity(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(schemaDir, "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatal(err)
	}
	if head.ID != sarifSchemaURI {
		t.Errorf("schema id %q, writer declares %q", head.ID, sarifSchemaURI)
	}
	sum := sha256.Sum256(data)
	readme, err := os.ReadFile(filepath.Join(schemaDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte(hex.EncodeToString(sum[:]))) {
		t.Errorf("schema/README.md does not record the SHA-256 %x of sarif-schema-2.1.0.json", sum)
	}
}
