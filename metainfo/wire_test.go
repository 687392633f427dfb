package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata were made by libtorrent 2.0.8 (lt-*: hybrid
// v1+v2 by default, v1-only and v2-only by flag) and mktorrent 1.1 (mk-*)
// from files whose bytes fixtureContent regenerates. The expected info
// hashes are the ones libtorrent itself reported for them.
var fixtures = []struct {
	file        string
	infoHash    string
	name        string
	pieceLength int64
	numPieces   int
	total       int64
	paths       []string // "/"-joined, pad files included; nil for single-file
	metaVersion int
}{
	{
		file: "lt-hybrid.torrent", infoHash: "ebdd17e2aa7799b7fed6d212faaea3b54a67d693",
		name: "hybrid", pieceLength: 16384, numPieces: 6, total: 98304,
		paths:       []string{"a.txt", ".pad/12768", "b.bin", ".pad/9152", "sub/c.dat", ".pad/11384"},
		metaVersion: 2,
	},
	{
		file: "lt-hybrid-single.torrent", infoHash: "fb3d8d046e971c2555d1b1412e9f012d29de3271",
		name: "single.bin", pieceLength: 16384, numPieces: 4, total: 50000, metaVersion: 2,
	},
	{
		file: "lt-v1only.torrent", infoHash: "95195f3df5efb50556ef7781cd760d03ee775fee",
		name: "hybrid", pieceLength: 16384, numPieces: 4, total: 65000,
		paths: []string{"b.bin", "sub/c.dat", "a.txt"},
	},
	{
		file: "mk-multi.torrent", infoHash: "099149b69be0033b4ec556eed62d1675edaa68bb",
		name: "hybrid", pieceLength: 32768, numPieces: 2, total: 65000,
		paths: []string{"a.txt", "b.bin", "sub/c.dat"},
	},
	{
		file: "mk-single.torrent", infoHash: "4703c96e255298ec686221cabde9b72503db6491",
		name: "single.bin", pieceLength: 32768, numPieces: 2, total: 50000,
	},
}

// fixtureContent returns the bytes of a fixture file, or nil for a pad
// file (all zeros). The generator was (i*seed+7) mod 251.
func fixtureContent(t *testing.T, f File) []byte {
	t.Helper()
	if f.IsPad() {
		return make([]byte, f.Length)
	}
	seeds := map[string]int{"a.txt": 3, "sub/c.dat": 5, "b.bin": 11, "single.bin": 13}
	seed, ok := seeds[strings.Join(f.Path, "/")]
	if !ok {
		t.Fatalf("no content known for %q", f.Path)
	}
	b := make([]byte, f.Length)
	for i := range b {
		b[i] = byte((i*seed + 7) % 251)
	}
	return b
}

func TestFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			m, err := Load(filepath.Join("testdata", fx.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.InfoHash.HexString(); got != fx.infoHash {
				t.Errorf("info hash %s, libtorrent says %s", got, fx.infoHash)
			}
			if m.InfoHash != sha1.Sum(m.InfoBytes) {
				t.Error("InfoHash is not the SHA-1 of InfoBytes")
			}
			in := &m.Info
			if in.Name != fx.name || in.PieceLength != fx.pieceLength || in.NumPieces() != fx.numPieces ||
				in.TotalLength() != fx.total || in.MetaVersion != fx.metaVersion {
				t.Errorf("got name %q piece length %d pieces %d total %d meta version %d",
					in.Name, in.PieceLength, in.NumPieces(), in.TotalLength(), in.MetaVersion)
			}
			if m.Announce != "http://127.0.0.1:6969/announce" {
				t.Errorf("announce %q", m.Announce)
			}
			if in.IsMultiFile() != (fx.paths != nil) {
				t.Fatalf("IsMultiFile %v", in.IsMultiFile())
			}
			var paths []string
			for _, f := range in.Files {
				paths = append(paths, strings.Join(f.Path, "/"))
				if f.IsPad() != strings.HasPrefix(paths[len(paths)-1], ".pad/") {
					t.Errorf("file %q: IsPad %v", f.Path, f.IsPad())
				}
			}
			if !slices.Equal(paths, fx.paths) {
				t.Errorf("paths %q, want %q", paths, fx.paths)
			}

			// Rebuild every piece from the regenerated file contents through
			// PieceSpans and check it against the torrent's piece hash: this
			// ties the layout code to what real clients hashed.
			files := in.FileList()
			contents := make([][]byte, len(files))
			for k, f := range files {
				contents[k] = fixtureContent(t, f)
			}
			for p := range in.NumPieces() {
				h := sha1.New()
				for _, s := range in.PieceSpans(p) {
					h.Write(contents[s.File][s.Offset : s.Offset+s.Length])
				}
				if got := Hash(h.Sum(nil)); got != in.PieceHash(p) {
					t.Errorf("piece %d: content hashes to %s, torrent says %s", p, got, in.PieceHash(p))
				}
			}
		})
	}
}

func TestMkMultiTopLevel(t *testing.T) {
	m, err := Load("testdata/mk-multi.torrent")
	if err != nil {
		t.Fatal(err)
	}
	wantTiers := [][]string{{"http://127.0.0.1:6969/announce"}, {"http://127.0.0.1:6970/announce"}}
	if !reflect.DeepEqual(m.AnnounceList, wantTiers) {
		t.Errorf("announce-list %q", m.AnnounceList)
	}
	// mktorrent writes a single web seed as a bare string.
	if !slices.Equal(m.URLList, []string{"http://127.0.0.1:8080/files/"}) {
		t.Errorf("url-list %q", m.URLList)
	}
	if m.Comment != "mktorrent fixture" || m.CreatedBy != "mktorrent 1.1" {
		t.Errorf("comment %q created by %q", m.Comment, m.CreatedBy)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings %q", m.Warnings)
	}
}

func TestMkSinglePrivateSource(t *testing.T) {
	m, err := Load("testdata/mk-single.torrent")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Info.Private || m.Info.Source != "SWARMLAB" {
		t.Errorf("private %v source %q", m.Info.Private, m.Info.Source)
	}
	want := []File{{Path: []string{"single.bin"}, Length: 50000}}
	if got := m.Info.FileList(); !reflect.DeepEqual(got, want) {
		t.Errorf("FileList %+v", got)
	}
}

func TestV2OnlyFixture(t *testing.T) {
	_, err := Load("testdata/lt-v2only.torrent")
	if !errors.Is(err, ErrV2Only) || !strings.Contains(err.Error(), "v2-only torrents are not supported yet") {
		t.Fatalf("err = %v, want ErrV2Only", err)
	}
}

// TestEncodeReproducesFixtures checks that our canonical encoding is the
// one other creators write: for torrents without extra keys, re-encoding
// the Info gives the original bytes and so the same info hash.
func TestEncodeReproducesFixtures(t *testing.T) {
	for _, name := range []string{"lt-v1only.torrent", "mk-single.torrent", "mk-multi.torrent"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := m.Info.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, m.InfoBytes) {
				t.Errorf("Info.Encode:\n got %q\nwant %q", enc, m.InfoBytes)
			}
			whole, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			// mktorrent's bare-string url-list comes back as a list; every
			// other byte must be as it was.
			want := bytes.Replace(data, []byte("8:url-list28:"), []byte("8:url-listl28:"), 1)
			if !bytes.Equal(want, data) {
				want = append(want[:len(want)-1], 'e', 'e')
			}
			if !bytes.Equal(whole, want) {
				t.Errorf("MetaInfo.Encode:\n got %q\nwant %q", whole, want)
			}
		})
	}
}

// TestEncodeHybridDropsV2 checks what re-encoding a hybrid torrent's Info
// gives: a plain v1 info dictionary (no meta version, no file tree), with
// the pad files and their attr kept so the piece hashes still line up.
func TestEncodeHybridDropsV2(t *testing.T) {
	m, err := Load("testdata/lt-hybrid.torrent")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.Info.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"meta version", "file tree", "pieces root"} {
		if bytes.Contains(enc, []byte(key)) {
			t.Errorf("re-encoded info contains %q", key)
		}
	}
	if !bytes.Contains(enc, []byte("d4:attr1:p6:lengthi12768e4:pathl4:.pad5:12768ee")) {
		t.Errorf("pad file entry missing from %q", enc)
	}
	back, err := ParseInfo(enc)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Info
	want.MetaVersion = 0
	if !reflect.DeepEqual(back.Info, want) {
		t.Errorf("re-parsed info differs:\n got %+v\nwant %+v", back.Info, want)
	}
}

func TestParseTopLevel(t *testing.T) {
	tests := []struct {
		name  string
		kv    []any
		check func(*MetaInfo) bool
	}{
		{"url-list string", []any{"url-list", "http://127.0.0.1/ws"},
			func(m *MetaInfo) bool { return slices.Equal(m.URLList, []string{"http://127.0.0.1/ws"}) }},
		{"url-list list", []any{"url-list", []any{"http://127.0.0.1/a", "", "http://127.0.0.1/b"}},
			func(m *MetaInfo) bool {
				return slices.Equal(m.URLList, []string{"http://127.0.0.1/a", "http://127.0.0.1/b"})
			}},
		{"url-list empty string", []any{"url-list", ""},
			func(m *MetaInfo) bool { return m.URLList == nil }},
		{"announce-list tiers", []any{"announce-list", []any{[]any{"a", "b"}, []any{}, []any{"c", ""}}},
			func(m *MetaInfo) bool { return reflect.DeepEqual(m.AnnounceList, [][]string{{"a", "b"}, {"c"}}) }},
		{"announce-list bare string tier", []any{"announce-list", []any{"a", []any{"b"}}},
			func(m *MetaInfo) bool { return reflect.DeepEqual(m.AnnounceList, [][]string{{"a"}, {"b"}}) }},
		{"metadata", []any{"comment", "c", "created by", "me", "creation date", int64(1700000000), "encoding", "UTF-8"},
			func(m *MetaInfo) bool {
				return m.Comment == "c" && m.CreatedBy == "me" && m.CreationDate == 1700000000 && m.Encoding == "UTF-8"
			}},
		{"unknown keys ignored", []any{"x-whatever", []any{int64(1), "two"}, "nodes", []any{}},
			func(m *MetaInfo) bool { return m.Announce == "http://127.0.0.1:6969/announce" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(torrent(t, singleInfo(), tt.kv...))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(m) {
				t.Errorf("unexpected result: %+v", m)
			}
		})
	}
}

func TestParseInfoFields(t *testing.T) {
	tests := []struct {
		name  string
		info  map[string]any
		check func(*Info) bool
	}{
		{"name.utf-8 preferred", with(singleInfo(), "name", "f\xe9.bin", "name.utf-8", "fé.bin"),
			func(i *Info) bool { return i.Name == "fé.bin" }},
		{"path.utf-8 preferred", with(multiInfo(), "files", []any{
			with(file(12, "legacy\xe9"), "path.utf-8", []any{"utf8é"})}),
			func(i *Info) bool { return slices.Equal(i.Files[0].Path, []string{"utf8é"}) }},
		{"private any nonzero", with(singleInfo(), "private", int64(7)),
			func(i *Info) bool { return i.Private }},
		{"private zero", with(singleInfo(), "private", int64(0)),
			func(i *Info) bool { return !i.Private }},
		{"offsets", multiInfo(),
			func(i *Info) bool {
				return i.Files[0].Offset == 0 && i.Files[1].Offset == 5 && i.Files[2].Offset == 5
			}},
		{"symlink", with(multiInfo(), "files", []any{
			file(12, "real"),
			with(file(0, "link"), "attr", "l", "symlink path", []any{"real"})}),
			func(i *Info) bool { return slices.Equal(i.Files[1].SymlinkPath, []string{"real"}) }},
		{"zero-length single file", with(singleInfo(), "length", int64(0), "pieces", ""),
			func(i *Info) bool { return i.Length == 0 && i.NumPieces() == 0 && !i.IsMultiFile() }},
		{"pad files share a path", with(multiInfo(), "piece length", int64(8), "pieces", hashes(3), "files", []any{
			file(5, "a"), with(file(3, ".pad", "3"), "attr", "p"),
			file(5, "b"), with(file(3, ".pad", "3"), "attr", "p"), file(4, "c")}),
			func(i *Info) bool { return i.Files[1].IsPad() && i.Files[3].IsPad() && !i.Files[4].IsPad() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(torrent(t, tt.info))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(&m.Info) {
				t.Errorf("unexpected info: %+v", m.Info)
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	m, err := Parse(torrent(t, with(singleInfo(), "piece length", int64(3), "pieces", hashes(4))))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "piece length 3 is not a power of two") {
		t.Errorf("warnings %q", m.Warnings)
	}

	// Keys out of order: legal to read, hashed as received, but flagged.
	info := "d4:name1:a6:lengthi1e12:piece lengthi4e6:pieces20:" + hashes(1) + "e"
	m, err = Parse([]byte("d4:info" + info + "e"))
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != sha1.Sum([]byte(info)) {
		t.Error("info hash not taken over the bytes as received")
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "not canonical") {
		t.Errorf("warnings %q", m.Warnings)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.torrent")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: costs no disk, but Load must refuse it by size, not by
	// trying to parse zeros.
	if err := f.Truncate(MaxTorrentSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than the 64 MiB limit") {
		t.Errorf("oversized file: err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.torrent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.torrent")
	if err := os.WriteFile(bad, []byte("d4:infoi1ee"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: err = %v, want it to name the file", err)
	}
}

func TestMetaInfoEncodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		infoBytes []byte
	}{
		{"empty", nil},
		{"not a dict", []byte("i1e")},
		{"truncated", []byte("d4:name1:a")},
		{"trailing data", []byte("dei1e")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &MetaInfo{Announce: "http://127.0.0.1/", InfoBytes: tt.infoBytes}
			if b, err := m.Encode(); err == nil {
				t.Errorf("Encode succeeded: %q", b)
			}
		})
	}
}

func TestInfoEncodeRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		info Info
	}{
		{"no name", Info{PieceLength: 4, Length: 1, Pieces: []byte(hashes(1))}},
		{"unsafe path", Info{Name: "d", PieceLength: 4, Pieces: []byte(hashes(1)),
			Files: []File{{Path: []string{"..", "x"}, Length: 1}}}},
		{"wrong piece count", Info{Name: "f", PieceLength: 4, Length: 9, Pieces: []byte(hashes(2))}},
		{"length and files", Info{Name: "d", PieceLength: 4, Length: 1, Pieces: []byte(hashes(1)),
			Files: []File{{Path: []string{"x"}, Length: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := tt.info.Encode(); err == nil {
				t.Errorf("Encode succeeded: %q", b)
			}
		})
	}
}

// TestInfoEncodeCanonical pins the exact bytes Encode writes for a hand-made
// multi-file Info: sorted keys, attr only when set, private as i1e.
func TestInfoEncodeCanonical(t *testing.T) {
	info := Info{
		Name:        "d",
		PieceLength: 4,
		Pieces:      []byte(hashes(2)),
		Private:     true,
		Files: []File{
			{Path: []string{"a"}, Length: 3},
			{Path: []string{".pad", "1"}, Length: 1, Attr: "p"},
			{Path: []string{"s", "b"}, Length: 2, Attr: "x"},
		},
	}
	got, err := info.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "d5:filesl" +
		"d6:lengthi3e4:pathl1:aee" +
		"d4:attr1:p6:lengthi1e4:pathl4:.pad1:1ee" +
		"d4:attr1:x6:lengthi2e4:pathl1:s1:bee" +
		"e4:name1:d12:piece lengthi4e6:pieces40:" + hashes(2) + "7:privatei1ee"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	single := Info{Name: "f", PieceLength: 4, Length: 0, Source: "S"}
	got, err = single.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := "d6:lengthi0e4:name1:f12:piece lengthi4e6:pieces0:6:source1:Se"; string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
