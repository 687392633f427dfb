package live

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/internal/mbsha1"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

// countingStore counts reads, to tell whether a piece was checked from
// memory or read back; it keeps the wrapped storage's vectored writes.
type countingStore struct {
	storage.Storage
	reads atomic.Int64
}

func (c *countingStore) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.Storage.ReadAt(p, off)
}

func (c *countingStore) WriteAtv(bufs [][]byte, off int64) (int, error) {
	if vw, ok := c.Storage.(storage.VectorWriter); ok {
		return vw.WriteAtv(bufs, off)
	}
	n := 0
	for _, b := range bufs {
		k, err := c.Storage.WriteAt(b, off+int64(n))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// diskRig is a disk with just enough of a Torrent around it: verify
// results arrive on events.
type diskRig struct {
	t     *Torrent
	d     *disk
	tor   *storagetest.Torrent
	store *countingStore
}

// The disk's two ways of verifying: each piece hashed as its blocks come,
// or complete pieces hashed in batches (hashBatcher). Both are tested on
// every processor; where the multi-lane kernel is missing, batches fall
// back to hashing one piece at a time.
var verifyModes = []struct {
	name    string
	batched bool
}{{"streamed", false}, {"batched", true}}

func newDiskRig(t *testing.T, tor *storagetest.Torrent, st storage.Storage, maxHeld int, batched bool) *diskRig {
	t.Helper()
	info := tor.Info
	tt := &Torrent{
		meta:   &metainfo.MetaInfo{Info: *info},
		layout: engine.Layout{PieceLength: info.PieceLength, TotalLength: info.TotalLength()},
		pool:   newBlockPool(),
		log:    slog.New(slog.DiscardHandler),
		events: make(chan event, 1024),
		stop:   make(chan struct{}),
		failed: make(chan struct{}),
	}
	cs := &countingStore{Storage: st}
	tt.store = cs
	d := newDisk(tt)
	if maxHeld > 0 {
		d.maxHeld = maxHeld
	}
	d.batch = nil
	if batched {
		d.batch = newHashBatcher(d, hashBatchWait, time.Now)
	}
	tt.disk = d
	return &diskRig{t: tt, d: d, tor: tor, store: cs}
}

// write queues the block of piece p at begin, n bytes of content (or
// of data, if not nil), in a buffer from the pool as a reader would.
func (r *diskRig) write(p int, begin, n int, data []byte) {
	b, _ := r.t.pool.getDownload(n, r.t.stop)
	if data == nil {
		off := int(int64(p)*r.tor.Info.PieceLength) + begin
		data = r.tor.Content[off : off+n]
	}
	copy(b, data)
	r.d.write(uint32(p), uint32(begin), b)
}

// result waits for a verify result.
func (r *diskRig) result(t *testing.T) (int, bool) {
	t.Helper()
	ev := r.event(t)
	return ev.piece, ev.ok
}

func (r *diskRig) event(t *testing.T) event {
	t.Helper()
	r.d.kick()
	ev := <-r.t.events
	if ev.kind != evVerified {
		t.Fatalf("event %v, want a verify result", ev.kind)
	}
	return ev
}

// close stops the workers and checks that every block went back to the
// pool.
func (r *diskRig) close(t *testing.T) {
	t.Helper()
	r.d.close()
	if n := len(r.t.pool.tokens); n != 0 {
		t.Errorf("%d blocks not given back to the pool", n)
	}
	if err := r.d.err(); err != nil {
		t.Errorf("storage error: %v", err)
	}
}

// blockOffsets returns the offsets of piece p's blocks.
func blockOffsets(tor *storagetest.Torrent, p int) []int {
	var out []int
	for b := 0; int64(b) < tor.Info.PieceSize(p); b += engine.BlockSize {
		out = append(out, b)
	}
	return out
}

func blockLen(tor *storagetest.Torrent, p, begin int) int {
	return int(min(int64(engine.BlockSize), tor.Info.PieceSize(p)-int64(begin)))
}

func TestDiskVerifiesFromMemory(t *testing.T) {
	// Eight pieces of four blocks and a short last piece.
	tor := storagetest.SingleFile("d.bin", 8*64<<10+5000, 64<<10, 1)
	for _, tc := range []struct {
		name    string
		shuffle bool
		direct  bool
		memory  bool
	}{
		{name: "in-order"},
		{name: "shuffled", shuffle: true},
		{name: "direct", shuffle: true, direct: true},
		{name: "memory", shuffle: true, memory: true},
	} {
		for _, mode := range verifyModes {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) { testDiskVerifiesFromMemory(t, tor, mode.batched, tc.shuffle, tc.direct, tc.memory) })
		}
	}
}

func testDiskVerifiesFromMemory(t *testing.T, tor *storagetest.Torrent, batched, shuffle, direct, memory bool) {
	var st storage.Storage
	var err error
	if memory {
		st, err = storage.NewMemory(tor.Info)
	} else {
		st, err = storage.OpenFiles(t.TempDir(), tor.Info, storage.FileOptions{DirectWrites: direct})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newDiskRig(t, tor, st, 0, batched)
	rng := rand.New(rand.NewPCG(3, 4))
	n := tor.Info.NumPieces()
	for p := range n {
		offs := blockOffsets(tor, p)
		if shuffle {
			rng.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
		}
		for _, b := range offs {
			r.write(p, b, blockLen(tor, p, b), nil)
		}
		r.d.verify(p)
	}
	for range n {
		if p, ok := r.result(t); !ok {
			t.Errorf("piece %d failed", p)
		}
	}
	r.close(t)
	if got := r.store.reads.Load(); got != 0 {
		t.Errorf("%d reads: pieces were read back", got)
	}
	got := make([]byte, len(tor.Content))
	if _, err := st.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tor.Content) {
		t.Error("storage does not hold the content")
	}
}

func TestDiskBadPieceThenGood(t *testing.T) {
	for _, mode := range verifyModes {
		t.Run(mode.name, func(t *testing.T) { testDiskBadPieceThenGood(t, mode.batched) })
	}
}

func testDiskBadPieceThenGood(t *testing.T, batched bool) {
	tor := storagetest.SingleFile("b.bin", 2*64<<10, 64<<10, 2)
	st, err := storage.NewMemory(tor.Info)
	if err != nil {
		t.Fatal(err)
	}
	r := newDiskRig(t, tor, st, 0, batched)
	// A bad block in the middle, then the piece again, in another order,
	// as the engine asks for it once the first copy failed.
	bad := bytes.Repeat([]byte{0xee}, engine.BlockSize)
	offs := blockOffsets(tor, 1)
	for _, b := range offs {
		var data []byte
		if b == offs[2] {
			data = bad
		}
		r.write(1, b, blockLen(tor, 1, b), data)
	}
	r.d.verify(1)
	ev := r.event(t)
	if ev.piece != 1 || ev.ok {
		t.Fatalf("bad piece: %d, %v; want 1, false", ev.piece, ev.ok)
	}
	// The smart ban needs the bytes that failed.
	want := bytes.Clone(tor.Content[64<<10 : 128<<10])
	copy(want[offs[2]:], bad)
	if !bytes.Equal(ev.data, want) {
		t.Errorf("failed piece's data: %d bytes, not the bytes written", len(ev.data))
	}
	for i := len(offs) - 1; i >= 0; i-- {
		r.write(1, offs[i], blockLen(tor, 1, offs[i]), nil)
	}
	r.d.verify(1)
	if p, ok := r.result(t); p != 1 || !ok {
		t.Fatalf("good piece: %d, %v; want 1, true", p, ok)
	}
	// A block written twice before its piece completes (the first copy
	// bad) must not make the piece pass or fail on the wrong copy.
	for _, b := range offs[:2] {
		r.write(0, b, blockLen(tor, 0, b), nil)
	}
	r.write(0, offs[3], engine.BlockSize, bad)
	r.write(0, offs[3], engine.BlockSize, nil)
	for _, b := range offs[2:3] {
		r.write(0, b, blockLen(tor, 0, b), nil)
	}
	r.d.verify(0)
	if p, ok := r.result(t); p != 0 || !ok {
		t.Fatalf("piece rewritten in part: %d, %v; want 0, true", p, ok)
	}
	r.close(t)
}

func TestDiskWritesOutPastBound(t *testing.T) {
	// Blocks of many pieces interleaved, with room to hold only three:
	// pieces are written out before they complete, and what is not in
	// memory at the end is read back. Every piece still verifies, and a
	// piece with a bad block still fails.
	for _, mode := range verifyModes {
		t.Run(mode.name, func(t *testing.T) { testDiskWritesOutPastBound(t, mode.batched) })
	}
}

func testDiskWritesOutPastBound(t *testing.T, batched bool) {
	tor := storagetest.SingleFile("m.bin", 6*64<<10, 64<<10, 5)
	st, err := storage.OpenFiles(t.TempDir(), tor.Info, storage.FileOptions{DirectWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newDiskRig(t, tor, st, 3, batched)
	n := tor.Info.NumPieces()
	rng := rand.New(rand.NewPCG(5, 6))
	type blk struct{ p, b int }
	var all []blk
	for p := range n {
		for _, b := range blockOffsets(tor, p) {
			all = append(all, blk{p, b})
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	left := map[int]int{}
	for _, x := range all {
		left[x.p]++
	}
	for _, x := range all {
		var data []byte
		if x.p == 4 && x.b == 0 {
			data = bytes.Repeat([]byte{1}, engine.BlockSize)
		}
		r.write(x.p, x.b, blockLen(tor, x.p, x.b), data)
		if left[x.p]--; left[x.p] == 0 {
			r.d.verify(x.p)
		}
	}
	for range n {
		p, ok := r.result(t)
		if ok != (p != 4) {
			t.Errorf("piece %d: ok %v", p, ok)
		}
	}
	r.close(t)
	if r.store.reads.Load() == 0 {
		t.Error("nothing was read back, so nothing was written out early")
	}
}

// TestHashBatcherWaitsOnlyForFastPieces: pieces that come slowly for the
// wait are hashed as they come; pieces that come fast wait to be hashed
// in a batch. The wait is an hour here, and the pieces' clock is a fake
// one (2 hours apart, then a minute), so that only a full batch, never
// the timer, reports a waiting piece.
func TestHashBatcherWaitsOnlyForFastPieces(t *testing.T) {
	tor := storagetest.SingleFile("h.bin", 40*engine.BlockSize, engine.BlockSize, 3)
	st, err := storage.NewMemory(tor.Info)
	if err != nil {
		t.Fatal(err)
	}
	r := newDiskRig(t, tor, st, 0, true)
	clock := time.Unix(0, 0)
	b := newHashBatcher(r.d, time.Hour, func() time.Time { return clock })
	r.d.batch = b
	add := func(p int, gap time.Duration) (reported int) {
		clock = clock.Add(gap)
		buf, _ := r.t.pool.getDownload(engine.BlockSize, r.t.stop)
		copy(buf, tor.Content[p*engine.BlockSize:])
		b.add(heldPiece{piece: p, blocks: []diskJob{{piece: p, off: int64(p) * engine.BlockSize, data: buf}}})
		for len(r.t.events) > 0 {
			if ev := <-r.t.events; !ev.ok {
				t.Errorf("piece %d failed", ev.piece)
			}
			reported++
		}
		return reported
	}
	for p := range 4 {
		if n := add(p, 2*time.Hour); n != 1 {
			t.Fatalf("slow piece %d: %d reported at once, want 1", p, n)
		}
	}
	waited, full := false, false
	for p := 4; p < 40; p++ {
		switch add(p, time.Minute) {
		case 0:
			waited = true
		case mbsha1.Lanes:
			full = true
		}
	}
	if !waited || !full {
		t.Errorf("fast pieces: some waited %v, a full batch was hashed %v; want both", waited, full)
	}
	r.close(t) // gives back the pieces still waiting
}
