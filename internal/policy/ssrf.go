package policy

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Resolver looks up a host's addresses. Production uses net.Resolver;
// tests inject their own.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

type netResolver struct{}

func (netResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return net.DefaultResolver.LookupIPAddr(ctx, host)
}

// metadataNames are cloud metadata host names (resolved or not).
var metadataNames = map[string]bool{
	"metadata.google.internal":   true,
	"metadata":                   true,
	"metadata.goog":              true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
	"metadata.azure.internal":    true,
}

// blockedNets are ranges an outbound call must not reach, beyond what
// netip's predicates cover (loopback, private, link-local, multicast,
// unspecified).
var blockedNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fd00:ec2::254/128"), // AWS metadata over IPv6 (also in fc00::/7)
}

// embedded returns the IPv4 address carried by NAT64 and 6to4 addresses.
func embedded(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case netip.MustParsePrefix("64:ff9b::/96").Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case netip.MustParsePrefix("2002::/16").Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// blockedAddr reports why an address is not a public destination.
func blockedAddr(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if e, ok := embedded(a); ok {
		if why := blockedAddr(e); why != "" {
			return "embeds " + why
		}
	}
	switch {
	case a == netip.MustParseAddr("169.254.169.254") || a == netip.MustParseAddr("fd00:ec2::254"):
		return "cloud metadata address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local address"
	case a.IsPrivate():
		return "private address"
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast address"
	}
	for _, p := range blockedNets {
		if p.Contains(a) {
			return "reserved address " + p.String()
		}
	}
	return ""
}

// parseIPv4Legacy reads the IPv4 spellings inet_aton accepts (and so
// Python's socket and urllib3): 1 to 4 parts, each decimal, octal (leading
// 0) or hex (0x): "2130706433", "0177.0.0.1", "0x7f.1", "127.1".
func parseIPv4Legacy(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		n |= vals[i] << (24 - 8*uint(i))
	}
	if vals[last] >= 1<<(8*uint(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// literalIP reads a host that is an IP address in any spelling.
func literalIP(host string) (netip.Addr, bool) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i] // a zone does not change where the address points
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	return parseIPv4Legacy(h)
}

const resolveTimeout = 2 * time.Second

// checkOutboundURL denies a URL the server would call (webhook, AI gateway
// api_base, http artifact location or source) when its host is, or
// resolves to, a non-public address, unless the allowlist names it.
// A name that does not resolve is denied: it cannot be checked.
// Limit: the server resolves again when it calls (DNS rebinding between
// the two lookups is not prevented here).
func (e *Engine) checkOutboundURL(ctx context.Context, raw string, field Field) Decision {
	bad := func(format string, args ...any) Decision {
		return tagged(deny(RuleSSRF, "%s %q: "+format, append([]any{field, clipShow(redactURL(raw), 120)}, args...)...), field, "ssrf")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return bad("unparsable URL: %v", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		if field == FieldURL {
			return bad("scheme %q is not http or https", scheme)
		}
		return Decision{}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return bad("no host")
	}
	if e.cfg.SSRF.hostAllowed(host) {
		return Decision{}
	}
	if metadataNames[host] {
		return bad("cloud metadata host")
	}
	if a, ok := literalIP(host); ok {
		if why := blockedAddr(a); why != "" && !e.cfg.SSRF.addrAllowed(a) {
			return bad("%s", why)
		}
		return Decision{}
	}
	if strings.HasSuffix(host, ".localhost") || host == "localhost" {
		return bad("loopback name")
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := e.resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return bad("cannot resolve host: %v", err)
	}
	if len(addrs) == 0 {
		return bad("host has no address")
	}
	for _, ia := range addrs {
		a, ok := netip.AddrFromSlice(ia.IP)
		if !ok {
			return bad("resolver returned a malformed address")
		}
		if why := blockedAddr(a); why != "" && !e.cfg.SSRF.addrAllowed(a) {
			return bad("resolves to a %s (%s)", why, a.Unmap())
		}
	}
	return Decision{}
}

// redactURL drops userinfo before a URL is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("REDACTED")
	return u.String()
}
