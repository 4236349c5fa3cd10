package estatetest

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// tap is a loopback TCP proxy to the sandbox that keeps what its clients
// send. It works below HTTP so that it sees requests exactly as drconsole's
// clients write them (URL, headers such as x-amz-copy-source, and bodies in
// every protocol) without the clients being built differently from
// drconsole's own.
type tap struct {
	ln      net.Listener
	backend string // host:port of the sandbox
	wg      sync.WaitGroup

	mu     sync.Mutex // guards what follows
	closed bool
	conns  []net.Conn
	bufs   []*bytes.Buffer // one per client connection, in order of accept
}

func startTap(t testing.TB, sandboxURL string) *tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tap listen: %v", err)
	}
	u, err := url.Parse(sandboxURL)
	if err != nil {
		t.Fatalf("tap: sandbox URL %q: %v", sandboxURL, err)
	}
	p := &tap{ln: ln, backend: u.Host}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *tap) url() string { return "http://" + p.ln.Addr().String() }

func (p *tap) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve relays one connection. Either side closing closes the other, so a
// connection the sandbox drops (a drop fault) is dropped for the client too.
func (p *tap) serve(c net.Conn) {
	defer p.wg.Done()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		c.Close()
		return
	}
	buf := &bytes.Buffer{}
	if !p.track(buf, c, b) {
		c.Close()
		b.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c, b) //nolint:errcheck // ends when either side closes
		c.Close()
	}()
	keep := writerFunc(func(q []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return buf.Write(q)
	})
	io.Copy(b, io.TeeReader(c, keep)) //nolint:errcheck // as above
	b.Close()
	<-done
}

func (p *tap) track(buf *bytes.Buffer, cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns = append(p.conns, cs...)
	p.bufs = append(p.bufs, buf)
	return true
}

func (p *tap) sent() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, b := range p.bufs {
		out = append(append(out, b.Bytes()...), '\n')
	}
	return out
}

func (p *tap) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(q []byte) (int, error) { return f(q) }
