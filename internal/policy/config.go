package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config holds every request policy. The YAML keys are documented in
// docs/policies.md. The zero value is the safe default: secrets denied,
// MLflow's own caps, artifacts only under mlflow-artifacts:/, no private
// outbound targets, no custom rules.
type Config struct {
	Secrets    SecretsConfig   `yaml:"secrets"`
	Locations  LocationsConfig `yaml:"locations"`
	SSRF       SSRFConfig      `yaml:"ssrf"`
	Custom     []CustomRule    `yaml:"custom"`
	SignedURLs SignedURLConfig `yaml:"signed_urls"`
	// Registration and Uploads are the model gates (internal/gateway).
	Registration RegistrationConfig `yaml:"registration"`
	Uploads      UploadsConfig      `yaml:"uploads"`
}

// SecretsConfig is MLG201 (secrets) and MLG203 (caps, control characters).
type SecretsConfig struct {
	Mode      Mode            `yaml:"mode"` // deny (default), redact, log-only
	Untrusted UntrustedConfig `yaml:"untrusted"`
}

// UntrustedConfig bounds keys and values below MLflow's own caps.
type UntrustedConfig struct {
	Mode           Mode `yaml:"mode"` // deny (default) or log-only
	MaxKeyLength   int  `yaml:"max_key_length"`
	MaxValueLength int  `yaml:"max_value_length"`
}

func (u UntrustedConfig) capKey() int {
	if u.MaxKeyLength > 0 {
		return u.MaxKeyLength
	}
	return 1 << 30
}

func (u UntrustedConfig) capValue() int {
	if u.MaxValueLength > 0 {
		return u.MaxValueLength
	}
	return 1 << 30
}

// LocationsConfig is MLG205/MLG301/MLG304: where artifacts may live.
type LocationsConfig struct {
	// AllowedRoots: artifact locations and model-version sources must lie
	// under one of these (scheme://host/path, or an absolute local path).
	AllowedRoots []string `yaml:"allowed_roots"`
}

// SSRFConfig names outbound targets allowed despite a private address.
type SSRFConfig struct {
	AllowHosts []string `yaml:"allow_hosts"` // exact host names
	AllowCIDRs []string `yaml:"allow_cidrs"` // e.g. 10.20.0.0/16

	prefixes []netip.Prefix
}

func (s SSRFConfig) hostAllowed(h string) bool {
	for _, a := range s.AllowHosts {
		if strings.EqualFold(strings.TrimSuffix(a, "."), h) {
			return true
		}
	}
	return false
}

func (s SSRFConfig) addrAllowed(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CustomRule is one CEL rule: when DenyWhen is true the request is denied.
type CustomRule struct {
	Name      string `yaml:"name"`
	DenyWhen  string `yaml:"deny_when"`
	Rule      string `yaml:"rule"`   // rule id reported (default MLG401)
	Reason    string `yaml:"reason"` // message for the caller
	CostLimit uint64 `yaml:"cost_limit"`
}

// SignedURLConfig is MLG305.
type SignedURLConfig struct {
	TTL time.Duration `yaml:"ttl"` // default and maximum 1h
}

// DefaultRoot is the allowed artifact root when none is configured: the
// server's own artifact proxy.
const DefaultRoot = "mlflow-artifacts:/"

func (c *Config) defaults() {
	if c.Secrets.Mode == "" {
		c.Secrets.Mode = ModeDeny
	}
	if c.Secrets.Untrusted.Mode == "" {
		c.Secrets.Untrusted.Mode = ModeDeny
	}
	if len(c.Locations.AllowedRoots) == 0 {
		c.Locations.AllowedRoots = []string{DefaultRoot}
	}
	if c.SignedURLs.TTL == 0 {
		c.SignedURLs.TTL = MaxSignedTTL
	}
	c.datagateDefaults()
	for i := range c.Custom {
		if c.Custom[i].Rule == "" {
			c.Custom[i].Rule = RuleMalformed
		}
		if c.Custom[i].CostLimit == 0 {
			c.Custom[i].CostLimit = defaultCostLimit
		}
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Secrets.Mode {
	case ModeDeny, ModeRedact, ModeLogOnly:
	default:
		bad("secrets.mode: %q is not deny, redact or log-only", c.Secrets.Mode)
	}
	switch c.Secrets.Untrusted.Mode {
	case ModeDeny, ModeLogOnly:
	default:
		bad("secrets.untrusted.mode: %q is not deny or log-only", c.Secrets.Untrusted.Mode)
	}
	if c.Secrets.Untrusted.MaxKeyLength < 0 {
		bad("secrets.untrusted.max_key_length: negative")
	}
	if c.Secrets.Untrusted.MaxValueLength < 0 {
		bad("secrets.untrusted.max_value_length: negative")
	}
	for i, r := range c.Locations.AllowedRoots {
		if _, err := parseLocation(r); err != nil {
			bad("locations.allowed_roots[%d] %q: %v", i, r, err)
		} else if why := pathProblem(r, false); why != "" {
			bad("locations.allowed_roots[%d] %q: %s", i, r, why)
		}
	}
	c.SSRF.prefixes = c.SSRF.prefixes[:0]
	for i, s := range c.SSRF.AllowCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			bad("ssrf.allow_cidrs[%d]: %v", i, err)
			continue
		}
		c.SSRF.prefixes = append(c.SSRF.prefixes, p.Masked())
	}
	for i, h := range c.SSRF.AllowHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			bad("ssrf.allow_hosts[%d] %q: not a host name", i, h)
		}
	}
	if c.SignedURLs.TTL < 0 || c.SignedURLs.TTL > MaxSignedTTL {
		bad("signed_urls.ttl: %s is outside (0, %s]", c.SignedURLs.TTL, MaxSignedTTL)
	}
	c.datagateValidate(bad)
	seen := map[string]bool{}
	for i, r := range c.Custom {
		if r.Name == "" {
			bad("custom[%d]: name is required", i)
		} else if seen[r.Name] {
			bad("custom[%d]: name %q given twice", i, r.Name)
		}
		seen[r.Name] = true
		if strings.TrimSpace(r.DenyWhen) == "" {
			bad("custom[%d] %q: deny_when is required", i, r.Name)
		} else if err := checkCEL(r); err != nil {
			bad("custom[%d] %q: %v", i, r.Name, err)
		}
		if r.Rule != "" && !ruleID(r.Rule) {
			bad("custom[%d] %q: rule %q is not MLGnnn", i, r.Name, r.Rule)
		}
	}
	return errors.Join(errs...)
}

func ruleID(s string) bool {
	if len(s) != 6 || !strings.HasPrefix(s, "MLG") {
		return false
	}
	for _, c := range s[3:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseConfig reads the YAML policy section. Unknown keys are errors;
// every problem (YAML and semantic) is reported at once, naming the file.
func ParseConfig(data []byte, file string) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}
