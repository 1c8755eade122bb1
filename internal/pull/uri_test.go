package pull

import "testing"

func TestParseURI(t *testing.T) {
	ok := map[string]Ref{
		"models:/fraud/7":           {Name: "fraud", Version: "7"},
		"models:/fraud/007":         {Name: "fraud", Version: "7"},
		"models:/fraud/0":           {Name: "fraud", Version: "0"},
		"models:/fraud@champion":    {Name: "fraud", Alias: "champion"},
		"models:/a@b@champion":      {Name: "a@b", Alias: "champion"},
		"models:/fraud/latest":      {Name: "fraud", Latest: true},
		"models:/fraud/LATEST":      {Name: "fraud", Latest: true},
		"models:/fraud/Production":  {Name: "fraud", Stage: "Production"},
		"models:/fraud detector/12": {Name: "fraud detector", Version: "12"},
		"models:/fraud/\u0661":      {Name: "fraud", Stage: "\u0661"}, // not an ASCII digit: a stage name, refused unpinned
	}
	for in, want := range ok {
		got, err := ParseURI(in)
		if err != nil || got != want {
			t.Errorf("ParseURI(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "runs:/abc/model", "models:", "models:/", "models://prof/fraud/1", "models:/m-0123abcd",
		"models:/fraud", "models:/fraud/1/MLmodel", "models:/fraud/", "models:/@x", "models:/fraud@", "models:/fraud@x/1",
		"models:/fraud/1?x=y", "models:/fraud/1#f", "models:/fr\naud/1", "/tmp/model", "s3://b/model"} {
		if r, err := ParseURI(in); err == nil {
			t.Errorf("ParseURI(%q) = %+v, want an error", in, r)
		}
	}
	if (Ref{Name: "a", Stage: "Production"}).Pinned() || (Ref{Name: "a", Latest: true}).Pinned() || !(Ref{Name: "a", Alias: "x"}).Pinned() {
		t.Error("Pinned is wrong")
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"models:/a/1", "models:/a@b", "models:/a/latest", "models://x/a/1", "models:/a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseURI(s)
		if err != nil {
			return
		}
		n := 0
		for _, set := range []bool{r.Version != "", r.Alias != "", r.Stage != "", r.Latest} {
			if set {
				n++
			}
		}
		if n != 1 || r.Name == "" {
			t.Fatalf("ParseURI(%q) = %+v", s, r)
		}
		if r2, err := ParseURI(r.String()); err != nil || r2 != r {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, r, r.String(), r2, err)
		}
	})
}
