package interop

import (
	"path/filepath"
	"strconv"
	"testing"
)

// TestLibtorrentCreatedReadByInspect: torrents made by libtorrent's
// create_torrent are read by `swarmlab inspect` with the v1 info hash
// libtorrent reports. libtorrent 2.x makes hybrid v1+v2 torrents by default,
// which align every file to a piece boundary with BEP 47 pad files; v1-only
// torrents have no pads. Both kinds are covered.
func TestLibtorrentCreatedReadByInspect(t *testing.T) {
	cases := []struct {
		name      string
		content   string
		files     []fileSpec
		v1Only    bool
		pieceSize int64 // 0: libtorrent picks
	}{
		{"hybrid/single/default-piece", "single.bin", []fileSpec{{"", 777_777}}, false, 0},
		{"hybrid/single/16KiB", "single.bin", []fileSpec{{"", 777_777}}, false, 16384},
		{"hybrid/multi/default-piece", "album", multiFileSet, false, 0},
		{"hybrid/multi/64KiB", "album", multiFileSet, false, 65536},
		{"v1/single/default-piece", "single.bin", []fileSpec{{"", 777_777}}, true, 0},
		{"v1/multi/32KiB", "album", multiFileSet, true, 32768},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			needTools(t, "libtorrent")
			dir := t.TempDir()
			content := filepath.Join(dir, tc.content)
			genData(t, content, 2, tc.files)
			torrent := filepath.Join(dir, "out.torrent")
			args := []string{"create", "--tracker", deadTracker}
			if tc.v1Only {
				args = append(args, "--v1-only")
			}
			if tc.pieceSize != 0 {
				args = append(args, "--piece-size", strconv.FormatInt(tc.pieceSize, 10))
			}
			var lt ltTorrent
			ltPy(t, &lt, append(args, content, torrent)...)
			multi := isMulti(tc.files)

			// Make sure the case exercises what its name says, or a change
			// in libtorrent's defaults would quietly weaken the test.
			if lt.HasV2 == tc.v1Only {
				t.Fatalf("libtorrent made has_v2=%v, case wants v1Only=%v", lt.HasV2, tc.v1Only)
			}
			pads := 0
			var unpadded int64
			for _, f := range lt.Files {
				if f.Pad {
					pads++
				} else {
					unpadded += f.Size
				}
			}
			if multi && !tc.v1Only && pads == 0 {
				t.Fatalf("hybrid multi-file torrent without pad files: %+v", lt.Files)
			}
			if unpadded != totalSize(tc.files) {
				t.Fatalf("libtorrent's files hold %d bytes, generated %d", unpadded, totalSize(tc.files))
			}

			ours := inspect(t, torrent)
			compareWithLibtorrent(t, ours, lt, multi)
			checkFiles(t, "swarmlab's", ourFileList(ours, false), tc.content, tc.files)
		})
	}
}
