package sim

import (
	"math"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

const block = 16<<10 + 13 // a block's PIECE message on the wire

// TestBucketBurstThenRate: a cap's bucket starts full, so a burst leaves
// at once; after that, messages leave at the cap's rate, and idle time
// saves up no more than one burst.
func TestBucketBurstThenRate(t *testing.T) {
	const rate = 256 << 10
	size := burst(rate, linkBurstMin) // 64 KiB: a tenth of a second is less
	if size != 64<<10 {
		t.Fatalf("burst %v for 256 KiB/s, want live's 64 KiB floor", size)
	}
	var b bucket
	now := time.Duration(0)
	sent := 0
	for sent+block <= int(size) {
		if d := b.reserve(now, block, rate, size); d != 0 {
			t.Fatalf("message %d of the first burst waits %v", sent/block, d)
		}
		sent += block
	}
	// From here on each message waits for its own tokens: n messages
	// take n blocks' worth of time, less what the burst left over.
	const n = 100
	for range n {
		now += b.reserve(now, block, rate, size)
		sent += block
	}
	want := time.Duration(float64(sent-int(size)) / rate * float64(time.Second))
	if diff := now - want; diff < -time.Millisecond || diff > time.Millisecond {
		t.Errorf("%d bytes done at %v, want %v (rate %d B/s after a %v-byte burst)", sent, now, want, rate, size)
	}
	// A long pause refills the bucket to its burst, not beyond.
	now += 10 * time.Second
	free := 0
	for b.reserve(now, block, rate, size) == 0 {
		free += block
	}
	if free > int(size) || free < int(size)-block {
		t.Errorf("after 10 s idle %d bytes left at once, want a burst of %v", free, size)
	}
}

// TestBucketLargeMessage: a message larger than the burst waits only for
// a full bucket; the rest is debt the next message pays.
func TestBucketLargeMessage(t *testing.T) {
	const rate, size = 32 << 10, 32 << 10
	var b bucket
	if at := b.readyAt(0, 3*size, rate, size); at != 0 {
		t.Fatalf("a full bucket is ready for an oversized message at %v", at)
	}
	b.reserve(0, 3*size, rate, size) // 2 bursts of debt: 2 s at 32 KiB/s
	if at := b.readyAt(0, size, rate, size); at != 3*time.Second {
		t.Errorf("after the debt, a burst is ready at %v, want 3s", at)
	}
}

// TestShapedConnection: a connection the choker caps gets its cap and no
// more, and the uplink's other connections get the rest of the upload.
func TestShapedConnection(t *testing.T) {
	const up, capped = 256 << 10, 32 << 10
	s := &Sim{}
	p := &peer{up: uplink{rate: up}}
	slow := &conn{id: 1, owner: p, open: true, cap: &connCap{rate: capped}}
	fast := &conn{id: 2, owner: p, open: true}
	// A piece message of block bytes in all.
	msg := packed{typ: wire.Piece, length: block - 13}
	for range 200 {
		s.enqueue(slow, msg)
		s.enqueue(fast, msg)
	}
	const horizon = 4 * time.Second
	sent := map[*conn]int{}
	for s.q.len() > 0 {
		e := s.q.pop()
		if e.at > horizon {
			break
		}
		s.now = e.at
		switch e.kind {
		case evUpDone:
			sent[e.fl.from] += e.fl.msg.wireLength()
			p.up.busy = false
			s.freeFlight(e.fl)
		case evUpWake:
			p.up.waking = false
		default:
			t.Fatalf("unexpected event %v", e.kind)
		}
		s.serveUp(p)
	}
	secs := horizon.Seconds()
	// Each side may be a message off, plus the bursts its buckets started
	// with (32 KiB for the connection, 64 KiB for the uplink).
	if got, most := sent[slow], capped*secs+connBurstMin+block; float64(got) > most || float64(got) < most-2*block {
		t.Errorf("capped connection sent %d bytes in %v, want about %.0f", got, horizon, most)
	}
	total := float64(sent[slow] + sent[fast])
	if most := up*secs + linkBurstMin + block; total > most || total < most-2*block {
		t.Errorf("uplink sent %.0f bytes in %v, want about %.0f", total, horizon, most)
	}
}

// TestCapsHonoured: one seed and one leecher, so that the transfer runs
// at the tighter of the seed's upload cap and the leecher's download cap.
// The rate is measured between byte-counter samples in mid-transfer,
// clear of the start (the first unchoke waits for a tick) and of the
// burst the buckets start with.
func TestCapsHonoured(t *testing.T) {
	for _, c := range []struct {
		name     string
		up, down float64
	}{
		{"upload-bound", 256 << 10, 0},
		{"download-bound", 1 << 20, 128 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			bottleneck := c.up
			if c.down > 0 {
				bottleneck = min(c.up, c.down)
			}
			cfg := Config{
				Name: "caps", Seed: 1,
				// 30 s of transfer at the bottleneck.
				Layout: engine.Layout{PieceLength: 64 << 10, TotalLength: int64(30*bottleneck) &^ (64<<10 - 1)},
				Peers: []PeerSpec{
					{Group: "seed", Seed: true, Up: c.up, Picker: "rarest", Choker: "tft"},
					{Group: "leecher", Down: c.down, Picker: "rarest", Choker: "tft"},
				},
			}
			run, _, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			at := func(d time.Duration) int64 {
				for _, smp := range run.Samples {
					if smp.Peer == 1 && smp.At == d {
						return smp.Downloaded
					}
				}
				t.Fatalf("no sample of the leecher at %v", d)
				return 0
			}
			from, to := 5*time.Second, 25*time.Second
			got := float64(at(to)-at(from)) / (to - from).Seconds()
			// Payload only: the wire adds 13 bytes to each 16 KiB block.
			want := bottleneck * engine.BlockSize / block
			if math.Abs(got/want-1) > 0.01 {
				t.Errorf("leecher downloaded %.0f B/s between %v and %v, want %.0f", got, from, to, want)
			}
		})
	}
}

// TestClosedConnectionDropsFlights: disconnect closes both ends at once,
// which deliver relies on when it reads only the sender's end, and a
// message still in flight when the connection closes is not delivered.
func TestClosedConnectionDropsFlights(t *testing.T) {
	s := newSim(flashCrowd(1, "rarest", 1<<20, 1<<20, 1<<20).withDefaults())
	s.join(0)
	s.join(1) // its announce finds the seed and connects
	a, b := s.slots[0], s.slots[1]
	if len(a.conns) != 1 || len(b.conns) != 1 {
		t.Fatalf("seed has %d connections, leecher %d; want one each", len(a.conns), len(b.conns))
	}
	ca, cb := a.conns[0], b.conns[0]
	if ca.to != b || cb.to != a || ca.remote != cb {
		t.Fatal("connection ends do not point at each other")
	}
	f := &flight{from: ca, msg: pack(&wire.Message{Type: wire.Have, Index: 0})}
	s.disconnect(ca)
	if ca.open || cb.open {
		t.Fatalf("after disconnect: sender's end open %v, receiver's %v; want both closed", ca.open, cb.open)
	}
	before := s.stats.messages
	s.deliver(f)
	if s.stats.messages != before {
		t.Errorf("a message in flight on a closed connection was delivered")
	}
}
