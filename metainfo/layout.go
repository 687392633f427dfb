package metainfo

import (
	"slices"
	"sort"
	"strings"
)

// The torrent's content is the concatenation of its files in order, pad
// files included; pieces cut that byte stream into PieceLength chunks
// regardless of file boundaries. The methods below translate between the
// two views. They trust the invariants Parse checks (piece count matches
// the total length, File.Offset set); on an Info assembled by hand, call
// SetOffsets first.

// IsMultiFile reports whether the torrent has a files list (and Name is a
// directory) rather than a single file called Name.
func (i *Info) IsMultiFile() bool { return i.Files != nil }

// NumPieces returns the number of pieces.
func (i *Info) NumPieces() int { return len(i.Pieces) / HashSize }

// TotalLength returns the content length, pad files included. It is
// linear in the number of files.
func (i *Info) TotalLength() int64 {
	if !i.IsMultiFile() {
		return i.Length
	}
	var total int64
	for _, f := range i.Files {
		total += f.Length
	}
	return total
}

// PieceSize returns the length of piece p: PieceLength for all but the
// last piece, which holds the remainder. It returns 0 for a piece index
// out of range, because indexes often come from peers.
func (i *Info) PieceSize(p int) int64 {
	n := i.NumPieces()
	switch {
	case p < 0 || p >= n:
		return 0
	case p < n-1:
		return i.PieceLength
	}
	return i.TotalLength() - int64(n-1)*i.PieceLength
}

// PieceHash returns the SHA-1 hash piece p must have. It returns the zero
// Hash for a piece index out of range, which no real data matches.
func (i *Info) PieceHash(p int) Hash {
	var h Hash
	if p >= 0 && p < i.NumPieces() {
		copy(h[:], i.Pieces[p*HashSize:])
	}
	return h
}

// FileList returns the files of the torrent; a single-file torrent is
// presented as one File whose path is Name. Paths are relative to the
// torrent's directory (Name) for multi-file torrents and to the download
// directory for a single-file one. The slice is a copy; the Path slices
// are shared and must not be modified.
func (i *Info) FileList() []File {
	if !i.IsMultiFile() {
		return []File{{Path: []string{i.Name}, Length: i.Length}}
	}
	return slices.Clone(i.Files)
}

// SetOffsets computes File.Offset for every file. Parse calls it; an Info
// built by hand needs it before Spans or PieceSpans.
func (i *Info) SetOffsets() {
	var off int64
	for k := range i.Files {
		i.Files[k].Offset = off
		off += i.Files[k].Length
	}
}

// IsPad reports whether f is a BEP 47 pad file: filler bytes (zeros) that
// align the next file to a piece boundary and are never written to disk.
func (f File) IsPad() bool { return strings.IndexByte(f.Attr, 'p') >= 0 }

// FileSpan is a byte range within one file.
type FileSpan struct {
	// File indexes FileList() (Info.Files for a multi-file torrent, 0 for
	// a single-file one).
	File int
	// Offset is the range's first byte within the file.
	Offset int64
	// Length is the number of bytes, always positive.
	Length int64
}

// Spans returns the file ranges that hold content bytes [off, off+n), in
// order. Pad files are included so that callers see every byte (and can
// supply zeros for them); zero-length files are skipped, since they hold no
// bytes. It returns nil when n <= 0 or the range is not entirely within the
// content. Finding the first file is a binary search, so the cost is
// O(log files + spans).
func (i *Info) Spans(off, n int64) []FileSpan {
	if off < 0 || n <= 0 {
		return nil
	}
	if !i.IsMultiFile() {
		if off > i.Length-n {
			return nil
		}
		return []FileSpan{{File: 0, Offset: off, Length: n}}
	}
	files := i.Files
	if len(files) == 0 {
		return nil
	}
	last := files[len(files)-1]
	if off > last.Offset+last.Length-n {
		return nil
	}
	// Files end at non-decreasing offsets, so the first file ending after
	// off is the one holding byte off; zero-length files at that point end
	// exactly at off and are passed over.
	k := sort.Search(len(files), func(j int) bool {
		return files[j].Offset+files[j].Length > off
	})
	var spans []FileSpan
	for ; n > 0 && k < len(files); k++ {
		f := files[k]
		if f.Length == 0 {
			continue
		}
		start := off - f.Offset
		length := min(n, f.Length-start)
		spans = append(spans, FileSpan{File: k, Offset: start, Length: length})
		off += length
		n -= length
	}
	return spans
}

// PieceSpans returns the file ranges that hold piece p, or nil for a piece
// index out of range.
func (i *Info) PieceSpans(p int) []FileSpan {
	size := i.PieceSize(p)
	if size == 0 {
		return nil
	}
	return i.Spans(int64(p)*i.PieceLength, size)
}
