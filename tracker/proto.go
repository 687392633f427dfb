package tracker

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

// PeerID is the 20-byte id a client picks for itself (BEP 3, BEP 20).
type PeerID [20]byte

// Event is what an announce reports besides a regular refresh. The values
// are BEP 15's, so a UDP packet's event field converts directly.
type Event uint8

// Announce events.
const (
	EventNone      Event = 0
	EventCompleted Event = 1
	EventStarted   Event = 2
	EventStopped   Event = 3
)

// String returns the event as the HTTP "event" parameter spells it; the
// empty string for EventNone, which HTTP expresses by leaving it out.
func (e Event) String() string {
	switch e {
	case EventNone:
		return ""
	case EventCompleted:
		return "completed"
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// NumWantDefault in AnnounceRequest.NumWant means the client did not say
// how many peers it wants, so the tracker picks.
const NumWantDefault = -1

// LeftUnknown in AnnounceRequest.Left means the client did not say how much
// it still has to download. Trackers treat such a peer as a leecher: giving
// it seeds and leechers is the safe side of the guess.
const LeftUnknown = -1

// AnnounceRequest is one announce, as an HTTP query (BEP 3) or a UDP packet
// (BEP 15) carries it.
type AnnounceRequest struct {
	InfoHash metainfo.Hash
	PeerID   PeerID
	// IP is the address the client asks to be reached at ("ip" in HTTP, the
	// IPv4 field in UDP). Usually absent (the zero Addr): trackers then use
	// the address the request came from, and most ignore IP anyway because
	// honouring it lets anyone point a swarm at a third party.
	IP netip.Addr
	// Port is the port the client accepts peer connections on.
	Port uint16
	// Uploaded and Downloaded are the byte totals since the "started"
	// event. Left is the bytes still missing, LeftUnknown if not given.
	Uploaded, Downloaded, Left int64
	Event                      Event
	// NumWant is how many peers the client wants, NumWantDefault if it did
	// not say.
	NumWant int
	// Key is the client's random key (HTTP "key" in hex, UDP key field),
	// which lets a tracker recognise a client whose address changed.
	Key uint32
	// HasKey records whether Key was sent at all; 0 is a valid key.
	HasKey bool
	// Compact asks for the compact peer list (BEP 23) and NoPeerID for the
	// dictionary model without peer ids; only HTTP carries them.
	Compact, NoPeerID bool
	// TrackerID echoes a "tracker id" from an earlier response (HTTP only).
	TrackerID string
}

// Peer is one entry of a peer list. ID is zero when the list did not carry
// ids (the compact models and UDP).
type Peer struct {
	ID   PeerID
	Addr netip.AddrPort
}

// AnnounceResponse is a tracker's answer to an announce. A non-empty
// Failure means the announce was refused and every other field is to be
// ignored.
type AnnounceResponse struct {
	Failure string
	Warning string
	// Interval is how long the client should wait before its next regular
	// announce; MinInterval, when non-zero, is how soon it may announce
	// again at the earliest. Both travel as whole seconds.
	Interval, MinInterval time.Duration
	// TrackerID is for the client to send back on its next announce.
	TrackerID string
	// Complete counts seeds and Incomplete leechers in the swarm.
	Complete, Incomplete int
	Peers                []Peer
}

// ScrapeStats are one swarm's numbers in a scrape.
type ScrapeStats struct {
	// Complete counts seeds, Incomplete leechers, and Downloaded the
	// "completed" events the tracker has seen for the swarm.
	Complete, Downloaded, Incomplete int
}

// ScrapeFile pairs an info hash with its scrape numbers.
type ScrapeFile struct {
	InfoHash metainfo.Hash
	ScrapeStats
}

// ScrapeResponse is a tracker's answer to a scrape. A non-empty Failure
// means the scrape was refused.
type ScrapeResponse struct {
	Failure string
	Files   []ScrapeFile
}
