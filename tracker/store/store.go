package store

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// Store keeps swarms for a tracker. Implementations are safe for concurrent
// use.
type Store interface {
	// Announce records the peer a describes (or refreshes it, or removes it
	// when a.Event is tracker.EventStopped) as seen at now, then appends to
	// dst up to a.NumWant other peers of the swarm and returns them in
	// Result.Peers with the swarm's counts after the change.
	//
	// The peers are a uniformly random sample without repeats of those the
	// asker may be given: never the asker itself, only addresses of the
	// families a.Family allows, and only leechers when the asker is a seed
	// (seeds have nothing to gain from each other). A stopping peer gets no
	// peers.
	//
	// When a limit would be exceeded the announce is not recorded and the
	// error wraps ErrTooManySwarms, ErrSwarmFull or ErrTooManyPeers.
	Announce(ctx context.Context, a Announce, now time.Time, dst []tracker.Peer) (Result, error)

	// AnnounceCompact is Announce for compact peer lists (BEP 23, and
	// every UDP response): it appends the chosen peers to dst in compact
	// form, 6 bytes (IPv4 address, port) or 18 (IPv6 address, port) each,
	// and returns the grown dst; Result.Peers is nil. The entries' size
	// must be known, so a.Family must be FamilyIPv4 or FamilyIPv6. Without
	// peer ids to return and convert, this is the cheaper path.
	AnnounceCompact(ctx context.Context, a Announce, now time.Time, dst []byte) (Result, []byte, error)

	// Scrape appends the numbers of each swarm in hashes, in order, to dst;
	// an unknown swarm has all-zero numbers.
	Scrape(ctx context.Context, hashes []metainfo.Hash, dst []tracker.ScrapeStats) ([]tracker.ScrapeStats, error)

	// Expire removes every peer last seen before cutoff, and swarms left
	// empty, and reports how many peers it removed. The caller computes
	// cutoff (now minus the peer TTL); the store never reads a clock.
	Expire(ctx context.Context, cutoff time.Time) (int, error)

	// Totals counts swarms and peers across the store, for metrics. It may
	// be approximate while announces run concurrently.
	Totals(ctx context.Context) (Totals, error)

	// Close releases the store's resources. Calls after Close fail.
	Close() error
}

// Family selects which address families a peer list may hold.
type Family uint8

// Address families. FamilyAny suits HTTP, whose response carries IPv4
// peers in "peers" and IPv6 ones in "peers6"; a UDP response holds one
// family only, that of the socket the request came in on.
const (
	FamilyAny Family = iota
	FamilyIPv4
	FamilyIPv6
)

// FamilyOf returns the family of addr (an IPv4-mapped IPv6 address counts as
// IPv4, since that is what the peer really is).
func FamilyOf(addr netip.Addr) Family {
	if addr.Unmap().Is4() {
		return FamilyIPv4
	}
	return FamilyIPv6
}

// Announce is one announce as the store sees it: already checked, with the
// peer's address resolved and the peer count clamped by the server.
type Announce struct {
	InfoHash metainfo.Hash
	// PeerID is kept so that dictionary-model responses can carry it.
	PeerID tracker.PeerID
	// Addr is where other peers reach this one. It identifies the peer in
	// the swarm: an announce from the same address and port refreshes the
	// same entry, whatever peer id it carries, so a client cannot evict or
	// overwrite peers at addresses other than its own.
	Addr netip.AddrPort
	// Seed is true when the peer has the whole torrent (left=0).
	Seed  bool
	Event tracker.Event
	// NumWant is the most peers to return; 0 returns none.
	NumWant int
	// Family restricts the returned peers to one address family.
	Family Family
}

// Result is the outcome of an announce.
type Result struct {
	// Complete counts the swarm's seeds, Incomplete its leechers and
	// Downloaded its completed events, after this announce.
	Complete, Incomplete, Downloaded int
	// Peers is dst with the chosen peers appended.
	Peers []tracker.Peer
}

// Totals are store-wide counts.
type Totals struct {
	Swarms, Peers, Seeds int
}

// Limits bound a store's memory. A zero field means its default.
type Limits struct {
	// MaxSwarms is the most swarms (info hashes with at least one peer).
	MaxSwarms int
	// MaxPeersPerSwarm is the most peers one swarm may hold.
	MaxPeersPerSwarm int
	// MaxPeers is the most peers across all swarms.
	MaxPeers int
}

// Default limits. The memory store holds about 75 bytes per peer plus
// about 150 per swarm (BenchmarkMemoryFootprint), so at the defaults it
// stays under about 500 MB however clients behave.
const (
	DefaultMaxSwarms        = 1 << 20
	DefaultMaxPeersPerSwarm = 1 << 16
	DefaultMaxPeers         = 4 << 20
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxSwarms <= 0 {
		l.MaxSwarms = DefaultMaxSwarms
	}
	if l.MaxPeersPerSwarm <= 0 {
		l.MaxPeersPerSwarm = DefaultMaxPeersPerSwarm
	}
	if l.MaxPeers <= 0 {
		l.MaxPeers = DefaultMaxPeers
	}
	return l
}

// Options configure a store.
type Options struct {
	Limits Limits
	// Seed seeds the store's random choices; 0 picks a random seed. Tests
	// set it to make peer samples reproducible.
	Seed uint64
}

// Errors wrapped by Announce when a limit stops a new peer or swarm from
// being recorded. They are sentinels to compare with errors.Is; the server
// turns them into failure reasons.
var (
	ErrTooManySwarms = errors.New("tracker is full: too many swarms")
	ErrSwarmFull     = errors.New("swarm is full")
	ErrTooManyPeers  = errors.New("tracker is full: too many peers")
	ErrClosed        = errors.New("store is closed")
)

// errCompactFamily refuses a compact announce that does not name the one
// family its entries are to have.
var errCompactFamily = errors.New("store: a compact announce needs Family IPv4 or IPv6")

// IsFull reports whether err is one of the limit errors.
func IsFull(err error) bool {
	return errors.Is(err, ErrTooManySwarms) || errors.Is(err, ErrSwarmFull) || errors.Is(err, ErrTooManyPeers)
}
