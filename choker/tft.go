package choker

import (
	"slices"
	"time"
)

// TitForTat is BitTorrent's standard choker (Cohen 2003; the mainline
// client's defaults). Every Interval (10 s) it unchokes the Slots (4)
// interested peers that sent us data fastest, or, when we seed, that we
// sent data to fastest (so the upload goes where it flows best). One more
// peer, the optimistic unchoke, is chosen at random every
// OptimisticInterval (30 s) among the choked interested peers, with peers
// connected in the last three optimistic intervals three times as likely,
// so newcomers with nothing to trade can bootstrap and better partners can
// be found. Snubbed peers are passed over for regular slots.
type TitForTat struct {
	Slots              int
	Every              time.Duration
	OptimisticInterval time.Duration

	optimistic   Conn
	hasOpt       bool
	optimisticAt time.Duration
}

// NewTitForTat returns the standard configuration: 4 slots, rechoke every
// 10 s, a new optimistic unchoke every 30 s.
func NewTitForTat() *TitForTat {
	return &TitForTat{Slots: 4, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
}

// Interval implements Choker.
func (c *TitForTat) Interval() time.Duration { return c.Every }

// Rechoke implements Choker.
func (c *TitForTat) Rechoke(v *View, dst []Unchoke) []Unchoke {
	rate := func(p *Peer) float64 {
		if v.Seeding {
			return p.UpRate
		}
		return p.DownRate
	}
	// Candidates for regular slots, fastest first. The shuffle before the
	// stable sort breaks ties at random rather than by connection order.
	var ranked []int
	for i := range v.Peers {
		if p := &v.Peers[i]; p.Interested && !p.Snubbed {
			ranked = append(ranked, i)
		}
	}
	v.Rand.Shuffle(len(ranked), func(a, b int) { ranked[a], ranked[b] = ranked[b], ranked[a] })
	slices.SortStableFunc(ranked, func(a, b int) int {
		ra, rb := rate(&v.Peers[a]), rate(&v.Peers[b])
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	chosen := make(map[int]bool, c.Slots+1)
	for _, i := range ranked[:min(c.Slots, len(ranked))] {
		chosen[i] = true
		dst = append(dst, Unchoke{Index: i})
	}

	// Keep the optimistic unchoke for its interval if it is still here and
	// interested; otherwise draw a new one.
	cur := -1
	if c.hasOpt {
		for i := range v.Peers {
			if v.Peers[i].Conn == c.optimistic && v.Peers[i].Interested {
				cur = i
			}
		}
	}
	if cur < 0 || v.Now-c.optimisticAt >= c.OptimisticInterval {
		cur = c.drawOptimistic(v, chosen)
		c.hasOpt = cur >= 0
		if c.hasOpt {
			c.optimistic = v.Peers[cur].Conn
			c.optimisticAt = v.Now
		}
	}
	if cur >= 0 && !chosen[cur] {
		dst = append(dst, Unchoke{Index: cur})
	}
	return dst
}

// drawOptimistic picks an interested peer outside the regular slots,
// weighting recent arrivals three to one.
func (c *TitForTat) drawOptimistic(v *View, chosen map[int]bool) int {
	var pool []int
	for i := range v.Peers {
		p := &v.Peers[i]
		if !p.Interested || chosen[i] {
			continue
		}
		weight := 1
		if v.Now-p.ConnectedAt < 3*c.OptimisticInterval {
			weight = 3
		}
		for range weight {
			pool = append(pool, i)
		}
	}
	if len(pool) == 0 {
		return -1
	}
	return pool[v.Rand.IntN(len(pool))]
}
