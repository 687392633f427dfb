package choker

import "time"

// Altruist unchokes every interested peer, uncapped, every round: the
// cooperative baseline of incentive studies (the "altruism" BitTyrant's
// authors measure in real swarms, taken to its limit). It gives without
// asking anything back, so in the lab it shows what a swarm gets from
// uploads nobody earned, and how much of them strategic peers (a
// BitTyrant, a free rider) can take.
//
// Unchoking everyone spreads our upload over many connections; with
// many peers each gets a trickle, which is why mainline limits itself to
// a few slots (Cohen 2003). That cost is part of what the lab measures.
type Altruist struct {
	// Every is the round length (DefaultInterval when zero).
	Every time.Duration
}

// Interval implements Choker.
func (c Altruist) Interval() time.Duration { return every(c.Every) }

// Rechoke implements Choker.
func (c Altruist) Rechoke(v *View, dst []Unchoke) []Unchoke {
	for i := range v.Peers {
		if v.Peers[i].Interested {
			dst = append(dst, Unchoke{Index: i})
		}
	}
	return dst
}
