//go:build !unix

package pull

import (
	"errors"
	"io/fs"
	"os"
)

// renameDir: Windows cannot rename over a directory, so an empty dst is
// removed first. The swap is then two steps, not one (docs/pull.md).
func renameDir(src, dst string) error {
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(src, dst)
}
