package metainfo

import (
	"math"
	"reflect"
	"testing"
)

// layoutInfo builds a parsed-like multi-file Info with the given file
// lengths, named f0, f1, ..., and the right number of fake piece hashes.
func layoutInfo(pieceLength int64, lengths ...int64) *Info {
	info := &Info{Name: "d", PieceLength: pieceLength}
	var total int64
	for k, l := range lengths {
		info.Files = append(info.Files, File{Path: []string{"f" + string(rune('0'+k))}, Length: l})
		total += l
	}
	n := (total + pieceLength - 1) / pieceLength
	info.Pieces = []byte(hashes(int(n)))
	info.SetOffsets()
	return info
}

func TestSpans(t *testing.T) {
	// Three files of 5, 0 and 7 bytes at piece length 4:
	//   content  0 1 2 3 | 4 5 6 7 | 8 9 10 11
	//   file     0 0 0 0 | 0 2 2 2 | 2 2 2  2     (file 1 is empty, at 5)
	info := layoutInfo(4, 5, 0, 7)
	tests := []struct {
		off, n int64
		want   []FileSpan
	}{
		{0, 12, []FileSpan{{0, 0, 5}, {2, 0, 7}}},
		{0, 1, []FileSpan{{0, 0, 1}}},
		{4, 1, []FileSpan{{0, 4, 1}}},
		{4, 2, []FileSpan{{0, 4, 1}, {2, 0, 1}}},
		{5, 1, []FileSpan{{2, 0, 1}}},
		{11, 1, []FileSpan{{2, 6, 1}}},
		{6, 6, []FileSpan{{2, 1, 6}}},
		{0, 0, nil},
		{12, 0, nil},
		{-1, 2, nil},
		{11, 2, nil},
		{0, 13, nil},
		{12, 1, nil},
		{math.MaxInt64, 1, nil},
		{1, math.MaxInt64, nil},
		{math.MaxInt64, math.MaxInt64, nil},
	}
	for _, tt := range tests {
		if got := info.Spans(tt.off, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Spans(%d, %d) = %v, want %v", tt.off, tt.n, got, tt.want)
		}
	}

	pieces := [][]FileSpan{
		{{0, 0, 4}},
		{{0, 4, 1}, {2, 0, 3}},
		{{2, 3, 4}},
	}
	for p, want := range pieces {
		if got := info.PieceSpans(p); !reflect.DeepEqual(got, want) {
			t.Errorf("PieceSpans(%d) = %v, want %v", p, got, want)
		}
	}
	for _, p := range []int{-1, 3, math.MaxInt} {
		if got := info.PieceSpans(p); got != nil {
			t.Errorf("PieceSpans(%d) = %v, want nil", p, got)
		}
	}
}

func TestSpansSingleFile(t *testing.T) {
	info := &Info{Name: "f", PieceLength: 4, Length: 10, Pieces: []byte(hashes(3))}
	tests := []struct {
		off, n int64
		want   []FileSpan
	}{
		{0, 10, []FileSpan{{0, 0, 10}}},
		{8, 2, []FileSpan{{0, 8, 2}}},
		{8, 3, nil},
		{-1, 1, nil},
		{math.MaxInt64, 1, nil},
	}
	for _, tt := range tests {
		if got := info.Spans(tt.off, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Spans(%d, %d) = %v, want %v", tt.off, tt.n, got, tt.want)
		}
	}
	if got, want := info.PieceSpans(2), []FileSpan{{0, 8, 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("PieceSpans(2) = %v, want %v", got, want)
	}
}

// TestSpansBruteForce compares Spans with a byte-by-byte owner map on
// layouts with empty files at the start, middle and end and a pad file,
// for every range.
func TestSpansBruteForce(t *testing.T) {
	layouts := [][]int64{
		{5, 0, 7},
		{0, 0, 3, 0, 0, 4, 0},
		{1, 1, 1, 1, 1},
		{9},
		{0, 9, 0},
	}
	for _, lengths := range layouts {
		info := layoutInfo(4, lengths...)
		var owner []FileSpan // owner[b] is the one-byte span holding byte b
		for k, l := range lengths {
			for o := range l {
				owner = append(owner, FileSpan{k, o, 1})
			}
		}
		total := int64(len(owner))
		if info.TotalLength() != total {
			t.Fatalf("%v: TotalLength %d, want %d", lengths, info.TotalLength(), total)
		}
		for off := int64(0); off < total; off++ {
			for n := int64(1); off+n <= total; n++ {
				// Merge the per-byte owners into maximal runs per file.
				var want []FileSpan
				for _, o := range owner[off : off+n] {
					if last := len(want) - 1; last >= 0 && want[last].File == o.File {
						want[last].Length++
					} else {
						want = append(want, o)
					}
				}
				if got := info.Spans(off, n); !reflect.DeepEqual(got, want) {
					t.Errorf("%v: Spans(%d, %d) = %v, want %v", lengths, off, n, got, want)
				}
			}
		}
	}
}

func TestPieceSizeAndHash(t *testing.T) {
	tests := []struct {
		name string
		info *Info
		want []int64 // sizes of pieces 0..n-1
	}{
		{"multi exact", layoutInfo(4, 5, 0, 7), []int64{4, 4, 4}},
		{"multi short tail", layoutInfo(4, 5, 0, 6), []int64{4, 4, 3}},
		{"single", &Info{Name: "f", PieceLength: 4, Length: 10, Pieces: []byte(hashes(3))}, []int64{4, 4, 2}},
		{"single one byte", &Info{Name: "f", PieceLength: 1 << 20, Length: 1, Pieces: []byte(hashes(1))}, []int64{1}},
		{"empty", &Info{Name: "f", PieceLength: 4}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.info.NumPieces(); got != len(tt.want) {
				t.Fatalf("NumPieces %d, want %d", got, len(tt.want))
			}
			var sum int64
			for p, want := range tt.want {
				if got := tt.info.PieceSize(p); got != want {
					t.Errorf("PieceSize(%d) = %d, want %d", p, got, want)
				}
				sum += want
			}
			if sum != tt.info.TotalLength() {
				t.Errorf("pieces sum to %d, TotalLength %d", sum, tt.info.TotalLength())
			}
			for _, p := range []int{-1, len(tt.want), math.MaxInt} {
				if got := tt.info.PieceSize(p); got != 0 {
					t.Errorf("PieceSize(%d) = %d, want 0", p, got)
				}
				if got := tt.info.PieceHash(p); got != (Hash{}) {
					t.Errorf("PieceHash(%d) = %v, want zero", p, got)
				}
			}
		})
	}

	info := &Info{Pieces: []byte("aaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbb")}
	if got := info.PieceHash(1); string(got[:]) != "bbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("PieceHash(1) = %q", got[:])
	}
}

func TestFileList(t *testing.T) {
	single := &Info{Name: "f.bin", Length: 10}
	if got, want := single.FileList(), []File{{Path: []string{"f.bin"}, Length: 10}}; !reflect.DeepEqual(got, want) {
		t.Errorf("single FileList = %+v", got)
	}
	multi := layoutInfo(4, 5, 0, 7)
	got := multi.FileList()
	if !reflect.DeepEqual(got, multi.Files) {
		t.Errorf("multi FileList = %+v", got)
	}
	got[0].Length = 99 // a copy: must not reach the Info
	if multi.Files[0].Length != 5 {
		t.Error("FileList shares its slice with Info.Files")
	}
}

func TestIsPad(t *testing.T) {
	for attr, want := range map[string]bool{"": false, "p": true, "xp": true, "x": false, "hl": false} {
		if got := (File{Attr: attr}).IsPad(); got != want {
			t.Errorf("File{Attr: %q}.IsPad() = %v", attr, got)
		}
	}
}
