package approval

import (
	"fmt"
	"strings"
	"testing"
)

func bigManifest(files int) string {
	var b strings.Builder
	b.WriteString("# mlflow-guard digest v1 (sha256)\n")
	for i := range files {
		fmt.Fprintf(&b, "%064x  data/shard-%05d/part.bin\n", i, i)
	}
	return b.String()
}

func tagMap(kv [][2]string) map[string]string {
	m := map[string]string{}
	for _, t := range kv {
		m[t[0]] = t[1]
	}
	return m
}

func TestSplitJoinManifest(t *testing.T) {
	for _, files := range []int{0, 1, 900, 3000, 100_000} {
		text := bigManifest(files)
		tags, err := SplitManifest(text)
		if err != nil {
			t.Fatalf("%d files: %v", files, err)
		}
		if tags[0][0] != TagManifest {
			t.Fatalf("first tag %q", tags[0][0])
		}
		for _, kv := range tags {
			if len(kv[1]) > ManifestPartBytes || !IsReserved(kv[0]) {
				t.Fatalf("%d files: tag %s of %d bytes (reserved: %v)", files, kv[0], len(kv[1]), IsReserved(kv[0]))
			}
		}
		if (len(tags) > 1) != (len(text) > ManifestPartBytes) {
			t.Errorf("%d files: %d tags for %d bytes", files, len(tags), len(text))
		}
		got, err := JoinManifest(tagMap(tags))
		if err != nil || got != text {
			t.Fatalf("%d files: join: %v (equal: %v)", files, err, got == text)
		}
	}
}

func TestJoinManifestRefuses(t *testing.T) {
	tags, err := SplitManifest(bigManifest(3000))
	if err != nil {
		t.Fatal(err)
	}
	n := len(tags) - 1
	if n < 3 {
		t.Fatalf("only %d parts", n)
	}
	cases := map[string]func(m map[string]string){
		"no head":      func(m map[string]string) { delete(m, TagManifest) },
		"part missing": func(m map[string]string) { delete(m, ManifestPartTag(2)) },
		"last missing": func(m map[string]string) { delete(m, ManifestPartTag(n)) },
		"extra part":   func(m map[string]string) { m[ManifestPartTag(n+1)] = partHeader(n+1, n+1) + "x\n" },
		"case variant": func(m map[string]string) { m["MLflow-Guard.Manifest.1"] = m[ManifestPartTag(1)] },
		"zero part":    func(m map[string]string) { m[TagManifest+".0"] = "x\n" },
		"padded index": func(m map[string]string) { m[TagManifest+".01"] = m[ManifestPartTag(1)] },
		"swapped": func(m map[string]string) {
			m[ManifestPartTag(1)], m[ManifestPartTag(2)] = m[ManifestPartTag(2)], m[ManifestPartTag(1)]
		},
		"count lowered": func(m map[string]string) { m[TagManifest] = partsHeader + fmt.Sprint(n-1) + "\n" },
		"count raised":  func(m map[string]string) { m[TagManifest] = partsHeader + fmt.Sprint(n+1) + "\n" },
		"count junk":    func(m map[string]string) { m[TagManifest] = partsHeader + "+3\n" },
		"cut line":      func(m map[string]string) { m[ManifestPartTag(2)] = strings.TrimSuffix(m[ManifestPartTag(2)], "\n") },
		"empty part":    func(m map[string]string) { m[ManifestPartTag(2)] = partHeader(2, n) },
		"single plus part": func(m map[string]string) {
			m[TagManifest] = bigManifest(3)
		},
	}
	for name, mutate := range cases {
		m := tagMap(tags)
		mutate(m)
		if _, err := JoinManifest(m); err == nil {
			t.Errorf("%s: joined", name)
		}
	}
	if _, err := SplitManifest(strings.Repeat("x", MaxManifestBytes+1)); err == nil {
		t.Error("an oversized manifest was split")
	}
	if _, err := SplitManifest(strings.Repeat("x", ManifestPartBytes+10)); err == nil {
		t.Error("a manifest with a line longer than a part was split")
	}
}

func FuzzJoinManifest(f *testing.F) {
	tags, _ := SplitManifest(bigManifest(2000))
	f.Add(tags[0][1], tags[1][1], tags[2][1], "mlflow-guard.manifest.3")
	f.Add("# mlflow-guard manifest in parts: 2\n", "# part 1 of 2\nx\n", "# part 2 of 2\ny\n", "mlflow-guard.manifest.2")
	f.Fuzz(func(t *testing.T, head, p1, p2, k2 string) {
		m := map[string]string{TagManifest: head, ManifestPartTag(1): p1, k2: p2}
		text, err := JoinManifest(m)
		if err != nil {
			return
		}
		if strings.HasPrefix(head, partsHeader) {
			// a joined manifest is the parts' bodies, in order
			if !strings.HasPrefix(p1, partHeader(1, 2)) || k2 != ManifestPartTag(2) || text != p1[len(partHeader(1, 2)):]+p2[len(partHeader(2, 2)):] {
				t.Fatalf("joined %q from %q %q %q", text, head, p1, p2)
			}
		} else if text != head {
			t.Fatalf("single manifest %q became %q", head, text)
		}
	})
}
