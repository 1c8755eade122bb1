//go:build unix

package safeio

import (
	"os"
	"syscall"
)

// openNoBlock opens read-only with O_NONBLOCK, so that opening a FIFO with
// no writer returns at once instead of waiting for one.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// clearNoBlock puts a regular file back into blocking mode (reads of
// regular files never block anyway; this keeps os.File's poller out of it).
func clearNoBlock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
