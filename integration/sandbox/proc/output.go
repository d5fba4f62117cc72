//go:build linux

package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// outputLimit caps the output kept per process. When exceeded, the oldest
// half is dropped and a marker line says so.
const outputLimit = 4 << 20

// Output keeps a child's combined stdout and stderr so that a failing test
// can print it, dropping the oldest half when it grows past its limit. It
// is safe for concurrent use.
type Output struct {
	mu      sync.Mutex
	buf     []byte
	dropped int
	tee     io.Writer
	notify  chan struct{} // closed and replaced on each write
}

// Write appends p and copies it to the tee writer, if any.
func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > outputLimit {
		cut := len(b.buf) - outputLimit/2
		b.dropped += cut
		b.buf = append(b.buf[:0:0], b.buf[cut:]...)
	}
	if b.tee != nil {
		// Live output is a convenience; a failing terminal must not stop
		// the child.
		_, _ = b.tee.Write(p)
	}
	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}
	return len(p), nil
}

// WaitFor waits until the kept output contains substr, or ctx ends. A
// child's output reaches the buffer through a pipe, a moment after the
// child wrote it: a test looking for a line its own request caused waits
// for it here.
func (b *Output) WaitFor(ctx context.Context, substr string) error {
	for {
		b.mu.Lock()
		if b.notify == nil {
			b.notify = make(chan struct{})
		}
		notify := b.notify
		b.mu.Unlock()
		// Read after taking notify: a write between the two closes it.
		if strings.Contains(b.String(), substr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("output never showed %q: %w", substr, ctx.Err())
		case <-notify:
		}
	}
}

// String returns the kept output, prefixed by a note when older output was
// dropped.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[... %d earlier bytes dropped ...]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}

// prefixWriter copies complete lines to w, each prefixed, to show several
// children's output on one terminal (make dev -verbose).
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	pending []byte
}

func newPrefixWriter(w io.Writer, prefix string) io.Writer {
	if w == nil {
		return nil
	}
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, b...)
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, p.pending[:i+1]); err != nil {
			return len(b), fmt.Errorf("write %s output: %w", strings.TrimSpace(p.prefix), err)
		}
		p.pending = p.pending[i+1:]
	}
}
