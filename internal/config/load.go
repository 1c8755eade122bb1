package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// maxConfigSize bounds what Load reads: a config file is a few hundred bytes.
const maxConfigSize = 1 << 20

// Load reads and validates one config file. Every problem is reported at
// once as Errors, each with file:line.
func Load(p string) (*Config, error) {
	// Bounded at read time and regular files only: a config shipped in a
	// repository as a link to /dev/zero, or a FIFO, must fail at once.
	data, err := safeio.ReadFile(p, maxConfigSize)
	if err != nil {
		if errors.Is(err, safeio.ErrTooLarge) {
			return nil, fmt.Errorf("config %s: more than %d bytes is too large for a config file", p, maxConfigSize)
		}
		return nil, fmt.Errorf("config %s: %w", p, unwrapPathErr(err))
	}
	return Parse(p, data)
}

// unwrapPathErr drops *fs.PathError's copy of the path, already in the message.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Discover loads .mlflow-guard.yaml (or .yml) from root, which may be a
// directory or a file (then its directory is used). Without a config file it
// returns Default().
func Discover(root string) (*Config, error) {
	dir := root
	if info, err := os.Stat(root); err == nil && !info.IsDir() {
		dir = filepath.Dir(root)
	}
	for _, d := range searchDirs(dir) {
		for _, name := range FileNames {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return Load(p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("config %s: %w", p, err)
			}
		}
	}
	return Default(), nil
}

// searchDirs lists dir and, when dir is inside a git work tree, its parents
// up to the work tree's top: a pre-commit hook passes single files, and the
// repository's config at the top must still apply to them. Outside git only
// dir itself is searched, so a stray config higher up is never picked up.
func searchDirs(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return []string{dir}
	}
	var chain []string
	rel := dir // keep the form the user gave, so reports name the config as they would
	for d := abs; ; d = filepath.Dir(d) {
		chain = append(chain, rel)
		rel = filepath.Join(rel, "..")
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return chain
		}
		if filepath.Dir(d) == d {
			return []string{dir}
		}
	}
}

// Parse validates config bytes; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	l := &loader{file: name, ix: rules.NewIndex(), cfg: Default()}
	l.cfg.Path = name
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Line: yamlErrLine(err), Msg: err.Error()}}
	}
	// A second document would be silently ignored by a one-document read;
	// whoever wrote it meant something by it.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, Errors{{File: name, Line: line, Msg: "a second YAML document (after ---); a config is one document: merge them"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Line: yamlErrLine(err), Msg: err.Error()}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return l.cfg, nil // empty file: defaults
	}
	l.top(deref(doc.Content[0]))
	if len(l.probs) > 0 {
		return nil, l.probs
	}
	return l.cfg, nil
}

type loader struct {
	file  string
	ix    *rules.Index
	cfg   *Config
	probs Errors
	// ruleAt is where each rule ID was set (under rules: or disable:), so a
	// rule set twice, by ID and by name, is an error, not last-one-wins.
	ruleAt map[string]int
}

// setRule records that rule id is set at n and reports a second setting.
func (l *loader) setRule(n *yaml.Node, id, as string) bool {
	if l.ruleAt == nil {
		l.ruleAt = map[string]int{}
	}
	if prev, ok := l.ruleAt[id]; ok {
		l.fail(n, "rule %s (%q here) is already set at line %d; set each rule once", id, as, prev)
		return false
	}
	l.ruleAt[id] = n.Line
	return true
}

func (l *loader) fail(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.probs = append(l.probs, Problem{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases (bounded, in case of a cycle).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// pairs walks a mapping node, reporting duplicate keys.
func (l *loader) pairs(n *yaml.Node, what string, fn func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		l.fail(n, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.fail(k, "%s: keys must be plain strings", what)
			continue
		}
		if seen[k.Value] {
			l.fail(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k, v)
	}
}

func (l *loader) top(n *yaml.Node) {
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	l.pairs(n, "the config", func(k, v *yaml.Node) {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && k.Value != "max_file_size" {
			// "ignore:" with nothing under it: keep the default.
			if !knownKeys[k.Value] {
				l.fail(k, "unknown key %q", k.Value)
			}
			return
		}
		switch k.Value {
		case "rules":
			l.rulesMap(v)
		case "disable":
			for _, id := range l.strings(v, "disable") {
				if r, ok := l.rule(id.node, id.s); ok && l.setRule(id.node, r.ID, id.s) {
					s := l.cfg.Rules[r.ID]
					s.Disabled, s.Line = true, id.node.Line
					l.cfg.Rules[r.ID] = s
				}
			}
		case "exclude":
			for _, g := range l.strings(v, "exclude") {
				if c, err := CompileGlob(g.s); err != nil {
					l.fail(g.node, "exclude: %v", err)
				} else {
					l.cfg.Exclude = append(l.cfg.Exclude, c)
				}
			}
		case "max_file_size":
			if v.Kind != yaml.ScalarNode {
				l.fail(v, "max_file_size must be a size such as 50MB")
				return
			}
			sz, err := ParseSize(v.Value)
			if err != nil {
				l.fail(v, "max_file_size: %v", err)
				return
			}
			l.cfg.MaxFileSize = sz
		case "ignore":
			l.ignores(v)
		case "protected_stages":
			l.cfg.ProtectedStages = nonEmpty(l, v, "protected_stages")
		case "protected_aliases":
			l.cfg.ProtectedAliases = nil
			for _, a := range l.strings(v, "protected_aliases") {
				if _, err := path.Match(a.s, ""); err != nil || a.s == "" {
					l.fail(a.node, "protected_aliases: bad pattern %q", a.s)
					continue
				}
				l.cfg.ProtectedAliases = append(l.cfg.ProtectedAliases, a.s)
			}
			if l.cfg.ProtectedAliases == nil {
				l.cfg.ProtectedAliases = []string{}
			}
		case "artifact_locations":
			l.cfg.ArtifactLocations = nonEmpty(l, v, "artifact_locations")
		case "approval":
			l.approval(v)
		default:
			l.fail(k, "unknown key %q (want rules, disable, exclude, max_file_size, ignore, protected_stages, protected_aliases, artifact_locations or approval)", k.Value)
		}
	})
}

var knownKeys = map[string]bool{"rules": true, "disable": true, "exclude": true, "max_file_size": true, "ignore": true,
	"protected_stages": true, "protected_aliases": true, "artifact_locations": true, "approval": true}

type strAt struct {
	s    string
	node *yaml.Node
}

// strings reads a sequence of scalars (or one scalar, for convenience).
func (l *loader) strings(n *yaml.Node, what string) []strAt {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return []strAt{{n.Value, n}}
	}
	if n.Kind != yaml.SequenceNode {
		l.fail(n, "%s must be a list", what)
		return nil
	}
	var out []strAt
	for _, c := range n.Content {
		c = deref(c)
		if c == nil || c.Kind != yaml.ScalarNode {
			l.fail(c, "%s: each entry must be a string", what)
			continue
		}
		out = append(out, strAt{c.Value, c})
	}
	return out
}

func nonEmpty(l *loader, n *yaml.Node, what string) []string {
	out := []string{}
	for _, s := range l.strings(n, what) {
		if strings.TrimSpace(s.s) == "" {
			l.fail(s.node, "%s: empty entry", what)
			continue
		}
		out = append(out, s.s)
	}
	return out
}

func (l *loader) rule(n *yaml.Node, idOrName string) (rules.Rule, bool) {
	r, ok := l.ix.Lookup(strings.TrimSpace(idOrName))
	if !ok {
		l.fail(n, "unknown rule %q (see `mlflow-guard rules`)", idOrName)
	}
	return r, ok
}

func (l *loader) rulesMap(n *yaml.Node) {
	l.pairs(n, "rules", func(k, v *yaml.Node) {
		r, ok := l.rule(k, k.Value)
		if !ok || !l.setRule(k, r.ID, k.Value) {
			return
		}
		s := l.cfg.Rules[r.ID]
		s.Line = k.Line
		if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			// Shorthand: "MLG104: advisory" or "MLG305: off".
			l.ruleLevel(v, &s)
			l.cfg.Rules[r.ID] = s
			return
		}
		l.pairs(v, "rules."+k.Value, func(k2, v2 *yaml.Node) {
			switch k2.Value {
			case "level":
				l.ruleLevel(v2, &s)
			case "enabled":
				b, ok := l.boolean(v2, "rules."+k.Value+".enabled")
				if ok {
					s.Disabled = !b
				}
			default:
				l.fail(k2, "rules.%s: unknown key %q (want level or enabled)", k.Value, k2.Value)
			}
		})
		l.cfg.Rules[r.ID] = s
	})
}

func (l *loader) ruleLevel(v *yaml.Node, s *RuleSetting) {
	if v.Kind != yaml.ScalarNode {
		l.fail(v, "level must be strict, warning, advisory or off")
		return
	}
	if strings.EqualFold(v.Value, "off") || strings.EqualFold(v.Value, "disabled") {
		s.Disabled = true
		return
	}
	lv, err := finding.ParseLevel(v.Value)
	if err != nil {
		l.fail(v, "%v", err)
		return
	}
	s.Level = lv
}

func (l *loader) boolean(v *yaml.Node, what string) (bool, bool) {
	if v.Kind == yaml.ScalarNode {
		switch strings.ToLower(v.Value) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	l.fail(v, "%s must be true or false", what)
	return false, false
}

func (l *loader) ignores(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		l.fail(n, "ignore must be a list of {rule, path, reason, expires}")
		return
	}
	for _, e := range n.Content {
		e = deref(e)
		if e == nil {
			continue
		}
		ig := Ignore{Line: e.Line}
		bad := false
		l.pairs(e, "ignore entry", func(k, v *yaml.Node) {
			if v.Kind != yaml.ScalarNode {
				l.fail(v, "ignore.%s must be a string", k.Value)
				bad = true
				return
			}
			switch k.Value {
			case "rule":
				if r, ok := l.rule(v, v.Value); ok {
					ig.Rule = r.ID
				} else {
					bad = true
				}
			case "path":
				g, err := CompileGlob(v.Value)
				if err != nil {
					l.fail(v, "ignore.path: %v", err)
					bad = true
					return
				}
				ig.Path, ig.Glob = v.Value, g
			case "reason":
				ig.Reason = strings.TrimSpace(v.Value)
			case "expires":
				t, err := parseDate(v.Value)
				if err != nil {
					l.fail(v, "ignore.expires: %v", err)
					bad = true
					return
				}
				ig.Expires = t
			default:
				l.fail(k, "ignore: unknown key %q (want rule, path, reason or expires)", k.Value)
				bad = true
			}
		})
		if e.Kind != yaml.MappingNode {
			continue
		}
		if ig.Reason == "" {
			l.fail(e, "ignore entry has no reason: say why the finding is acceptable")
			bad = true
		}
		if ig.Rule == "" && ig.Path == "" && !bad {
			l.fail(e, "ignore entry needs a rule, a path or both")
			bad = true
		}
		if !bad {
			l.cfg.Ignores = append(l.cfg.Ignores, ig)
		}
	}
}

func (l *loader) approval(n *yaml.Node) {
	a := &l.cfg.Approval
	l.pairs(n, "approval", func(k, v *yaml.Node) {
		var dst *string
		switch k.Value {
		case "approved_by_tag":
			dst = &a.ApprovedBy
		case "approved_at_tag":
			dst = &a.ApprovedAt
		case "requested_by_tag":
			dst = &a.RequestedBy
		case "digest_tag":
			dst = &a.Digest
		case "public_key":
			dst = &a.PublicKey
		default:
			l.fail(k, "approval: unknown key %q (want approved_by_tag, approved_at_tag, requested_by_tag, digest_tag or public_key)", k.Value)
			return
		}
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			l.fail(v, "approval.%s must be a non-empty string", k.Value)
			return
		}
		*dst = v.Value
	})
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, fmt.Errorf("bad date %q (want YYYY-MM-DD)", s)
}

// ParseSize reads "50MB", "1.5GiB", "512k" or a plain byte count. Decimal
// units (KB, MB, GB) are powers of 1000, binary ones (KiB, MiB, GiB) of 1024;
// a bare K/M/G is binary.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("bad size %q (want e.g. 50MB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (want e.g. 50MB)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("bad size unit in %q (want B, KB, MB, GB, KiB, MiB or GiB)", s)
	}
	n := v * mult
	if n < 0 || n > 1<<62 {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return int64(n), nil
}

// yamlErrLine pulls "line N" out of a yaml syntax error.
func yamlErrLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	j := i + 5
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(msg[i+5 : j])
	return n
}
