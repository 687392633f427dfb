package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/swarmlab/swarmlab/tracker"
)

// maxDialFailures is how many connections in a row may fail (refused, or
// closed before answering anything) before a worker gives up on the
// tracker and fails the run.
const maxDialFailures = 5

// maxBody bounds a response body; an announce response is a few hundred
// bytes.
const maxBody = 1 << 20

// errFraming marks a response that does not parse as HTTP/1.x with a
// Content-Length, after which the connection's byte stream cannot be
// trusted.
var errFraming = errors.New("malformed HTTP response")

// httpTarget is the tracker's announce URL taken apart once: where to dial
// and the fixed parts of every request.
type httpTarget struct {
	addr       string
	head, tail []byte // "GET /path?" and " HTTP/1.1\r\nHost: ...\r\n\r\n"
}

func newHTTPTarget(rawURL string) (*httpTarget, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("loadgen: %q is not an http:// announce URL", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	head := "GET " + u.EscapedPath() + "?"
	if u.RawQuery != "" {
		head += u.RawQuery + "&"
	}
	return &httpTarget{
		addr: addr,
		head: []byte(head),
		tail: []byte(" HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n"),
	}, nil
}

// httpWorker is one connection at a time to the tracker, with up to depth
// requests pipelined on it. Like the UDP worker it is closed-loop: each
// response lets one more request go, and requests are written in batches
// once the responses already received have been read.
type httpWorker struct {
	t       *httpTarget
	ctl     *control
	pop     *population
	rng     *rand.Rand
	timeout time.Duration
	st      workerStats

	// depth is the pipelining depth: the configured one, lowered to what
	// the tracker answers per connection if it closes connections.
	// perConn, once known (non-zero), is how many responses the tracker
	// gives a connection before closing it; the worker then closes it
	// itself after that many instead of sending a request into a closing
	// connection.
	depth, perConn int
	conn           net.Conn
	br             *bufio.Reader
	// pending[head:] are the requests sent on conn, oldest first, which
	// is the order HTTP/1.1 answers them in.
	pending []httpReq
	head    int
	// retry holds peers whose requests were lost with a connection that
	// the tracker closed; they are sent again, not counted as errors.
	retry    []int32
	answered int // responses on the current connection
	failures int // connections in a row that answered nothing

	req  tracker.AnnounceRequest
	out  []byte
	body []byte
}

type httpReq struct {
	peer int32
	sent time.Time
}

func newHTTPWorker(cfg Config, t *httpTarget, pop *population, ctl *control, depth int, id uint64) *httpWorker {
	return &httpWorker{
		t:       t,
		ctl:     ctl,
		pop:     pop,
		rng:     rand.New(rand.NewPCG(cfg.Seed, id+1<<32)),
		timeout: cfg.Timeout,
		depth:   depth,
		out:     make([]byte, 0, 512*depth),
	}
}

func (w *httpWorker) outstanding() int { return len(w.pending) - w.head }

func (w *httpWorker) run() error {
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	for {
		now := time.Now()
		if w.conn == nil {
			if len(w.retry) == 0 && w.ctl.over(now) {
				return nil
			}
			if w.failures >= maxDialFailures {
				return fmt.Errorf("loadgen: %s: %d connections in a row failed, last: %s", w.t.addr, w.failures, w.st.lastConnErr)
			}
			c, err := net.DialTimeout("tcp", w.t.addr, w.timeout)
			if err != nil {
				w.st.fail(ErrConn, err.Error())
				w.st.lastConnErr = err.Error()
				w.failures++
				continue
			}
			w.conn = c
			if w.br == nil {
				w.br = bufio.NewReaderSize(c, 16<<10)
			} else {
				w.br.Reset(c)
			}
			w.answered = 0
		}
		// About to wait for the tracker: first send what the responses
		// read so far have made room for, in one write.
		if w.br.Buffered() == 0 {
			if err := w.topUp(now); err != nil {
				w.lost(err)
				continue
			}
			if w.outstanding() == 0 {
				return nil // the run is over and everything is answered
			}
			if err := w.conn.SetReadDeadline(now.Add(w.timeout)); err != nil {
				return err
			}
		}
		status, closeAfter, err := w.readResponse()
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				w.timedOut()
			case errors.Is(err, errFraming):
				w.st.fail(ErrBadReply, err.Error())
				w.drop()
			default:
				w.lost(err)
			}
			continue
		}
		now = time.Now()
		r := w.pending[w.head]
		w.head++
		if w.head == len(w.pending) {
			w.pending, w.head = w.pending[:0], 0
		}
		w.answered++
		w.failures = 0
		if w.answered == 2 {
			w.st.keepAlive = true
		}
		switch resp, err := tracker.ParseAnnounceResponse(w.body); {
		case status != 200:
			w.st.fail(ErrBadReply, "HTTP status "+strconv.Itoa(status))
		case err != nil:
			w.st.fail(ErrBadReply, err.Error())
		case resp.Failure != "":
			w.st.fail(ErrFailure, resp.Failure)
		default:
			w.st.success(w.ctl, r.sent, now)
		}
		switch {
		case closeAfter:
			w.lost(nil)
		case w.perConn > 0 && w.answered >= w.perConn && w.outstanding() == 0:
			w.st.reconnects++
			w.drop()
		}
	}
}

// topUp writes requests until depth are outstanding or the run is over.
func (w *httpWorker) topUp(now time.Time) error {
	w.out = w.out[:0]
	ev := tracker.EventNone
	if w.ctl.fill {
		ev = tracker.EventStarted
	}
	for w.outstanding() < w.depth {
		var peer int
		if n := len(w.retry); n > 0 && !w.ctl.stopped.Load() {
			peer = int(w.retry[n-1])
			w.retry = w.retry[:n-1]
		} else if peer = w.ctl.next(now, w.rng); peer < 0 {
			break
		}
		w.pop.announce(peer, ev, &w.req)
		w.out = append(w.out, w.t.head...)
		w.out = tracker.AppendAnnounceQuery(w.out, &w.req)
		w.out = append(w.out, w.t.tail...)
		w.pending = append(w.pending, httpReq{peer: int32(peer), sent: now})
	}
	if len(w.out) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.out)
	return err
}

// lost handles the end of the connection, by the tracker (err is nil when
// it said so in a Connection header). Requests still outstanding are sent
// again on the next connection. A tracker that answers fewer requests per
// connection than are pipelined gets that many from now on, so that a
// tracker without keep-alive is not made to discard requests.
func (w *httpWorker) lost(err error) {
	n := w.outstanding()
	switch {
	case w.answered == 0 && n > 0:
		msg := "connection closed before any response"
		if err != nil {
			msg = err.Error()
		}
		w.st.fail(ErrConn, msg)
		w.st.lastConnErr = msg
		w.failures++
	case n > 0 && w.answered < w.depth:
		w.depth = max(1, w.answered)
		w.perConn = w.depth
	}
	if w.answered > 0 {
		w.st.reconnects++
	}
	for _, r := range w.pending[w.head:] {
		w.retry = append(w.retry, r.peer)
	}
	w.drop()
}

// timedOut counts every outstanding request as timed out and abandons the
// connection, whose responses can no longer be matched to requests.
func (w *httpWorker) timedOut() {
	for _, r := range w.pending[w.head:] {
		w.st.fail(ErrTimeout, "")
		if w.ctl.fill {
			w.retry = append(w.retry, r.peer)
		}
	}
	w.drop()
}

func (w *httpWorker) drop() {
	w.pending, w.head = w.pending[:0], 0
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// readResponse reads one response into w.body. It understands exactly what
// trackers send: HTTP/1.0 or 1.1, a Content-Length, maybe a Connection
// header; anything else (chunked encoding, say) is errFraming.
func (w *httpWorker) readResponse() (status int, closeAfter bool, err error) {
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errFraming, line)
	}
	closeAfter = line[7] == '0' // HTTP/1.0 closes unless it says keep-alive
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("%w: status line %q", errFraming, line)
	}
	length := -1
	for {
		line, err = w.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				err = fmt.Errorf("%w: header line too long", errFraming)
			}
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("%w: header %q", errFraming, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxBody {
				return 0, false, fmt.Errorf("%w: Content-Length %q", errFraming, value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			switch {
			case bytes.EqualFold(value, []byte("close")):
				closeAfter = true
			case bytes.EqualFold(value, []byte("keep-alive")):
				closeAfter = false
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("%w: Transfer-Encoding %q", errFraming, value)
		}
	}
	if length < 0 {
		return 0, false, fmt.Errorf("%w: no Content-Length", errFraming)
	}
	if cap(w.body) < length {
		w.body = make([]byte, length)
	}
	w.body = w.body[:length]
	if _, err := io.ReadFull(w.br, w.body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, false, err
	}
	return status, closeAfter, nil
}
