package engine

import (
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/wire"
)

// maxRequestLength is the largest block a peer may ask us for. BEP 3
// clients use 16 KiB; some ask for more, none sensibly for more than this.
const maxRequestLength = 128 << 10

// onRequest queues a peer's request, or refuses it.
func (t *Torrent) onRequest(p *peer, msg *wire.Message) {
	piece := int(msg.Index)
	if piece >= t.numPieces || msg.Length == 0 || msg.Length > maxRequestLength ||
		int64(msg.Begin)+int64(msg.Length) > t.cfg.Layout.PieceSize(piece) {
		t.drop(p, false, "request outside the torrent: piece %d begin %d length %d", msg.Index, msg.Begin, msg.Length)
		return
	}
	r := request{piece: msg.Index, begin: msg.Begin, length: msg.Length, at: t.now}
	switch {
	case !t.have.Has(piece):
		// Asking for a piece we never announced is a protocol violation.
		t.drop(p, false, "request for piece %d, which we do not have", piece)
	case p.amChoking, len(p.queued) >= t.cfg.MaxIncoming:
		if p.fast {
			t.reject(p, r)
		}
		// Without the fast extension a choked peer's requests are
		// silently dropped (BEP 3).
	default:
		p.queued = append(p.queued, r)
		t.pumpUploads(p)
	}
}

func (t *Torrent) reject(p *peer, r request) {
	t.send(p, wire.Message{Type: wire.Reject, Index: r.piece, Begin: r.begin, Length: r.length})
}

// onCancel withdraws a queued request. BEP 6 asks for a reject in answer
// to a cancelled request we will not serve.
func (t *Torrent) onCancel(p *peer, msg *wire.Message) {
	for i, r := range p.queued {
		if r.piece == msg.Index && r.begin == msg.Begin && r.length == msg.Length {
			p.queued = append(p.queued[:i], p.queued[i+1:]...)
			if p.fast {
				t.reject(p, r)
			}
			return
		}
	}
}

// pumpUploads hands queued requests to the driver, a few at a time.
func (t *Torrent) pumpUploads(p *peer) {
	window := t.uploadWindow(p)
pump:
	for int(p.inflight) < window && !p.closing {
		var r request
		switch {
		case p.rare != nil && len(p.rare.gossipOut) > 0: // gossip knows no choking
			r, p.rare.gossipOut = p.rare.gossipOut[0], p.rare.gossipOut[1:]
		case len(p.queued) > 0 && !p.amChoking:
			r, p.queued = p.queued[0], p.queued[1:]
		default:
			break pump
		}
		p.inflight++
		if t.sentBlocks != nil {
			t.sentBlocks[r.piece]++
		}
		t.emit(Action{Kind: Upload, Conn: p.id, Piece: r.piece, Begin: r.begin, Length: r.length})
	}
	if len(p.queued) == 0 {
		p.queued = nil // let a long queue's array go
	}
}

// uploadQueueTime is how much transfer time the blocks handed to the
// driver for one peer should cover.
const uploadQueueTime = 500 * time.Millisecond

// uploadWindow is how many blocks may be handed to the driver for p at
// once: enough to keep the link busy for uploadQueueTime at the rate p
// has been taking data, within [8, UploadWindow]. A fixed large window
// kept seconds of data on slow links below the engine, out of reach of
// chokes and end-game cancels (the simulator showed 3-6% of downloads
// wasted that way); a fixed small one starved fast links.
func (t *Torrent) uploadWindow(p *peer) int {
	n := int(p.up.ewma * uploadQueueTime.Seconds() / BlockSize)
	return max(min(n, t.cfg.UploadWindow), min(8, t.cfg.UploadWindow))
}

// UploadDone reports that an Upload action's block was sent (n payload
// bytes), or abandoned (n == 0, for example when the write failed).
func (t *Torrent) UploadDone(c ConnID, n int, now time.Duration) {
	t.now = now
	p := t.byConn.get(c)
	if p == nil {
		return
	}
	if p.inflight > 0 {
		p.inflight--
	}
	p.up.add(int64(n))
	t.stats.Uploaded += int64(n)
	t.pumpUploads(p)
}

// rechoke asks the choker whom to unchoke and tells peers of changes.
// A full round (due) also closes the rates' measuring window.
func (t *Torrent) rechoke(full bool) {
	// The measuring window is the time since the last full round; early
	// rechokes in between leave it open.
	interval := t.now - t.lastFullRound
	if !t.rechokedOnce {
		interval = t.cfg.Choker.Interval()
	}
	if full {
		t.lastFullRound = t.now
	}
	t.rechokedOnce = true
	t.rechokeSoon = false

	sc := &t.actions.rechoke
	v := &sc.view
	v.Now, v.Seeding, v.Rand = t.now, t.have.All(), t.cfg.Rand
	v.PieceLength = t.cfg.Layout.PieceLength
	v.UploadCapacity = t.cfg.UploadCapacity
	v.Peers = v.Peers[:0]
	for _, p := range t.peers {
		cp := choker.Peer{
			Conn:           choker.Conn(p.id),
			Interested:     p.peerInterested && !p.closing,
			Choked:         p.amChoking,
			Snubbed:        p.snubbed,
			ConnectedAt:    p.connectedAt,
			Pieces:         p.has.Count(),
			HavesPerSecond: p.havesPerSecond,
		}
		if full {
			cp.DownRate = p.down.endRound(interval)
			cp.UpRate = p.up.endRound(interval)
			if interval > 0 {
				p.havesPerSecond = float64(p.has.Count()-int(p.piecesAtRound)) / interval.Seconds()
			}
			p.piecesAtRound = int32(p.has.Count())
			cp.HavesPerSecond = p.havesPerSecond
		} else {
			// Between full rounds, rank on the last full round's totals.
			cp.DownRate = float64(p.down.lastRound) / t.cfg.Choker.Interval().Seconds()
			cp.UpRate = float64(p.up.lastRound) / t.cfg.Choker.Interval().Seconds()
		}
		v.Peers = append(v.Peers, cp)
	}
	sc.unchokes = t.cfg.Choker.Rechoke(v, sc.unchokes[:0])

	unchoke := slices.Grow(sc.unchoke[:0], len(t.peers))[:len(t.peers)]
	rates := slices.Grow(sc.rates[:0], len(t.peers))[:len(t.peers)]
	clear(unchoke)
	clear(rates)
	sc.unchoke, sc.rates = unchoke, rates
	for _, u := range sc.unchokes {
		if u.Index >= 0 && u.Index < len(unchoke) {
			unchoke[u.Index] = true
			rates[u.Index] = max(u.Rate, 0)
		}
	}
	for i, p := range t.peers {
		if !p.closing && unchoke[i] && rates[i] != p.upCap() {
			p.rareState().upCap = rates[i]
			t.emit(Action{Kind: Shape, Conn: p.id, Rate: rates[i]})
		}
	}
	for i, p := range t.peers {
		if p.closing || unchoke[i] == !p.amChoking {
			continue
		}
		// MinRechokeGap counts from the last rechoke that choked or
		// unchoked someone: it is there against churn, and a round that
		// changed nothing (one run because a peer connected, before it
		// said it was interested) must not hold back the next one.
		t.lastRechoke = t.now
		p.amChoking = !unchoke[i]
		if p.amChoking {
			t.send(p, wire.Message{Type: wire.Choke})
			// Requests not yet handed to the driver are dropped; with the
			// fast extension each is rejected explicitly (BEP 6).
			for _, r := range p.queued {
				if p.fast {
					t.reject(p, r)
				}
			}
			p.queued = nil
		} else {
			t.send(p, wire.Message{Type: wire.Unchoke})
		}
	}
}
