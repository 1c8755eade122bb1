package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// FileNames are the config files Discover looks for, in order.
var FileNames = []string{".mlflow-guard.yaml", ".mlflow-guard.yml"}

// Config is a loaded .mlflow-guard.yaml. The zero value is not useful; use
// Default, Load, Parse or Discover.
type Config struct {
	// Path is the file the config came from, "" for the built-in default.
	Path string
	Policy
	// Rules holds per-rule settings keyed by rule ID.
	Rules map[string]RuleSetting
	// Exclude are extra paths to skip during a scan (globs).
	Exclude []Glob
	// MaxFileSize is the scan's size cap in bytes; 0 means "not set".
	MaxFileSize int64
	// Ignores are path/rule suppressions with a reason and an optional expiry.
	Ignores []Ignore
	// Base is the scanned directory relative to the config file's
	// directory (slash-separated, "" when they are the same): the config's
	// paths are relative to its own directory, a finding's to the scan root.
	Base string
}

// RepoPath is a path relative to the scan root as the config's paths name it.
func (c *Config) RepoPath(p string) string {
	if c == nil || c.Base == "" {
		return p
	}
	return c.Base + "/" + p
}

// ScanGlob is a config path glob as seen from the scan root: the part under
// Base, "**" globs as they are, and ok false for one that names only paths
// outside the scanned directory.
func (c *Config) ScanGlob(g string) (string, bool) {
	if c == nil || c.Base == "" || strings.HasPrefix(g, "**") {
		return g, true
	}
	if rest, found := strings.CutPrefix(g, c.Base+"/"); found {
		return rest, true
	}
	return "", false
}

// RuleSetting is one rule's override.
type RuleSetting struct {
	// Level replaces the catalog level; LevelNone keeps it.
	Level    finding.Level
	Disabled bool
	// Line is where the setting was written (for messages).
	Line int
}

// Ignore suppresses findings of one rule (or of all rules when Rule is
// empty) under a path glob (or anywhere when Path is empty).
type Ignore struct {
	Rule    string // rule ID, "" for every rule
	Path    string // glob as written, "" for every path
	Glob    Glob
	Reason  string
	Expires time.Time // zero: never; otherwise the last day it applies (UTC)
	Line    int
}

// Expired reports whether the entry no longer applies at now. An entry is
// valid through the whole of its expiry day (UTC).
func (ig Ignore) Expired(now time.Time) bool {
	return !ig.Expires.IsZero() && !now.UTC().Before(ig.Expires.AddDate(0, 0, 1))
}

// Matches reports whether the entry covers a finding of rule at path.
func (ig Ignore) Matches(rule, path string) bool {
	if ig.Rule != "" && ig.Rule != rule {
		return false
	}
	return ig.Path == "" || ig.Glob.Match(path)
}

// Where names the entry for reports: "file:line".
func (ig Ignore) Where(cfgPath string) string {
	return fmt.Sprintf("%s:%d", cfgPath, ig.Line)
}

// Default is the configuration when no file exists.
func Default() *Config {
	return &Config{Policy: DefaultPolicy(), Rules: map[string]RuleSetting{}}
}

// Enabled reports whether a rule is switched on.
func (c *Config) Enabled(id string) bool {
	if c == nil {
		return true
	}
	return !c.Rules[id].Disabled
}

// LevelFor returns the configured level of a rule, or def when not overridden.
func (c *Config) LevelFor(id string, def finding.Level) finding.Level {
	if c == nil {
		return def
	}
	if s, ok := c.Rules[id]; ok && s.Level != finding.LevelNone {
		return s.Level
	}
	return def
}

// Problem is one thing wrong with a config file.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Errors lists every problem of a config file, so a user fixes them in one go.
type Errors []Problem

func (e Errors) Error() string {
	var b strings.Builder
	if len(e) > 1 {
		fmt.Fprintf(&b, "%d problems in config:", len(e))
		for _, p := range e {
			b.WriteString("\n  ")
			b.WriteString(p.String())
		}
		return b.String()
	}
	if len(e) == 1 {
		return e[0].String()
	}
	return "config: no problems"
}
