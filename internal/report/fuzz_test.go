package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// FuzzWriters feeds arbitrary paths, members, messages and positions to every
// writer: none may fail or panic, JSON must stay valid against our schema,
// SARIF against the official one, and text must stay free of control
// characters other than newlines.
func FuzzWriters(f *testing.F) {
	for _, fd := range fullReport().Findings {
		f.Add(fd.Path, fd.Member, fd.Message, fd.Line, fd.Column, fd.EndLine, fd.EndColumn, fd.Suppressed, uint8(fd.Level), uint8(0))
	}
	f.Add("", "", "", 0, 0, 0, 0, false, uint8(0), uint8(30))
	f.Add("c:evil/../x\x00", "../../etc/passwd", "\x1b]0;title\x07", -5, -1, 1<<30, 3, true, uint8(7), uint8(200))
	f.Add("/api/2.0/mlflow/artifacts?path=%2e%2e", "m\nn", "\xff\xfe", 1, 1, 1, 1, false, uint8(1), uint8(3))
	cat := rules.Catalog()
	jsonSchema := loadSchema(f, "report.schema.json")
	sarifSchema := loadSchema(f, "sarif-schema-2.1.0.json")
	f.Fuzz(func(t *testing.T, path, member, msg string, line, col, endLine, endCol int, suppressed bool, level, ruleIdx uint8) {
		rl := cat[int(ruleIdx)%len(cat)]
		fd := finding.Finding{
			RuleID: rl.ID, Level: finding.Level(level % 4), Path: path, Member: member, Message: msg,
			Line: line, Column: col, EndLine: endLine, EndColumn: endCol, Suppressed: suppressed,
		}
		if suppressed && level%2 == 0 {
			fd.Suppression = &finding.Suppression{Kind: "inline", Reason: msg, Where: path}
		}
		r := &Report{
			Tool:     Tool{Name: "mlflow-guard", Version: "v1.0.0", Command: "scan"},
			Root:     "/src",
			Findings: []finding.Finding{fd, fd},
			Errors:   []finding.Error{{Path: path, Member: member, Kind: finding.ErrParse, Message: msg, Line: max(line, 0)}},
		}
		for _, format := range Formats {
			w, err := New(format, Options{Color: level%2 == 1})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w.Write(&b, r); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			switch format {
			case "json":
				if err := validate(t, jsonSchema, b.Bytes()); err != nil {
					t.Fatalf("json output breaks the schema: %v\n%s", err, b.Bytes())
				}
			case "sarif":
				if err := validate(t, sarifSchema, b.Bytes()); err != nil {
					t.Fatalf("sarif output breaks the schema: %v\n%s", err, b.Bytes())
				}
			case "text":
				out := b.String()
				if level%2 == 0 && strings.ContainsFunc(out, func(r rune) bool {
					return r != '\n' && (r < 0x20 || (r >= 0x7f && r < 0xa0))
				}) {
					t.Fatalf("text output holds control characters: %q", out)
				}
			}
		}
	})
}
