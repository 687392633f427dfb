package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/picker"
)

// Mode is the driver a scenario asks for.
type Mode string

// Modes.
const (
	Emulated Mode = "emulated" // real peers on loopback (lab/world)
	Sim      Mode = "sim"      // the discrete-event simulator (package sim)
)

// Role is how a peer starts.
type Role string

// Roles.
const (
	Seed    Role = "seed"    // with the whole content
	Leecher Role = "leecher" // with nothing
)

// Arrival kinds.
const (
	Flash   = "flash"   // every peer of the group joins at At
	Poisson = "poisson" // a Poisson process of Rate per second from At
)

// What a peer does when its seeding time is over.
const (
	Leave   = "leave"   // stop
	Restart = "restart" // stop, and join again as a new, empty leecher
)

// Defaults for fields a scenario leaves out. The tracker's follow seed 001
// (peers re-announce often and are forgotten 10 s after their last
// announce), so that a lab world's membership is current within seconds.
const (
	DefaultSeed        uint64 = 1
	DefaultInterval           = 5 * time.Second
	DefaultNumWant            = 50
	DefaultMaxDuration        = 5 * time.Minute
	// DefaultMaxConns is about what deployed clients allow per torrent.
	DefaultMaxConns       = 80
	DefaultPicker         = "rarest"
	DefaultChoker         = "tft"
	DefaultGossipFanout   = 3
	DefaultGossipInterval = time.Second
	// MaxNumWant is the most peers the lab's tracker hands out at once.
	MaxNumWant = 200
	// MaxPeers bounds an emulated world's size: each peer is a client with its own
	// sockets, and every connection costs two descriptors in one process.
	MaxPeers = 1000
	// MaxSimPeers bounds a simulated world, whose peers cost memory
	// only.
	MaxSimPeers = 1_000_000
)

// Forever is After.Seed's value for "seed until the world ends".
const Forever time.Duration = -1

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	Name        string
	Description string
	// Worlds are what running the scenario runs: one per variant, or the
	// scenario itself when it has no variants. Each is complete: its
	// groups have the variant's changes applied and every default filled.
	Worlds []World
	// Source is the YAML the scenario was parsed from.
	Source []byte
}

// World is one fully resolved world to run.
type World struct {
	// Scenario is the scenario's name and Variant the variant's ("" for a
	// scenario without variants).
	Scenario, Variant string
	// Description is the variant's, or else the scenario's.
	Description string
	Mode        Mode
	// Seed seeds everything random in the world: content, arrivals, and
	// every peer's random source.
	Seed    uint64
	Content Content
	Tracker Tracker
	Limits  Limits
	Groups  []Group
	// Sim holds options only the simulator reads.
	Sim SimOptions
}

// SimOptions are a world's settings for the simulator; the emulated world
// ignores them (its latency is loopback's, its peers are real clients).
type SimOptions struct {
	// Latency is the one-way delay of every link (0: the simulator's
	// default).
	Latency time.Duration
	// SkipRedundantHave (YAML: redundant_have: false) announces a piece
	// only to neighbours that lack it, which halves a large world's
	// HAVEs; by default peers announce every piece to every neighbour.
	SkipRedundantHave bool
	// ProgressEvery records a peer's progress every this many pieces (0:
	// every piece).
	ProgressEvery int
}

// Name is "scenario" or "scenario/variant".
func (w World) Name() string {
	if w.Variant == "" {
		return w.Scenario
	}
	return w.Scenario + "/" + w.Variant
}

// MaxPeers is how many peers fit in a world of w's mode.
func (w World) MaxPeers() int {
	if w.Mode == Sim {
		return MaxSimPeers
	}
	return MaxPeers
}

// Peers is the number of peer slots (restarts reuse a slot).
func (w World) Peers() int {
	n := 0
	for _, g := range w.Groups {
		n += g.Count
	}
	return n
}

// Gossip reports whether any group gossips.
func (w World) Gossip() bool {
	for _, g := range w.Groups {
		if g.Gossip != nil {
			return true
		}
	}
	return false
}

// Content is what the world distributes: Size bytes of data generated from
// the world's seed, in pieces of PieceLength.
type Content struct {
	Size        int64
	PieceLength int64
}

// Pieces is the piece count.
func (c Content) Pieces() int { return int((c.Size + c.PieceLength - 1) / c.PieceLength) }

// Tracker configures the world's tracker.
type Tracker struct {
	// Interval is the announce interval it tells peers; PeerTTL how long
	// it keeps a peer after its last announce.
	Interval, PeerTTL time.Duration
	// NumWant is how many peers an announce returns (at most).
	NumWant int
}

// Limits bound a world.
type Limits struct {
	// MaxDuration ends the world even if peers are still downloading.
	MaxDuration time.Duration
	// MaxConns caps each peer's connections. It also bounds what a world
	// costs: every connection is two sockets in the one process.
	MaxConns int
}

// Group is a set of peers configured alike.
type Group struct {
	Name    string
	Count   int
	Initial Role
	// Up and Down are link capacities in bytes/s (0: unlimited), assigned
	// to the group's peers in turn: peer i gets Up[i%len(Up)], so a list
	// gives a group heterogeneous links.
	Up, Down []int64
	// Picker and Choker name strategies as picker.New and choker.New
	// spell them.
	Picker, Choker string
	// Gossip, if set, replaces picking and choking with gossip rounds.
	Gossip *Gossip
	// SuperSeed makes the group's seeds reveal pieces a few at a time
	// (BEP 16), so that a bottleneck seed sends each piece about once.
	SuperSeed bool
	Arrival   Arrival
	After     After
}

// UpOf and DownOf are peer i's capacities.
func (g *Group) UpOf(i int) int64   { return g.Up[i%len(g.Up)] }
func (g *Group) DownOf(i int) int64 { return g.Down[i%len(g.Down)] }

// Gossip configures gossip dissemination (engine.GossipConfig).
type Gossip struct {
	Mode     string // "push", "pull" or "pushpull"
	Fanout   int
	Interval time.Duration
}

// Config is g as the engine takes it, nil for a nil g (a group that does
// not gossip). A mode other than push or pull is push-pull.
func (g *Gossip) Config() *engine.GossipConfig {
	if g == nil {
		return nil
	}
	mode := engine.PushPull
	switch g.Mode {
	case "push":
		mode = engine.Push
	case "pull":
		mode = engine.Pull
	}
	return &engine.GossipConfig{Mode: mode, Fanout: g.Fanout, Interval: g.Interval}
}

// Arrival is when a group's peers join.
type Arrival struct {
	Kind string // Flash or Poisson
	// At is when the flash crowd arrives, or when the Poisson process
	// starts.
	At time.Duration
	// Rate is the Poisson process's rate, arrivals per second.
	Rate float64
}

// After is what a peer does once it has the whole content (an initial
// seed: from when it joins).
type After struct {
	// Seed is how long it seeds first: Forever (until the world ends) or
	// a duration, possibly 0.
	Seed time.Duration
	// Then is Leave or Restart, once Seed is over.
	Then string
}

// Load parses a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse parses and validates a scenario. file names the source in error
// messages. Every mistake found is reported, each with its line and the
// field's path, joined into one error.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty scenario", file)
	}
	root := resolve(doc.Content[0])
	s := &Scenario{Source: data}
	base := World{Mode: Emulated, Seed: DefaultSeed}
	var nodes struct{ content, tracker, limits, groups, variants *yaml.Node }
	ok := d.mapping(root, "",
		field{"name", func(n *yaml.Node, p string) { d.str(n, p, &s.Name) }},
		field{"description", func(n *yaml.Node, p string) { d.str(n, p, &s.Description) }},
		field{"mode", func(n *yaml.Node, p string) { oneOf(d, n, p, "mode", &base.Mode, Emulated, Sim) }},
		field{"seed", func(n *yaml.Node, p string) { d.uint64(n, p, &base.Seed) }},
		field{"sim", func(n *yaml.Node, p string) { d.simOptions(&base.Sim, n, p) }},
		field{"content", func(n *yaml.Node, p string) { nodes.content = n }},
		field{"tracker", func(n *yaml.Node, p string) { nodes.tracker = n }},
		field{"limits", func(n *yaml.Node, p string) { nodes.limits = n }},
		field{"groups", func(n *yaml.Node, p string) { nodes.groups = n }},
		field{"variants", func(n *yaml.Node, p string) { nodes.variants = n }},
	)
	if !ok {
		return nil, d.err()
	}
	if s.Name == "" {
		d.errorf(root, "name", "missing: every scenario needs a name")
	} else if !validName(s.Name) {
		d.errorf(root, "name", "%q: use letters, digits, '-' and '_' only (it names output directories)", s.Name)
	}
	base.Scenario, base.Description = s.Name, s.Description
	if nodes.groups == nil {
		d.errorf(root, "groups", "missing: a world needs at least one group of peers")
		return nil, d.err()
	}
	d.world(&base, nodes.content, nodes.tracker, nodes.limits, groupNodes(d, nodes.groups))
	if len(d.errs) > 0 {
		// The scenario without its variants must be valid by itself;
		// checking variants against a broken base would only repeat
		// its mistakes once per variant.
		return nil, d.err()
	}
	if nodes.variants == nil {
		s.Worlds = []World{base}
		return s, nil
	}
	s.Worlds = d.variants(&base, nodes.variants, nodes.content, nodes.tracker, nodes.limits, groupNodes(d, nodes.groups))
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// namedNode is a group's YAML, kept as a node so that variants can patch
// it before it is decoded, with the group's name to find it by.
type namedNode struct {
	name string
	node *yaml.Node
}

// groupNodes returns the groups list's elements.
func groupNodes(d *decoder, n *yaml.Node) []namedNode {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "groups", "want a list of groups, got %s", kindName(n))
		return nil
	}
	out := make([]namedNode, 0, len(n.Content))
	for _, e := range n.Content {
		e = resolve(e)
		nn := namedNode{node: e}
		if e.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(e.Content); i += 2 {
				if e.Content[i].Value == "name" {
					nn.name = resolve(e.Content[i+1]).Value
				}
			}
		}
		out = append(out, nn)
	}
	return out
}

// world decodes content, tracker, limits and groups into w, filling
// defaults, and checks the world as a whole.
func (d *decoder) world(w *World, content, tracker, limits *yaml.Node, groups []namedNode) {
	w.Tracker = Tracker{Interval: DefaultInterval, NumWant: DefaultNumWant}
	w.Limits = Limits{MaxDuration: DefaultMaxDuration}
	if content == nil {
		d.errorf(nil, "content", "missing: give content.size")
	} else {
		d.content(w, content)
	}
	if tracker != nil {
		d.mapping(tracker, "tracker",
			field{"interval", func(n *yaml.Node, p string) { d.duration(n, p, &w.Tracker.Interval) }},
			field{"peer_ttl", func(n *yaml.Node, p string) { d.duration(n, p, &w.Tracker.PeerTTL) }},
			field{"numwant", func(n *yaml.Node, p string) { d.integer(n, p, &w.Tracker.NumWant) }},
		)
	}
	if w.Tracker.PeerTTL == 0 {
		w.Tracker.PeerTTL = 2 * w.Tracker.Interval
	}
	switch t := w.Tracker; {
	case t.Interval < time.Second || t.Interval%time.Second != 0:
		d.errorf(tracker, "tracker.interval", "%v: want a whole number of seconds, at least 1s (trackers tell peers whole seconds)", t.Interval)
	case t.PeerTTL < t.Interval:
		d.errorf(tracker, "tracker.peer_ttl", "%v is shorter than the interval %v: every peer would expire between its announces", t.PeerTTL, t.Interval)
	}
	if n := w.Tracker.NumWant; n < 1 || n > MaxNumWant {
		d.errorf(tracker, "tracker.numwant", "%d: want 1 to %d", n, MaxNumWant)
	}
	if limits != nil {
		d.mapping(limits, "limits",
			field{"max_duration", func(n *yaml.Node, p string) { d.duration(n, p, &w.Limits.MaxDuration) }},
			field{"max_conns", func(n *yaml.Node, p string) { d.integer(n, p, &w.Limits.MaxConns) }},
		)
	}
	if w.Limits.MaxDuration <= 0 {
		d.errorf(limits, "limits.max_duration", "want a positive duration")
	}
	maxConnsSet := w.Limits.MaxConns != 0
	if maxConnsSet && w.Limits.MaxConns < 1 {
		d.errorf(limits, "limits.max_conns", "%d: want at least 1", w.Limits.MaxConns)
	}

	w.Groups = make([]Group, len(groups))
	names := map[string]bool{}
	for i, gn := range groups {
		path := fmt.Sprintf("groups[%d]", i)
		g := &w.Groups[i]
		d.group(g, gn.node, path, w.Limits.MaxDuration)
		if g.Name != "" && names[g.Name] {
			d.errorf(gn.node, path+".name", "%q names two groups", g.Name)
		}
		names[g.Name] = true
	}
	if len(groups) == 0 {
		d.errorf(nil, "groups", "empty: a world needs at least one group of peers")
		return
	}
	var seeds, leechers bool
	for _, g := range w.Groups {
		seeds = seeds || g.Initial == Seed
		leechers = leechers || g.Initial == Leecher
	}
	if !seeds {
		d.errorf(nil, "groups", "no group starts as a seed (initial: seed), so nobody has the content")
	}
	if !leechers {
		d.errorf(nil, "groups", "no group starts as a leecher (initial: leecher), so there is nothing to measure")
	}
	switch {
	case !maxConnsSet && w.Gossip():
		// Unless told otherwise, let a gossip world connect fully.
		w.Limits.MaxConns = max(DefaultMaxConns, w.Peers()-1)
	case !maxConnsSet:
		w.Limits.MaxConns = DefaultMaxConns
	}
	if n, limit := w.Peers(), w.MaxPeers(); n > limit {
		d.errorf(nil, "groups", "%d peers in all: at most %d fit in one %s world", n, limit, w.Mode)
	}
	if w.Gossip() {
		// Gossip samples among connected peers (engine.GossipConfig),
		// which is a uniform sample of the swarm only if every peer
		// knows every other and may connect to every other.
		if w.Tracker.NumWant < w.Peers()-1 {
			d.errorf(tracker, "tracker.numwant", "%d is less than the %d other peers: in a gossip world every peer must learn every other from the tracker (set numwant to at least %d)",
				w.Tracker.NumWant, w.Peers()-1, w.Peers()-1)
		}
		if w.Limits.MaxConns < w.Peers()-1 {
			d.errorf(limits, "limits.max_conns", "%d is less than the %d other peers: in a gossip world every peer must be able to connect to every other",
				w.Limits.MaxConns, w.Peers()-1)
		}
	}
}

func (d *decoder) content(w *World, n *yaml.Node) {
	before := len(d.errs)
	d.mapping(n, "content",
		field{"size", func(n *yaml.Node, p string) { d.size(n, p, &w.Content.Size) }},
		field{"piece_length", func(n *yaml.Node, p string) { d.size(n, p, &w.Content.PieceLength) }},
	)
	c := &w.Content
	if c.Size <= 0 {
		if len(d.errs) == before { // not already reported as malformed
			d.errorf(n, "content.size", "missing or zero: give the content's size, e.g. 16MiB")
		}
		return
	}
	if c.Size > 4<<30 {
		d.errorf(n, "content.size", "%s: at most 4GiB (every peer of an emulated world holds a copy in memory)", FormatSize(c.Size))
	}
	if c.PieceLength == 0 {
		c.PieceLength = metainfo.AutoPieceLength(c.Size)
	}
	pl := c.PieceLength
	if pl < metainfo.MinPieceLength || pl > metainfo.MaxPieceLength || pl&(pl-1) != 0 {
		d.errorf(n, "content.piece_length", "%s: want a power of two from %s to %s",
			FormatSize(pl), FormatSize(metainfo.MinPieceLength), FormatSize(metainfo.MaxPieceLength))
	}
}

// group decodes one group, filling defaults.
func (d *decoder) group(g *Group, n *yaml.Node, path string, maxDuration time.Duration) {
	*g = Group{
		Initial: Leecher, Up: []int64{0}, Down: []int64{0},
		Picker: DefaultPicker, Choker: DefaultChoker,
		Arrival: Arrival{Kind: Flash},
		After:   After{Seed: Forever, Then: Leave},
	}
	count := -1
	countOK := true
	var afterNode, arrivalNode *yaml.Node
	ok := d.mapping(n, path,
		field{"name", func(n *yaml.Node, p string) { d.str(n, p, &g.Name) }},
		field{"count", func(n *yaml.Node, p string) {
			before := len(d.errs)
			d.integer(n, p, &count)
			countOK = len(d.errs) == before
		}},
		field{"initial", func(n *yaml.Node, p string) { oneOf(d, n, p, "role", &g.Initial, Seed, Leecher) }},
		field{"up", func(n *yaml.Node, p string) { d.rates(n, p, &g.Up) }},
		field{"down", func(n *yaml.Node, p string) { d.rates(n, p, &g.Down) }},
		field{"picker", func(n *yaml.Node, p string) {
			d.str(n, p, &g.Picker)
			g.Picker = strings.ToLower(g.Picker)
			if _, err := picker.New(g.Picker); err != nil {
				d.errorf(n, p, "%v", err)
			}
		}},
		field{"choker", func(n *yaml.Node, p string) {
			d.str(n, p, &g.Choker)
			g.Choker = strings.ToLower(g.Choker)
			if _, err := choker.New(g.Choker); err != nil {
				d.errorf(n, p, "%v", err)
			}
		}},
		field{"gossip", func(n *yaml.Node, p string) { g.Gossip = d.gossip(n, p) }},
		field{"super_seed", func(n *yaml.Node, p string) { d.boolean(n, p, &g.SuperSeed) }},
		field{"arrival", func(n *yaml.Node, p string) { arrivalNode = n; d.arrival(&g.Arrival, n, p) }},
		field{"after_completion", func(n *yaml.Node, p string) { afterNode = n; d.after(&g.After, n, p) }},
	)
	if !ok {
		return
	}
	switch {
	case g.Name == "":
		d.errorf(n, path+".name", "missing: every group needs a name")
	case !validName(g.Name):
		d.errorf(n, path+".name", "%q: use letters, digits, '-' and '_' only", g.Name)
	}
	if count < 1 && countOK {
		d.errorf(n, path+".count", "missing or less than 1: give the number of peers")
	}
	g.Count = max(count, 0)
	if g.Arrival.At >= maxDuration {
		d.errorf(arrivalNode, path+".arrival.at", "%v is not before limits.max_duration %v: the group would never join", g.Arrival.At, maxDuration)
	}
	a := g.After
	if a.Then == Restart && a.Seed == Forever {
		d.errorf(afterNode, path+".after_completion", "then: restart never happens after seed: forever (give a seeding time, e.g. seed: 0s)")
	}
	if g.Initial == Seed && a.Seed == 0 {
		d.errorf(afterNode, path+".after_completion.seed", "an initial seed that stops at once never uploads: give a seeding time or forever")
	}
}

func (d *decoder) gossip(n *yaml.Node, path string) *Gossip {
	g := &Gossip{Fanout: DefaultGossipFanout, Interval: DefaultGossipInterval}
	mode := func(n *yaml.Node, p string) {
		d.str(n, p, &g.Mode)
		switch strings.ToLower(g.Mode) {
		case "push", "pull":
			g.Mode = strings.ToLower(g.Mode)
		case "pushpull", "push-pull", "push_pull":
			g.Mode = "pushpull"
		case "none", "off":
			g.Mode = "none"
		default:
			d.errorf(n, p, "unknown gossip mode %q (want push, pull, pushpull or none)", g.Mode)
		}
	}
	if n.Kind == yaml.ScalarNode {
		// "gossip: push" is short for a mapping with defaults; it is what
		// a variant most often sets.
		mode(n, path)
	} else {
		d.mapping(n, path,
			field{"mode", func(n *yaml.Node, p string) { mode(n, p) }},
			field{"fanout", func(n *yaml.Node, p string) { d.integer(n, p, &g.Fanout) }},
			field{"interval", func(n *yaml.Node, p string) { d.duration(n, p, &g.Interval) }},
		)
		if g.Mode == "" {
			d.errorf(n, path+".mode", "missing: want push, pull or pushpull")
		}
	}
	if g.Fanout < 1 {
		d.errorf(n, path+".fanout", "%d: want at least 1", g.Fanout)
	}
	if g.Interval <= 0 {
		d.errorf(n, path+".interval", "want a positive duration")
	}
	if g.Mode == "none" {
		return nil
	}
	return g
}

func (d *decoder) arrival(a *Arrival, n *yaml.Node, path string) {
	rateSet := false
	d.mapping(n, path,
		field{"kind", func(n *yaml.Node, p string) { oneOf(d, n, p, "arrival kind", &a.Kind, Flash, Poisson) }},
		field{"at", func(n *yaml.Node, p string) { d.duration(n, p, &a.At) }},
		field{"rate", func(n *yaml.Node, p string) {
			rateSet = true
			parse(d, n, p, "arrivals per second, e.g. 2/s", ParsePerSecond, &a.Rate)
		}},
	)
	switch {
	case a.Kind == Poisson && a.Rate <= 0:
		d.errorf(n, path+".rate", "a Poisson arrival needs a positive rate (arrivals per second)")
	case a.Kind == Flash && rateSet:
		d.errorf(n, path+".rate", "a flash crowd arrives all at once: rate is for kind: poisson")
	}
}

func (d *decoder) after(a *After, n *yaml.Node, path string) {
	d.mapping(n, path,
		field{"seed", func(n *yaml.Node, p string) {
			if n.Kind == yaml.ScalarNode && strings.EqualFold(n.Value, "forever") {
				a.Seed = Forever
				return
			}
			d.duration(n, p, &a.Seed)
		}},
		field{"then", func(n *yaml.Node, p string) { oneOf(d, n, p, "action", &a.Then, Leave, Restart) }},
	)
}

func (d *decoder) simOptions(o *SimOptions, n *yaml.Node, path string) {
	d.mapping(n, path,
		field{"latency", func(n *yaml.Node, p string) {
			d.duration(n, p, &o.Latency)
			if o.Latency < 0 {
				d.errorf(n, p, "%v: want a delay of 0 or more", o.Latency)
			}
		}},
		field{"redundant_have", func(n *yaml.Node, p string) {
			redundant := true
			d.boolean(n, p, &redundant)
			o.SkipRedundantHave = !redundant
		}},
		field{"progress_every", func(n *yaml.Node, p string) {
			d.integer(n, p, &o.ProgressEvery)
			if o.ProgressEvery < 1 {
				d.errorf(n, p, "%d: want 1 or more pieces", o.ProgressEvery)
			}
		}},
	)
}
