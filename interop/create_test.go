package interop

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCreateLoadedAndCheckedByLibtorrent: torrents made by `swarmlab
// create` are loaded by libtorrent with the info hash `swarmlab inspect`
// reports, and a libtorrent session pointed at the data passes its full
// hash check on every piece. Then one byte of the data is flipped and
// libtorrent's check must fail exactly the piece holding it, which shows
// the check really reads the data against our piece hashes.
func TestCreateLoadedAndCheckedByLibtorrent(t *testing.T) {
	single := []fileSpec{{"", 1_000_003}}
	cases := []struct {
		name      string
		content   string
		files     []fileSpec
		pieceSize int64
		extra     []string // further `swarmlab create` flags
		corrupt   fileSpec // path of the file to damage; size is the offset in it
	}{
		{"single/16KiB", "single.bin", single, 16384, nil, fileSpec{"", 500_000}},
		{"single/256KiB", "single.bin", single, 262144, nil, fileSpec{"", 1_000_002}},
		{"single/1MiB", "single.bin", single, 1 << 20, nil, fileSpec{"", 0}},
		{"multi/16KiB", "album", multiFileSet, 16384, nil, fileSpec{"sub/deeper/data.bin", 617_000}},
		{"multi/32KiB", "album", multiFileSet, 32768, nil, fileSpec{"cover.jpg", 32_767}},
		{"multi/256KiB", "album", multiFileSet, 262144, nil, fileSpec{"sub/notes.txt", 0}},
		{"multi/1MiB", "album", multiFileSet, 1 << 20, nil, fileSpec{"sub/ünïcödé – ✓.txt", 39_999}},
		{"multi/private-webseed-comment", "album", multiFileSet, 65536,
			[]string{"--private", "--web-seed", "http://127.0.0.1:1/seed/", "--comment", "interop ✓"},
			fileSpec{"01 intro.flac", 99_999}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			needTools(t, "libtorrent")
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			content := filepath.Join(data, tc.content)
			genData(t, content, 3, tc.files)
			torrent := filepath.Join(dir, "out.torrent")
			args := []string{"create", "-o", torrent, "-t", deadTracker,
				"--piece-size", strconv.FormatInt(tc.pieceSize, 10)}
			args = append(args, tc.extra...)
			run(t, swarmlabBin, append(args, content)...)

			lt := ltInfo(t, torrent)
			ours := inspect(t, torrent)
			multi := isMulti(tc.files)
			compareWithLibtorrent(t, ours, lt, multi)

			total := totalSize(tc.files)
			if lt.PieceLength != tc.pieceSize {
				t.Errorf("libtorrent reads piece length %d, created with %d", lt.PieceLength, tc.pieceSize)
			}
			if want := piecesFor(total, tc.pieceSize); lt.NumPieces != want {
				t.Errorf("libtorrent reads %d pieces, want ceil(%d/%d) = %d", lt.NumPieces, total, tc.pieceSize, want)
			}
			checkFiles(t, "libtorrent's", ltFileList(lt, multi, false), tc.content, tc.files)
			checkExtras(t, lt, tc.extra)

			res := ltCheck(t, torrent, data)
			if !strings.EqualFold(res.InfoHashV1, ours.InfoHash) {
				t.Errorf("checked torrent's info hash %s, inspect says %s", res.InfoHashV1, ours.InfoHash)
			}
			if res.NumPieces != lt.NumPieces || res.Have != res.NumPieces || len(res.Missing) != 0 {
				t.Fatalf("libtorrent hash check: have %d of %d pieces, missing %v (state %s)",
					res.Have, res.NumPieces, res.Missing, res.State)
			}

			piece := flipByte(t, content, lt, tc.corrupt)
			res = ltCheck(t, torrent, data)
			if !slices.Equal(res.Missing, []int{piece}) {
				t.Fatalf("after corrupting piece %d, libtorrent reports missing %v (have %d of %d)",
					piece, res.Missing, res.Have, res.NumPieces)
			}
		})
	}
}

// checkExtras checks that the optional fields passed to `swarmlab create`
// are what libtorrent reads back.
func checkExtras(t *testing.T, lt ltTorrent, extra []string) {
	t.Helper()
	wantPrivate := false
	for i := 0; i < len(extra); i++ {
		switch extra[i] {
		case "--private":
			wantPrivate = true
		case "--web-seed":
			i++
			// libtorrent adds a trailing "/" to multi-file web seeds.
			if !slices.Contains(webSeeds(lt.WebSeeds), strings.TrimSuffix(extra[i], "/")) {
				t.Errorf("web seed %q not in libtorrent's %v", extra[i], lt.WebSeeds)
			}
		case "--comment":
			i++
			if lt.Comment != extra[i] {
				t.Errorf("comment: libtorrent reads %q, created with %q", lt.Comment, extra[i])
			}
		}
	}
	if lt.Private != wantPrivate {
		t.Errorf("private: libtorrent reads %v, want %v", lt.Private, wantPrivate)
	}
}

// flipByte inverts one byte of the content on disk and returns the index of
// the piece that holds it. The byte's place in the torrent is worked out
// from libtorrent's file order, pad files included, so the expectation does
// not depend on how swarmlab orders files.
func flipByte(t *testing.T, content string, lt ltTorrent, at fileSpec) int {
	t.Helper()
	want := lt.Name
	if at.path != "" {
		want = lt.Name + "/" + at.path
	}
	var offset int64
	found := false
	for _, f := range lt.Files {
		if f.Path == want {
			if at.size >= f.Size {
				t.Fatalf("offset %d is outside %s (%d bytes)", at.size, f.Path, f.Size)
			}
			offset += at.size
			found = true
			break
		}
		offset += f.Size
	}
	if !found {
		t.Fatalf("%s not among libtorrent's files %+v", want, lt.Files)
	}
	p := content
	if at.path != "" {
		p = filepath.Join(content, filepath.FromSlash(at.path))
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at.size); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at.size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return int(offset / lt.PieceLength)
}
