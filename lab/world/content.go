package world

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"

	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/metainfo"
)

// makeContent generates the world's content from its seed and the torrent
// for it, in memory: the same seed always gives the same bytes and so
// the same info hash, and nothing touches the disk.
func makeContent(w scenario.World) (*metainfo.MetaInfo, []byte, error) {
	c := w.Content
	data := make([]byte, c.Size)
	rng := w.Rand("content")
	for i := 0; i < len(data); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rng.Uint64())
		copy(data[i:], b[:])
	}
	n := c.Pieces()
	info := metainfo.Info{
		Name:        w.Scenario + ".bin",
		PieceLength: c.PieceLength,
		Length:      c.Size,
		Pieces:      make([]byte, 0, n*metainfo.HashSize),
	}
	for p := range n {
		end := min(int64(p+1)*c.PieceLength, c.Size)
		sum := sha1.Sum(data[int64(p)*c.PieceLength : end])
		info.Pieces = append(info.Pieces, sum[:]...)
	}
	raw, err := info.Encode()
	if err != nil {
		return nil, nil, fmt.Errorf("world: encoding the torrent: %w", err)
	}
	// Parsing what was encoded validates it exactly as a .torrent from
	// disk would be, and fills the info hash.
	mi, err := metainfo.ParseInfo(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("world: the generated torrent does not parse: %w", err)
	}
	return mi, data, nil
}
