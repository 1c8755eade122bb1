package analyze

import (
	"errors"
	"io"

	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// ReadHead reads up to HeadSize bytes of a regular file; anything else
// (swapped in after a walk listed it) is refused without blocking.
func ReadHead(p string) ([]byte, error) {
	fh, err := safeio.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	buf := make([]byte, HeadSize)
	n, err := io.ReadFull(fh, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}
