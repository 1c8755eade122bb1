package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// Bounds of the secrets pass over a version's text artifacts. Anything
// past them is reported as a limit error, which makes the audit partial.
const (
	// maxSecretFileBytes: a model's text files (MLmodel, requirements,
	// .env, JSON configs) are small; a larger text file is not read.
	maxSecretFileBytes = 8 << 20
	// maxSecretFiles caps the text files read per version.
	maxSecretFiles = 2000
	// maxSecretLine: longer lines are read in pieces of this size.
	maxSecretLine = 64 << 10
	// maxSecretsPerFile caps the findings one file gives; the rest are
	// counted in one more finding.
	maxSecretsPerFile = 20
)

// Key/value shapes the text artifacts use: `"key": "value"` pairs (JSON,
// several per line when minified) and `KEY=value` / `key: value` lines
// (.env, YAML, INI). Their keys go to Detector.Check, as scan judges
// assignments; the whole line also goes through FindInValue for tokens
// whose format alone gives them away.
var (
	jsonPair = regexp.MustCompile(`"([^"\\]{1,200})"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	linePair = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]{0,199})\s*[=:]\s*(.*?)\s*$`)
)

// isText reports whether a file's first bytes look like text: no NUL and
// valid UTF-8 (a rune cut by the head's end is allowed).
func isText(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	return utf8.Valid(head)
}

// secretsInArtifacts runs the secrets detectors over the text files of a
// downloaded version (MLG204: a .env or credentials.json shipped inside a
// model). Findings name the detector, never the value.
func (a *Auditor) secretsInArtifacts(prefix, dir string, files []string) {
	read := 0
	for _, rel := range files {
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(abs)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		head, err := analyze.ReadHead(abs)
		if err != nil {
			a.readFailed(prefix+"/"+rel, err)
			continue
		}
		if !isText(head) {
			continue
		}
		if st.Size() > maxSecretFileBytes {
			a.fail(finding.Error{Path: prefix + "/" + rel, Kind: finding.ErrLimit,
				Message: fmt.Sprintf("deep: text file of %d bytes is over the %d-byte cap of the secrets check; not read for secrets", st.Size(), maxSecretFileBytes)}, true)
			continue
		}
		if read >= maxSecretFiles {
			a.fail(finding.Error{Path: prefix + "/" + rel, Kind: finding.ErrLimit,
				Message: fmt.Sprintf("deep: more than %d text files in this version; the rest were not read for secrets", maxSecretFiles)}, true)
			return
		}
		read++
		if err := a.secretsInFile(prefix+"/"+rel, rel, abs); err != nil {
			a.readFailed(prefix+"/"+rel, err)
		}
	}
}

func (a *Auditor) secretsInFile(shown, rel, abs string) error {
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	// Tokens known by their format are found over the whole file in
	// overlapping windows, so one straddling a cut inside a long line, or
	// a private key spread over lines, is still found; key/value pairs are
	// judged line by line (pieces of maxSecretLine) below.
	var byValue []secrets.Match
	if err := a.det.ScanReader(io.LimitReader(f, maxSecretFileBytes), func(m secrets.Match) error {
		byValue = append(byValue, m)
		return nil
	}); err != nil {
		return err
	}
	sort.SliceStable(byValue, func(i, j int) bool { return byValue[i].Start < byValue[j].Start })
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rd := bufio.NewReaderSize(io.LimitReader(f, maxSecretFileBytes), maxSecretLine)
	found, line, off := 0, 1, 0
	for {
		chunk, err := rd.ReadSlice('\n')
		if len(chunk) > 0 {
			reasons := a.pairSecrets(string(chunk))
			// the value matches that start in this piece; as in
			// lineSecrets, they count where no pair gave a reason
			pairs := len(reasons) > 0
			for len(byValue) > 0 && byValue[0].Start < off+len(chunk) {
				if !pairs {
					reasons = appendNew(reasons, a.det.ValueReason(byValue[0].Kind))
				}
				byValue = byValue[1:]
			}
			for _, reason := range reasons {
				found++
				if found <= maxSecretsPerFile {
					a.add(finding.Finding{RuleID: "MLG204", Path: shown, Line: line, Column: 1,
						Message: fmt.Sprintf("model artifact %s ships a credential (%s): anyone who can read the model can use it; remove the file from the model, rotate the credential and register a clean version", rel, reason)})
				}
			}
			off += len(chunk)
		}
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			line++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
	if found > maxSecretsPerFile {
		a.add(finding.Finding{RuleID: "MLG204", Path: shown,
			Message: fmt.Sprintf("model artifact %s ships %d more credentials not listed one by one", rel, found-maxSecretsPerFile)})
	}
	return nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// lineSecrets returns the distinct reasons one line holds a secret: its
// key/value pairs, else the secrets its value shows by their format.
func (a *Auditor) lineSecrets(s string) []string {
	out := a.pairSecrets(s)
	if len(out) == 0 {
		if r, ok := a.det.Check("", s); ok {
			out = append(out, r)
		}
	}
	return out
}

// pairSecrets returns the distinct reasons the key/value pairs of one
// line give.
func (a *Auditor) pairSecrets(s string) []string {
	var out []string
	pairs := jsonPair.FindAllStringSubmatch(s, 64)
	for _, m := range pairs {
		if r, ok := a.det.Check(m[1], m[2]); ok {
			out = appendNew(out, r)
		}
	}
	if len(pairs) == 0 {
		if m := linePair.FindStringSubmatch(strings.TrimRight(s, "\r\n")); m != nil {
			if r, ok := a.det.Check(m[1], unquote(m[2])); ok {
				out = appendNew(out, r)
			}
		}
	}
	return out
}

// unquote strips one pair of matching quotes, as .env readers do.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
