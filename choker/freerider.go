package choker

import "time"

// FreeRider never unchokes anyone: it downloads and never uploads. It is
// the defector of the incentive studies — Jun and Ahamad, "Incentives in
// BitTorrent induce free riding" (P2PEcon 2005); Locher et al., "Free
// riding in BitTorrent is cheap" (HotNets 2006); Sirivianos et al., the
// "large view exploit" (IPTPS 2007) — and what it downloads is the measure
// of a choker's robustness: under tit-for-tat it lives on optimistic
// unchokes and seeds, under BitTyrant (no optimistic unchoke) only on
// seeds and altruists.
//
// The choker alone makes a peer a free rider only because the engine
// grants no BEP 6 allowed-fast pieces: a choked peer gets nothing.
type FreeRider struct {
	// Every is the round length (DefaultInterval when zero).
	Every time.Duration
}

// Interval implements Choker.
func (c FreeRider) Interval() time.Duration { return every(c.Every) }

// Rechoke implements Choker: nobody.
func (FreeRider) Rechoke(_ *View, dst []Unchoke) []Unchoke { return dst }
