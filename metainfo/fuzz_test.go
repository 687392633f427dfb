package metainfo

import (
	"bytes"
	"crypto/sha1"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics on hostile input and that what
// it accepts keeps its promises:
//   - InfoHash is the SHA-1 of InfoBytes;
//   - every path component is safe and the layout methods agree with each
//     other (pieces sum to the total, each piece's spans cover it exactly);
//   - Info.Encode accepts every Info Parse accepts, and parsing its output
//     gives the same Info back, except MetaVersion, which Encode does not
//     write (a re-encoded hybrid is a plain v1 info dictionary); that output
//     is canonical and a fixed point of Encode;
//   - MetaInfo.Encode keeps the info dictionary byte for byte, so parsing
//     the whole file again gives the same InfoHash and top-level fields.
//
// The checked-in corpus in testdata/fuzz/FuzzParse holds valid single-file,
// multi-file and hybrid torrents and hostile ones; the fixtures are added
// as seeds too.
func FuzzParse(f *testing.F) {
	fixtures, err := filepath.Glob("testdata/*.torrent")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if m != nil {
				t.Fatal("Parse returned both a MetaInfo and an error")
			}
			return
		}
		checkParsed(t, data, m)
	})
}

// checkParsed checks the promises FuzzParse lists for a MetaInfo that Parse
// made from data.
func checkParsed(t *testing.T, data []byte, m *MetaInfo) {
	t.Helper()
	if m.InfoHash != sha1.Sum(m.InfoBytes) {
		t.Fatal("InfoHash is not the SHA-1 of InfoBytes")
	}
	if !bytes.Contains(data, m.InfoBytes) {
		t.Fatal("InfoBytes do not appear verbatim in the input")
	}
	checkLayout(t, &m.Info)

	enc, err := m.Info.Encode()
	if err != nil {
		t.Fatalf("Info.Encode refused an Info Parse accepted: %v", err)
	}
	back, err := ParseInfo(enc)
	if err != nil {
		t.Fatalf("ParseInfo(Info.Encode()) failed: %v\n%q", err, enc)
	}
	want := m.Info
	want.MetaVersion = 0
	if !reflect.DeepEqual(back.Info, want) {
		t.Fatalf("Info changed through Encode/Parse:\n got %+v\nwant %+v", back.Info, want)
	}
	for _, w := range back.Warnings {
		if strings.Contains(w, "canonical") {
			t.Fatalf("Info.Encode wrote non-canonical bencoding: %s", w)
		}
	}
	enc2, err := back.Info.Encode()
	if err != nil || !bytes.Equal(enc2, enc) {
		t.Fatalf("Encode is not a fixed point: %v\n%q\n%q", err, enc, enc2)
	}

	whole, err := m.Encode()
	if err != nil {
		t.Fatalf("MetaInfo.Encode: %v", err)
	}
	m2, err := Parse(whole)
	if err != nil {
		t.Fatalf("Parse(MetaInfo.Encode()) failed: %v", err)
	}
	if m2.InfoHash != m.InfoHash {
		t.Fatalf("info hash changed through MetaInfo.Encode: %s -> %s", m.InfoHash, m2.InfoHash)
	}
	if m2.Announce != m.Announce || !reflect.DeepEqual(m2.AnnounceList, m.AnnounceList) ||
		!reflect.DeepEqual(m2.URLList, m.URLList) || m2.Comment != m.Comment ||
		m2.CreatedBy != m.CreatedBy || m2.CreationDate != m.CreationDate || m2.Encoding != m.Encoding {
		t.Fatalf("top-level fields changed through MetaInfo.Encode:\n got %+v\nwant %+v", m2, m)
	}
}

// checkLayout verifies the layout invariants of a parsed Info. Only the
// first and last pieces are walked, so huge inputs stay fast.
func checkLayout(t *testing.T, info *Info) {
	t.Helper()
	if info.Name == "" || ValidateComponent(info.Name) != nil {
		t.Fatalf("unsafe name %q accepted", info.Name)
	}
	files := info.FileList()
	var off int64
	for k, f := range files {
		for _, c := range f.Path {
			if err := ValidateComponent(c); err != nil {
				t.Fatalf("file %d: unsafe component accepted: %v", k, err)
			}
		}
		if f.Offset != off || f.Length < 0 {
			t.Fatalf("file %d: offset %d length %d, want offset %d", k, f.Offset, f.Length, off)
		}
		off += f.Length
	}
	if off != info.TotalLength() {
		t.Fatalf("files sum to %d, TotalLength %d", off, info.TotalLength())
	}
	n := info.NumPieces()
	if n > 0 && (int64(n-1)*info.PieceLength+info.PieceSize(n-1) != off ||
		info.PieceSize(n-1) <= 0 || info.PieceSize(n-1) > info.PieceLength) {
		t.Fatalf("%d pieces of %d, last %d, do not make %d bytes", n, info.PieceLength, info.PieceSize(n-1), off)
	}
	for _, p := range []int{0, 1, n - 2, n - 1} {
		if p < 0 || p >= n {
			continue
		}
		var covered int64
		for _, s := range info.PieceSpans(p) {
			if s.Length <= 0 || s.Offset < 0 || s.Offset+s.Length > files[s.File].Length {
				t.Fatalf("piece %d: span %+v outside file of %d bytes", p, s, files[s.File].Length)
			}
			covered += s.Length
		}
		if covered != info.PieceSize(p) {
			t.Fatalf("piece %d: spans cover %d bytes, piece has %d", p, covered, info.PieceSize(p))
		}
	}
}

// FuzzParseMagnet checks that ParseMagnet never panics and that String
// gives back a link that parses to an equal Magnet.
func FuzzParseMagnet(f *testing.F) {
	f.Fuzz(func(t *testing.T, uri string) {
		m, err := ParseMagnet(uri)
		if err != nil {
			return
		}
		s := m.String()
		again, err := ParseMagnet(s)
		if err != nil {
			t.Fatalf("ParseMagnet(%q) failed on String() of %q: %v", s, uri, err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip through %q:\n got %+v\nwant %+v", s, again, m)
		}
	})
}

// FuzzParseBuilt builds well-formed two-file torrents from fuzzed names,
// paths and sizes, so that the fuzzer spends its time on validation rather
// than on bencode syntax. An independent, simpler statement of the rules
// (every component passes ValidateComponent, sane sizes, no two non-pad
// paths equal or one a prefix of the other) decides whether Parse must
// accept; accepted torrents then get FuzzParse's checks. Path components
// are separated by \x1f, itself a rejected control character.
func FuzzParseBuilt(f *testing.F) {
	f.Add("dir", "a\x1fb", "c", int64(5), int64(7), int64(4), false)
	f.Add("dir", "a", "a\x1fb", int64(5), int64(7), int64(16384), false)
	f.Add("dir", ".pad\x1f3", ".pad\x1f3", int64(3), int64(3), int64(4), true)
	f.Add("x", "..\x1fetc", "nul.txt", int64(0), int64(1), int64(3), false)
	f.Fuzz(func(t *testing.T, name, p1, p2 string, l1, l2, pieceLength int64, pad2 bool) {
		path1, path2 := strings.Split(p1, "\x1f"), strings.Split(p2, "\x1f")
		wantOK := ValidateComponent(name) == nil && allValid(path1) && allValid(path2) &&
			l1 >= 0 && l2 >= 0 && l1 <= math.MaxInt64-l2 &&
			pieceLength > 0 && pieceLength <= MaxPieceLength &&
			(pad2 || !pathsCollide(path1, path2))
		numPieces := int64(1)
		if wantOK {
			total := l1 + l2
			numPieces = total / pieceLength
			if total%pieceLength != 0 {
				numPieces++
			}
			if numPieces > 1000 {
				return // too many hashes to build cheaply
			}
		}
		second := file(l2, path2...)
		if pad2 {
			second["attr"] = "p"
		}
		info := map[string]any{
			"name":         name,
			"piece length": pieceLength,
			"pieces":       hashes(int(numPieces)),
			"files":        []any{file(l1, path1...), second},
		}
		data := torrent(t, info)
		m, err := Parse(data)
		if (err == nil) != wantOK {
			t.Fatalf("Parse error %v, but the rules say ok=%v", err, wantOK)
		}
		if err == nil {
			checkParsed(t, data, m)
		}
	})
}

func allValid(path []string) bool {
	for _, c := range path {
		if ValidateComponent(c) != nil {
			return false
		}
	}
	return len(path) > 0
}

// pathsCollide reports whether a and b are equal or one is a proper
// prefix of the other (a file where the other needs a directory).
func pathsCollide(a, b []string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return slices.Equal(a, b[:len(a)])
}
