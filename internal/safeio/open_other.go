//go:build !unix

package safeio

import "os"

func openNoBlock(path string) (*os.File, error) { return os.Open(path) }

func clearNoBlock(*os.File) error { return nil }
