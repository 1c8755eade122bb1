package pull

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on artifact paths. A model is a few files a few levels deep; a
// listing that claims more is refused rather than followed.
const (
	maxSegment = 255  // bytes in one path segment (NAME_MAX)
	maxRelPath = 4096 // bytes in a whole relative path (PATH_MAX)
	maxDepth   = 32   // directory levels below the model root
)

// ValidateName checks one entry of an artifact listing: a single path
// segment that names a file or directory inside the directory listed.
// It is the first line of defence against a server (or anything between
// it and us) that answers a listing with "../x", "/etc/x", "a\\b" or a
// name carrying a NUL: no such name is ever joined to a local path.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q refers to a directory itself or its parent", name)
	case len(name) > maxSegment:
		return fmt.Errorf("name of %d bytes is longer than %d", len(name), maxSegment)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		switch {
		case r == '/':
			return fmt.Errorf("name %q holds a path separator", name)
		case r == '\\':
			// A directory separator on Windows, where the wheel also runs.
			return fmt.Errorf("name %q holds a backslash", name)
		case r == ':':
			// A drive letter or an NTFS alternate data stream on Windows.
			return fmt.Errorf("name %q holds a colon", name)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("name %q holds a control character", name)
		}
	}
	return nil
}

// ValidateRel checks a slash-separated path relative to the model root
// (a manifest entry, or a listing entry joined to its directory): every
// segment passes ValidateName, and the whole stays within the bounds.
func ValidateRel(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case len(p) > maxRelPath:
		return fmt.Errorf("path of %d bytes is longer than %d", len(p), maxRelPath)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute", p)
	}
	segs := strings.Split(p, "/")
	if len(segs) > maxDepth+1 {
		return fmt.Errorf("path %q is more than %d directories deep", p, maxDepth)
	}
	for _, s := range segs {
		if err := ValidateName(s); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}
