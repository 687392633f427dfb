package sim

import (
	"math"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

// conn is one end of a simulated connection.
type conn struct {
	id     engine.ConnID
	owner  *peer
	remote *conn
	// to and toID are remote.owner and remote.id, kept here as well:
	// every HAVE sent reads them, and c is at hand where remote is one
	// more cache miss away. toRef is the remote engine's ref for the
	// connection (engine.PeerRef), which delivers without a lookup by
	// id; zero until the remote engine has the connection.
	to    *peer
	toRef engine.PeerRef
	toID  uint32 // the simulator numbers ids per peer from 1
	open  bool   // both ends open and close together (connect, disconnect)
	inRR  bool
	// queue holds messages waiting for the owner's uplink.
	queue []packed
	// cap, once a choker has shaped the connection (BitTyrant,
	// PropShare), limits its upload; nil until then, as for most
	// connections, which keeps conn at 80 bytes rather than 112.
	cap *connCap
}

// connCap limits a connection's upload to rate (the choker's Shape; 0:
// no limit) through bucket, which the uplink's bucket backs.
type connCap struct {
	rate   float64
	bucket bucket
}

// flight is a message on its way from one peer to another.
type flight struct {
	from *conn
	msg  packed
}

// uplink releases a peer's outgoing messages one at a time, as its
// upload cap's token bucket allows, taking connections in round-robin
// order.
type uplink struct {
	rate   float64 // bytes/s; 0 = unlimited
	bucket bucket
	rr     []*conn // connections with queued messages, next first
	busy   bool    // a message is waiting for tokens (its evUpDone is due)
	waking bool    // an evUpWake is scheduled
}

// downlink releases arriving messages in order, as its download cap's
// token bucket allows.
type downlink struct {
	rate   float64
	bucket bucket
	fifo   []*flight
	head   int
	busy   bool
}

// A rate cap is a token bucket, as in the live client, which the emulated
// world runs: live limits each client's upload and download with a
// golang.org/x/time/rate.Limiter (and a connection's, when a choker
// shapes it), and a message is written, or handed on after it was read,
// once the limiter grants its bytes; on loopback it then arrives at once.
// So a cap is not a wire that takes size/rate to carry each message: a
// link that was idle has saved up to a burst of tokens, and the messages
// after the pause leave at once until they are spent. A model without
// that credit loses whatever time a link idles, and leechers' uplinks
// idle often in a flash crowd, between pieces worth sending: in the
// built-in agreement scenario it made the simulated swarm finish 5-7%
// later than with the bucket, and later than the emulated world.
//
// The bursts are the live client's: a tenth of a second of the rate, at
// least 64 KiB for a client's caps (live.limiter) and 32 KiB for a
// connection's (live's conn.shape).
const (
	linkBurstMin = 64 << 10
	connBurstMin = 32 << 10
)

// burst is the bucket size for a cap of rate bytes/s.
func burst(rate, least float64) float64 { return max(rate/10, least) }

// bucket is a token bucket in the manner of rate.Limiter: it fills at the
// cap's rate up to its burst, starts full, and a reservation takes its
// bytes at once, going into debt if need be, and waits until the debt is
// paid. Reserving one message at a time, as the links here do, a
// message leaves as soon as the bucket holds its size.
type bucket struct {
	tokens  float64
	last    time.Duration
	started bool
}

// refill brings the bucket to now, for a cap of rate bytes/s with the
// given burst. A changed burst keeps the tokens, clamped to it, as
// rate.Limiter's SetBurst does.
func (b *bucket) refill(now time.Duration, rate, size float64) {
	if !b.started {
		b.started, b.tokens, b.last = true, size, now
	}
	if now > b.last {
		b.tokens += rate * (now - b.last).Seconds()
		b.last = now
	}
	b.tokens = min(b.tokens, size)
}

// reserve takes n bytes at now and returns how long their message must
// wait for them (rate.Limiter.ReserveN's delay). A rate of 0 is no cap.
func (b *bucket) reserve(now time.Duration, n int, rate, size float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	b.refill(now, rate, size)
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-b.tokens / rate * float64(time.Second)))
}

// readyAt is the earliest time from now at which the bucket holds n
// bytes, or all it can hold if n is more than its burst (live takes such
// a message in burst-sized pieces; the rest becomes debt that delays the
// connection's next message).
func (b *bucket) readyAt(now time.Duration, n int, rate, size float64) time.Duration {
	b.refill(now, rate, size)
	need := min(float64(n), size)
	if b.tokens >= need {
		return now
	}
	return now + time.Duration(math.Ceil((need-b.tokens)/rate*float64(time.Second)))
}

// controlSize is the size under which a message is not charged to the
// links: HAVE (9 bytes on the wire), requests and cancels (17), choke and
// interest (5). They cross the latency but skip both bandwidth queues,
// travelling in trains (train.go), which saves two events per message
// (HAVE broadcasts are most of a large world's messages) at the price of
// a sub-percent error in link use: a 16 KiB block is 1,000 times their
// size.
const controlSize = 64

// enqueue queues a message on c for its owner's uplink.
func (s *Sim) enqueue(c *conn, it packed) {
	if !c.open {
		return
	}
	c.queue = append(c.queue, it)
	if !c.inRR {
		c.inRR = true
		c.owner.up.rr = append(c.owner.up.rr, c)
	}
	s.serveUp(c.owner)
}

// serveUp starts the next message on p's uplink if it is idle: the first
// connection in round-robin order that may send (a rate-capped one may
// have to wait for its own tokens). The message takes its tokens from
// the uplink's bucket and leaves when they are there.
func (s *Sim) serveUp(p *peer) {
	u := &p.up
	if u.busy {
		return
	}
	var wake time.Duration = -1
	for k := 0; k < len(u.rr); k++ {
		c := u.rr[0]
		u.rr = u.rr[1:]
		if !c.open || len(c.queue) == 0 {
			c.inRR = false
			k--
			continue
		}
		if cc := c.cap; cc != nil && cc.rate > 0 {
			cb := burst(cc.rate, connBurstMin)
			if at := cc.bucket.readyAt(s.now, c.queue[0].wireLength(), cc.rate, cb); at > s.now {
				u.rr = append(u.rr, c) // not yet: to the back
				if wake < 0 || at < wake {
					wake = at
				}
				continue
			}
			cc.bucket.reserve(s.now, c.queue[0].wireLength(), cc.rate, cb)
		}
		it := c.queue[0]
		c.queue[0] = packed{}
		c.queue = c.queue[1:]
		if len(c.queue) > 0 {
			u.rr = append(u.rr, c)
		} else {
			c.inRR = false
			c.queue = nil
		}
		d := u.bucket.reserve(s.now, it.wireLength(), u.rate, burst(u.rate, linkBurstMin))
		u.busy = true
		s.q.push(event{at: s.now + d, kind: evUpDone, fl: s.newFlight(c, it)})
		return
	}
	if wake >= 0 && !u.waking {
		u.waking = true
		s.q.push(event{at: wake, kind: evUpWake, peer: int32(p.slot)})
	}
}

func (s *Sim) newFlight(c *conn, it packed) *flight {
	var f *flight
	if n := len(s.free); n > 0 {
		f, s.free = s.free[n-1], s.free[:n-1]
	} else {
		f = new(flight)
	}
	f.from, f.msg = c, it
	return f
}

func (s *Sim) freeFlight(f *flight) {
	*f = flight{}
	s.free = append(s.free, f)
}

// upDone: the message left the sender; it crosses the link's latency.
func (s *Sim) upDone(f *flight) {
	p := f.from.owner
	p.up.busy = false
	if f.msg.upload && f.from.open {
		p.eng.UploadDone(f.from.id, int(f.msg.length), s.now)
		s.apply(p)
	}
	s.q.push(event{at: s.now + s.cfg.Latency, kind: evArrive, fl: f})
	s.serveUp(p)
}

// arrive: the message joins the receiver's downlink queue. An
// unlimited, idle downlink takes it at once: it is delivered now rather
// than through two more events.
func (s *Sim) arrive(f *flight) {
	r := f.from.to // remote.owner, one cache miss nearer
	d := &r.down
	if d.rate <= 0 && !d.busy && d.head == len(d.fifo) {
		s.deliver(f)
		return
	}
	d.fifo = append(d.fifo, f)
	s.serveDown(r)
}

func (s *Sim) serveDown(p *peer) {
	d := &p.down
	if d.busy || d.head == len(d.fifo) {
		return
	}
	f := d.fifo[d.head]
	d.fifo[d.head] = nil
	d.head++
	switch {
	case d.head == len(d.fifo):
		d.fifo, d.head = d.fifo[:0], 0
	case d.head >= 64 && 2*d.head >= len(d.fifo):
		// Compact: a downlink that never drains must not grow forever.
		n := copy(d.fifo, d.fifo[d.head:])
		clear(d.fifo[n:])
		d.fifo, d.head = d.fifo[:n], 0
	}
	d.busy = true
	wait := d.bucket.reserve(s.now, f.msg.wireLength(), d.rate, burst(d.rate, linkBurstMin))
	s.q.push(event{at: s.now + wait, kind: evDownDone, fl: f})
}

// downDone: the receiver has the whole message; its engine gets it.
func (s *Sim) downDone(f *flight) {
	p := f.from.remote.owner
	p.down.busy = false
	s.deliver(f)
	s.serveDown(p)
}

// deliver hands a message that crossed the links to its receiver.
func (s *Sim) deliver(f *flight) {
	// Both ends close together (disconnect), so the sender's end says
	// whether the receiver's is open, without a miss on the remote end.
	if c := f.from; c.open {
		m := s.unpack(&f.msg)
		s.receive(c.to, c.toRef, c.toID, &m)
	}
	s.freeFlight(f)
}

// receive hands m to p's engine on its connection, by ref (see
// trainItem) or, while the sender has none, by id, unless p has left, and
// carries out what the engine does in answer.
func (s *Sim) receive(p *peer, ref engine.PeerRef, id uint32, m *wire.Message) {
	if p.gone {
		return
	}
	if ref == (engine.PeerRef{}) {
		ref = p.eng.Ref(engine.ConnID(id))
	}
	s.stats.messages++
	p.eng.ReceiveRef(ref, m, s.now)
	s.apply(p)
}
