package live

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"hash"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/internal/mbsha1"
	"github.com/swarmlab/swarmlab/internal/warmhash"
	"github.com/swarmlab/swarmlab/storage"
)

// disk writes blocks and verifies pieces for one torrent, on a few
// workers. Every piece belongs to one worker, which takes the piece's
// writes and its Verify in the order the loop issued them, so a Verify
// always sees the writes of its blocks; different pieces' workers run in
// parallel, so that hashing uses every core and a worker waiting on a
// write does not hold up the others.
//
// A worker keeps a piece's blocks until the piece is complete, hashing
// them in order as they come, and then writes the piece in one call and
// checks the hash. So a piece is checked from the bytes that were
// written rather than read back from storage (a second pass over memory,
// and with direct writes, storage.FileOptions.DirectWrites, a trip to the
// disk), blocks that arrive out of order (a libtorrent seed sends some)
// cost nothing, and the disk sees one write per piece rather than one per
// run of blocks that happened to arrive together: about half as many
// writes for a download from libtorrent, and with direct writes every
// one of them is a request to the (on a VM, virtual) device.
type disk struct {
	t       *Torrent
	workers []*diskWorker
	wg      sync.WaitGroup
	// maxHeld bounds the blocks each worker keeps unwritten.
	maxHeld int

	// batch verifies complete pieces several at a time where that is
	// faster (internal/mbsha1); nil where it is not, and workers then
	// hash each piece's blocks as they come.
	batch *hashBatcher

	errMu    sync.Mutex
	firstErr error
}

type diskJob struct {
	verify bool // a Verify of piece; a write of data at off otherwise
	piece  int
	off    int64
	data   []byte
}

// maxRun bounds one write.
const maxRun = 1 << 20

// minDiskWorkers: with direct writes a worker spends much of its time
// waiting for the device, so a 2-core machine still wants a few of them
// for writes to overlap.
const minDiskWorkers = 4

func newDisk(t *Torrent) *disk {
	n := max(minDiskWorkers, runtime.GOMAXPROCS(0))
	d := &disk{t: t,
		// Half the budget of unwritten blocks at most, so that
		// whatever the workers hold, readers can still take blocks
		// in, including the ones that complete the pieces held.
		maxHeld: max(1, maxPendingBlocks/2/n)}
	if mbsha1.Multi() {
		d.batch = newHashBatcher(d, hashBatchWait, time.Now)
	}
	for range n {
		w := &diskWorker{d: d, wake: make(chan struct{}, 1), pieces: map[int]*pieceState{}}
		d.workers = append(d.workers, w)
		d.wg.Go(w.loop)
	}
	return d
}

func (d *disk) worker(piece int) *diskWorker {
	return d.workers[piece%len(d.workers)]
}

// write queues a received block; its buffer goes back to the pool once
// it is written and hashed. Like verify, it leaves waking the worker to
// kick.
func (d *disk) write(piece, begin uint32, data []byte) {
	d.worker(int(piece)).push(diskJob{piece: int(piece), off: int64(piece)*d.t.layout.PieceLength + int64(begin), data: data})
}

func (d *disk) verify(piece int) { d.worker(piece).push(diskJob{verify: true, piece: piece}) }

// kick wakes the workers that have jobs. The loop calls it once per
// batch of events rather than once per block: waking a worker for every
// block made tens of thousands of context switches per gigabyte, and
// the worker then found a batch of one.
func (d *disk) kick() {
	for _, w := range d.workers {
		w.mu.Lock()
		n := len(w.jobs)
		w.mu.Unlock()
		if n > 0 {
			w.signal()
		}
	}
}

func (d *disk) fail(err error) {
	d.errMu.Lock()
	if d.firstErr == nil {
		d.firstErr = err
		d.t.log.Error("storage failed", "err", err)
		d.t.failOnce.Do(func() { close(d.t.failed) })
	}
	d.errMu.Unlock()
}

func (d *disk) err() error {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return d.firstErr
}

// close finishes the queued jobs, writes what the workers hold, and stops
// them.
func (d *disk) close() {
	for _, w := range d.workers {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		w.signal()
	}
	d.wg.Wait()
	if d.batch != nil {
		d.batch.close()
	}
}

// diskWorker is one of a disk's workers.
type diskWorker struct {
	d      *disk
	mu     sync.Mutex
	jobs   []diskJob
	closed bool
	wake   chan struct{} // cap 1: there are jobs, or the worker must stop

	// Owned by the worker's goroutine.
	pieces map[int]*pieceState // pieces with blocks held or hashed
	held   int                 // blocks held, over all pieces
	iov    [][]byte
	buf    []byte // for reading back what is not in memory
}

// pieceState is what a worker has of a piece not yet verified.
type pieceState struct {
	// h is the SHA-1 of the piece's first next bytes (nil until a byte
	// is hashed).
	h    hash.Hash
	next int64
	// blocks are held, unwritten, in order of offset; the first hashed
	// of them are covered by h.
	blocks []diskJob
	hashed int
}

func (w *diskWorker) push(j diskJob) {
	w.mu.Lock()
	w.jobs = append(w.jobs, j)
	w.mu.Unlock()
}

func (w *diskWorker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *diskWorker) loop() {
	var batch []diskJob
	for {
		<-w.wake
		w.mu.Lock()
		batch, w.jobs = w.jobs, batch[:0]
		closed := w.closed
		w.mu.Unlock()
		for _, j := range batch {
			if j.verify {
				w.verify(j.piece)
			} else {
				w.add(j)
			}
		}
		clear(batch)
		if closed {
			for _, ps := range w.pieces {
				w.writeOut(ps)
			}
			return
		}
	}
}

// start is the offset of a piece in the content.
func (w *diskWorker) start(piece int) int64 { return int64(piece) * w.d.t.layout.PieceLength }

// add takes a received block: it holds it with its piece and hashes what
// it lets through in order. Past the bound on held blocks, the piece
// holding most is written out.
func (w *diskWorker) add(j diskJob) {
	ps := w.pieces[j.piece]
	if ps == nil {
		ps = &pieceState{}
		w.pieces[j.piece] = ps
	}
	begin := j.off - w.start(j.piece)
	i, dup := slices.BinarySearchFunc(ps.blocks, j.off, func(b diskJob, off int64) int { return cmp.Compare(b.off, off) })
	if begin < ps.next || dup {
		// Bytes hashed or held already, written again: a piece
		// downloaded anew after it failed. Start it over.
		w.writeOut(ps)
		ps.h = nil
		ps.next = 0
		i = 0
	}
	ps.blocks = slices.Insert(ps.blocks, i, j)
	w.held++
	// With batches, a piece is hashed once complete, in memory still
	// unless it was written out early.
	for w.d.batch == nil && ps.hashed < len(ps.blocks) && ps.blocks[ps.hashed].off-w.start(j.piece) == ps.next {
		b := ps.blocks[ps.hashed].data
		if ps.h == nil {
			ps.h = sha1.New()
		}
		warmhash.Write(ps.h, b)
		ps.next += int64(len(b))
		ps.hashed++
	}
	if w.held > w.d.maxHeld {
		// Many pieces under way (many slow peers): write one out.
		// Its hashed prefix stays valid; the rest is read back when
		// the piece is verified.
		var most *pieceState
		for _, p := range w.pieces {
			if most == nil || len(p.blocks) > len(most.blocks) {
				most = p
			}
		}
		w.writeOut(most)
	}
}

// writeOut writes the blocks a piece holds and gives them back.
func (w *diskWorker) writeOut(ps *pieceState) {
	w.write(ps.blocks)
	w.release(ps)
}

// release gives back the blocks a piece holds, written or not.
func (w *diskWorker) release(ps *pieceState) {
	for _, b := range ps.blocks {
		w.d.t.pool.putDownload(b.data)
	}
	w.held -= len(ps.blocks)
	clear(ps.blocks)
	ps.blocks = ps.blocks[:0]
	ps.hashed = 0
}

// write writes blocks, sorted by offset, a run of adjacent ones (up to
// maxRun) per call.
func (w *diskWorker) write(blocks []diskJob) {
	for len(blocks) > 0 {
		n, size := 1, len(blocks[0].data)
		for n < len(blocks) && blocks[n].off == blocks[n-1].off+int64(len(blocks[n-1].data)) && size+len(blocks[n].data) <= maxRun {
			size += len(blocks[n].data)
			n++
		}
		w.writeRun(blocks[:n], size)
		blocks = blocks[n:]
	}
}

func (w *diskWorker) writeRun(run []diskJob, size int) {
	t := w.d.t
	off := run[0].off
	var err error
	if vw, ok := t.store.(storage.VectorWriter); ok {
		w.iov = w.iov[:0]
		for _, b := range run {
			w.iov = append(w.iov, b.data)
		}
		_, err = vw.WriteAtv(w.iov, off)
		clear(w.iov)
	} else {
		for _, b := range run {
			if _, err = t.store.WriteAt(b.data, b.off); err != nil {
				break
			}
		}
	}
	if err != nil {
		w.d.fail(fmt.Errorf("live: writing %d bytes at %d: %w", size, off, err))
	}
}

// verify writes a complete piece, finishes its hash and reports the
// result to the loop. Whatever of the piece is not in memory, because it
// was written out early or never hashed, is read back from storage.
func (w *diskWorker) verify(piece int) {
	t := w.d.t
	ps := w.pieces[piece]
	delete(w.pieces, piece)
	if ps == nil {
		ps = &pieceState{}
	}
	w.write(ps.blocks)
	size := t.layout.PieceSize(piece)
	if w.d.batch != nil && ps.whole(w.start(piece), size) {
		// The batch gives the blocks back once it has hashed them.
		w.held -= len(ps.blocks)
		w.d.batch.add(heldPiece{piece: piece, blocks: ps.blocks})
		return
	}
	if ps.h == nil {
		ps.h = sha1.New()
	}
	at := ps.next
	for _, b := range ps.blocks[ps.hashed:] {
		// Blocks past a gap: hash the gap from storage, then them.
		begin := b.off - w.start(piece)
		w.readBack(ps.h, piece, at, begin)
		warmhash.Write(ps.h, b.data)
		at = begin + int64(len(b.data))
	}
	w.readBack(ps.h, piece, at, size)
	w.release(ps)
	var sum [sha1.Size]byte
	ok := [sha1.Size]byte(ps.h.Sum(sum[:0])) == t.meta.Info.PieceHash(piece)
	var data []byte
	if !ok && w.d.err() == nil {
		// The engine digests a failed piece's blocks to find, once the
		// piece verifies, which of their senders lied (smart ban). It is
		// written by now; failures are rare enough to read it back.
		data = make([]byte, size)
		if n, _ := t.store.ReadAt(data, w.start(piece)); int64(n) != size {
			data = nil
		}
	}
	w.d.report(piece, ok, data)
}

// report tells the loop whether a piece verified; data is the failed
// piece's bytes for the smart ban, when they could be had.
func (d *disk) report(piece int, ok bool, data []byte) {
	if d.err() != nil {
		// After a storage failure a bad hash may be ours, not the
		// peers': report nothing rather than blame them.
		return
	}
	d.t.post(event{kind: evVerified, piece: piece, ok: ok, data: data})
}

// whole reports whether the piece's blocks, all held, are all of it: the
// piece starting at start, size bytes long.
func (ps *pieceState) whole(start, size int64) bool {
	at := start
	for _, b := range ps.blocks {
		if b.off != at {
			return false
		}
		at += int64(len(b.data))
	}
	return ps.next == 0 && at == start+size
}

// readBack hashes bytes [from, to) of piece from storage.
func (w *diskWorker) readBack(h hash.Hash, piece int, from, to int64) {
	if to <= from {
		return
	}
	t := w.d.t
	if int64(cap(w.buf)) < to-from {
		w.buf = make([]byte, t.layout.PieceLength)
	}
	buf := w.buf[:to-from]
	n, err := t.store.ReadAt(buf, w.start(piece)+from)
	if int64(n) < to-from {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.d.fail(fmt.Errorf("live: verify piece %d: %w", piece, err))
		return
	}
	h.Write(buf)
}
