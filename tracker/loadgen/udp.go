package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/swarmlab/swarmlab/tracker"
)

// batchSize is the most datagrams one system call sends or receives. The
// generator shares the CPUs with the tracker it measures, so every system
// call it saves is CPU the tracker gets: recvmmsg and sendmmsg (what
// x/net's batch calls use on Linux) move a burst of replies and the
// requests they free in two calls instead of one each.
const batchSize = 64

// maxReply is the largest reply read whole: 20 bytes of header and 200
// IPv6 peers, more than any numwant a tracker honours.
const maxReply = 20 + 18*200

// batchRW is what ipv4.PacketConn and ipv6.PacketConn share: batch I/O on
// one socket, whichever family it is.
type batchRW interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// connIDRenew is when a socket asks for a new connection id. BEP 15 lets a
// client use one for a minute (and servers accept it for two), so renewing
// a little before the minute keeps every request within the rule while
// requests go on with the old id until the new one arrives.
const connIDRenew = 50 * time.Second

// slowStart is how many announces a socket sends at first; each reply
// then adds one until the socket has its share in flight.
const slowStart = 8

// maxFillRetries bounds how often a fill resends one peer's lost announce.
const maxFillRetries = 3

// connectTries bounds the connect attempts a socket makes at the start.
const connectTries = 3

// udpWorker is one socket and its share of the in-flight announces. One
// goroutine does everything: it reads a batch of replies and sends the
// announces they make room for in one batch, so a reply costs no handoff.
type udpWorker struct {
	c       *net.UDPConn
	bc      batchRW
	ctl     *control
	pop     *population
	rng     *rand.Rand
	timeout time.Duration
	renew   time.Duration // connection id age that triggers a renewal
	st      workerStats

	slots []udpSlot
	// Transaction ids are (sequence << slotBits) | slot, so a reply finds
	// its slot without a map and a late reply to a replaced request is
	// recognised as stale. The all-ones slot value marks connects.
	slotBits uint
	seq      uint32
	active   int
	started  int // slots in use so far (see slowStart)

	connID    uint64
	connAt    time.Time
	renewTx   uint32 // outstanding renewal's id, 0 if none
	renewSent time.Time

	req tracker.AnnounceRequest
	out []byte // the connect exchange's buffer
	// Datagrams queued for the next WriteBatch: outMsgs[i].Buffers is
	// outBufs[i:i+1], so writing outBufs[i] is enough.
	outBufs [][]byte
	outMsgs []ipv4.Message
	nOut    int
	inMsgs  []ipv4.Message
}

type udpSlot struct {
	tx    uint32
	peer  int32
	tries int32     // timeouts of this peer's announce in a fill
	sent  time.Time // zero when the slot has nothing outstanding
}

func newUDPWorker(ctx context.Context, cfg Config, pop *population, ctl *control, inflight int, id uint64) (*udpWorker, error) {
	raddr, err := net.ResolveUDPAddr("udp", cfg.UDP)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	// Bursts of replies arrive faster than one goroutine reads them at
	// times; a bigger buffer turns those bursts into latency rather than
	// loss. The kernel caps it at net.core.rmem_max.
	_ = c.SetReadBuffer(4 << 20)
	w := &udpWorker{
		c:        c,
		ctl:      ctl,
		pop:      pop,
		rng:      rand.New(rand.NewPCG(cfg.Seed, id+1)),
		timeout:  cfg.Timeout,
		renew:    cfg.renewAfter,
		slots:    make([]udpSlot, inflight),
		slotBits: uint(bits.Len(uint(inflight))), // room for inflight itself, the connect marker
		out:      make([]byte, 0, 256),
	}
	if raddr.IP.To4() != nil {
		w.bc = ipv4.NewPacketConn(c)
	} else {
		w.bc = ipv6.NewPacketConn(c)
	}
	w.outBufs = make([][]byte, batchSize)
	w.outMsgs = make([]ipv4.Message, batchSize)
	w.inMsgs = make([]ipv4.Message, batchSize)
	for i := range batchSize {
		w.outBufs[i] = make([]byte, 0, tracker.UDPAnnounceSize)
		w.outMsgs[i].Buffers = w.outBufs[i : i+1]
		w.inMsgs[i].Buffers = [][]byte{make([]byte, maxReply)}
	}
	if err := w.connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return w, nil
}

// queue returns the index of an empty buffer in outBufs for the next
// datagram, sending the queued batch first if it is full.
func (w *udpWorker) queue() int {
	if w.nOut == len(w.outBufs) {
		w.flush()
	}
	w.nOut++
	return w.nOut - 1
}

// flush sends the queued datagrams. A send error (ECONNREFUSED from an
// earlier ICMP error, typically) is counted, and the datagrams are given
// up: their announces stay outstanding and time out, which is what a
// client sees.
func (w *udpWorker) flush() {
	for sent := 0; sent < w.nOut; {
		n, err := w.bc.WriteBatch(w.outMsgs[sent:w.nOut], 0)
		if err != nil {
			w.st.fail(ErrConn, err.Error())
			break
		}
		sent += n
	}
	w.nOut = 0
}

func (w *udpWorker) close() { w.c.Close() }

func (w *udpWorker) connectSlot() uint32 { return 1<<w.slotBits - 1 }

func (w *udpWorker) nextTx(slot uint32) uint32 {
	w.seq++
	tx := w.seq<<w.slotBits | slot
	if tx == 0 { // 0 means "no renewal outstanding"
		w.seq++
		tx = w.seq<<w.slotBits | slot
	}
	return tx
}

// connect obtains the socket's first connection id, retrying a lost
// exchange a few times before giving up on the tracker.
func (w *udpWorker) connect(ctx context.Context) error {
	buf := make([]byte, 2048)
	var lastErr error
	for range connectTries {
		tx := w.nextTx(w.connectSlot())
		w.out = tracker.AppendUDPConnectRequest(w.out[:0], tx)
		if _, err := w.c.Write(w.out); err != nil {
			lastErr = err
			continue
		}
		w.st.connects++
		deadline := time.Now().Add(w.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := w.c.SetReadDeadline(deadline); err != nil {
			return err
		}
		for {
			n, err := w.c.Read(buf)
			if err != nil {
				lastErr = err
				break
			}
			r, err := tracker.ParseUDPResponse(buf[:n], false)
			if err != nil || r.TransactionID != tx {
				continue // a stray packet; keep waiting for ours
			}
			if r.Action == tracker.ActionError {
				return fmt.Errorf("loadgen: %s refused connect: %s", w.c.RemoteAddr(), r.Error)
			}
			if r.Action != tracker.ActionConnect {
				return fmt.Errorf("loadgen: %s answered connect with action %d", w.c.RemoteAddr(), r.Action)
			}
			w.connID, w.connAt = r.ConnectionID, time.Now()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("loadgen: no connect reply from %s after %d tries: %w", w.c.RemoteAddr(), connectTries, lastErr)
}

// issue starts slot i's next announce, for peer if it is not negative
// (a retry in a fill), else for the peer control picks. The slot stays
// idle when the run is over.
func (w *udpWorker) issue(i int, peer int, now time.Time) {
	if w.ctl.stopped.Load() {
		return
	}
	if peer < 0 {
		peer = w.ctl.next(now, w.rng)
		if peer < 0 {
			return
		}
		w.slots[i].tries = 0
	}
	if w.renewTx == 0 && now.Sub(w.connAt) >= w.renew {
		w.renewTx = w.nextTx(w.connectSlot())
		w.renewSent = now
		q := w.queue()
		w.outBufs[q] = tracker.AppendUDPConnectRequest(w.outBufs[q][:0], w.renewTx)
		w.st.connects++
	}
	ev := tracker.EventNone
	if w.ctl.fill {
		ev = tracker.EventStarted
	}
	w.pop.announce(peer, ev, &w.req)
	s := &w.slots[i]
	s.tx, s.peer, s.sent = w.nextTx(uint32(i)), int32(peer), now
	w.active++
	q := w.queue()
	w.outBufs[q] = tracker.AppendUDPAnnounceRequest(w.outBufs[q][:0], w.connID, s.tx, &w.req, nil)
}

// run drives the socket until the run is over and every outstanding
// announce is answered or timed out.
func (w *udpWorker) run() error {
	now := time.Now()
	// Slow start: a few slots now, one more with every reply, so that the
	// in-flight count doubles each round trip up to the target. A burst
	// of every slot at once overflows the receive buffer of a tracker
	// with a single socket (opentracker loses most of it), and a lost
	// request idles its slot for the whole timeout.
	for w.started = 0; w.started < min(slowStart, len(w.slots)); w.started++ {
		w.issue(w.started, -1, now)
	}
	// A sweep for timed-out requests runs at least this often; the read
	// deadline wakes the loop for it when replies stop.
	sweepEvery := min(max(w.timeout/4, 10*time.Millisecond), 250*time.Millisecond)
	nextSweep := now.Add(sweepEvery)
	if err := w.c.SetReadDeadline(nextSweep); err != nil {
		return err
	}
	for w.active > 0 {
		w.flush()
		n, err := w.bc.ReadBatch(w.inMsgs, 0)
		now = time.Now()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				w.st.fail(ErrConn, err.Error())
			}
		}
		for i := range n {
			m := &w.inMsgs[i]
			w.handle(m.Buffers[0][:m.N], now)
		}
		if !now.Before(nextSweep) {
			w.sweep(now)
			nextSweep = now.Add(sweepEvery)
			if err := w.c.SetReadDeadline(nextSweep); err != nil {
				return err
			}
		}
	}
	w.flush()
	return nil
}

func (w *udpWorker) handle(pkt []byte, now time.Time) {
	r, err := tracker.ParseUDPResponse(pkt, false)
	if err != nil {
		// Without a transaction id the slot cannot be found; it will
		// time out, and is counted then.
		w.st.fail(ErrBadReply, err.Error())
		return
	}
	i := r.TransactionID & w.connectSlot()
	if i == w.connectSlot() {
		if r.TransactionID == w.renewTx && r.Action == tracker.ActionConnect {
			w.connID, w.connAt, w.renewTx = r.ConnectionID, now, 0
		}
		return
	}
	if int(i) >= len(w.slots) {
		return
	}
	s := &w.slots[i]
	if s.sent.IsZero() || s.tx != r.TransactionID {
		return // late reply to a request already timed out and replaced
	}
	switch r.Action {
	case tracker.ActionAnnounce:
		w.st.success(w.ctl, s.sent, now)
	case tracker.ActionError:
		// A refusal is the tracker's answer, not a loss: not retried,
		// even in a fill.
		w.st.fail(ErrFailure, r.Error)
	default:
		w.st.fail(ErrBadReply, fmt.Sprintf("announce answered with action %d", r.Action))
	}
	s.sent = time.Time{}
	w.active--
	w.issue(int(i), -1, now)
	if w.started < len(w.slots) {
		w.issue(w.started, -1, now)
		w.started++
	}
}

// sweep counts announces that went unanswered for the timeout and puts
// new ones in their place (the same peer again in a fill).
func (w *udpWorker) sweep(now time.Time) {
	if w.renewTx != 0 && now.Sub(w.renewSent) > w.timeout {
		w.renewTx = 0 // lost; the next issue asks again
	}
	for i := range w.slots {
		s := &w.slots[i]
		if s.sent.IsZero() || now.Sub(s.sent) < w.timeout {
			continue
		}
		w.st.fail(ErrTimeout, "")
		s.sent = time.Time{}
		w.active--
		retry := -1
		if w.ctl.fill && s.tries < maxFillRetries {
			// A fill must load every peer: a lost announce is sent
			// again, a few times at most so a dead tracker ends it.
			retry = int(s.peer)
			s.tries++
		}
		w.issue(i, retry, now)
	}
}
