package interop

import (
	"path/filepath"
	"strconv"
	"testing"
)

// multiFileSet is content for multi-file torrents: nested directories, a
// name with spaces, non-ASCII names, an empty file, and sizes that make
// files start and end in the middle of pieces of every size used here.
var multiFileSet = []fileSpec{
	{"01 intro.flac", 100_003},
	{"cover.jpg", 32_768},
	{"empty.txt", 0},
	{"sub/deeper/data.bin", 1_234_567},
	{"sub/notes.txt", 777},
	{"sub/ünïcödé – ✓.txt", 40_000},
}

// TestMktorrentReadByInspect: torrents made by mktorrent are read by
// `swarmlab inspect` with the info hash libtorrent computes for the same
// file, and with the same name, piece layout and files.
func TestMktorrentReadByInspect(t *testing.T) {
	cases := []struct {
		name     string
		content  string // file or directory name, becomes the torrent name
		files    []fileSpec
		log2Size int // mktorrent -l takes the piece length as a power of two
	}{
		{"single/32KiB", "single.bin", []fileSpec{{"", 3*32768 + 12345}}, 15},
		{"single/256KiB", "single.bin", []fileSpec{{"", 5*262144 + 1}}, 18},
		{"single/exact-pieces", "exact.bin", []fileSpec{{"", 4 * 32768}}, 15},
		{"multi/32KiB", "album", multiFileSet, 15},
		{"multi/256KiB", "album", multiFileSet, 18},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			needTools(t, "mktorrent", "libtorrent")
			mk := needTool(t, "mktorrent")
			dir := t.TempDir()
			content := filepath.Join(dir, tc.content)
			genData(t, content, 1, tc.files)
			torrent := filepath.Join(dir, "out.torrent")
			run(t, mk, "-a", deadTracker, "-c", "made by mktorrent",
				"-l", strconv.Itoa(tc.log2Size), "-t", "1", "-o", torrent, content)

			lt := ltInfo(t, torrent)
			ours := inspect(t, torrent)
			compareWithLibtorrent(t, ours, lt, isMulti(tc.files))

			// Independent of both tools: the torrent must describe exactly
			// the data this test generated.
			pl := int64(1) << tc.log2Size
			total := totalSize(tc.files)
			if ours.TotalLength != total {
				t.Errorf("total length %d, generated %d bytes", ours.TotalLength, total)
			}
			if ours.PieceLength != pl {
				t.Errorf("piece length %d, asked mktorrent for %d", ours.PieceLength, pl)
			}
			if want := piecesFor(total, pl); ours.Pieces != want {
				t.Errorf("pieces %d, want ceil(%d/%d) = %d", ours.Pieces, total, pl, want)
			}
			checkFiles(t, "swarmlab's", ourFileList(ours, false), tc.content, tc.files)
		})
	}
}
