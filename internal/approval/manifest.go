package approval

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A manifest is one "<sha256>  <path>" line per file, so a version of
// more than about 1,000 files outgrows one tag: MLflow caps a model-version
// tag value at 100,000 characters (MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
// mlflow/utils/validation.py) and MySQL's TEXT column, which holds it
// there, at 65,535 bytes. A large manifest is therefore recorded in parts:
// TagManifest holds only a header naming the part count, and
// TagManifest+".1" .. ".N" hold whole lines of the manifest, each part
// opening with "# part i of N". The digest (TagDigest, ManifestDigest of
// the files listed) is unchanged, and every part is in the reserved
// namespace. JoinManifest refuses a missing, extra, misnumbered or
// misplaced part.
const (
	// ManifestPartBytes bounds one tag value, header included.
	ManifestPartBytes = 60_000
	// MaxManifestFiles is the most files a registered version may have.
	MaxManifestFiles = 100_000
	// MaxManifestBytes bounds the whole manifest text.
	MaxManifestBytes = 32 << 20
	// MaxManifestParts follows from the two bounds above.
	MaxManifestParts = MaxManifestBytes/(ManifestPartBytes-maxPartHeader-maxManifestLine) + 1

	partsHeader     = "# mlflow-guard manifest in parts: "
	maxPartHeader   = 40 // "# part 1000 of 1000\n" and room to spare
	maxManifestLine = 4096
)

// ManifestPartTag is the key of part i (from 1).
func ManifestPartTag(i int) string { return TagManifest + "." + strconv.Itoa(i) }

// isManifestPart: a key in the manifest's part space, compared as
// IsReserved compares (any case).
func isManifestPart(key string) bool {
	p := TagManifest + "."
	return len(key) > len(p) && strings.EqualFold(key[:len(p)], p)
}

// SplitManifest returns the tags that record a manifest text, TagManifest
// first: the text itself when it fits in one tag, else the header and the
// parts.
func SplitManifest(text string) ([][2]string, error) {
	if len(text) > MaxManifestBytes {
		return nil, fmt.Errorf("the manifest is %d bytes, over the limit of %d", len(text), MaxManifestBytes)
	}
	if len(text) <= ManifestPartBytes {
		return [][2]string{{TagManifest, text}}, nil
	}
	var parts []string
	for rest := text; rest != ""; {
		n := len(rest)
		if n > ManifestPartBytes-maxPartHeader {
			n = strings.LastIndexByte(rest[:ManifestPartBytes-maxPartHeader], '\n') + 1
			if n == 0 || strings.IndexByte(rest[:n], '\n') > maxManifestLine {
				return nil, fmt.Errorf("a manifest line is longer than %d bytes", maxManifestLine)
			}
		}
		parts = append(parts, rest[:n])
		rest = rest[n:]
	}
	if len(parts) > MaxManifestParts {
		return nil, fmt.Errorf("the manifest needs %d tags, over the limit of %d", len(parts), MaxManifestParts)
	}
	out := make([][2]string, 0, len(parts)+1)
	out = append(out, [2]string{TagManifest, partsHeader + strconv.Itoa(len(parts)) + "\n"})
	for i, p := range parts {
		out = append(out, [2]string{ManifestPartTag(i + 1), partHeader(i+1, len(parts)) + p})
	}
	return out, nil
}

func partHeader(i, n int) string { return fmt.Sprintf("# part %d of %d\n", i, n) }

// JoinManifest reassembles the manifest text from a version's tags. The
// caller still checks the text against the digest (it proves nothing by
// itself); this refuses what cannot be one recorded manifest: no
// TagManifest, a part missing, a part beyond the count, a part in another
// part's place, or a part tag in another case.
func JoinManifest(tags map[string]string) (string, error) {
	head, ok := tags[TagManifest]
	if !ok {
		return "", fmt.Errorf("no manifest tag %s", TagManifest)
	}
	var extra []string
	if !strings.HasPrefix(head, partsHeader) {
		for k := range tags {
			if isManifestPart(k) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return "", fmt.Errorf("the manifest is in one tag but part tags exist too (%s)", strings.Join(extra, ", "))
		}
		return head, nil
	}
	ns := strings.TrimSuffix(head[len(partsHeader):], "\n")
	n, err := strconv.Atoi(ns)
	if err != nil || n < 2 || n > MaxManifestParts || strconv.Itoa(n) != ns || head != partsHeader+ns+"\n" {
		return "", fmt.Errorf("the manifest header %q is not a valid part count", truncateQ(head, 80))
	}
	for k := range tags {
		if !isManifestPart(k) {
			continue
		}
		i, err := strconv.Atoi(k[len(TagManifest)+1:])
		if err != nil || i < 1 || i > n || k != ManifestPartTag(i) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return "", fmt.Errorf("the manifest has %d parts but other part tags exist too (%s)", n, strings.Join(extra, ", "))
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		p, ok := tags[ManifestPartTag(i)]
		if !ok {
			return "", fmt.Errorf("manifest part %d of %d (tag %s) is missing", i, n, ManifestPartTag(i))
		}
		h := partHeader(i, n)
		if !strings.HasPrefix(p, h) {
			first, _, _ := strings.Cut(p, "\n")
			return "", fmt.Errorf("tag %s does not hold part %d of %d (it starts %q): parts were moved or edited", ManifestPartTag(i), i, n, truncateQ(first, 40))
		}
		body := p[len(h):]
		if body == "" || !strings.HasSuffix(body, "\n") {
			return "", fmt.Errorf("manifest part %d of %d does not end with a whole line", i, n)
		}
		if b.Len()+len(body) > MaxManifestBytes {
			return "", fmt.Errorf("the manifest parts add up to more than %d bytes", MaxManifestBytes)
		}
		b.WriteString(body)
	}
	return b.String(), nil
}

func truncateQ(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
