package live

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/wire"
)

// Handshake and dial limits.
const (
	handshakeTimeout = 10 * time.Second
	dialTimeout      = 10 * time.Second
)

// Config sets up a Client.
type Config struct {
	// ListenAddr is where to accept peers, e.g. "127.0.0.1:6881"; empty
	// means do not listen.
	ListenAddr string
	// PeerID is ours; zero means a fresh one in Azureus style (BEP 20).
	PeerID [20]byte
	// ClientName goes into the extension handshake.
	ClientName string
	// MaxConns caps connections over all torrents (0: 200).
	MaxConns int
	// MaxUp and MaxDown limit the whole client's rates in bytes/s (0: none).
	MaxUp, MaxDown int64
	Logger         *slog.Logger
}

// Client is a BitTorrent session: one listener, one peer id, any number
// of torrents.
type Client struct {
	cfg     Config
	log     *slog.Logger
	ln      net.Listener
	upLimit *rate.Limiter
	dnLimit *rate.Limiter

	mu       sync.Mutex
	torrents map[metainfo.Hash]*Torrent
	nconns   int
	nextID   engine.ConnID
	closed   bool
	wg       sync.WaitGroup

	// stopped is cancelled by Close, which ends the incoming handshakes
	// under way rather than waiting out their timeout.
	stopped context.Context
	stop    context.CancelFunc
}

// NewClient starts a client, listening if cfg.ListenAddr is set.
func NewClient(cfg Config) (*Client, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 200
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "swarmlab"
	}
	if cfg.PeerID == ([20]byte{}) {
		cfg.PeerID = NewPeerID()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{cfg: cfg, log: log, torrents: map[metainfo.Hash]*Torrent{},
		upLimit: limiter(cfg.MaxUp), dnLimit: limiter(cfg.MaxDown)}
	c.stopped, c.stop = context.WithCancel(context.Background())
	if cfg.ListenAddr != "" {
		ln, err := net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("live: listening: %w", err)
		}
		c.ln = ln
		c.wg.Go(c.acceptLoop)
	}
	return c, nil
}

// PeerIDPrefix starts every swarmlab peer id, in the Azureus style BEP 20
// describes: client "SL", version 0001.
const PeerIDPrefix = "-SL0001-"

// NewPeerID returns a peer id: PeerIDPrefix and 12 random bytes.
func NewPeerID() [20]byte {
	var id [20]byte
	copy(id[:], PeerIDPrefix)
	rand.Read(id[len(PeerIDPrefix):])
	return id
}

// PeerID is the client's peer id.
func (c *Client) PeerID() [20]byte { return c.cfg.PeerID }

// Addr is the listening address, or nil.
func (c *Client) Addr() net.Addr {
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

// ListenPort is the listening port, or 0.
func (c *Client) ListenPort() int {
	if c.ln == nil {
		return 0
	}
	_, port, _ := net.SplitHostPort(c.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return p
}

// AddTorrent starts downloading or seeding a torrent.
func (c *Client) AddTorrent(cfg TorrentConfig) (*Torrent, error) {
	if cfg.Meta == nil || cfg.Storage == nil {
		return nil, errors.New("live: AddTorrent needs Meta and Storage")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("live: client closed")
	}
	if c.torrents[cfg.Meta.InfoHash] != nil {
		return nil, fmt.Errorf("live: torrent %s already added", cfg.Meta.InfoHash)
	}
	t, err := newTorrent(c, cfg)
	if err != nil {
		return nil, err
	}
	c.torrents[cfg.Meta.InfoHash] = t
	return t, nil
}

func (c *Client) removeTorrent(t *Torrent) {
	c.mu.Lock()
	if c.torrents[t.meta.InfoHash] == t {
		delete(c.torrents, t.meta.InfoHash)
	}
	c.mu.Unlock()
}

// Close stops every torrent and the listener.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ts := make([]*Torrent, 0, len(c.torrents))
	for _, t := range c.torrents {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	c.stop()
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.Close())
	}
	if c.ln != nil {
		c.ln.Close()
	}
	c.wg.Wait()
	return errors.Join(errs...)
}

// reserve takes a connection slot for t; false when a cap is reached.
func (c *Client) reserve(t *Torrent) (engine.ConnID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.nconns >= c.cfg.MaxConns || t.connCount() >= t.maxConns {
		return 0, false
	}
	c.nconns++
	t.slots.Add(1)
	c.nextID++
	return c.nextID, true
}

// unreserve frees a slot reserve took, for a connection that failed or
// has ended.
func (c *Client) unreserve(t *Torrent) {
	c.mu.Lock()
	c.nconns--
	c.mu.Unlock()
	t.slots.Add(-1)
}

func (c *Client) acceptLoop() {
	for {
		nc, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.wg.Go(func() { c.accept(nc) })
	}
}

// accept answers an incoming connection: read the start of its handshake,
// find the torrent, answer, and read its peer id.
func (c *Client) accept(nc net.Conn) {
	// Closing the client ends the handshake at once: Close waits for
	// this goroutine.
	hs := startHandshake(c.stopped, nc)
	res, ih, err := wire.ReadHandshakeStart(nc)
	if err != nil {
		hs.abandon(c, nil)
		return
	}
	c.mu.Lock()
	t := c.torrents[ih]
	c.mu.Unlock()
	addr, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	if t == nil || t.isBanned(addr, nil) {
		hs.abandon(c, nil)
		return
	}
	id, ok := c.reserve(t)
	if !ok {
		hs.abandon(c, nil)
		return
	}
	if _, err := nc.Write(wire.AppendHandshake(nil, c.ourHandshake(ih))); err != nil {
		hs.abandon(c, t)
		return
	}
	peerID, err := wire.ReadPeerID(nc)
	if !hs.done() {
		err = net.ErrClosed // the client closed; nc is closed
	}
	if err != nil || peerID == c.cfg.PeerID || t.isBanned(addr, &peerID) {
		hs.abandon(c, t)
		return
	}
	c.register(t, id, nc, peerID, res)
}

// handshake is a connection whose handshake is under way, in a goroutine
// that Close waits for: it ends at the handshake timeout, or at once when
// ctx (the client's or the torrent's) ends.
type handshake struct {
	nc      net.Conn
	release func() bool
}

func startHandshake(ctx context.Context, nc net.Conn) handshake {
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	return handshake{nc: nc, release: context.AfterFunc(ctx, func() { nc.Close() })}
}

// done ends the handshake's watch on ctx. It reports false if ctx ended
// first, and nc is closed then.
func (h handshake) done() bool { return h.release() }

// abandon gives the connection up: it frees the slot reserved for t, if
// t is not nil, and closes nc.
func (h handshake) abandon(c *Client, t *Torrent) {
	h.release()
	if t != nil {
		c.unreserve(t)
	}
	h.nc.Close()
}

func (c *Client) ourHandshake(ih metainfo.Hash) wire.Handshake {
	return wire.Handshake{
		Reserved: wire.Reserved{}.WithExtensions(true).WithFast(true),
		InfoHash: ih,
		PeerID:   c.cfg.PeerID,
	}
}

// dial connects to a peer for t and returns the connection, or nil if
// dialing, the handshake or registering failed.
func (c *Client) dial(t *Torrent, addr netip.AddrPort) *conn {
	id, ok := c.reserve(t)
	if !ok {
		return nil
	}
	d := net.Dialer{Timeout: dialTimeout}
	nc, err := d.DialContext(t.ctx, "tcp", addr.String())
	if err != nil {
		c.unreserve(t)
		t.log.Debug("dial failed", "addr", addr, "err", err)
		return nil
	}
	// Closing the torrent ends the handshake at once: Close waits for
	// its dialers.
	hs := startHandshake(t.ctx, nc)
	if _, err := nc.Write(wire.AppendHandshake(nil, c.ourHandshake(t.meta.InfoHash))); err != nil {
		hs.abandon(c, t)
		return nil
	}
	h, err := wire.ReadHandshake(nc)
	if !hs.done() {
		err = net.ErrClosed // the torrent closed; nc is closed
	}
	if err != nil || h.InfoHash != t.meta.InfoHash || h.PeerID == c.cfg.PeerID || t.isBanned(addr, &h.PeerID) {
		hs.abandon(c, t)
		return nil
	}
	return c.register(t, id, nc, h.PeerID, h.Reserved)
}

// register starts a handshaken connection's reader and writer and tells
// the torrent. It returns the connection, or nil if the torrent stopped.
func (c *Client) register(t *Torrent, id engine.ConnID, nc net.Conn, peerID [20]byte, res wire.Reserved) *conn {
	nc.SetDeadline(time.Time{})
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	cn := newConn(t, id, nc, peerID, res)
	if !t.post(event{kind: evAdded, conn: cn}) {
		c.unreserve(t)
		nc.Close()
		return nil
	}
	lim := wire.Limits{NumPieces: t.layout.NumPieces()}
	go cn.readLoop(lim, []*rate.Limiter{c.dnLimit, t.downLimit})
	go cn.writeLoop([]*rate.Limiter{c.upLimit, t.upLimit, cn.up})
	return cn
}
