package sim

import (
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

// conn is one end of a simulated connection.
type conn struct {
	id     engine.ConnID
	owner  *peer
	remote *conn
	open   bool
	// queue holds messages waiting for the owner's uplink.
	queue []item
	inRR  bool
	// capRate, when positive, limits this connection's upload (the
	// choker's Shape); nextSend is when it may send again.
	capRate  float64
	nextSend time.Duration
}

// item is a message waiting to be sent.
type item struct {
	msg    wire.Message
	size   int
	upload bool // an engine Upload: report UploadDone when it leaves
}

// flight is a message on its way from one peer to another.
type flight struct {
	from *conn
	item item
}

// uplink serves a peer's outgoing messages one at a time at the upload
// capacity, taking connections in round-robin order.
type uplink struct {
	rate   float64 // bytes/s; 0 = unlimited
	rr     []*conn // connections with queued messages, next first
	busy   bool
	waking bool // an evUpWake is scheduled
}

// downlink serves arriving messages in order at the download capacity.
type downlink struct {
	rate float64
	fifo []*flight
	head int
	busy bool
}

// transmit is how long size bytes take at rate (0: instant).
func transmit(size int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(size) / rate * float64(time.Second))
}

// controlSize is the size under which a message is not charged to the
// links: HAVE (9 bytes on the wire), requests and cancels (17), choke and
// interest (5). They cross the latency but skip both bandwidth queues,
// which saves two events per message (HAVE broadcasts are most of a large
// world's messages) at the price of a sub-percent error in link use: a
// 16 KiB block is 1,000 times their size.
const controlSize = 64

// enqueue queues a message on c for its owner's uplink.
func (s *Sim) enqueue(c *conn, it item) {
	if !c.open {
		return
	}
	if it.size < controlSize && !it.upload {
		s.q.push(event{at: s.now + s.cfg.Latency, kind: evDeliver, fl: s.newFlight(c, it)})
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
// have to wait).
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
		if c.capRate > 0 && c.nextSend > s.now {
			u.rr = append(u.rr, c) // not yet: to the back
			if wake < 0 || c.nextSend < wake {
				wake = c.nextSend
			}
			continue
		}
		it := c.queue[0]
		c.queue[0] = item{}
		c.queue = c.queue[1:]
		if len(c.queue) > 0 {
			u.rr = append(u.rr, c)
		} else {
			c.inRR = false
			c.queue = nil
		}
		d := transmit(it.size, u.rate)
		if c.capRate > 0 {
			c.nextSend = s.now + max(d, transmit(it.size, c.capRate))
		}
		u.busy = true
		s.q.push(event{at: s.now + d, kind: evUpDone, fl: s.newFlight(c, it)})
		return
	}
	if wake >= 0 && !u.waking {
		u.waking = true
		s.q.push(event{at: wake, kind: evUpWake, peer: int32(p.slot)})
	}
}

func (s *Sim) newFlight(c *conn, it item) *flight {
	var f *flight
	if n := len(s.free); n > 0 {
		f, s.free = s.free[n-1], s.free[:n-1]
	} else {
		f = new(flight)
	}
	f.from, f.item = c, it
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
	if f.item.upload && f.from.open {
		p.eng.UploadDone(f.from.id, len(f.item.msg.Block), s.now)
		s.apply(p)
	}
	s.q.push(event{at: s.now + s.cfg.Latency, kind: evArrive, fl: f})
	s.serveUp(p)
}

// arrive: the message joins the receiver's downlink queue.
func (s *Sim) arrive(f *flight) {
	r := f.from.remote.owner
	d := &r.down
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
	s.q.push(event{at: s.now + transmit(f.item.size, d.rate), kind: evDownDone, fl: f})
}

// downDone: the receiver has the whole message; its engine gets it.
func (s *Sim) downDone(f *flight) {
	p := f.from.remote.owner
	p.down.busy = false
	s.deliver(f)
	s.serveDown(p)
}

// deliver hands a message to the receiving engine.
func (s *Sim) deliver(f *flight) {
	to := f.from.remote
	p := to.owner
	if to.open && p.eng != nil {
		s.stats.messages++
		p.eng.Receive(to.id, &f.item.msg, s.now)
		s.apply(p)
	}
	s.freeFlight(f)
}
