package metainfo

import (
	"maps"
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/bencode"
)

// hashes returns n fake piece hashes: their value does not matter to
// parsing, only their count.
func hashes(n int) string { return strings.Repeat("0123456789abcdefghij", n) }

// file returns a files-list entry.
func file(length int64, path ...string) map[string]any {
	p := make([]any, len(path))
	for i, s := range path {
		p[i] = s
	}
	return map[string]any{"length": length, "path": p}
}

// multiInfo returns a valid multi-file info dictionary: files of 5, 0 and 7
// bytes (12 in all) at piece length 4, so three pieces.
func multiInfo() map[string]any {
	return map[string]any{
		"name":         "dir",
		"piece length": int64(4),
		"pieces":       hashes(3),
		"files": []any{
			file(5, "a.txt"),
			file(0, "empty"),
			file(7, "sub", "b.bin"),
		},
	}
}

// singleInfo returns a valid single-file info dictionary of 10 bytes at
// piece length 4.
func singleInfo() map[string]any {
	return map[string]any{
		"name":         "f.bin",
		"length":       int64(10),
		"piece length": int64(4),
		"pieces":       hashes(3),
	}
}

// with returns a shallow copy of m with the given keys set; a nil value
// deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	c := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// torrent bencodes a torrent file holding info plus the given top-level
// keys.
func torrent(t testing.TB, info map[string]any, kv ...any) []byte {
	t.Helper()
	top := with(map[string]any{"announce": "http://127.0.0.1:6969/announce", "info": info}, kv...)
	b, err := bencode.Marshal(top)
	if err != nil {
		t.Fatalf("marshal test torrent: %v", err)
	}
	return b
}
