package cli

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// TestMessagesNameExistingCommands: a rule text, a fix or a finding message
// never recommends an mlflow-guard command or flag this build does not have.
func TestMessagesNameExistingCommands(t *testing.T) {
	// serve is built on its own branch and merged with this one; until
	// then the catalog's "mlflow-guard serve" is the one allowed forward
	// reference (once merged, commands() has it anyway).
	known := map[string]bool{"serve": true, "help": true}
	for _, c := range commands() {
		known[c.name] = true
	}
	flagsOf := map[string]map[string]bool{}
	for name, fs := range map[string]*flag.FlagSet{
		"scan":  (&scanFlags{}).flagSet(Env{Stdout: io.Discard, Stderr: io.Discard}),
		"audit": (&auditFlags{}).flagSet(Env{Stdout: io.Discard, Stderr: io.Discard}),
	} {
		flagsOf[name] = map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) { flagsOf[name][f.Name] = true })
	}
	texts := map[string]string{}
	for _, r := range rules.Catalog() {
		all := []string{r.Summary, r.Description, r.Fix, r.Do, r.Dont}
		for _, v := range r.FixFor {
			all = append(all, v)
		}
		texts["rule "+r.ID] = strings.Join(all, "\n")
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts["examples.txt"] = string(golden)

	reCmd := regexp.MustCompile(`mlflow-guard ([a-z][a-z-]*)((?: [^\s;,)]+)*)`)
	reFlag := regexp.MustCompile(`(?:^| )--([a-z][a-z-]*)`)
	n := 0
	for where, text := range texts {
		for _, ix := range reCmd.FindAllStringSubmatchIndex(text, -1) {
			m := []string{text[ix[0]:ix[1]], text[ix[2]:ix[3]], text[ix[4]:ix[5]]}
			// The product name as a sentence's subject ("... files.
			// mlflow-guard walks the opcodes") is prose, not a command.
			if before := strings.TrimRight(text[:ix[0]], " "); before == "" || strings.HasSuffix(before, ".") {
				continue
			}
			n++
			cmd := m[1]
			if !known[cmd] {
				t.Errorf("%s recommends `mlflow-guard %s`, which this build does not have", where, cmd)
				continue
			}
			fl, ok := flagsOf[cmd]
			if !ok {
				continue
			}
			for _, f := range reFlag.FindAllStringSubmatch(m[2], -1) {
				if !fl[f[1]] {
					t.Errorf("%s recommends `mlflow-guard %s --%s`, a flag %s does not have", where, cmd, f[1], cmd)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no mlflow-guard command found in any rule text or message; has the pattern drifted?")
	}
}
