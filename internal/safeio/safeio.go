// Package safeio reads and writes files the way a tool fed hostile trees
// must: reads are bounded at read time (not by a stat that a FIFO, a device
// or /proc can lie to), special files are never read, and writes go through
// a temporary file in the target's directory and never replace anything but
// a regular file.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrTooLarge is returned (wrapped) when a file holds more than the limit.
var ErrTooLarge = errors.New("larger than the read limit")

// ErrNotRegular is returned (wrapped) for FIFOs, sockets, devices and
// directories, which could block, never end or be something else entirely.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading only if it is a regular file (after
// following symbolic links). The open itself cannot block on a FIFO: it is
// non-blocking where the platform allows, and the type is checked on the
// open descriptor, so a file swapped after a stat is caught too.
func OpenRegular(path string) (*os.File, error) {
	f, err := openNoBlock(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, describeMode(st.Mode()))}
	}
	if err := clearNoBlock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads a regular file of at most limit bytes. A longer file is an
// error wrapping ErrTooLarge; nothing past limit+1 bytes is ever read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimited(f, path, limit)
}

// ReadLimited reads r to its end if it holds at most limit bytes; name is
// used in the error.
func ReadLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}

// ErrUnsafeTarget is returned (wrapped) by WriteFile when the target exists
// and is not a regular file (a symbolic link, a device, a FIFO, a directory).
var ErrUnsafeTarget = errors.New("refusing to replace something that is not a regular file")

// WriteFile writes through a temporary file in path's directory and renames
// it over path, so a reader never sees half a file and a failed write leaves
// the old one. It refuses to replace a symbolic link, a device node, a FIFO
// or a directory: an output path in a shared tree must not become a way to
// clobber something else. A new file gets mode 0644 (before the umask).
func WriteFile(path string, write func(w io.Writer) error) error {
	mode := os.FileMode(0o644)
	if st, err := os.Lstat(path); err == nil {
		if !st.Mode().IsRegular() {
			return &os.PathError{Op: "write", Path: path, Err: fmt.Errorf("%w (%s)", ErrUnsafeTarget, describeMode(st.Mode()))}
		}
		mode = st.Mode().Perm()
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Check again right before the rename: the target may have been swapped
	// for a link while we wrote.
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		os.Remove(tmp.Name())
		done = true
		return &os.PathError{Op: "write", Path: path, Err: fmt.Errorf("%w (%s)", ErrUnsafeTarget, describeMode(st.Mode()))}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}

func describeMode(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
