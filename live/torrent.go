package live

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/wire"
)

// tickEvery is how often the engine's clock advances: often enough for
// request queues to follow a link's speed, rarely enough to cost nothing.
const tickEvery = 100 * time.Millisecond

// TorrentConfig sets up one torrent in a Client.
type TorrentConfig struct {
	Meta    *metainfo.MetaInfo
	Storage storage.Storage
	// Have holds pieces already verified (from storage.Verify); nil
	// means none.
	Have []bool
	// Picker and Choker default to rarest-first and tit-for-tat.
	Picker picker.Picker
	Choker choker.Choker
	// Seed seeds the torrent's random source (0: from the clock).
	Seed uint64
	// MaxUp and MaxDown limit this torrent's rates in bytes/s (0: none).
	MaxUp, MaxDown int64
	// MaxConns caps this torrent's connections (0: 80).
	MaxConns int
	// UploadCapacity is the upload budget chokers such as BitTyrant and
	// PropShare divide, in bytes/s; 0 means MaxUp (and unknown if that is
	// 0 too).
	UploadCapacity int64
	// Gossip switches to gossip dissemination (engine.GossipConfig).
	Gossip *engine.GossipConfig
	// SuperSeed: as a seed, reveal pieces a few at a time (BEP 16).
	SuperSeed bool
	// OnPiece, if set, is called on the torrent's loop goroutine each time
	// a piece is verified, with the number of pieces now held. It must
	// return quickly; the lab records progress curves with it.
	OnPiece func(piece, have int)
}

type evKind uint8

const (
	evAdded evKind = iota + 1
	evMessage
	evUploaded
	evClosed
	evVerified
	evDescribe
)

// event is one input for the torrent loop.
type event struct {
	kind  evKind
	conn  *conn
	msg   wire.Message
	n     int
	piece int
	ok    bool
	data  []byte // a failed piece's bytes, for the engine's smart ban
	err   error
	reply chan string
}

// Torrent is a torrent being downloaded or seeded.
type Torrent struct {
	c      *Client
	meta   *metainfo.MetaInfo
	layout engine.Layout
	store  storage.Storage
	eng    *engine.Torrent
	pool   *blockPool
	disk   *disk
	log    *slog.Logger
	start  time.Time

	upLimit, downLimit *rate.Limiter
	maxConns           int
	slots              atomic.Int32 // connections reserved or live

	events chan event
	stop   chan struct{}
	done   chan struct{} // closed when the loop has exited
	ctx    context.Context
	cancel context.CancelFunc

	onPiece      func(piece, have int)
	complete     chan struct{} // closed when every piece is verified
	completeOnce sync.Once
	failed       chan struct{} // closed when storage fails
	failOnce     sync.Once

	// Owned by the loop goroutine.
	conns   map[engine.ConnID]*conn
	history map[netip.AddrPort]*PeerRecord
	acts    []engine.Action

	mu     sync.Mutex // guards the fields below, read by other goroutines
	stats  engine.Stats
	banned map[string]bool
	dialed map[netip.AddrPort]time.Time // when each address was last dialed
	closed bool
	// dialers counts the goroutines of AddPeers and KeepPeers. Close
	// waits for them; they are added under mu only while not closed.
	dialers sync.WaitGroup
}

// PeerRecord is what one peer did, for the stats file.
type PeerRecord struct {
	Addr       string `json:"addr"`
	PeerID     string `json:"peer_id"` // hex
	Downloaded int64  `json:"downloaded"`
	Uploaded   int64  `json:"uploaded"`
	HashFails  int    `json:"hash_fails"`
	Banned     bool   `json:"banned,omitempty"`
}

func newTorrent(c *Client, cfg TorrentConfig) (*Torrent, error) {
	info := &cfg.Meta.Info
	layout := engine.Layout{PieceLength: info.PieceLength, TotalLength: info.TotalLength()}
	have := bitfield.New(layout.NumPieces())
	if cfg.Have != nil {
		if len(cfg.Have) != have.Len() {
			return nil, fmt.Errorf("live: Have lists %d pieces, torrent has %d", len(cfg.Have), have.Len())
		}
		for i, ok := range cfg.Have {
			if ok {
				have.Set(i)
			}
		}
	}
	if cfg.Picker == nil {
		cfg.Picker = picker.Rarest{RandomFirst: 4}
	}
	if cfg.Choker == nil {
		cfg.Choker = choker.NewTitForTat()
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	eng, err := engine.New(engine.Config{
		Layout: layout, Have: have, Picker: cfg.Picker, Choker: cfg.Choker,
		Rand:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		ClientName: c.cfg.ClientName, ListenPort: c.ListenPort(), Fast: true, Extensions: true,
		UploadCapacity: float64(uploadCapacity(cfg, c.cfg)),
		Gossip:         cfg.Gossip,
		SuperSeed:      cfg.SuperSeed,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Torrent{
		c: c, meta: cfg.Meta, layout: layout, store: cfg.Storage, eng: eng,
		pool: newBlockPool(), log: c.log.With("torrent", cfg.Meta.Info.Name),
		start:   time.Now(),
		upLimit: limiter(cfg.MaxUp), downLimit: limiter(cfg.MaxDown),
		maxConns: cfg.MaxConns,
		events:   make(chan event, 1024),
		stop:     make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
		complete: make(chan struct{}), failed: make(chan struct{}), onPiece: cfg.OnPiece,
		conns: map[engine.ConnID]*conn{}, history: map[netip.AddrPort]*PeerRecord{},
		banned: map[string]bool{}, dialed: map[netip.AddrPort]time.Time{},
	}
	if t.maxConns <= 0 {
		t.maxConns = 80
	}
	t.disk = newDisk(t)
	if have.All() {
		t.completeOnce.Do(func() { close(t.complete) })
	}
	t.stats = eng.Stats()
	go t.loop()
	return t, nil
}

// uploadCapacity is the budget a choker may divide: the configured
// capacity, else the tightest upload limit in force.
func uploadCapacity(tc TorrentConfig, cc Config) int64 {
	if tc.UploadCapacity > 0 {
		return tc.UploadCapacity
	}
	switch {
	case tc.MaxUp > 0 && cc.MaxUp > 0:
		return min(tc.MaxUp, cc.MaxUp)
	case tc.MaxUp > 0:
		return tc.MaxUp
	}
	return cc.MaxUp
}

func limiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	// A burst of a tenth of a second (at least a few blocks) keeps the
	// shaping smooth without refusing whole blocks.
	return rate.NewLimiter(rate.Limit(bytesPerSec), max(int(bytesPerSec/10), 64<<10))
}

func (t *Torrent) connCount() int { return int(t.slots.Load()) }

// InfoHash is the torrent's v1 info hash.
func (t *Torrent) InfoHash() metainfo.Hash { return t.meta.InfoHash }

// Complete is closed once every piece is verified.
func (t *Torrent) Complete() <-chan struct{} { return t.complete }

// Failed is closed if storage fails; Err then says how. A torrent whose
// storage fails stops verifying pieces (their data cannot be trusted), so
// the caller should stop it.
func (t *Torrent) Failed() <-chan struct{} { return t.failed }

// Err returns the storage failure, if any.
func (t *Torrent) Err() error { return t.disk.err() }

// Stats returns the engine's totals as of the last event.
func (t *Torrent) Stats() engine.Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// now is the engine's clock: time since the torrent started, from the
// monotonic clock.
func (t *Torrent) now() time.Duration { return time.Since(t.start) }

// post hands an event to the loop; false once the torrent is closed.
func (t *Torrent) post(ev event) bool {
	select {
	case t.events <- ev:
		return true
	case <-t.stop:
		if ev.kind == evMessage && ev.msg.Type == wire.Piece {
			t.pool.putDownload(ev.msg.Block)
		}
		return false
	}
}

// loop owns the engine: every engine call happens here.
func (t *Torrent) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.eng.TickInterval(tickEvery))
	defer tick.Stop()
	for {
		select {
		case ev := <-t.events:
			t.handle(ev)
			// Take whatever else is waiting before publishing stats.
			for n := 0; n < 256; n++ {
				select {
				case ev = <-t.events:
					t.handle(ev)
					continue
				default:
				}
				break
			}
		case <-tick.C:
			t.eng.Tick(t.now())
			t.execute()
		case <-t.stop:
			for _, c := range t.conns {
				c.shut()
			}
			t.disk.close()
			return
		}
		t.disk.kick()
		t.mu.Lock()
		t.stats = t.eng.Stats()
		t.mu.Unlock()
	}
}

func (t *Torrent) handle(ev event) {
	now := t.now()
	switch ev.kind {
	case evAdded:
		for _, other := range t.conns {
			if other.peerID == ev.conn.peerID {
				// Both sides dialed each other; one connection is enough.
				ev.conn.shut()
				t.c.unreserve(t)
				return
			}
		}
		t.conns[ev.conn.id] = ev.conn
		t.record(ev.conn)
		t.eng.AddPeer(ev.conn.id, engine.PeerInfo{ID: ev.conn.peerID, Reserved: ev.conn.res}, now)
		t.execute()
	case evMessage:
		if t.conns[ev.conn.id] == nil {
			if ev.msg.Type == wire.Piece {
				t.pool.putDownload(ev.msg.Block)
			}
			return
		}
		t.eng.Receive(ev.conn.id, &ev.msg, now)
		kept := t.execute()
		if ev.msg.Type == wire.Piece && !kept {
			t.pool.putDownload(ev.msg.Block) // not written: duplicate or unrequested
		}
	case evUploaded:
		if t.conns[ev.conn.id] != nil {
			t.eng.UploadDone(ev.conn.id, ev.n, now)
			t.execute()
		}
	case evClosed:
		if t.conns[ev.conn.id] == nil {
			return
		}
		t.forget(ev.conn, false)
		t.execute()
	case evDescribe:
		ev.reply <- t.eng.Describe()
	case evVerified:
		if !ev.ok && ev.data != nil {
			t.eng.FailedPiece(ev.piece, ev.data)
		}
		t.eng.PieceVerified(ev.piece, ev.ok, now)
		if !ev.ok {
			t.log.Warn("piece failed its hash check", "piece", ev.piece)
		} else if t.onPiece != nil {
			t.onPiece(ev.piece, t.eng.Have().Count())
		}
		t.execute()
	}
}

// forget removes a connection from the engine and keeps its totals.
func (t *Torrent) forget(c *conn, ban bool) {
	if ps, ok := t.eng.PeerStats(c.id); ok {
		rec := t.record(c)
		rec.Downloaded += ps.Downloaded
		rec.Uploaded += ps.Uploaded
		rec.HashFails += ps.HashFails
		rec.Banned = rec.Banned || ban
	}
	delete(t.conns, c.id)
	c.shut()
	t.eng.RemovePeer(c.id, t.now())
	t.c.unreserve(t)
}

func (t *Torrent) record(c *conn) *PeerRecord {
	rec := t.history[c.addr]
	if rec == nil {
		rec = &PeerRecord{Addr: c.addr.String(), PeerID: hex.EncodeToString(c.peerID[:])}
		t.history[c.addr] = rec
	}
	return rec
}

// execute carries out the engine's actions. It reports whether one of
// them kept a block buffer (a Write), which then belongs to the disk.
//
// Carrying out a Close removes the connection from the engine, which
// then acts again: the blocks it had asked of that peer are asked of
// others. execute takes actions until there are none, so those go out
// now rather than at the next message or tick.
func (t *Torrent) execute() (keptBlock bool) {
	for {
		t.acts = t.eng.Actions(t.acts[:0])
		if len(t.acts) == 0 {
			return keptBlock
		}
		if t.carryOut(t.acts) {
			keptBlock = true
		}
		// Drop what the actions point to (block buffers now the
		// disk's, messages sent): the next Actions hands this array
		// to the engine.
		clear(t.acts)
	}
}

// carryOut does what acts ask, and reports whether a Write kept a block.
func (t *Torrent) carryOut(acts []engine.Action) (keptBlock bool) {
	for i := range acts {
		a := &acts[i]
		switch a.Kind {
		case engine.Send:
			if c := t.conns[a.Conn]; c != nil {
				c.push(outItem{frame: wire.AppendMessage(nil, &a.Msg)})
			}
		case engine.Upload:
			if c := t.conns[a.Conn]; c != nil {
				up := *a
				c.push(outItem{upload: &up})
			}
		case engine.Write:
			t.disk.write(a.Piece, a.Begin, a.Data)
			keptBlock = true
		case engine.Verify:
			t.disk.verify(int(a.Piece))
		case engine.Close:
			c := t.conns[a.Conn]
			if c == nil {
				continue
			}
			if a.Ban {
				t.ban(c)
				t.log.Warn("banned peer", "addr", c.addr, "reason", a.Reason)
			} else {
				t.log.Debug("closing peer", "addr", c.addr, "reason", a.Reason)
			}
			t.forget(c, a.Ban)
		case engine.Completed:
			t.completeOnce.Do(func() { close(t.complete) })
		case engine.Shape:
			if c := t.conns[a.Conn]; c != nil {
				c.shape(a.Rate)
			}
		}
	}
	return keptBlock
}

// A ban covers two identities: the peer id, and the address. The address
// is the IP unless it is loopback, where every peer of a lab shares one
// and only the port tells them apart.
func idBanKey(id [20]byte) string { return "id:" + string(id[:]) }

func addrBanKey(addr netip.AddrPort) string {
	if a := addr.Addr(); a.IsValid() && !a.IsLoopback() {
		return "ip:" + a.Unmap().String()
	}
	if addr.IsValid() {
		return "addr:" + addr.String()
	}
	return ""
}

func (t *Torrent) ban(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.banned[idBanKey(c.peerID)] = true
	if k := addrBanKey(c.addr); k != "" {
		t.banned[k] = true
	}
}

// isBanned reports whether addr, or peerID if known, is banned.
func (t *Torrent) isBanned(addr netip.AddrPort, peerID *[20]byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := addrBanKey(addr); k != "" && t.banned[k] {
		return true
	}
	return peerID != nil && t.banned[idBanKey(*peerID)]
}

// Peers returns the record of every peer the torrent saw. The records
// belong to the torrent's loop while it runs, so Peers waits for Close.
func (t *Torrent) Peers() []PeerRecord {
	<-t.done
	var out []PeerRecord
	for _, r := range t.history {
		out = append(out, *r)
	}
	return out
}

// redialAfter is how long an address rests after a dial before a tracker
// or the caller can have it dialed again.
const redialAfter = time.Minute

// AddPeers dials peers, skipping banned addresses and those dialed in the
// last minute, and stopping at the connection cap. A second connection
// to a peer already connected is dropped after its handshake.
func (t *Torrent) AddPeers(addrs []netip.AddrPort) {
	now := time.Now()
	for _, a := range addrs {
		if t.isBanned(a, nil) {
			continue
		}
		t.mu.Lock()
		last, seen := t.dialed[a]
		start := !t.closed && !(seen && now.Sub(last) < redialAfter)
		if start {
			t.dialed[a] = now
			t.dialers.Add(1)
		}
		t.mu.Unlock()
		if start {
			go func() {
				defer t.dialers.Done()
				t.c.dial(t, a)
			}()
		}
	}
}

// Close stops the torrent: connections are closed, dials under way
// (AddPeers, KeepPeers) end and are waited for, pending writes finish,
// and storage is synced (not closed: the caller owns it).
func (t *Torrent) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.done
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	close(t.stop)
	t.dialers.Wait()
	<-t.done
	t.c.removeTorrent(t)
	if err := t.store.Sync(); err != nil {
		return fmt.Errorf("live: syncing storage: %w", err)
	}
	return t.disk.err()
}

// Describe returns the engine's state dump (see engine.Torrent.Describe),
// taken on the loop goroutine.
func (t *Torrent) Describe() string {
	reply := make(chan string, 1)
	select {
	case t.events <- event{kind: evDescribe, reply: reply}:
		return <-reply
	case <-t.done:
		return "closed"
	}
}
