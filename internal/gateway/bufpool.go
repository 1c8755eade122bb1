package gateway

import (
	"context"
	"io"
	"net"
	"sync"
)

// copyBufSize is the ReverseProxy's copy buffer for response bodies: an
// artifact download moves in 256 KiB writes instead of the default 32 KiB,
// an eighth of the write system calls.
const copyBufSize = 256 << 10

// bufferPool reuses the proxy's copy buffers; memory stays one buffer per
// response in flight.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}}
}

func (b *bufferPool) Get() []byte { return *(b.p.Get().(*[]byte)) }

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != copyBufSize {
		return
	}
	buf = buf[:copyBufSize]
	b.p.Put(&buf)
}

// bigCopyConn is an upstream connection whose ReadFrom copies through a
// 256 KiB pooled buffer. The transport writes a request body with
// conn.ReadFrom, which otherwise copies 32 KiB at a time: an artifact
// upload then reads the client and writes MLflow in up to 256 KiB pieces.
type bigCopyConn struct {
	net.Conn
	pool *bufferPool
}

// writerOnly hides the connection's own ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }

func (c *bigCopyConn) ReadFrom(r io.Reader) (int64, error) {
	buf := c.pool.Get()
	defer c.pool.Put(buf)
	return io.CopyBuffer(writerOnly{c.Conn}, r, buf)
}

func bigCopyDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), pool *bufferPool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &bigCopyConn{Conn: c, pool: pool}, nil
	}
}
