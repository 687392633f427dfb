package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Piece length bounds for Create. 16 KiB is the request block size, so a
// smaller piece could not even be requested whole; BEP 52 also makes it the
// minimum. Automatic selection stops at 16 MiB because larger pieces make a
// single corrupt block cost too much to re-download. An explicit piece
// length may go up to MaxPieceLength, the most Parse accepts.
const (
	MinPieceLength     int64 = 16 << 10
	MaxAutoPieceLength int64 = 16 << 20
)

// CreateOptions controls Create. The zero value makes a trackerless, public
// torrent with an automatic piece length, hashed on all CPUs.
type CreateOptions struct {
	// Trackers[0] becomes "announce". With more than one URL, announce-list
	// gets one tier per URL, in order, as mktorrent does: clients then try
	// them one after another instead of treating them as interchangeable.
	Trackers []string
	// WebSeeds become "url-list" (BEP 19).
	WebSeeds []string
	// PieceLength is a power of two from MinPieceLength to MaxPieceLength;
	// 0 picks AutoPieceLength(total).
	PieceLength int64
	// Private sets the BEP 27 flag.
	Private      bool
	Comment      string
	CreatedBy    string    // e.g. "swarmlab/0.1"
	CreationDate time.Time // zero: the key is omitted
	// Workers is the number of hashing goroutines; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Progress, if set, is called with the number of content bytes hashed
	// so far, from a single goroutine, a few times a second and once more
	// with hashed == total on success. It is never called after Create
	// returns.
	Progress func(hashed, total int64)
}

// progressInterval is how often Create reports progress: fast enough for a
// smooth bar, slow enough that the callback never shows up in a profile.
const progressInterval = 100 * time.Millisecond

// AutoPieceLength picks a piece length for total bytes of content: the
// smallest power of two in [MinPieceLength, MaxAutoPieceLength] that keeps
// the piece count at or below 2,000, which lands it between 1,000 and 2,000
// unless a bound is hit. Fewer pieces mean a smaller .torrent and bitfield;
// more pieces mean finer-grained sharing and cheaper hash failures.
func AutoPieceLength(total int64) int64 {
	const maxPieces = 2000
	pl := MinPieceLength
	for pl < MaxAutoPieceLength && (total-1)/pl+1 > maxPieces {
		pl *= 2
	}
	return pl
}

// Create builds a v1 torrent for the regular file or directory at root and
// hashes its content.
//
// A file gives a single-file torrent named after it. A directory gives a
// multi-file torrent named after the directory, holding every regular file
// below it (hidden ones included) ordered by path, component by component,
// byte-wise; empty directories cannot be represented and are left out.
// A symbolic link named as root is followed, but one found below root is an
// error: following it could pull in content from outside the tree or loop,
// and silently skipping it would make a torrent that lacks files the user
// can see. Other non-regular files (devices, sockets, pipes) are errors too.
//
// Hashing reads pieces in parallel on opts.Workers goroutines and stops early
// when ctx is cancelled. A file that changes size or modification time while
// it is being hashed is an error, since the hashes would describe neither
// version.
func Create(ctx context.Context, root string, opts CreateOptions) (*MetaInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Option mistakes are reported before spending time on hashing.
	if slices.Contains(opts.Trackers, "") {
		return nil, errors.New("metainfo: empty tracker URL")
	}
	if slices.Contains(opts.WebSeeds, "") {
		return nil, errors.New("metainfo: empty web seed URL")
	}
	if opts.PieceLength != 0 {
		if err := checkPieceLength(opts.PieceLength); err != nil {
			return nil, err
		}
	}
	info, srcs, total, err := scanContent(root)
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, fmt.Errorf("metainfo: %s: no content to share (total length is 0)", root)
	}
	pl := opts.PieceLength
	if pl == 0 {
		pl = AutoPieceLength(total)
	}
	info.PieceLength = pl
	info.Private = opts.Private
	// Sized up front so NumPieces and PieceSize are valid while hashing;
	// each worker writes only its own pieces' 20-byte slots.
	info.Pieces = make([]byte, ((total-1)/pl+1)*HashSize)

	if err := hashPieces(ctx, info, srcs, total, opts.Workers, opts.Progress); err != nil {
		return nil, err
	}

	m := &MetaInfo{
		Info:      *info,
		Comment:   opts.Comment,
		CreatedBy: opts.CreatedBy,
	}
	if !opts.CreationDate.IsZero() {
		m.CreationDate = opts.CreationDate.Unix()
	}
	if len(opts.Trackers) > 0 {
		m.Announce = opts.Trackers[0]
	}
	if len(opts.Trackers) > 1 {
		for _, t := range opts.Trackers {
			m.AnnounceList = append(m.AnnounceList, []string{t})
		}
	}
	m.URLList = slices.Clone(opts.WebSeeds)

	m.InfoBytes, err = m.Info.Encode()
	if err != nil {
		return nil, err
	}
	m.InfoHash = sha1.Sum(m.InfoBytes)
	return m, nil
}

func checkPieceLength(pl int64) error {
	if pl < MinPieceLength || pl > MaxPieceLength || pl&(pl-1) != 0 {
		return fmt.Errorf("metainfo: piece length %d: want a power of two from %d to %d", pl, MinPieceLength, MaxPieceLength)
	}
	return nil
}

// checkName vets a file name found on disk for use in a torrent: it must
// pass ValidateComponent, and be UTF-8, which BEP 3 requires of paths and
// which a Linux file name need not be.
func checkName(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: name %q is not valid UTF-8", ErrUnsafePath, s)
	}
	return ValidateComponent(s)
}

// srcFile is one file on disk that backs a range of the torrent's content.
// It is opened by the first worker that needs it and closed by the one that
// finishes its last piece, so only a few files are open at a time however
// many the torrent has, and each is opened once.
type srcFile struct {
	path    string
	size    int64
	modTime time.Time

	openOnce sync.Once
	f        *os.File
	openErr  error

	// pending counts this file's pieces not yet hashed.
	pending atomic.Int64
}

func (s *srcFile) open() (*os.File, error) {
	s.openOnce.Do(func() {
		f, err := os.Open(s.path)
		if err != nil {
			s.openErr = fmt.Errorf("metainfo: %w", err)
			return
		}
		if err := s.unchanged(f); err != nil {
			f.Close()
			s.openErr = err
			return
		}
		s.f = f
	})
	return s.f, s.openErr
}

// unchanged reports an error if the open file no longer matches what the
// directory scan saw, which also catches a file replaced by rename.
func (s *srcFile) unchanged(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("metainfo: %w", err)
	}
	if fi.Size() != s.size || !fi.ModTime().Equal(s.modTime) {
		return fmt.Errorf("metainfo: %s changed while the torrent was being created", s.path)
	}
	return nil
}

// finish records that one more piece of s is hashed; after the last it
// checks the file once more and closes it.
func (s *srcFile) finish() error {
	if s.pending.Add(-1) != 0 {
		return nil
	}
	err := s.unchanged(s.f)
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("metainfo: %w", cerr)
	}
	s.f = nil
	return err
}

// scanContent describes root as an Info without piece fields and returns the
// disk file behind each entry of info.FileList(), in the same order.
func scanContent(root string) (*Info, []*srcFile, int64, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("metainfo: %w", err)
	}
	name := filepath.Base(abs)
	if err := checkName(name); err != nil {
		return nil, nil, 0, fmt.Errorf("metainfo: %s: unusable as a torrent name: %w", root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("metainfo: %w", err)
	}
	info := &Info{Name: name}
	switch {
	case fi.Mode().IsRegular():
		info.Length = fi.Size()
		src := &srcFile{path: root, size: fi.Size(), modTime: fi.ModTime()}
		return info, []*srcFile{src}, fi.Size(), nil
	case !fi.IsDir():
		return nil, nil, 0, fmt.Errorf("metainfo: %s is neither a regular file nor a directory", root)
	}

	// Resolve a symlinked root so the walk descends into its target.
	dir, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("metainfo: %w", err)
	}
	type found struct {
		path []string
		src  *srcFile
	}
	var files []found
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("metainfo: %w", err)
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("metainfo: %w", err)
		}
		comps := strings.Split(filepath.ToSlash(rel), "/")
		for _, c := range comps {
			if err := checkName(c); err != nil {
				return fmt.Errorf("metainfo: %s: unusable in a torrent: %w", p, err)
			}
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("metainfo: %s is a symbolic link; links below the root are not followed, remove or replace it", p)
		case !t.IsRegular():
			return fmt.Errorf("metainfo: %s is not a regular file", p)
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("metainfo: %w", err)
		}
		files = append(files, found{comps, &srcFile{path: p, size: fi.Size(), modTime: fi.ModTime()}})
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if len(files) == 0 {
		return nil, nil, 0, fmt.Errorf("metainfo: %s: directory holds no regular files", root)
	}
	// WalkDir already visits in this order; sorting states the contract
	// rather than relying on it.
	slices.SortFunc(files, func(a, b found) int { return slices.Compare(a.path, b.path) })

	var total int64
	srcs := make([]*srcFile, len(files))
	info.Files = make([]File, len(files))
	for i, f := range files {
		info.Files[i] = File{Path: f.path, Length: f.src.size, Offset: total}
		srcs[i] = f.src
		total += f.src.size
	}
	return info, srcs, total, nil
}

// hashPieces fills info.Pieces on workers goroutines (Info.HashPieces),
// which read each piece with ReadAt into their own buffer and so share one
// *os.File per file without seeking.
func hashPieces(ctx context.Context, info *Info, srcs []*srcFile, total int64, workers int, progress func(hashed, total int64)) error {
	// Pieces per file, so the worker that hashes a file's last piece can
	// close it.
	pl := info.PieceLength
	for i, fl := range info.FileList() {
		if fl.Length > 0 {
			srcs[i].pending.Store((fl.Offset+fl.Length-1)/pl - fl.Offset/pl + 1)
		}
	}
	defer func() {
		// Files left open by an error or cancellation.
		for _, s := range srcs {
			if s.f != nil {
				s.f.Close()
			}
		}
	}()

	var (
		hashed   atomic.Int64
		reporter sync.WaitGroup
		stop     = make(chan struct{})
	)
	if progress != nil {
		reporter.Go(func() {
			t := time.NewTicker(progressInterval)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					progress(hashed.Load(), total)
				case <-stop:
					return
				}
			}
		})
	}
	err := info.HashPieces(ctx, workers, func(p int, buf []byte) ([]byte, error) {
		return buf, readPiece(info, srcs, p, buf)
	}, func(p int, sum *[HashSize]byte) {
		copy(info.Pieces[p*HashSize:], sum[:])
		hashed.Add(info.PieceSize(p))
	})
	// The reporter is gone before the final call, so calls never overlap.
	close(stop)
	reporter.Wait()
	if err != nil {
		return err
	}
	if progress != nil {
		progress(total, total)
	}
	return nil
}

// readPiece reads piece p, which buf is exactly long enough for, and
// closes the files whose last piece it was.
func readPiece(info *Info, srcs []*srcFile, p int, buf []byte) error {
	size := int64(len(buf))
	spans := info.Spans(int64(p)*info.PieceLength, size)
	pos := int64(0)
	for _, sp := range spans {
		s := srcs[sp.File]
		f, err := s.open()
		if err != nil {
			return err
		}
		n, err := f.ReadAt(buf[pos:pos+sp.Length], sp.Offset)
		if err == io.EOF && int64(n) < sp.Length {
			return fmt.Errorf("metainfo: %s shrank while the torrent was being created", s.path)
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("metainfo: %w", err)
		}
		pos += sp.Length
	}
	if pos != size {
		return fmt.Errorf("metainfo: internal error: piece %d spans %d of %d bytes", p, pos, size)
	}
	for _, sp := range spans {
		if err := srcs[sp.File].finish(); err != nil {
			return err
		}
	}
	return nil
}
