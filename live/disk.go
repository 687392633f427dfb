package live

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/swarmlab/swarmlab/storage"
)

// disk writes blocks and verifies pieces for one torrent. Jobs run in the
// order the loop issued them, so a piece's Verify always follows the
// writes of its blocks; the hashing itself is handed to a pool of
// workers, one per core, so that the network side keeps going while
// pieces are checked.
type disk struct {
	t      *Torrent
	mu     sync.Mutex
	jobs   []diskJob
	wake   chan struct{}
	closed bool
	done   chan struct{}

	// staged is a run of adjacent blocks waiting to be written together;
	// only the disk loop touches it.
	staged    []byte
	stagedOff int64

	hashJobs chan int
	hashers  sync.WaitGroup

	errMu    sync.Mutex
	firstErr error
}

type diskJob struct {
	write  bool
	off    int64
	data   []byte
	verify int
}

func newDisk(t *Torrent) *disk {
	d := &disk{t: t, wake: make(chan struct{}, 1), done: make(chan struct{}), hashJobs: make(chan int, 64),
		staged: make([]byte, 0, maxStaged)}
	for range runtime.GOMAXPROCS(0) {
		d.hashers.Go(d.hashLoop)
	}
	go d.loop()
	return d
}

func (d *disk) push(j diskJob) {
	d.mu.Lock()
	d.jobs = append(d.jobs, j)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *disk) write(piece, begin uint32, data []byte) {
	d.push(diskJob{write: true, off: int64(piece)*d.t.layout.PieceLength + int64(begin), data: data})
}

func (d *disk) verify(piece int) { d.push(diskJob{verify: piece}) }

func (d *disk) loop() {
	defer close(d.done)
	var batch []diskJob
	for {
		<-d.wake
		d.mu.Lock()
		batch, d.jobs = d.jobs, batch[:0]
		closed := d.closed
		d.mu.Unlock()
		for _, j := range batch {
			if !j.write {
				d.flush()
				d.hashJobs <- j.verify
				continue
			}
			d.stage(j)
		}
		d.flush()
		clear(batch)
		if closed {
			close(d.hashJobs)
			d.hashers.Wait()
			return
		}
	}
}

// maxStaged bounds a coalesced write. Blocks of a piece mostly arrive in
// order, so runs of adjacent blocks are common, and a run goes out in one
// pwrite instead of one per 16 KiB block: up to 64 times fewer system
// calls, and each block's buffer goes back to the pool as soon as it is
// copied. In CPU the two roughly break even where writes land in the page
// cache: writing 256 MiB through storage.Files on the 2-core VM took about
// 90 ms either way, the copy's user time offsetting the system time saved.
const maxStaged = 1 << 20

// stage adds a block to the run of adjacent blocks being collected,
// writing the run out first if the block does not continue it.
func (d *disk) stage(j diskJob) {
	if len(d.staged) > 0 && (d.stagedOff+int64(len(d.staged)) != j.off || len(d.staged)+len(j.data) > maxStaged) {
		d.flush()
	}
	if len(d.staged) == 0 {
		d.stagedOff = j.off
	}
	d.staged = append(d.staged, j.data...)
	d.t.pool.putDownload(j.data)
}

// flush writes the staged run.
func (d *disk) flush() {
	if len(d.staged) == 0 {
		return
	}
	if _, err := d.t.store.WriteAt(d.staged, d.stagedOff); err != nil {
		d.fail(fmt.Errorf("live: writing %d bytes at %d: %w", len(d.staged), d.stagedOff, err))
	}
	d.staged = d.staged[:0]
}

func (d *disk) hashLoop() {
	buf := make([]byte, d.t.layout.PieceLength)
	for piece := range d.hashJobs {
		ok, err := storage.VerifyPiece(d.t.store, &d.t.meta.Info, piece, buf)
		if err != nil {
			d.fail(fmt.Errorf("live: %w", err))
		}
		if d.err() != nil {
			// After a storage failure a bad hash may be ours, not the
			// peers': report nothing rather than blame them.
			continue
		}
		d.t.post(event{kind: evVerified, piece: piece, ok: ok})
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

// close finishes the queued jobs and stops the workers.
func (d *disk) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}
