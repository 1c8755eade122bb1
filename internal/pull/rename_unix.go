//go:build unix

package pull

import "syscall"

// renameDir is rename(2): it succeeds when dst does not exist or is an
// empty directory (replaced atomically) and fails otherwise. os.Rename
// refuses any existing directory, hence the system call.
func renameDir(src, dst string) error { return syscall.Rename(src, dst) }
