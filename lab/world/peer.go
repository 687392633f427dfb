package world

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/live"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/tracker/client"
)

// peer is one incarnation of a slot: its own client (listener, peer id,
// link limits), torrent, storage and announcer.
type peer struct {
	id    int
	tor   *live.Torrent
	cl    *live.Client
	store *storage.Memory
	// stopAnnounce ends the announcer, which then sends "stopped";
	// announced is closed when it has.
	stopAnnounce context.CancelFunc
	announced    chan struct{}
}

// runSlot runs the peer at index idx of group gi, whose first entry in
// the run is id, and its later incarnations if the group restarts, until
// it leaves or the world ends.
func (wd *world) runSlot(gi, idx, id int) {
	g := &wd.w.Groups[gi]
	restarts := g.After.Then == scenario.Restart
	for inc := 0; ; inc++ {
		seed := g.Initial == scenario.Seed && inc == 0
		if inc > 0 {
			id = wd.rec.add(wd.entry(gi, idx, inc))
		}
		p, err := wd.startPeer(gi, idx, inc, id)
		wd.mu.Lock()
		wd.pending-- // this arrival (or restart) has happened
		if err != nil {
			wd.mu.Unlock()
			wd.fail(err)
			return
		}
		wd.present[p.id] = p
		if !seed {
			wd.downloading++
			if inc > 0 {
				wd.total++
			}
		} else if restarts {
			wd.pending++ // the restart to come
		}
		wd.mu.Unlock()

		if !seed {
			select {
			case <-p.tor.Complete():
			case <-p.tor.Failed():
				wd.fail(fmt.Errorf("peer %d: storage failed: %w", p.id, p.tor.Err()))
				wd.depart(p)
				return
			case <-wd.end:
				wd.depart(p)
				return
			}
			wd.mu.Lock()
			wd.downloading--
			if restarts {
				wd.pending++
			}
			wd.checkDone()
			wd.mu.Unlock()
		}

		// Seed for a while, or until the world ends.
		if g.After.Seed == scenario.Forever {
			<-wd.end
			wd.depart(p)
			return
		}
		t := time.NewTimer(g.After.Seed)
		select {
		case <-t.C:
		case <-wd.end:
			t.Stop()
			wd.depart(p)
			return
		}
		wd.depart(p)
		if !restarts || wd.ended() {
			return
		}
	}
}

// entry describes incarnation inc of a slot for the run's peer list.
func (wd *world) entry(gi, idx, inc int) lab.Peer {
	g := &wd.w.Groups[gi]
	seed := g.Initial == scenario.Seed && inc == 0
	p := lab.Peer{Group: g.Name, InitialSeed: seed, Up: g.UpOf(idx), Down: g.DownOf(idx), Incarnation: inc}
	switch {
	case g.Gossip != nil:
		p.Gossip = g.Gossip.Config().Mode.String()
	case seed:
		p.Choker = g.Choker // a seed never picks
	default:
		p.Picker, p.Choker = g.Picker, g.Choker
	}
	return p
}

// startPeer creates and starts incarnation inc of a slot as run entry id.
// Its random source and peer id come from the world's seed, the slot and
// the incarnation.
func (wd *world) startPeer(gi, idx, inc, id int) (*peer, error) {
	g := &wd.w.Groups[gi]
	seed := g.Initial == scenario.Seed && inc == 0
	slot := idx
	for _, other := range wd.w.Groups[:gi] {
		slot += other.Count
	}
	rng := wd.w.Rand("peer", slot, inc)
	var pid [20]byte
	copy(pid[:], live.PeerIDPrefix)
	for i := len(live.PeerIDPrefix); i < len(pid); i++ {
		pid[i] = byte(rng.Uint32())
	}
	up, down := g.UpOf(idx), g.DownOf(idx)

	store, err := storage.NewMemory(&wd.meta.Info)
	if err != nil {
		return nil, err
	}
	var have []bool
	if seed {
		if _, err := store.WriteAt(wd.data, 0); err != nil {
			return nil, err
		}
		have = make([]bool, wd.meta.Info.NumPieces())
		for i := range have {
			have[i] = true
		}
	}
	pk, err := picker.New(g.Picker)
	if err != nil {
		return nil, err
	}
	ck, err := choker.New(g.Choker)
	if err != nil {
		return nil, err
	}
	cl, err := live.NewClient(live.Config{
		ListenAddr: "127.0.0.1:0", PeerID: pid,
		MaxConns: wd.maxConns + 8, MaxUp: up, MaxDown: down,
		Logger: wd.log.With("group", g.Name, "index", idx, "incarnation", inc),
	})
	if err != nil {
		return nil, err
	}

	wd.rec.joined(id)
	n := wd.meta.Info.NumPieces()
	tor, err := cl.AddTorrent(live.TorrentConfig{
		Meta: wd.meta, Storage: store, Have: have,
		Picker: pk, Choker: ck, Seed: rng.Uint64() | 1,
		MaxConns: wd.maxConns, Gossip: g.Gossip.Config(), SuperSeed: g.SuperSeed,
		OnPiece: func(_, have int) { wd.rec.piece(id, have, have == n) },
	})
	if err != nil {
		cl.Close()
		return nil, err
	}
	p := &peer{id: id, tor: tor, cl: cl, store: store, announced: make(chan struct{})}
	var actx context.Context
	actx, p.stopAnnounce = context.WithCancel(context.Background())
	tiers := client.NewTiers(wd.announce, nil, rng)
	go func() {
		defer close(p.announced)
		if err := tor.Announce(actx, wd.tc, tiers, nil); err != nil {
			wd.log.Debug("stopped announce failed", "peer", id, "err", err)
		}
	}()
	return p, nil
}

// depart stops a peer: it says "stopped" to the tracker, closes its
// connections, records its final counters, and, if it completed, checks
// that its storage holds exactly the content before releasing it.
func (wd *world) depart(p *peer) {
	p.stopAnnounce()
	<-p.announced
	complete := false
	select {
	case <-p.tor.Complete():
		complete = true
	default:
	}
	closeErr := p.tor.Close()
	st := p.tor.Stats()
	wd.rec.left(p.id, st)
	wd.mu.Lock()
	delete(wd.present, p.id)
	wd.departed += st.Downloaded
	wd.mu.Unlock()
	p.cl.Close()
	if closeErr != nil {
		wd.log.Warn("closing a peer", "peer", p.id, "err", closeErr)
	}
	if complete && !wd.holdsContent(p.store) {
		wd.mu.Lock()
		wd.unverified = append(wd.unverified, p.id)
		wd.mu.Unlock()
		wd.log.Error("a completed peer's data differs from the content", "peer", p.id)
	}
	p.store.Close()
}

// holdsContent compares a storage with the content byte for byte: a
// stronger check than the piece hashes the peer verified as it went.
func (wd *world) holdsContent(s storage.Storage) bool {
	pl := wd.meta.Info.PieceLength
	buf := make([]byte, pl)
	for off := int64(0); off < int64(len(wd.data)); off += pl {
		want := wd.data[off:min(off+pl, int64(len(wd.data)))]
		// A full read may come with io.EOF at the end of the content.
		n, _ := s.ReadAt(buf[:len(want)], off)
		if n != len(want) || !bytes.Equal(buf[:n], want) {
			return false
		}
	}
	return true
}

// peerStats reads each peer's counters.
func peerStats(ps []*peer) []engine.Stats {
	out := make([]engine.Stats, len(ps))
	for i, p := range ps {
		out[i] = p.tor.Stats()
	}
	return out
}
