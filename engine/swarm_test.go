package engine_test

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// swarm is a minimal driver for tests: engines connected by in-memory
// links that carry encoded wire frames, storage as byte slices, SHA-1
// verification against the real piece hashes, and a clock that advances
// one step at a time. Everything happens in a fixed order, so a run is
// reproducible.
type swarm struct {
	t       *testing.T
	layout  engine.Layout
	content []byte
	hashes  [][20]byte
	nodes   []*node
	now     time.Duration
	inbox   []frame // frames in flight, delivered at the next step
	trace   *bytes.Buffer
	nextID  engine.ConnID
}

type node struct {
	name    string
	eng     *engine.Torrent
	data    []byte
	corrupt bool // serves garbage instead of the content
	done    bool
	links   map[engine.ConnID]*end
	banned  map[string]bool
	stopped bool
}

// end is one side of a connection.
type end struct {
	self, remote *node
	id, remoteID engine.ConnID
	open         bool
}

type frame struct {
	to   *end // the receiving side
	data []byte
}

type nodeSpec struct {
	name    string
	seed    bool
	corrupt bool
	picker  picker.Picker
	fast    bool
	gossip  *engine.GossipConfig
	super   bool
}

func newSwarm(t *testing.T, seed uint64, pieceLength, total int64, specs []nodeSpec) *swarm {
	rng := rand.New(rand.NewPCG(seed, seed))
	s := &swarm{t: t, layout: engine.Layout{PieceLength: pieceLength, TotalLength: total}, trace: &bytes.Buffer{}}
	s.content = make([]byte, total)
	for i := range s.content {
		s.content[i] = byte(rng.Uint32())
	}
	for p := range s.layout.NumPieces() {
		start := int64(p) * pieceLength
		s.hashes = append(s.hashes, sha1.Sum(s.content[start:start+s.layout.PieceSize(p)]))
	}
	for i, sp := range specs {
		n := &node{name: sp.name, data: make([]byte, total), corrupt: sp.corrupt, links: map[engine.ConnID]*end{}, banned: map[string]bool{}}
		var have *bitfield.Bitfield
		if sp.seed {
			copy(n.data, s.content)
			have = bitfield.Full(s.layout.NumPieces())
		}
		pk := sp.picker
		if pk == nil {
			pk = picker.Rarest{RandomFirst: 2}
		}
		eng, err := engine.New(engine.Config{
			Layout: s.layout, Have: have, Picker: pk, Choker: choker.NewTitForTat(),
			Rand: rand.New(rand.NewPCG(seed, uint64(i))), Fast: sp.fast, Extensions: true,
			Gossip: sp.gossip, SuperSeed: sp.super,
		})
		if err != nil {
			t.Fatal(err)
		}
		n.eng = eng
		n.done = sp.seed
		s.nodes = append(s.nodes, n)
	}
	return s
}

// connect links every pair of nodes, as a tracker-fed swarm would.
func (s *swarm) connectAll() {
	for i, a := range s.nodes {
		for _, b := range s.nodes[i+1:] {
			s.connect(a, b)
		}
	}
}

func (s *swarm) connect(a, b *node) {
	if a.banned[b.name] || b.banned[a.name] {
		return
	}
	s.nextID++
	ida := s.nextID
	s.nextID++
	idb := s.nextID
	ea := &end{self: a, remote: b, id: ida, remoteID: idb, open: true}
	eb := &end{self: b, remote: a, id: idb, remoteID: ida, open: true}
	a.links[ida], b.links[idb] = ea, eb
	res := wire.Reserved{}.WithExtensions(true).WithFast(true)
	a.eng.AddPeer(ida, engine.PeerInfo{ID: nameID(b.name), Reserved: res}, s.now)
	b.eng.AddPeer(idb, engine.PeerInfo{ID: nameID(a.name), Reserved: res}, s.now)
}

func nameID(name string) (id [20]byte) {
	copy(id[:], name)
	return id
}

// step delivers the frames in flight, ticks every engine and carries out
// what they ask, then advances the clock.
func (s *swarm) step(dt time.Duration) {
	inbox := s.inbox
	s.inbox = nil
	for _, f := range inbox {
		if !f.to.open {
			continue
		}
		m, err := wire.ParseMessage(f.data[4:], wire.Limits{NumPieces: s.layout.NumPieces()})
		if err != nil {
			s.t.Fatalf("%s: undecodable frame: %v", f.to.self.name, err)
		}
		f.to.self.eng.Receive(f.to.id, &m, s.now)
		s.apply(f.to.self)
	}
	for _, n := range s.nodes {
		n.eng.Tick(s.now)
		s.apply(n)
		if kept, counted := n.eng.RequestedRecount(); kept != counted {
			s.t.Fatalf("%s at %v: %d blocks counted as requested, %d are", n.name, s.now, kept, counted)
		}
	}
	s.now += dt
}

func (s *swarm) apply(n *node) {
	for _, a := range n.eng.Actions(nil) {
		fmt.Fprintf(s.trace, "%v %s %v\n", s.now, n.name, a)
		switch a.Kind {
		case engine.Send:
			s.sendTo(n, a.Conn, wire.AppendMessage(nil, &a.Msg))
		case engine.Upload:
			start := int64(a.Piece)*s.layout.PieceLength + int64(a.Begin)
			block := append([]byte(nil), n.data[start:start+int64(a.Length)]...)
			if n.corrupt {
				for i := range block {
					block[i] ^= 0x5a
				}
			}
			s.sendTo(n, a.Conn, wire.AppendMessage(nil, &wire.Message{Type: wire.Piece, Index: a.Piece, Begin: a.Begin, Block: block}))
			n.eng.UploadDone(a.Conn, len(block), s.now)
			s.apply(n)
		case engine.Write:
			start := int64(a.Piece)*s.layout.PieceLength + int64(a.Begin)
			copy(n.data[start:], a.Data)
		case engine.Verify:
			start := int64(a.Piece) * s.layout.PieceLength
			data := n.data[start : start+s.layout.PieceSize(int(a.Piece))]
			ok := sha1.Sum(data) == s.hashes[a.Piece]
			if !ok {
				n.eng.FailedPiece(int(a.Piece), data)
			}
			n.eng.PieceVerified(int(a.Piece), ok, s.now)
			s.apply(n)
		case engine.Close:
			e := n.links[a.Conn]
			if e == nil || !e.open {
				continue
			}
			if a.Ban {
				n.banned[e.remote.name] = true
			}
			s.disconnect(e)
		case engine.Completed:
			n.done = true
		}
	}
}

func (s *swarm) sendTo(n *node, c engine.ConnID, data []byte) {
	e := n.links[c]
	if e == nil || !e.open {
		return
	}
	s.inbox = append(s.inbox, frame{to: e.remote.links[e.remoteID], data: data})
}

func (s *swarm) disconnect(e *end) {
	other := e.remote.links[e.remoteID]
	e.open, other.open = false, false
	e.self.eng.RemovePeer(e.id, s.now)
	other.self.eng.RemovePeer(other.id, s.now)
	s.apply(e.self)
	s.apply(other.self)
}

// run steps until every honest node has everything, or fails the test.
func (s *swarm) run(maxSteps int) int {
	for i := range maxSteps {
		all := true
		for _, n := range s.nodes {
			if !n.done && !n.corrupt {
				all = false
			}
		}
		if all {
			return i
		}
		s.step(100 * time.Millisecond)
	}
	for _, n := range s.nodes {
		st := n.eng.Stats()
		s.t.Logf("%s: done=%v have=%d/%d peers=%d", n.name, n.done, st.Have, s.layout.NumPieces(), st.Peers)
	}
	s.t.Fatalf("swarm did not finish in %d steps", maxSteps)
	return maxSteps
}

func (s *swarm) checkData() {
	for _, n := range s.nodes {
		if !n.corrupt && !bytes.Equal(n.data, s.content) {
			s.t.Errorf("%s finished with wrong data", n.name)
		}
	}
}

func TestSwarmOneSeedOneLeecher(t *testing.T) {
	// 17 pieces of 64 KiB (4 blocks), the last one short.
	s := newSwarm(t, 1, 64<<10, 16*64<<10+1234, []nodeSpec{{name: "seed", seed: true, fast: true}, {name: "leech", fast: true}})
	s.connectAll()
	s.run(500)
	s.checkData()
	seed, leech := s.nodes[0].eng.Stats(), s.nodes[1].eng.Stats()
	if leech.Downloaded != s.layout.TotalLength || seed.Uploaded != s.layout.TotalLength {
		t.Errorf("downloaded %d, seed uploaded %d, want both %d", leech.Downloaded, seed.Uploaded, s.layout.TotalLength)
	}
	if leech.Wasted != 0 || leech.HashFails != 0 || leech.Left != 0 {
		t.Errorf("leecher stats %+v", leech)
	}
}

func TestSwarmPickersAndExtensions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		picker picker.Picker
		fast   bool
	}{
		{"rarest/fast", picker.Rarest{RandomFirst: 2}, true},
		{"rarest/plain", picker.Rarest{RandomFirst: 2}, false},
		{"random/fast", picker.Random{}, true},
		{"sequential/plain", picker.Sequential{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs := []nodeSpec{{name: "seed", seed: true, fast: tc.fast}}
			for i := range 6 {
				specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), picker: tc.picker, fast: tc.fast})
			}
			s := newSwarm(t, 2, 32<<10, 40*32<<10, specs)
			s.connectAll()
			s.run(3000)
			s.checkData()
		})
	}
}

// TestSwarmCorruptPeer: a peer that serves garbage is banned and the
// honest peers still finish with correct data.
func TestSwarmCorruptPeer(t *testing.T) {
	specs := []nodeSpec{
		{name: "seed", seed: true, fast: true},
		{name: "liar", seed: true, corrupt: true, fast: true},
	}
	for i := range 4 {
		specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), fast: true})
	}
	s := newSwarm(t, 3, 32<<10, 30*32<<10, specs)
	s.connectAll()
	s.run(5000)
	s.checkData()
	failed := 0
	for _, n := range s.nodes[2:] {
		failed += n.eng.Stats().HashFails
		if n.eng.Stats().HashFails > 0 && !n.banned["liar"] {
			t.Errorf("%s saw %d bad pieces but did not ban the liar", n.name, n.eng.Stats().HashFails)
		}
		if n.banned["seed"] {
			t.Errorf("%s banned the honest seed", n.name)
		}
	}
	if failed == 0 {
		t.Fatal("no leecher ever took a block from the liar: the test proves nothing")
	}
}

// TestSwarmDeterministic: the same swarm twice gives the same trace.
func TestSwarmDeterministic(t *testing.T) {
	trace := func() string {
		specs := []nodeSpec{{name: "seed", seed: true, fast: true}}
		for i := range 5 {
			specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), fast: true})
		}
		s := newSwarm(t, 9, 32<<10, 25*32<<10, specs)
		s.connectAll()
		s.run(3000)
		return s.trace.String()
	}
	a, b := trace(), trace()
	if a != b {
		t.Fatal("two runs of the same swarm differ")
	}
	if len(a) < 1000 {
		t.Fatalf("suspiciously short trace: %d bytes", len(a))
	}
}

// TestSwarmCorruptPeerManySeeds repeats the corrupt-peer swarm with
// different seeds, piece sizes and liars, looking for stalls: every run
// must finish with correct data.
func TestSwarmCorruptPeerManySeeds(t *testing.T) {
	for seed := range uint64(40) {
		specs := []nodeSpec{
			{name: "seed", seed: true, fast: seed%2 == 0},
			{name: "liar", seed: true, corrupt: true, fast: seed%3 == 0},
		}
		for i := range 2 + int(seed%4) {
			specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), fast: seed%2 == 0})
		}
		s := newSwarm(t, 100+seed, 16<<10*int64(1+seed%3), 20*16<<10+int64(seed)*999, specs)
		s.connectAll()
		s.run(5000)
		s.checkData()
	}
}

// TestSwarmGossip runs seed 001's three dissemination modes: all finish
// with correct data; blind pushes waste transfers on peers that already
// have the piece, pulls never do (they ask only for what they lack).
func TestSwarmGossip(t *testing.T) {
	for _, mode := range []engine.GossipMode{engine.Push, engine.Pull, engine.PushPull} {
		t.Run(mode.String(), func(t *testing.T) {
			g := &engine.GossipConfig{Mode: mode, Fanout: 3, Interval: time.Second}
			specs := []nodeSpec{{name: "seed", seed: true, fast: true, gossip: g}}
			for i := range 8 {
				specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), fast: true, gossip: g})
			}
			s := newSwarm(t, 21, 16<<10, 12*16<<10, specs)
			s.connectAll()
			s.run(20000)
			s.checkData()
			useless, pushes, pulls := 0, 0, 0
			for _, n := range s.nodes {
				st := n.eng.Stats()
				useless += st.Useless
				pushes += st.Pushes
				pulls += st.Pulls
			}
			t.Logf("%v: pushes %d pulls %d useless %d", mode, pushes, pulls, useless)
			switch mode {
			case engine.Push:
				if pushes == 0 || pulls != 0 || useless == 0 {
					t.Errorf("push: pushes %d pulls %d useless %d", pushes, pulls, useless)
				}
			case engine.Pull:
				if pulls == 0 || pushes != 0 || useless != 0 {
					t.Errorf("pull: pushes %d pulls %d useless %d", pushes, pulls, useless)
				}
			case engine.PushPull:
				if pulls == 0 || pushes == 0 {
					t.Errorf("push-pull: pushes %d pulls %d", pushes, pulls)
				}
			}
		})
	}
}

// TestGossipIsInvisibleToPlainPeers: gossip needs both sides to offer the
// extension, so a gossiper never sends gossip to a plain BitTorrent peer,
// which still completes from a plain seed while connected to it.
func TestGossipIsInvisibleToPlainPeers(t *testing.T) {
	g := &engine.GossipConfig{Mode: engine.PushPull}
	specs := []nodeSpec{
		{name: "seed", seed: true, fast: true},
		{name: "gossiper", fast: true, gossip: g},
		{name: "plain", fast: true},
	}
	s := newSwarm(t, 5, 16<<10, 8*16<<10, specs)
	s.connect(s.nodes[0], s.nodes[2])
	s.connect(s.nodes[1], s.nodes[2])
	for range 2000 {
		if s.nodes[2].done {
			break
		}
		s.step(100 * time.Millisecond)
	}
	if !s.nodes[2].done {
		t.Fatal("plain peer did not finish")
	}
	if st := s.nodes[1].eng.Stats(); st.Pushes != 0 || st.Pulls != 0 {
		t.Fatalf("gossiper gossiped with a plain peer: %+v", st)
	}
}

// TestSwarmSuperSeed: a super-seed (BEP 16) still gets everyone to the
// end with correct data, and sends less than twice the content even
// though every leecher asks it for pieces.
func TestSwarmSuperSeed(t *testing.T) {
	for _, fast := range []bool{true, false} {
		specs := []nodeSpec{{name: "seed", seed: true, fast: fast, super: true}}
		for i := range 8 {
			specs = append(specs, nodeSpec{name: fmt.Sprintf("l%d", i), fast: fast})
		}
		s := newSwarm(t, 31, 16<<10, 40*16<<10, specs)
		s.connectAll()
		s.run(20000)
		s.checkData()
		if up := s.nodes[0].eng.Stats().Uploaded; up >= 2*s.layout.TotalLength {
			t.Errorf("fast=%v: super-seed uploaded %d, content %d", fast, up, s.layout.TotalLength)
		}
	}
}
