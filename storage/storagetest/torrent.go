package storagetest

import (
	"crypto/sha1"
	"encoding/binary"
	"math/rand/v2"
	"strconv"

	"github.com/swarmlab/swarmlab/metainfo"
)

// Torrent is a generated torrent: an Info whose piece hashes match
// Content, which is pseudo-random except in pad files (zeros), so that
// data landing at the wrong offset cannot verify by accident.
type Torrent struct {
	Info    *metainfo.Info
	Content []byte
}

// SingleFile returns a single-file torrent of length bytes.
func SingleFile(name string, length, pieceLength int64, seed uint64) *Torrent {
	info := &metainfo.Info{Name: name, Length: length, PieceLength: pieceLength}
	return finish(info, seed)
}

// MultiFile returns a multi-file torrent holding files, of which Path,
// Length and Attr are used; offsets are computed. PadFile makes pad files.
func MultiFile(name string, pieceLength int64, seed uint64, files ...metainfo.File) *Torrent {
	info := &metainfo.Info{Name: name, PieceLength: pieceLength, Files: make([]metainfo.File, len(files))}
	copy(info.Files, files)
	info.SetOffsets()
	return finish(info, seed)
}

// PadFile returns a BEP 47 pad file of n bytes, named the way libtorrent
// names them (so several share a path, which is legal for pad files).
func PadFile(n int64) metainfo.File {
	return metainfo.File{Path: []string{".pad", strconv.FormatInt(n, 10)}, Length: n, Attr: "p"}
}

// finish fills in the content and the piece hashes.
func finish(info *metainfo.Info, seed uint64) *Torrent {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	content := make([]byte, info.TotalLength())
	rand.NewChaCha8(key).Read(content)
	for _, f := range info.FileList() {
		if f.IsPad() {
			clear(content[f.Offset : f.Offset+f.Length])
		}
	}
	pl := info.PieceLength
	for off := int64(0); off < int64(len(content)); off += pl {
		sum := sha1.Sum(content[off:min(off+pl, int64(len(content)))])
		info.Pieces = append(info.Pieces, sum[:]...)
	}
	return &Torrent{Info: info, Content: content}
}

// Piece returns piece i's bytes, a slice of Content.
func (t *Torrent) Piece(i int) []byte {
	off := int64(i) * t.Info.PieceLength
	return t.Content[off : off+t.Info.PieceSize(i)]
}

// InPad reports whether content byte off lies in a pad file.
func (t *Torrent) InPad(off int64) bool {
	if !t.Info.IsMultiFile() {
		return false
	}
	sp := t.Info.Spans(off, 1)
	return len(sp) == 1 && t.Info.Files[sp[0].File].IsPad()
}

// PadOnly reports whether every byte of piece i lies in pad files, which
// makes it complete from the start: its content is zeros, which storage
// supplies without anything being written.
func (t *Torrent) PadOnly(i int) bool {
	if !t.Info.IsMultiFile() {
		return false
	}
	for _, sp := range t.Info.PieceSpans(i) {
		if !t.Info.Files[sp.File].IsPad() {
			return false
		}
	}
	return true
}
