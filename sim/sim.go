package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
	"github.com/swarmlab/swarmlab/wire"
)

// After says what a peer does once it has every piece (an initial seed:
// from when it joins). The zero value seeds until the world ends. With
// Leave, it seeds for SeedFor and then leaves; with Restart, it then comes
// back at once as a new, empty leecher (the reincarnation of seed 002's
// world).
type After struct {
	SeedFor        time.Duration
	Leave, Restart bool
}

// PeerSpec is one peer slot of a simulated world.
type PeerSpec struct {
	Group string
	Seed  bool // starts with every piece
	// Up and Down are link capacities in bytes/s (0: unlimited).
	Up, Down       float64
	Picker, Choker string
	Gossip         *engine.GossipConfig
	// SuperSeed: as a seed, reveal pieces a few at a time (BEP 16).
	SuperSeed bool
	JoinAt    time.Duration
	After     After
}

// Config is a simulated world.
type Config struct {
	Name   string
	Seed   uint64
	Layout engine.Layout
	Peers  []PeerSpec
	// Latency is the one-way delay of every link (default 25 ms).
	Latency time.Duration
	// Tick is how often each engine's clock advances (default 1 s).
	Tick time.Duration
	// AnnounceInterval, PeerTTL and NumWant set the simulated tracker
	// (defaults 30 s, 2 intervals, 50).
	AnnounceInterval time.Duration
	PeerTTL          time.Duration
	NumWant          int
	// MaxConns caps each peer's connections (default 80).
	MaxConns int
	// SampleEvery is the byte-counter sampling period (default 1 s; make
	// it longer for large worlds, whose samples are many).
	SampleEvery time.Duration
	// MaxTime ends the run even if peers are unfinished (default 1 h).
	MaxTime time.Duration
	// ProgressEvery records a peer's progress every this many pieces
	// (default 1: every piece). Every piece of every peer is more than a
	// large world's report can use, and most of its memory.
	ProgressEvery int
	// SkipRedundantHave: peers announce a piece only to neighbours that
	// lack it (engine.Config.SkipRedundantHave), which halves a large
	// world's HAVE traffic. Leave it off for strategies that read HAVEs.
	SkipRedundantHave bool
	// Progress, when set, is called every million events or so with the
	// virtual time and the number of leechers yet to complete, so that a
	// long run can show how far it has got. It must not touch the world.
	Progress func(at time.Duration, unfinished int)

	// trackerLimits, for tests, replaces the simulated tracker's limits
	// (zero: worldTrackerLimits).
	trackerLimits store.Limits
}

// worldTrackerLimits are the simulated tracker's store limits: none that
// a world could reach. The store's defaults guard a real tracker's memory
// against hostile clients, 65,536 peers a swarm among them; a simulated
// world of 100,000 peers met that one, and the 34,465 peers beyond it were
// refused, never heard of anyone, and never finished.
func worldTrackerLimits() store.Limits {
	return store.Limits{MaxPeersPerSwarm: math.MaxInt, MaxPeers: math.MaxInt}
}

func (c Config) withDefaults() Config {
	if c.Latency <= 0 {
		c.Latency = 25 * time.Millisecond
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.AnnounceInterval <= 0 {
		c.AnnounceInterval = 30 * time.Second
	}
	if c.PeerTTL <= 0 {
		c.PeerTTL = 2 * c.AnnounceInterval
	}
	if c.NumWant <= 0 {
		c.NumWant = 50
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 80
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = time.Second
	}
	if c.MaxTime <= 0 {
		c.MaxTime = time.Hour
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 1
	}
	return c
}

// peer is one running peer (one incarnation of a slot).
type peer struct {
	slot  int
	id    int // index in the Run's Peers
	spec  *PeerSpec
	eng   *engine.Torrent
	addr  netip.AddrPort
	conns []*conn
	// byID holds the peer's connection ends by engine id minus one. Ids
	// are the peer's own, numbered from 1 and never reused, which gives
	// the engine its fast dense lookup.
	byID []*conn
	// spare holds connection ends allocated ahead (see newConn).
	spare       []conn
	up          uplink
	down        downlink
	done, gone  bool
	incarnation int
}

// Sim runs one world.
type Sim struct {
	cfg    Config
	q      queue
	now    time.Duration
	rng    *rand.Rand
	store  *store.Memory
	hash   metainfo.Hash
	slots  []*peer // the current incarnation of each slot
	byAddr map[netip.AddrPort]*peer
	free   []*flight
	trains trainRing // the control messages in flight
	// spareActs are action buffers for apply, shared by all peers: one
	// per peer was a tenth of a large world's memory.
	spareActs []*engine.ActionBatch
	// acts is where every engine gathers its actions: apply takes them
	// after each input, before another engine gets one.
	acts  engine.ActionBuffer
	zero  []byte // the data of every block: lengths matter, bytes do not
	run   lab.Run
	peers []tracker.Peer // announce scratch
	// leechersLeft counts slots that still have to complete.
	leechersLeft int
	err          error         // the first fault; it ends the run
	nextExpire   time.Duration // when the tracker may next expire peers
	stats        struct{ messages, events int64 }
	// warmth keeps the sum of engine.Torrent.Warm's results, which must
	// go somewhere for its reads to be made.
	warmth uint64
}

// Stats are counters of a finished run, for benchmarks.
type Stats struct {
	Events, Messages int64
}

// progressEvents is how many events pass between Config.Progress calls:
// a few a second at the simulator's speed.
const progressEvents = 1 << 20

// expireEvery is how often, at most, the simulated tracker drops peers
// that stopped announcing. Announces ask for it, and it scans every peer
// of the swarm: once per announce made a flash crowd of N peers cost
// N²/2 checks (5·10⁹ at 100,000). A peer may now outlive its TTL by up to
// this much, against a TTL of a minute.
const expireEvery = time.Second

// Run simulates cfg and returns its record.
func Run(cfg Config) (*lab.Run, Stats, error) {
	cfg = cfg.withDefaults()
	if cfg.Layout.NumPieces() == 0 || len(cfg.Peers) == 0 {
		return nil, Stats{}, errors.New("sim: a world needs content and peers")
	}
	for i, sp := range cfg.Peers {
		if _, err := picker.New(sp.Picker); err != nil && sp.Gossip == nil {
			return nil, Stats{}, fmt.Errorf("sim: peer %d: %w", i, err)
		}
		if _, err := choker.New(sp.Choker); err != nil && sp.Gossip == nil {
			return nil, Stats{}, fmt.Errorf("sim: peer %d: %w", i, err)
		}
	}
	s := newSim(cfg)
	for i := range cfg.Peers {
		if !cfg.Peers[i].Seed {
			s.leechersLeft++
		}
		s.q.push(event{at: cfg.Peers[i].JoinAt, kind: evJoin, peer: int32(i)})
	}
	s.q.push(event{at: 0, kind: evSample})
	for s.q.len() > 0 {
		e := s.q.pop()
		if e.at > cfg.MaxTime {
			break
		}
		s.now = e.at
		if s.err != nil {
			return nil, Stats{}, s.err
		}
		s.stats.events++
		if s.cfg.Progress != nil && s.stats.events%progressEvents == 0 {
			s.cfg.Progress(s.now, s.leechersLeft)
		}
		s.handle(e)
		if s.leechersLeft == 0 && !s.restarting() {
			break
		}
	}
	s.sample()
	for _, p := range s.slots {
		if p != nil && !p.gone {
			s.record(p, lab.Left, 0)
		}
	}
	s.run.End = s.now
	s.run.Verified = s.accountsBalance()
	// A copy, so that the record does not keep the whole world (its
	// engines, rings and queue) reachable after the run.
	run := s.run
	return &run, Stats{Events: s.stats.events, Messages: s.stats.messages}, nil
}

// newSim makes an empty world for a checked cfg with its defaults.
func newSim(cfg Config) *Sim {
	s := &Sim{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x5157)),
		store:  store.NewMemory(store.Options{Seed: cfg.Seed, Limits: cmp.Or(cfg.trackerLimits, worldTrackerLimits())}),
		slots:  make([]*peer, len(cfg.Peers)),
		byAddr: map[netip.AddrPort]*peer{},
		zero:   make([]byte, 128<<10),
	}
	s.hash[0] = 1
	s.run = lab.Run{Scenario: cfg.Name, Mode: "sim", Seed: cfg.Seed,
		Content: lab.Content{Size: cfg.Layout.TotalLength, PieceLength: cfg.Layout.PieceLength, Pieces: cfg.Layout.NumPieces()}}
	return s
}

// restarting reports whether some slot reincarnates, so that the world
// runs until MaxTime rather than ending when everyone has finished once.
func (s *Sim) restarting() bool {
	for i := range s.cfg.Peers {
		if s.cfg.Peers[i].After.Restart {
			return true
		}
	}
	return false
}

func (s *Sim) handle(e event) {
	switch e.kind {
	case evJoin:
		s.join(int(e.peer))
	case evTick:
		p := s.slots[e.peer]
		if p == nil || p.gone {
			return
		}
		p.eng.Tick(s.now)
		s.apply(p)
		s.q.push(event{at: s.now + s.tickEvery(p), kind: evTick, peer: e.peer})
	case evAnnounce:
		p := s.slots[e.peer]
		if p == nil || p.gone {
			return
		}
		s.announce(p, tracker.EventNone)
		s.q.push(event{at: s.now + s.cfg.AnnounceInterval, kind: evAnnounce, peer: e.peer})
	case evUpDone:
		s.upDone(e.fl)
	case evArrive:
		s.arrive(e.fl)
	case evDownDone:
		s.downDone(e.fl)
	case evTrain:
		s.deliverTrain(e.first, int(e.peer))
	case evUpWake:
		p := s.slots[e.peer]
		if p != nil {
			p.up.waking = false
			s.serveUp(p)
		}
	case evLeave:
		if p := s.slots[e.peer]; p != nil && !p.gone {
			s.leave(p)
			if p.spec.After.Restart {
				s.join(p.slot)
			}
		}
	case evSample:
		s.sample()
		s.q.push(event{at: s.now + s.cfg.SampleEvery, kind: evSample})
	}
}

// join starts a slot's peer (a new incarnation if it ran before).
func (s *Sim) join(slot int) {
	sp := &s.cfg.Peers[slot]
	inc := 0
	if old := s.slots[slot]; old != nil {
		inc = old.incarnation + 1
	}
	n := s.cfg.Layout.NumPieces()
	var have *bitfield.Bitfield
	if sp.Seed && inc == 0 {
		have = bitfield.Full(n)
	}
	pk, _ := picker.New(sp.Picker)
	ck, _ := choker.New(sp.Choker)
	id := len(s.run.Peers)
	eng, err := engine.New(engine.Config{
		Layout: s.cfg.Layout, Have: have, Picker: pk, Choker: ck,
		Rand: rand.New(rand.NewPCG(s.cfg.Seed, uint64(id)+1)),
		Fast: true, Extensions: true, Gossip: sp.Gossip,
		UploadCapacity: sp.Up, SuperSeed: sp.SuperSeed,
		SnubTimeout: 2 * time.Minute, SkipRedundantHave: s.cfg.SkipRedundantHave,
		Actions: &s.acts,
	})
	if err != nil {
		panic(err) // the config was checked in Run
	}
	p := &peer{slot: slot, id: id, spec: sp, eng: eng, incarnation: inc,
		addr: simAddr(id),
		up:   uplink{rate: sp.Up}, down: downlink{rate: sp.Down}}
	s.slots[slot] = p
	s.byAddr[p.addr] = p
	p.done = eng.Seeding()
	s.run.Peers = append(s.run.Peers, lab.Peer{ID: id, Group: sp.Group, InitialSeed: sp.Seed && inc == 0,
		Up: int64(sp.Up), Down: int64(sp.Down), Picker: sp.Picker, Choker: sp.Choker,
		Gossip: gossipName(sp.Gossip), Incarnation: inc})
	s.record(p, lab.Joined, 0)
	if inc > 0 {
		s.leechersLeft++
	}
	s.announce(p, tracker.EventStarted)
	// Spread ticks and announces over their periods, so peers do not all
	// act in the same instant.
	s.q.push(event{at: s.now + time.Duration(s.rng.Int64N(int64(s.tickEvery(p)))), kind: evTick, peer: int32(slot)})
	s.q.push(event{at: s.now + s.cfg.AnnounceInterval, kind: evAnnounce, peer: int32(slot)})
	if p.done {
		s.scheduleLeave(p) // an initial seed's seeding time runs from its join
	}
}

// scheduleLeave queues a complete peer's departure after its seeding time.
func (s *Sim) scheduleLeave(p *peer) {
	if a := p.spec.After; a.Leave || a.Restart {
		s.q.push(event{at: s.now + a.SeedFor, kind: evLeave, peer: int32(p.slot)})
	}
}

// tickEvery is how often p's engine is ticked: the world's tick, or
// shorter if the engine asks (gossip rounds run from Tick).
func (s *Sim) tickEvery(p *peer) time.Duration { return p.eng.TickInterval(s.cfg.Tick) }

func gossipName(g *engine.GossipConfig) string {
	if g == nil {
		return ""
	}
	return g.Mode.String()
}

// simAddr gives peer id an address in 127.0.0.0/8. It is a name, never
// dialed: nothing leaves the process.
func simAddr(id int) netip.AddrPort {
	id++
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, byte(id >> 16), byte(id >> 8), byte(id)}), 6881)
}

// announce tells the tracker store about p and connects to the peers it
// returns.
func (s *Sim) announce(p *peer, ev tracker.Event) {
	if s.now >= s.nextExpire {
		cutoff := s.epoch().Add(s.now - s.cfg.PeerTTL)
		if _, err := s.store.Expire(context.Background(), cutoff); err != nil {
			return
		}
		s.nextExpire = s.now + expireEvery
	}
	res, err := s.store.Announce(context.Background(), store.Announce{
		InfoHash: s.hash, Addr: p.addr, Seed: p.done, Event: ev, NumWant: s.cfg.NumWant,
	}, s.epoch().Add(s.now), s.peers[:0])
	if err != nil {
		// The simulated tracker has no limits a world can reach, so a
		// refusal is a fault, and silently isolating the peer would
		// pass for a result.
		s.err = cmp.Or(s.err, fmt.Errorf("sim: peer %d's announce at %v: %w", p.id, s.now, err))
		return
	}
	if ev == tracker.EventStopped {
		return
	}
	s.peers = res.Peers
	for _, tp := range res.Peers {
		if q := s.byAddr[tp.Addr]; q != nil && !q.gone && q != p {
			s.connect(p, q)
		}
	}
}

// epoch is the virtual clock's zero as a time.Time, for the store.
func (s *Sim) epoch() time.Time { return time.Unix(1_000_000_000, 0) }

func (s *Sim) connect(a, b *peer) {
	if len(a.conns) >= s.cfg.MaxConns || len(b.conns) >= s.cfg.MaxConns || connected(a, b) {
		return
	}
	ca, cb := a.newConn(), b.newConn()
	*ca = conn{id: engine.ConnID(len(a.byID) + 1), owner: a, open: true}
	*cb = conn{id: engine.ConnID(len(b.byID) + 1), owner: b, open: true}
	a.byID, b.byID = append(a.byID, ca), append(b.byID, cb)
	ca.remote, cb.remote = cb, ca
	ca.to, ca.toID, cb.to, cb.toID = b, uint32(cb.id), a, uint32(ca.id)
	a.conns, b.conns = append(a.conns, ca), append(b.conns, cb)
	res := wire.Reserved{}.WithExtensions(true).WithFast(true)
	// The engines share one action buffer, so each one's actions are
	// carried out before the next engine is called.
	a.eng.AddPeer(ca.id, engine.PeerInfo{Reserved: res}, s.now)
	s.apply(a)
	if cb.open { // a may have closed the connection at once
		b.eng.AddPeer(cb.id, engine.PeerInfo{Reserved: res}, s.now)
		// a's first messages have left already, without b's ref:
		// they are delivered by id.
		ca.toRef, cb.toRef = b.eng.Ref(cb.id), a.eng.Ref(ca.id)
		s.apply(b)
	}
}

// newConn returns a zero connection end for p, carved from a block of
// connBlock, so that a peer's ends lie together in memory. A verified
// piece sends a HAVE through nearly every one of them, in the order they
// were made; apart, each was a cache miss (6% of the time at 3,000
// leechers), together they are a run of lines the processor fetches
// ahead. A block lives as long as any of its ends is referenced.
func (p *peer) newConn() *conn {
	if len(p.spare) == 0 {
		p.spare = make([]conn, connBlock)
	}
	c := &p.spare[0]
	p.spare = p.spare[1:]
	return c
}

// connBlock is how many connection ends newConn allocates at once.
const connBlock = 16

func (s *Sim) disconnect(c *conn) {
	if !c.open {
		return
	}
	r := c.remote
	c.open, r.open = false, false
	a, b := c.owner, r.owner
	a.byID[c.id-1], b.byID[r.id-1] = nil, nil
	a.conns = removeConn(a.conns, c)
	b.conns = removeConn(b.conns, r)
	a.eng.RemovePeer(c.id, s.now)
	s.apply(a)
	b.eng.RemovePeer(r.id, s.now)
	s.apply(b)
}

// connected reports whether a has a connection to b. A scan of a's few
// dozen connections, made once per peer an announce returns, costs less
// than a set of addresses kept by every peer.
func connected(a, b *peer) bool {
	for _, c := range a.conns {
		if c.remote.owner == b {
			return true
		}
	}
	return false
}

func removeConn(cs []*conn, c *conn) []*conn {
	for i, x := range cs {
		if x == c {
			return slices.Delete(cs, i, i+1) // clears the vacated slot, so the array keeps no dead conn
		}
	}
	return cs
}

// connByID finds p's open connection end with engine id id.
func (s *Sim) connByID(p *peer, id engine.ConnID) *conn {
	if i := int(id) - 1; i >= 0 && i < len(p.byID) {
		return p.byID[i]
	}
	return nil
}

func (s *Sim) takeActs() *engine.ActionBatch {
	if n := len(s.spareActs); n > 0 {
		a := s.spareActs[n-1]
		s.spareActs = s.spareActs[:n-1]
		return a
	}
	return new(engine.ActionBatch)
}

// apply carries out a peer's engine actions. Carrying one out can call
// apply on the same peer again (a close, for one, tells both ends), so
// each call takes the spare buffer for itself and returns it at the end.
//
// Control messages sent in one call travel together as a train; the train
// leaves before any Close is carried out, so that messages sent after the
// close (from the nested call) cannot overtake those sent before it.
//
// Most calls find nothing to do (a HAVE that changes no interest), and
// return after asking the engine so, without taking a buffer.
func (s *Sim) apply(p *peer) {
	for p.eng.Pending() {
		batch := s.takeActs()
		p.eng.TakeActions(batch)
		acts := batch.Acts
		for i := range acts {
			a := &acts[i]
			switch a.Kind {
			case engine.Send:
				if c := s.connByID(p, a.Conn); c != nil {
					s.send(p, c, &a.Msg)
				}
			case engine.SendEach:
				s.sendEach(p, a.Conns, &a.Msg)
			case engine.Upload:
				if c := s.connByID(p, a.Conn); c != nil {
					m := wire.Message{Type: wire.Piece, Index: a.Piece, Begin: a.Begin, Block: s.zero[:a.Length]}
					pk := pack(&m)
					pk.upload = true
					s.enqueue(c, pk)
				}
			case engine.Verify:
				// Nobody lies in the simulator: every piece is good.
				p.eng.PieceVerified(int(a.Piece), true, s.now)
				if n := p.eng.Have().Count(); n%s.cfg.ProgressEvery == 0 || p.eng.Seeding() {
					s.record(p, lab.Piece, n)
				}
			case engine.Close:
				s.dispatch()
				if c := s.connByID(p, a.Conn); c != nil {
					s.disconnect(c)
				}
			case engine.Shape:
				if c := s.connByID(p, a.Conn); c != nil && (c.cap != nil || a.Rate > 0) {
					if c.cap == nil {
						c.cap = &connCap{}
					}
					c.cap.rate = a.Rate
				}
			case engine.Completed:
				s.completed(p)
			}
		}
		s.spareActs = append(s.spareActs, batch)
	}
	s.dispatch()
}

func (s *Sim) completed(p *peer) {
	if p.done {
		return
	}
	p.done = true
	s.record(p, lab.Completed, 0)
	s.leechersLeft--
	s.announce(p, tracker.EventCompleted)
	s.scheduleLeave(p)
}

func (s *Sim) leave(p *peer) {
	for len(p.conns) > 0 {
		s.disconnect(p.conns[0])
	}
	s.announce(p, tracker.EventStopped)
	s.sampleOne(p)
	s.record(p, lab.Left, 0)
	p.gone = true
	delete(s.byAddr, p.addr)
}

func (s *Sim) record(p *peer, kind lab.EventKind, have int) {
	s.run.Events = append(s.run.Events, lab.Event{At: s.now, Peer: p.id, Kind: kind, Have: have})
}

func (s *Sim) sample() {
	for _, p := range s.slots {
		if p != nil && !p.gone {
			s.sampleOne(p)
		}
	}
}

func (s *Sim) sampleOne(p *peer) {
	st := p.eng.Stats()
	s.run.Samples = append(s.run.Samples, lab.Sample{At: s.now, Peer: p.id,
		Downloaded: st.Downloaded, Uploaded: st.Uploaded, Wasted: st.Wasted, Useless: st.Useless})
}

// accountsBalance is the simulator's Verified: blocks carry no data, so
// instead of comparing bytes it checks that every peer that completed
// without starting as a seed kept exactly the content's size (downloaded
// minus wasted, at its last sample).
func (s *Sim) accountsBalance() bool {
	last := map[int]lab.Sample{}
	for _, smp := range s.run.Samples {
		last[smp.Peer] = smp
	}
	for _, e := range s.run.Events {
		if e.Kind != lab.Completed || s.run.Peers[e.Peer].InitialSeed {
			continue
		}
		if smp := last[e.Peer]; smp.Downloaded-smp.Wasted != s.cfg.Layout.TotalLength {
			return false
		}
	}
	return true
}
