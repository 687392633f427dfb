package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// The HTTP frontend is a minimal HTTP/1.1 server for two GET endpoints,
// announce and scrape, written for throughput: keep-alive and pipelining,
// one goroutine per connection, buffers reused from connection to
// connection, and no allocation per request. net/http's generality
// (header maps, per-request contexts and goroutines, response writer
// bookkeeping) costs several times the work of an announce; see the
// package benchmarks. /metrics is served separately by net/http.
//
// It accepts only what trackers receive: GET requests without a body. A
// request line or header block longer than readBufSize, a body, or any
// other method gets an error status and the connection closed.

const (
	readBufSize   = 4096 // the longest request line or header line
	maxHeaderSize = 8192 // all header lines of one request
	maxHeaders    = 64
	writeTimeout  = 10 * time.Second
	// flushAt bounds the responses buffered for pipelined requests.
	flushAt = 32 << 10
)

type httpFront struct {
	s      *Server
	ln     net.Listener
	pool   sync.Pool // *httpConn
	active atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newHTTPFront(s *Server, ln net.Listener) *httpFront {
	h := &httpFront{s: s, ln: ln, conns: make(map[net.Conn]struct{})}
	h.pool.New = func() any {
		return &httpConn{
			br:     bufio.NewReaderSize(nil, readBufSize),
			target: make([]byte, 0, readBufSize),
			out:    make([]byte, 0, 8192),
			body:   make([]byte, 0, 4096),
			hashes: make([]metainfo.Hash, 0, MaxScrapeHashes),
			stats:  make([]tracker.ScrapeStats, 0, MaxScrapeHashes),
			files:  make([]tracker.ScrapeFile, 0, MaxScrapeHashes),
		}
	}
	return h
}

// httpConn is one connection's reusable state.
type httpConn struct {
	c      net.Conn
	br     *bufio.Reader
	remote netip.Addr
	http10 bool   // the request was HTTP/1.0
	target []byte // request target, copied out of the read buffer
	out    []byte // responses not yet written
	body   []byte
	resp   tracker.AnnounceResponse
	hashes []metainfo.Hash
	stats  []tracker.ScrapeStats
	files  []tracker.ScrapeFile
}

func (h *httpFront) serve() error {
	var backoff time.Duration
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || h.isClosed() {
				return nil
			}
			// Out of file descriptors and the like: back off as net/http
			// does instead of spinning, then keep serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			h.s.cfg.Logger.Warn("http accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if h.active.Load() >= int64(h.s.cfg.MaxHTTPConns) {
			h.s.metrics.errors(protoHTTP, KindConnLimit).Inc()
			_ = c.Close()
			continue
		}
		if !h.track(c) {
			_ = c.Close()
			return nil
		}
		go h.handle(c)
	}
}

func (h *httpFront) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *httpFront) track(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.active.Add(1)
	h.s.metrics.httpConns.Inc()
	h.wg.Add(1)
	return true
}

func (h *httpFront) untrack(c net.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.active.Add(-1)
	h.s.metrics.httpConns.Dec()
	h.wg.Done()
}

// close stops accepting, closes every connection and waits for their
// goroutines.
func (h *httpFront) close() {
	h.mu.Lock()
	h.closed = true
	_ = h.ln.Close()
	for c := range h.conns {
		_ = c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *httpFront) handle(c net.Conn) {
	defer h.untrack(c)
	defer c.Close()
	hc := h.pool.Get().(*httpConn)
	hc.c = c
	hc.br.Reset(c)
	hc.remote = netip.Addr{}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		hc.remote = ta.AddrPort().Addr()
	}
	h.serveConn(hc)
	hc.c = nil
	hc.br.Reset(nil)
	hc.out = hc.out[:0]
	h.pool.Put(hc)
}

// serveConn reads and answers requests until the connection ends.
func (h *httpFront) serveConn(hc *httpConn) {
	s := h.s
	for {
		if hc.br.Buffered() == 0 {
			// About to block: write what pipelined requests produced and
			// give the client IdleTimeout for its next whole request.
			if !hc.flush() {
				return
			}
			// Socket deadlines are real time whatever clock Config.Now is.
			if err := hc.c.SetReadDeadline(time.Now().Add(s.cfg.HTTPIdleTimeout)); err != nil {
				return
			}
		}
		keepAlive, status := hc.readRequest()
		if status < 0 {
			return // connection ended or timed out between requests
		}
		if status != 0 {
			s.metrics.errors(protoHTTP, KindHTTP).Inc()
			hc.writeStatus(status, false)
			hc.flush()
			return
		}
		h.serveRequest(hc, keepAlive)
		if !keepAlive {
			hc.flush()
			return
		}
		if len(hc.out) >= flushAt && !hc.flush() {
			return
		}
	}
}

// readRequest reads one request head, leaving its target in hc.target. It
// returns status -1 when the connection ended, an HTTP status for a
// request to refuse, or 0.
func (hc *httpConn) readRequest() (keepAlive bool, status int) {
	line, err := hc.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return false, 414
		}
		return false, -1
	}
	line = trimEOL(line)
	// METHOD SP target SP HTTP/1.x
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 < 0 {
		return false, 400
	}
	method, rest := line[:sp1], line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		return false, 400
	}
	target, version := rest[:sp2], rest[sp2+1:]
	switch string(version) {
	case "HTTP/1.1":
		keepAlive, hc.http10 = true, false
	case "HTTP/1.0":
		hc.http10 = true
	default:
		return false, 505
	}
	hc.target = append(hc.target[:0], target...)
	isGet := string(method) == "GET"

	size, n := 0, 0
	body := false
	for {
		line, err := hc.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return false, 431
			}
			return false, -1
		}
		size += len(line)
		n++
		if size > maxHeaderSize || n > maxHeaders {
			return false, 431
		}
		line = trimEOL(line)
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false, 400
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "connection"):
			if asciiEqualFold(value, "close") {
				keepAlive = false
			} else if asciiEqualFold(value, "keep-alive") {
				keepAlive = true
			}
		case asciiEqualFold(name, "content-length"):
			if !(len(value) == 1 && value[0] == '0') {
				body = true
			}
		case asciiEqualFold(name, "transfer-encoding"):
			body = true
		}
	}
	switch {
	case !isGet:
		return false, 405
	case body:
		return false, 400 // trackers take no bodies; skipping one is not worth it
	}
	return keepAlive, 0
}

func trimEOL(b []byte) []byte {
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// serveRequest answers the request in hc.target.
func (h *httpFront) serveRequest(hc *httpConn, keepAlive bool) {
	s := h.s
	path, query := hc.target, []byte(nil)
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	key, endpoint := splitKeyPath(path)
	isAnnounce := string(endpoint) == "announce"
	if !isAnnounce && string(endpoint) != "scrape" {
		s.metrics.errors(protoHTTP, KindNotFound).Inc()
		hc.writeStatus(404, keepAlive)
		return
	}
	// The query lives in hc.target until the next request is read, and the
	// parsers copy whatever they keep, so a string view of it is safe and
	// spares a copy per request.
	q := unsafe.String(unsafe.SliceData(query), len(query))
	o := Origin{Remote: hc.remote, Key: s.keyString(key), Family: store.FamilyAny, Proto: "http"}
	now := s.cfg.Now()
	body := hc.body[:0]
	if isAnnounce {
		req, err := tracker.ParseAnnounceQuery(q)
		if err == nil {
			err = s.Announce(context.Background(), o, &req, now, &hc.resp)
		} else {
			s.metrics.errors(protoHTTP, KindMalformed).Inc()
		}
		if err != nil {
			body = tracker.AppendFailure(body, err.Error())
		} else {
			body = tracker.AppendAnnounceResponse(body, &hc.resp, req.Compact, req.NoPeerID)
		}
	} else {
		var err error
		hc.hashes, err = tracker.ParseScrapeQuery(q, hc.hashes[:0], MaxScrapeHashes)
		if err == nil {
			hc.stats, err = s.Scrape(context.Background(), o, hc.hashes, hc.stats[:0])
		} else {
			s.metrics.errors(protoHTTP, KindMalformed).Inc()
		}
		if err != nil {
			body = tracker.AppendFailure(body, err.Error())
		} else {
			hc.files = hc.files[:0]
			for i, st := range hc.stats {
				hc.files = append(hc.files, tracker.ScrapeFile{InfoHash: hc.hashes[i], ScrapeStats: st})
			}
			body = tracker.AppendScrapeResponse(body, &tracker.ScrapeResponse{Files: hc.files})
		}
	}
	hc.body = body
	hc.out = append(hc.out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "...)
	hc.out = strconv.AppendInt(hc.out, int64(len(body)), 10)
	switch {
	case !keepAlive:
		hc.out = append(hc.out, "\r\nConnection: close"...)
	case hc.http10:
		// HTTP/1.0 closes by default; say that this one stays open.
		hc.out = append(hc.out, "\r\nConnection: keep-alive"...)
	}
	hc.out = append(hc.out, "\r\n\r\n"...)
	hc.out = append(hc.out, body...)
}

// writeStatus queues an error response whose body is the status text.
func (hc *httpConn) writeStatus(code int, keepAlive bool) {
	text := http.StatusText(code)
	hc.out = append(hc.out, "HTTP/1.1 "...)
	hc.out = strconv.AppendInt(hc.out, int64(code), 10)
	hc.out = append(hc.out, ' ')
	hc.out = append(hc.out, text...)
	hc.out = append(hc.out, "\r\nContent-Type: text/plain\r\nContent-Length: "...)
	hc.out = strconv.AppendInt(hc.out, int64(len(text)+1), 10)
	if !keepAlive {
		hc.out = append(hc.out, "\r\nConnection: close"...)
	}
	hc.out = append(hc.out, "\r\n\r\n"...)
	hc.out = append(hc.out, text...)
	hc.out = append(hc.out, '\n')
}

// flush writes the queued responses; false means the connection is dead.
func (hc *httpConn) flush() bool {
	if len(hc.out) == 0 {
		return true
	}
	if err := hc.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return false
	}
	_, err := hc.c.Write(hc.out)
	hc.out = hc.out[:0]
	return err == nil
}

// splitKeyPath splits a request path into the private key and the
// endpoint: "/announce" is ("", "announce"), "/KEY/scrape" is ("KEY",
// "scrape"). A query after '?' is ignored.
func splitKeyPath(path []byte) (key, endpoint []byte) {
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if len(path) == 0 || path[0] != '/' {
		return nil, nil
	}
	path = path[1:]
	i := bytes.IndexByte(path, '/')
	if i < 0 {
		return nil, path
	}
	if bytes.IndexByte(path[i+1:], '/') >= 0 {
		return nil, nil
	}
	return path[:i], path[i+1:]
}

// unknownKey stands for a key that is not configured; validKey never
// accepts it, so checkKey refuses it.
const unknownKey = "\x00"

// keyString maps the key from a request path to the configured key string,
// without allocating: "" when there is none, unknownKey when it is not
// configured (or the tracker is not private).
func (s *Server) keyString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if k, ok := s.keys[string(b)]; ok {
		return k
	}
	return unknownKey
}
