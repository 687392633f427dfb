package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/bencode"
	"github.com/swarmlab/swarmlab/metainfo"
)

// run executes the command line in-process and returns its outputs and
// exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// writeTree creates files under dir from a map of '/'-separated relative
// paths to contents.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOneLineError asserts that a failed run printed exactly one line,
// "swarmlab: ...", mentioning want.
func checkOneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "swarmlab: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr is not one 'swarmlab: ' line: %q", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not mention %q", stderr, want)
	}
}

func TestCreateThenInspectJSON(t *testing.T) {
	tmp := t.TempDir()
	content := filepath.Join(tmp, "data")
	writeTree(t, content, map[string]string{
		"readme.txt":    "hello",
		"sub/big.bin":   strings.Repeat("x", 40000),
		"sub/empty.dat": "",
	})
	out := filepath.Join(tmp, "data.torrent")
	stdout, stderr, code := run(t, "create", "-o", out,
		"-t", "http://127.0.0.1:6969/announce", "-t", "udp://127.0.0.1:6969,tier",
		"--web-seed", "http://127.0.0.1:8080/",
		"--piece-size", "16K", "--private", "--comment", "hi", "--no-date", content)
	if code != 0 {
		t.Fatalf("create exited %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("create wrote to stderr when it is not a terminal: %q", stderr)
	}
	m, err := metainfo.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, m.InfoHash.HexString()) || !strings.Contains(stdout, "3 pieces") {
		t.Errorf("summary %q should be one line with the info hash and piece count", stdout)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("output mode: %v %v", fi.Mode(), err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(tmp, ".*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left behind: %q", tmps)
	}

	stdout, stderr, code = run(t, "inspect", "--json", out)
	if code != 0 {
		t.Fatalf("inspect exited %d: %s", code, stderr)
	}
	var got torrentJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("inspect --json output %q: %v", stdout, err)
	}
	want := torrentJSON{
		InfoHash:    m.InfoHash.HexString(),
		Name:        "data",
		PieceLength: 16384,
		Pieces:      3,
		TotalLength: 40005,
		Private:     true,
		Files: []fileJSON{
			{Path: "readme.txt", Length: 5},
			{Path: "sub/big.bin", Length: 40000},
			{Path: "sub/empty.dat", Length: 0},
		},
		Trackers:  []string{"http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969,tier"},
		Tiers:     [][]string{{"http://127.0.0.1:6969/announce"}, {"udp://127.0.0.1:6969,tier"}},
		WebSeeds:  []string{"http://127.0.0.1:8080/"},
		Comment:   "hi",
		CreatedBy: "swarmlab/" + Version,
		Warnings:  []string{},
	}
	if !jsonEqual(t, got, want) {
		t.Errorf("inspect --json:\n got %+v\nwant %+v", got, want)
	}
	// The key order is part of the interface.
	wantKeys := []string{"info_hash", "name", "piece_length", "pieces", "total_length", "private", "meta_version",
		"files", "trackers", "tiers", "web_seeds", "comment", "created_by", "creation_date", "warnings"}
	if keys := topLevelKeys(t, stdout); !slices.Equal(keys, wantKeys) {
		t.Errorf("keys %q, want %q", keys, wantKeys)
	}

	stdout, _, code = run(t, "inspect", out)
	for _, s := range []string{"Name:          data", "Info hash:     " + m.InfoHash.HexString(), "Pieces:        3",
		"Private:       yes", "tier 2: udp://127.0.0.1:6969,tier", "sub/big.bin", "39.1 KiB (40005 bytes)"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("inspect text lacks %q:\n%s", s, stdout)
		}
	}
	if code != 0 {
		t.Errorf("inspect exited %d", code)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

func topLevelKeys(t *testing.T, doc string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestCreateSingleFileWithDate(t *testing.T) {
	tmp := t.TempDir()
	writeTree(t, tmp, map[string]string{"song.ogg": "la la la"})
	out := filepath.Join(tmp, "out", "song.torrent")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "create", "-o", out, filepath.Join(tmp, "song.ogg")); code != 0 {
		t.Fatalf("create exited %d: %s", code, stderr)
	}
	stdout, _, code := run(t, "inspect", "--json", out)
	var got torrentJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 {
		t.Fatalf("inspect: %d %v", code, err)
	}
	if got.Name != "song.ogg" || len(got.Files) != 1 || got.Files[0].Path != "song.ogg" || got.Files[0].Length != 8 {
		t.Errorf("single-file torrent: %+v", got)
	}
	if got.CreationDate == nil || len(got.Trackers) != 0 || len(got.Tiers) != 0 || got.Private {
		t.Errorf("defaults: date %v trackers %v tiers %v private %v", got.CreationDate, got.Trackers, got.Tiers, got.Private)
	}
}

func TestCreateOverwrite(t *testing.T) {
	tmp := t.TempDir()
	writeTree(t, tmp, map[string]string{"a": "one", "b": "two"})
	out := filepath.Join(tmp, "x.torrent")
	if _, stderr, code := run(t, "create", "-o", out, filepath.Join(tmp, "a")); code != 0 {
		t.Fatalf("create: %s", stderr)
	}
	first, _ := os.ReadFile(out)

	_, stderr, code := run(t, "create", "-o", out, filepath.Join(tmp, "b"))
	if code != ExitFailure {
		t.Errorf("overwrite without --force exited %d", code)
	}
	checkOneLineError(t, stderr, "--force")
	if now, _ := os.ReadFile(out); !bytes.Equal(now, first) {
		t.Error("refused overwrite still changed the file")
	}

	if _, stderr, code := run(t, "create", "--force", "-o", out, filepath.Join(tmp, "b")); code != 0 {
		t.Fatalf("create --force: %s", stderr)
	}
	m, err := metainfo.Load(out)
	if err != nil || m.Info.Name != "b" {
		t.Errorf("after --force: %v %v", m, err)
	}
}

func TestInspectMagnet(t *testing.T) {
	const hash = "0123456789abcdef0123456789abcdef01234567"
	link := "magnet:?xt=urn:btih:" + hash + "&dn=Some%20Name&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce" +
		"&ws=http%3A%2F%2F127.0.0.1%3A8080%2F&x.pe=127.0.0.1:6881"
	stdout, stderr, code := run(t, "inspect", "--json", link)
	if code != 0 {
		t.Fatalf("exited %d: %s", code, stderr)
	}
	var got magnetJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := magnetJSON{
		InfoHash: hash,
		Name:     "Some Name",
		Trackers: []string{"http://127.0.0.1:6969/announce"},
		WebSeeds: []string{"http://127.0.0.1:8080/"},
		Peers:    []string{"127.0.0.1:6881"},
	}
	if !jsonEqual(t, got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if keys := topLevelKeys(t, stdout); slices.Contains(keys, "pieces") || slices.Contains(keys, "piece_length") {
		t.Errorf("magnet output has piece fields: %q", keys)
	}

	stdout, _, code = run(t, "inspect", link)
	if code != 0 || !strings.Contains(stdout, "Info hash:     "+hash) || !strings.Contains(stdout, "Some Name") {
		t.Errorf("text output (%d): %s", code, stdout)
	}
}

// TestInspectEscapesControlCharacters checks that a hostile name cannot
// send escape sequences to the terminal or fake extra output lines.
func TestInspectEscapesControlCharacters(t *testing.T) {
	link := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=evil%1b%5b2J%0aInfo%20hash:%20fake"
	stdout, _, code := run(t, "inspect", link)
	if code != 0 {
		t.Fatalf("exited %d", code)
	}
	if strings.ContainsRune(stdout, 0x1b) || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, "\nInfo hash:     0123") {
		t.Errorf("control characters reached the output: %q", stdout)
	}
}

// torrentBytes bencodes a torrent with the given info dictionary.
func torrentBytes(t *testing.T, info map[string]any) []byte {
	t.Helper()
	b, err := bencode.Marshal(map[string]any{"announce": "http://127.0.0.1:1/a", "info": info})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInputs(t *testing.T) {
	tmp := t.TempDir()
	writeTree(t, tmp, map[string]string{"content/f": "data", "garbage.torrent": "this is not bencode\n"})
	good := filepath.Join(tmp, "good.torrent")
	if _, stderr, code := run(t, "create", "-o", good, filepath.Join(tmp, "content")); code != 0 {
		t.Fatal(stderr)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated.torrent")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	unsafe := filepath.Join(tmp, "unsafe.torrent")
	if err := os.WriteFile(unsafe, torrentBytes(t, map[string]any{
		"name": "x", "piece length": int64(16384), "pieces": strings.Repeat("a", 20),
		"files": []any{map[string]any{"length": int64(3), "path": []any{"..", "etc", "passwd"}}},
	}), 0o644); err != nil {
		t.Fatal(err)
	}
	content := filepath.Join(tmp, "content")
	out := filepath.Join(tmp, "new.torrent")

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing torrent", []string{"inspect", filepath.Join(tmp, "nope.torrent")}, ExitFailure, "no such file"},
		{"garbage torrent", []string{"inspect", filepath.Join(tmp, "garbage.torrent")}, ExitFailure, "not a torrent"},
		{"truncated torrent", []string{"inspect", "--json", truncated}, ExitFailure, "truncated.torrent"},
		{"unsafe path", []string{"inspect", unsafe}, ExitFailure, "unsafe path"},
		{"directory as torrent", []string{"inspect", tmp}, ExitFailure, "metainfo"},
		{"bad magnet hash", []string{"inspect", "magnet:?xt=urn:btih:xyz"}, ExitFailure, "info hash"},
		{"magnet without hash", []string{"inspect", "MAGNET:?dn=x"}, ExitFailure, "no info hash"},
		{"inspect no argument", []string{"inspect"}, ExitUsage, "missing"},
		{"inspect two arguments", []string{"inspect", "a", "b"}, ExitUsage, "got 2"},
		{"piece size not power of two", []string{"create", "-o", out, "--piece-size", "3M", content}, ExitUsage, "power of two"},
		{"piece size too small", []string{"create", "-o", out, "--piece-size", "8K", content}, ExitUsage, "minimum"},
		{"piece size too large", []string{"create", "-o", out, "--piece-size", "1G", content}, ExitUsage, "maximum"},
		{"piece size garbage", []string{"create", "-o", out, "--piece-size", "big", content}, ExitUsage, "want a number"},
		{"piece size unit", []string{"create", "-o", out, "--piece-size", "1T", content}, ExitUsage, "unknown unit"},
		{"piece size overflow", []string{"create", "-o", out, "--piece-size", "99999999999999999999", content}, ExitUsage, "too large"},
		{"create without output", []string{"create", content}, ExitUsage, "--output is required"},
		{"create without path", []string{"create", "-o", out}, ExitUsage, "missing PATH"},
		{"create missing path", []string{"create", "-o", out, filepath.Join(tmp, "nope")}, ExitFailure, "no such file"},
		{"create output inside content", []string{"create", "-o", filepath.Join(content, "x.torrent"), content}, ExitFailure, "inside"},
		{"create output is content", []string{"create", "--force", "-o", filepath.Join(content, "f"), filepath.Join(content, "f")}, ExitFailure, "overwrite"},
		{"create output is directory", []string{"create", "--force", "-o", tmp, content}, ExitFailure, "directory"},
		{"unknown flag", []string{"create", "--bogus"}, ExitUsage, "unknown flag"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"version with argument", []string{"version", "x"}, ExitUsage, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			checkOneLineError(t, stderr, c.want)
		})
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed create left %s behind: %v", out, err)
	}
}

func TestFormatBytes(t *testing.T) {
	cases := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 40005: "39.1 KiB",
		16 << 20: "16 MiB", 3 << 30: "3 GiB", 5 << 40: "5 TiB"}
	for n, want := range cases {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("bad\n\n\tthing\x1b[0m  here\n"); got != "bad thing [0m  here" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestVersionAndHelp(t *testing.T) {
	stdout, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "swarmlab "+Version) {
		t.Errorf("version: %d %q", code, stdout)
	}
	stdout, _, code = run(t)
	if code != 0 || !strings.Contains(stdout, "create") || !strings.Contains(stdout, "inspect") {
		t.Errorf("no arguments: %d %q", code, stdout)
	}
}

// TestProgressBar drives the bar as Create would; only its drawing is
// checked, since a test cannot be a terminal.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &hashProgress{w: &buf}
	p.update(1<<19, 1<<20) // the first report always draws; later ones are throttled
	if !strings.Contains(buf.String(), "hashing") || !strings.Contains(buf.String(), "50%") {
		t.Errorf("bar output %q", buf.String())
	}
	p.update(1<<20, 1<<20)
	p.done()
	if isTerminal(&buf) {
		t.Error("a buffer counted as a terminal")
	}
}

// TestBinaryExitStatus builds the real binary and checks what a user (or a
// script) sees for a garbage torrent: a non-zero status and one line.
func TestBinaryExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "swarmlab")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/swarmlab/swarmlab/cmd/swarmlab")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	garbage := filepath.Join(tmp, "garbage.torrent")
	if err := os.WriteFile(garbage, []byte("d4:infoi"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect", garbage}, ExitFailure},
		{[]string{"create", "--piece-size", "3", "-o", filepath.Join(tmp, "x"), tmp}, ExitUsage},
	} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, c.args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != c.code {
			t.Errorf("%q: err %v, want exit status %d", c.args, err, c.code)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: stdout %q", c.args, stdout.String())
		}
		checkOneLineError(t, stderr.String(), "swarmlab: ")
	}
}

func TestCreateInterrupted(t *testing.T) {
	tmp := t.TempDir()
	writeTree(t, tmp, map[string]string{"f": "data"})
	out := filepath.Join(tmp, "f.torrent")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C arrived before hashing finished
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"create", "-o", out, filepath.Join(tmp, "f")}, &stdout, &stderr)
	if code != ExitInterrupted || stderr.String() != "swarmlab: interrupted\n" {
		t.Errorf("exit %d, stderr %q; want %d and one 'interrupted' line", code, stderr.String(), ExitInterrupted)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("interrupted create left %s: %v", out, err)
	}
}
