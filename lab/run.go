package lab

import "time"

// Run is the driver-independent record of one run of a scenario.
type Run struct {
	Scenario string `json:"scenario"`
	// Mode is the driver: "emulated" or "sim".
	Mode string `json:"mode"`
	// Seed is the scenario's random seed; the same seed gives the same
	// content, peers and arrivals.
	Seed    uint64  `json:"seed"`
	Content Content `json:"content"`
	// Peers lists every peer that took part, in join order. A peer that
	// restarts as a new leecher ("reincarnates") is a new entry.
	Peers []Peer `json:"peers"`
	// Events is everything that happened, in time order.
	Events []Event `json:"events"`
	// Samples are per-peer byte counters taken at regular intervals (and
	// at each peer's departure), from which throughput series are built.
	Samples []Sample `json:"samples"`
	// End is the run's length in the world's time.
	End time.Duration `json:"end_ns"`
	// Wall is how long the run took in real time.
	Wall time.Duration `json:"wall_ns"`
	// Verified reports that every peer that completed holds data equal to
	// the content, checked after the run.
	Verified bool `json:"verified"`
}

// Content is what was distributed.
type Content struct {
	Size        int64 `json:"size"`
	PieceLength int64 `json:"piece_length"`
	Pieces      int   `json:"pieces"`
}

// Peer is one peer of a run.
type Peer struct {
	ID    int    `json:"id"`
	Group string `json:"group"`
	// InitialSeed: the peer started with the whole content.
	InitialSeed bool `json:"initial_seed"`
	// Up and Down are the peer's link capacities in bytes/s (0: unlimited).
	Up   int64 `json:"up"`
	Down int64 `json:"down"`
	// Picker, Choker and Gossip name the peer's strategies ("" when not
	// used; Gossip is "push", "pull" or "pushpull").
	Picker string `json:"picker,omitempty"`
	Choker string `json:"choker,omitempty"`
	Gossip string `json:"gossip,omitempty"`
	// Incarnation counts restarts of the same slot (0 for the first).
	Incarnation int `json:"incarnation"`
}

// EventKind says what happened to a peer.
type EventKind string

// Event kinds.
const (
	Joined    EventKind = "joined"    // the peer started
	Piece     EventKind = "piece"     // it verified a piece (Have counts them)
	Completed EventKind = "completed" // it has every piece
	Left      EventKind = "left"      // it stopped
)

// Event is one time-stamped happening.
type Event struct {
	At   time.Duration `json:"at_ns"`
	Peer int           `json:"peer"`
	Kind EventKind     `json:"kind"`
	// Have is the peer's piece count after a Piece event.
	Have int `json:"have,omitempty"`
}

// Sample is one peer's cumulative counters at a moment.
type Sample struct {
	At         time.Duration `json:"at_ns"`
	Peer       int           `json:"peer"`
	Downloaded int64         `json:"downloaded"`
	Uploaded   int64         `json:"uploaded"`
	// Wasted counts payload received but not used (duplicates, useless
	// gossip pushes, failed pieces).
	Wasted int64 `json:"wasted"`
	// Useless counts useless gossip transfers (pieces pushed to a peer
	// that had or was getting them).
	Useless int `json:"useless"`
}
