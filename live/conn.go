package live

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

// Connection timing.
const (
	// keepAliveEvery: BEP 3 peers drop a connection silent for two
	// minutes; a keep-alive after 90 s of silence avoids that.
	keepAliveEvery = 90 * time.Second
	// idleTimeout: a peer that sends nothing at all for this long is gone.
	idleTimeout = 3 * time.Minute
	// deadlineSlack: read deadlines are pushed forward at most this often,
	// not on every message.
	deadlineSlack = 10 * time.Second
)

// errTorrentClosed ends a reader whose torrent stopped while it waited.
var errTorrentClosed = errors.New("live: torrent closed")

// conn is one peer connection after the handshake.
type conn struct {
	id     engine.ConnID
	t      *Torrent
	nc     net.Conn
	addr   netip.AddrPort
	peerID [20]byte
	res    wire.Reserved

	mu     sync.Mutex
	queue  []outItem
	closed bool
	wake   chan struct{} // cap 1: the writer has work or must stop

	done chan struct{} // closed when the connection is shut

	// up caps this connection's upload when the choker gives the peer a
	// rate of its own (BitTyrant, PropShare); unlimited otherwise.
	up *rate.Limiter
}

// outItem is one thing for the writer: an encoded frame, or an upload
// whose block it reads from storage itself.
type outItem struct {
	frame  []byte
	upload *engine.Action
}

func newConn(t *Torrent, id engine.ConnID, nc net.Conn, peerID [20]byte, res wire.Reserved) *conn {
	addr, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	return &conn{id: id, t: t, nc: nc, addr: addr, peerID: peerID, res: res,
		wake: make(chan struct{}, 1), done: make(chan struct{}), up: rate.NewLimiter(rate.Inf, 0)}
}

// shape sets the connection's own upload cap (0: none).
func (c *conn) shape(bytesPerSec float64) {
	if bytesPerSec <= 0 {
		c.up.SetLimit(rate.Inf)
		return
	}
	// A burst of a tenth of a second, but never less than a block with its
	// header, which a single WaitN must be able to take.
	c.up.SetBurst(max(int(bytesPerSec/10), 32<<10))
	c.up.SetLimit(rate.Limit(bytesPerSec))
}

// push queues output for the writer. It never blocks, so the torrent loop
// can never deadlock on a slow peer; the engine bounds what it queues
// (requests by queue depth, uploads by its window).
func (c *conn) push(it outItem) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// shut closes the connection once; reader and writer then exit.
func (c *conn) shut() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	close(c.done)
	c.nc.Close()
	c.signal()
}

// readLoop reads messages and passes them to the torrent loop until the
// connection fails or is shut; then it reports the loss.
func (c *conn) readLoop(lim wire.Limits, limiters []*rate.Limiter) {
	// Download limits are set once, when the client and the torrent are
	// made: dropping the unlimited ones here saves taking their locks
	// for every message.
	limiters = slices.DeleteFunc(slices.Clone(limiters), func(l *rate.Limiter) bool { return l == nil || l.Limit() == rate.Inf })
	r := newFrameReader(c.nc, lim)
	// Blocks are read straight into buffers from the pool, after
	// waiting for room in the torrent's budget of unwritten blocks.
	block := func(n int) ([]byte, bool) { return c.t.pool.getDownload(n, c.t.stop) }
	var err error
	lastDeadline := time.Time{}
	for {
		if now := time.Now(); now.Sub(lastDeadline) > deadlineSlack {
			c.nc.SetReadDeadline(now.Add(idleTimeout))
			lastDeadline = now
		}
		var m wire.Message
		m, err = r.next(block)
		if err == nil {
			err = waitAll(limiters, m.WireLength())
		}
		if err != nil {
			if m.Type == wire.Piece && m.Block != nil {
				c.t.pool.putDownload(m.Block)
			}
			break
		}
		// The reader's buffer is reused on the next read: keep what
		// outlives this iteration. A block is in a buffer of its own.
		switch {
		case m.Type == wire.Bitfield:
			m.Bitfield = append([]byte(nil), m.Bitfield...)
		case m.Type == wire.Extended || int(m.Type) > int(wire.Extended):
			m.Payload = append([]byte(nil), m.Payload...)
		}
		if !c.t.post(event{kind: evMessage, conn: c, msg: m}) {
			break
		}
	}
	c.t.post(event{kind: evClosed, conn: c, err: err})
}

// writeLoop writes queued frames and uploads, flushing when the queue
// runs dry, and sends keep-alives when there is nothing else to say.
func (c *conn) writeLoop(limiters []*rate.Limiter) {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	keepAlive := time.NewTimer(keepAliveEvery)
	defer keepAlive.Stop()
	var batch []outItem
	var hdr []byte
	for {
		select {
		case <-c.wake:
		case <-keepAlive.C:
			c.push(outItem{frame: []byte{0, 0, 0, 0}})
			continue
		}
		c.mu.Lock()
		batch, c.queue = c.queue, batch[:0]
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		var uploaded []*engine.Action
		var err error
		for _, it := range batch {
			if it.upload == nil {
				if err = waitAll(limiters, len(it.frame)); err == nil {
					_, err = bw.Write(it.frame)
				}
			} else {
				hdr, err = c.writeUpload(bw, it.upload, hdr[:0], limiters)
				uploaded = append(uploaded, it.upload)
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		for _, a := range uploaded {
			n := int(a.Length)
			if err != nil {
				n = 0
			}
			c.t.post(event{kind: evUploaded, conn: c, n: n})
		}
		clear(batch)
		if err != nil {
			c.t.post(event{kind: evClosed, conn: c, err: err})
			return
		}
		keepAlive.Reset(keepAliveEvery)
	}
}

// writeUpload sends one block straight from storage.
func (c *conn) writeUpload(w io.Writer, a *engine.Action, hdr []byte, limiters []*rate.Limiter) ([]byte, error) {
	buf := c.t.pool.get(int(a.Length))
	defer c.t.pool.put(buf)
	off := int64(a.Piece)*c.t.layout.PieceLength + int64(a.Begin)
	if _, err := c.t.store.ReadAt(buf, off); err != nil && err != io.EOF {
		return hdr, err
	}
	hdr = wire.AppendPieceHeader(hdr, a.Piece, a.Begin, len(buf))
	if err := waitAll(limiters, len(hdr)+len(buf)); err != nil {
		return hdr, err
	}
	if _, err := w.Write(hdr); err != nil {
		return hdr, err
	}
	_, err := w.Write(buf)
	return hdr, err
}

// waitAll takes n bytes from every limiter, in chunks no larger than each
// one's burst (WaitN refuses more).
func waitAll(limiters []*rate.Limiter, n int) error {
	for _, l := range limiters {
		if l == nil || l.Limit() == rate.Inf {
			continue
		}
		for left := n; left > 0; {
			k := min(left, l.Burst())
			if err := l.WaitN(context.Background(), k); err != nil {
				return err
			}
			left -= k
		}
	}
	return nil
}
