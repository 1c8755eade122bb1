package gateway

import "sync"

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
