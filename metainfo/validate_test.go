package metainfo

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateComponent(t *testing.T) {
	tests := []struct {
		s    string
		safe bool
	}{
		{"file.txt", true},
		{".pad", true},
		{".hidden", true},
		{"..foo", true},
		{"a b", true},
		{"Title: Subtitle", true}, // ':' is only refused as a drive letter
		{"日本語.mkv", true},
		{"console.log", true},
		{"CONFIG", true},
		{"com10", true},
		{"lpt", true},
		{"nul_", true},
		{"auxiliary.txt", true},

		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"/etc", false},
		{`a\b`, false},
		{`..\..\x`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"\x1f", false},
		{"del\x7f", false},
		{"trailing.", false},
		{"trailing ", false},
		{"CON", false},
		{"con", false},
		{"Nul.txt", false},
		{"nul.tar.gz", false},
		{"NUL .txt", false},
		{"aux", false},
		{"PRN", false},
		{"com1", false},
		{"COM9.log", false},
		{"lpt0", false},
		{"LPT¹", false},
		{"conin$", false},
		{"C:", false},
		{"c:evil", false},
		{"Z:\x00", false},
	}
	for _, tt := range tests {
		err := ValidateComponent(tt.s)
		if (err == nil) != tt.safe {
			t.Errorf("ValidateComponent(%q) = %v, want safe=%v", tt.s, err, tt.safe)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("ValidateComponent(%q) = %v, does not wrap ErrUnsafePath", tt.s, err)
		}
	}
}

// TestParseRejects feeds Parse broken and hostile torrents. Each error must
// say what is wrong, so the table pins a fragment of the message.
func TestParseRejects(t *testing.T) {
	files := func(fs ...any) map[string]any { return with(multiInfo(), "files", fs) }
	tests := []struct {
		name   string
		data   []byte
		want   string
		unsafe bool // error must wrap ErrUnsafePath
	}{
		{"empty input", nil, "not a torrent file", false},
		{"not a dict", []byte("l4:infoe"), "not a torrent file", false},
		{"truncated", torrent(t, singleInfo())[:60], "not a valid torrent file", false},
		{"trailing garbage", append(torrent(t, singleInfo()), 'x'), "not a valid torrent file", false},
		{"missing info", torrent(t, singleInfo(), "info", nil), "missing info dictionary", false},
		{"info not a dict", torrent(t, nil, "info", int64(3)), "info is not a dictionary", false},
		{"info wrong type field", torrent(t, with(singleInfo(), "length", "ten")), "invalid info dictionary", false},
		{"missing name", torrent(t, with(singleInfo(), "name", nil)), "missing or empty name", false},
		{"empty name", torrent(t, with(singleInfo(), "name", "")), "missing or empty name", false},
		{"missing piece length", torrent(t, with(singleInfo(), "piece length", nil)), "piece length 0 is not positive", false},
		{"negative piece length", torrent(t, with(singleInfo(), "piece length", int64(-4))), "piece length -4 is not positive", false},
		{"huge piece length", torrent(t, with(singleInfo(), "piece length", int64(1)<<40, "pieces", hashes(1))), "larger than", false},
		{"pieces not multiple of 20", torrent(t, with(singleInfo(), "pieces", hashes(3)[:59])), "pieces is 59 bytes, not a multiple of 20", false},
		{"too few pieces", torrent(t, with(singleInfo(), "pieces", hashes(2))), "2 piece hashes, want 3 for 10 bytes at piece length 4", false},
		{"too many pieces", torrent(t, with(multiInfo(), "pieces", hashes(4))), "4 piece hashes, want 3 for 12 bytes", false},
		{"both length and files", torrent(t, with(multiInfo(), "length", int64(12))), "both length", false},
		{"both, length zero", torrent(t, with(multiInfo(), "length", int64(0))), "both length", false},
		{"neither length nor files", torrent(t, with(singleInfo(), "length", nil)), "neither length", false},
		{"negative length", torrent(t, with(singleInfo(), "length", int64(-1), "pieces", "")), "negative length -1", false},
		{"negative file length", torrent(t, files(file(13, "a"), file(-1, "b"))), "file 1: negative length -1", false},
		{"file missing length", torrent(t, files(file(12, "a"), map[string]any{"path": []any{"b"}})), "file 1: missing length", false},
		{"empty files list", torrent(t, files()), "files list is empty", false},
		{"total length overflow", torrent(t, files(file(1<<62, "a"), file(1<<62, "b"))), "file 1: total length overflows", false},
		{"meta version 3", torrent(t, with(singleInfo(), "meta version", int64(3))), "unsupported meta version 3", false},
		{"v2 only", torrent(t, map[string]any{
			"name": "x", "piece length": int64(16384), "meta version": int64(2),
			"file tree": map[string]any{"x": map[string]any{"": map[string]any{"length": int64(1)}}},
		}), "v2-only torrents are not supported yet", false},

		{"name dotdot", torrent(t, with(multiInfo(), "name", "..")), "info name", true},
		{"name absolute", torrent(t, with(singleInfo(), "name", "/etc/passwd")), "path separator", true},
		{"name device", torrent(t, with(singleInfo(), "name", "nul.txt")), "reserved Windows device name", true},
		{"name utf-8 unsafe", torrent(t, with(singleInfo(), "name.utf-8", "../x")), "info name", true},
		{"path dotdot", torrent(t, files(file(12, "..", "..", "etc", "passwd"))), `file 0 path [".." ".." "etc" "passwd"]`, true},
		{"path absolute component", torrent(t, files(file(12, "/etc", "passwd"))), "path separator", true},
		{"path backslash", torrent(t, files(file(12, `..\..\boot.ini`))), "path separator", true},
		{"path empty component", torrent(t, files(file(12, "a", "", "b"))), "empty path component", true},
		{"path empty list", torrent(t, files(file(12))), "file 0 path: unsafe path: empty path", true},
		{"path missing", torrent(t, files(map[string]any{"length": int64(12)})), "empty path", true},
		{"path NUL", torrent(t, files(file(12, "a\x00.txt"))), "control character 0x00", true},
		{"path trailing dot", torrent(t, files(file(12, "a."))), "ends with a dot or space", true},
		{"path drive letter", torrent(t, files(file(12, "C:", "Windows"))), "drive letter", true},
		{"path utf-8 unsafe", torrent(t, files(with(file(12, "ok"), "path.utf-8", []any{".."}))), "refers to a directory", true},
		{"pad path unsafe", torrent(t, files(file(11, "a"), with(file(1, ".pad", ".."), "attr", "p"))), "file 1 path", true},
		{"symlink escapes", torrent(t, files(file(12, "a"), with(file(0, "l"), "attr", "l", "symlink path", []any{"..", "..", "etc"}))), "file 1 symlink path", true},
		{"symlink without target", torrent(t, files(file(12, "a"), with(file(0, "l"), "attr", "l"))), "symlink attribute without a symlink path", false},
		{"duplicate path", torrent(t, files(file(6, "a", "b"), file(6, "a", "b"))), "files 0 and 1", true},
		{"file is prefix of later", torrent(t, files(file(6, "a"), file(6, "a", "b"))), "goes through file 0", true},
		{"file is prefix of earlier", torrent(t, files(file(6, "a", "b", "c"), file(6, "a", "b"))), "also a directory of file 0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", m.Info)
			}
			if !strings.HasPrefix(err.Error(), "metainfo: ") {
				t.Errorf("error %q lacks the metainfo: prefix", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if errors.Is(err, ErrUnsafePath) != tt.unsafe {
				t.Errorf("errors.Is(%v, ErrUnsafePath) = %v, want %v", err, !tt.unsafe, tt.unsafe)
			}
		})
	}
}

// TestCollisionsCaseSensitive documents that paths differing only in case
// are distinct: Linux keeps both, and real torrents contain such pairs.
func TestCollisionsCaseSensitive(t *testing.T) {
	files := []any{file(6, "README"), file(6, "readme")}
	if _, err := Parse(torrent(t, with(multiInfo(), "files", files))); err != nil {
		t.Fatal(err)
	}
}

// TestDeepPathLinear builds a torrent whose single path is 100,000
// components deep; collision checking must stay linear in the number of
// components rather than joining every prefix.
func TestDeepPathLinear(t *testing.T) {
	path := make([]string, 100_000)
	for i := range path {
		path[i] = "d"
	}
	fs := []any{file(6, path...), file(6, append(path[:len(path)-1:len(path)-1], "e")...)}
	if _, err := Parse(torrent(t, with(multiInfo(), "files", fs))); err != nil {
		t.Fatal(err)
	}
}
