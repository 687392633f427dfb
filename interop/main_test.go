package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireEnv, when "1", turns a missing interop tool from a skip into a
// failure. CI sets it so that a broken install cannot pass as green.
const requireEnv = "SWARMLAB_REQUIRE_INTEROP"

// deadTracker is an announce URL on loopback where nothing listens. Torrents
// in these tests need a tracker for realism, and if anything ever did try to
// announce, the traffic would stay on this machine.
const deadTracker = "http://127.0.0.1:1/announce"

// cmdTimeout bounds every subprocess. Hitting it is a test failure (a hung
// tool), never a way of waiting for something.
const cmdTimeout = 3 * time.Minute

var (
	// swarmlabBin is the binary built by TestMain; buildErr is set instead
	// when the build failed, so each test can report it rather than the
	// whole package dying before any test name is printed.
	swarmlabBin string
	buildErr    error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "swarmlab-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
	swarmlabBin, buildErr = buildSwarmlab(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildSwarmlab builds ./cmd/swarmlab from the module root (the parent of
// this package's directory, which is the test's working directory).
func buildSwarmlab(dir string) (string, error) {
	out := filepath.Join(dir, "swarmlab")
	// go test puts its own GOROOT/bin first on PATH, so this is the same
	// toolchain that is running the tests.
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go not on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/swarmlab")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/swarmlab: %v\n%s", err, b)
	}
	return out, nil
}

func needSwarmlab(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("cannot build the swarmlab binary: %v", buildErr)
	}
}

// missingTool skips the test, or fails it when interop is required.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (%s=1, so this is a failure, not a skip)", msg, requireEnv)
	}
	t.Skipf("%s; set %s=1 to make this a failure", msg, requireEnv)
}

// toolPackages names the Debian package of each external tool, for the
// message when one is missing.
var toolPackages = map[string]string{
	"mktorrent":           "mktorrent",
	"aria2c":              "aria2",
	"transmission-daemon": "transmission-daemon",
	"transmission-remote": "transmission-cli",
	"opentracker":         "opentracker",
}

// needTool returns the path of an external tool on PATH, or skips (or
// fails) the test when it is not there.
func needTool(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		missingTool(t, "%s not found (apt-get install %s)", bin, toolPackages[bin])
	}
	return p
}

// needTools checks the swarmlab binary and every tool a test uses before
// any is started, so a missing one skips (or fails) the test at once.
// "libtorrent" stands for a python3 that can import it; any other name is
// a binary on PATH.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	needSwarmlab(t)
	for _, tool := range tools {
		if tool == "libtorrent" {
			needLibtorrent(t)
		} else {
			needTool(t, tool)
		}
	}
}

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  error
)

// needLibtorrent returns a python3 that can import libtorrent. The first
// python3 on PATH is not always the system one (pyenv and virtualenvs shadow
// it, and Debian's python3-libtorrent installs only for /usr/bin/python3),
// so several candidates are tried; SWARMLAB_PYTHON overrides them all.
func needLibtorrent(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		var candidates []string
		if p := os.Getenv("SWARMLAB_PYTHON"); p != "" {
			candidates = []string{p}
		} else {
			if p, err := exec.LookPath("python3"); err == nil {
				candidates = append(candidates, p)
			}
			candidates = append(candidates, "/usr/bin/python3")
		}
		var tried []string
		for _, c := range candidates {
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			b, err := exec.CommandContext(ctx, c, "-c", "import libtorrent").CombinedOutput()
			cancel()
			if err == nil {
				pythonPath = c
				return
			}
			tried = append(tried, fmt.Sprintf("%s: %v %s", c, err, strings.TrimSpace(string(b))))
		}
		pythonErr = fmt.Errorf("no python3 can import libtorrent (apt-get install python3-libtorrent); tried:\n%s",
			strings.Join(tried, "\n"))
	})
	if pythonErr != nil {
		missingTool(t, "%v", pythonErr)
	}
	return pythonPath
}

// run executes a command and returns its stdout; any failure, including a
// non-zero exit, fails the test with stderr attached.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err,
			stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// ltPy runs testdata/lt.py with the given arguments and decodes its JSON.
func ltPy(t *testing.T, v any, args ...string) {
	t.Helper()
	py := needLibtorrent(t)
	out := run(t, py, append([]string{filepath.Join("testdata", "lt.py")}, args...)...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("lt.py %v: bad JSON %q: %v", args, out, err)
	}
}

// ltFile is one file as libtorrent lists it.
type ltFile struct {
	Path string `json:"path"` // includes the torrent name for multi-file
	Size int64  `json:"size"`
	Pad  bool   `json:"pad"`
}

// ltTorrent is what lt.py info reports about a .torrent.
type ltTorrent struct {
	InfoHashV1  string   `json:"info_hash_v1"`
	HasV2       bool     `json:"has_v2"`
	Name        string   `json:"name"`
	PieceLength int64    `json:"piece_length"`
	NumPieces   int      `json:"num_pieces"`
	TotalSize   int64    `json:"total_size"`
	NumFiles    int      `json:"num_files"`
	Private     bool     `json:"private"`
	Trackers    []string `json:"trackers"`
	WebSeeds    []string `json:"web_seeds"`
	Comment     string   `json:"comment"`
	Files       []ltFile `json:"files"`
}

func ltInfo(t *testing.T, torrent string) ltTorrent {
	t.Helper()
	var info ltTorrent
	ltPy(t, &info, "info", torrent)
	if len(info.InfoHashV1) != 40 {
		t.Fatalf("libtorrent reports no v1 info hash for %s: %+v", torrent, info)
	}
	return info
}

// ltCheckResult is what lt.py check reports after libtorrent's hash check.
type ltCheckResult struct {
	Error      string   `json:"error"`
	InfoHashV1 string   `json:"info_hash_v1"`
	NumPieces  int      `json:"num_pieces"`
	Have       int      `json:"have"`
	Missing    []int    `json:"missing"`
	State      string   `json:"state"`
	Errors     []string `json:"errors"`
}

// ltCheck adds the torrent to a libtorrent session with its data under
// savePath and returns the outcome of the full hash check.
func ltCheck(t *testing.T, torrent, savePath string) ltCheckResult {
	t.Helper()
	var res ltCheckResult
	ltPy(t, &res, "check", torrent, savePath, "--timeout", "120")
	if res.Error != "" {
		t.Fatalf("libtorrent check of %s: %s (state %s, errors %v)", torrent, res.Error, res.State, res.Errors)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("libtorrent check of %s reported errors: %v", torrent, res.Errors)
	}
	return res
}

// inspectFile is one entry of `swarmlab inspect --json`'s files list.
type inspectFile struct {
	Path   string `json:"path"` // "/"-joined, below the torrent's name
	Length int64  `json:"length"`
	Attr   string `json:"attr"` // BEP 47 letters; "p" marks a pad file
}

// inspectOut is the subset of `swarmlab inspect --json` the tests rely on.
type inspectOut struct {
	InfoHash    string        `json:"info_hash"`
	Name        string        `json:"name"`
	PieceLength int64         `json:"piece_length"`
	Pieces      int           `json:"pieces"`
	TotalLength int64         `json:"total_length"`
	Private     bool          `json:"private"`
	Files       []inspectFile `json:"files"`
	Trackers    []string      `json:"trackers"`
	WebSeeds    []string      `json:"web_seeds"`
	Comment     string        `json:"comment"`
}

func inspect(t *testing.T, torrent string) inspectOut {
	t.Helper()
	needSwarmlab(t)
	out := run(t, swarmlabBin, "inspect", "--json", torrent)
	var o inspectOut
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("swarmlab inspect --json %s: bad JSON %q: %v", torrent, out, err)
	}
	return o
}

// fileSpec is one file of generated test data, relative to the content root.
type fileSpec struct {
	path string // "/"-separated; "" for single-file data
	size int64
}

// genData writes deterministic pseudo-random files under root. Each file's
// bytes come from a ChaCha8 stream seeded by seed and the file's path, so a
// file's content does not depend on which other files a test asks for.
func genData(t *testing.T, root string, seed uint64, files []fileSpec) {
	t.Helper()
	for _, f := range files {
		p := root
		if f.path != "" {
			p = filepath.Join(root, filepath.FromSlash(f.path))
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var key [32]byte
		copy(key[:], fmt.Sprintf("%016x/%s", seed, f.path))
		rng := rand.NewChaCha8(key)
		buf := make([]byte, f.size)
		if _, err := rng.Read(buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// isMulti reports whether files are the content of a multi-file torrent
// (a directory) rather than a single file.
func isMulti(files []fileSpec) bool { return files[0].path != "" }

func totalSize(files []fileSpec) int64 {
	var n int64
	for _, f := range files {
		n += f.size
	}
	return n
}

// piecesFor is the number of pieces needed to cover n bytes.
func piecesFor(n, pieceLength int64) int {
	return int((n + pieceLength - 1) / pieceLength)
}

// ltFileList is libtorrent's file list as "path:length", with ":pad"
// appended for pad files and the torrent name stripped from multi-file
// paths so that it lines up with inspect's.
func ltFileList(info ltTorrent, multi bool, pads bool) []string {
	var out []string
	for _, f := range info.Files {
		if f.Pad && !pads {
			continue
		}
		p := f.Path
		if multi {
			p = strings.TrimPrefix(p, info.Name+"/")
		}
		e := fmt.Sprintf("%s:%d", p, f.Size)
		if f.Pad {
			e += ":pad"
		}
		out = append(out, e)
	}
	return out
}

// ourFileList is inspect's file list in the form of ltFileList. A
// single-file torrent is listed as one file named after the torrent.
func ourFileList(o inspectOut, pads bool) []string {
	var out []string
	for _, f := range o.Files {
		pad := strings.Contains(f.Attr, "p")
		if pad && !pads {
			continue
		}
		e := fmt.Sprintf("%s:%d", f.Path, f.Length)
		if pad {
			e += ":pad"
		}
		out = append(out, e)
	}
	return out
}

// specFiles is the generated data's file list in "path:length" form,
// sorted; single-file data is named name.
func specFiles(name string, files []fileSpec) []string {
	var out []string
	for _, f := range files {
		p := f.path
		if p == "" {
			p = name
		}
		out = append(out, fmt.Sprintf("%s:%d", p, f.size))
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkFiles fails the test unless got, a file list in "path:length"
// form without pad files, in any order, names exactly the generated files
// of the content called name. whose says whose list it is.
func checkFiles(t *testing.T, whose string, got []string, name string, files []fileSpec) {
	t.Helper()
	if got, want := sorted(got), specFiles(name, files); !slices.Equal(got, want) {
		t.Errorf("%s files:\n got  %v\n want %v", whose, got, want)
	}
}

// webSeeds is a web seed list without trailing slashes, sorted: libtorrent
// appends "/" to a multi-file torrent's web seeds when it loads them,
// while the torrent holds what was given.
func webSeeds(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = strings.TrimSuffix(u, "/")
	}
	slices.Sort(out)
	return out
}

// compareWithLibtorrent checks that inspect and libtorrent agree on
// everything that identifies and lays out the torrent. The info hash is the
// decisive check; the rest makes a mismatch easier to diagnose.
func compareWithLibtorrent(t *testing.T, ours inspectOut, lt ltTorrent, multi bool) {
	t.Helper()
	if !strings.EqualFold(ours.InfoHash, lt.InfoHashV1) {
		t.Errorf("info hash: swarmlab %s, libtorrent %s", ours.InfoHash, lt.InfoHashV1)
	}
	if ours.Name != lt.Name {
		t.Errorf("name: swarmlab %q, libtorrent %q", ours.Name, lt.Name)
	}
	if ours.PieceLength != lt.PieceLength {
		t.Errorf("piece length: swarmlab %d, libtorrent %d", ours.PieceLength, lt.PieceLength)
	}
	if ours.Pieces != lt.NumPieces {
		t.Errorf("pieces: swarmlab %d, libtorrent %d", ours.Pieces, lt.NumPieces)
	}
	// libtorrent's total size counts pad files: they are files of the v1
	// info dictionary and the pieces hash them, so ours must count them too.
	if ours.TotalLength != lt.TotalSize {
		t.Errorf("total length: swarmlab %d, libtorrent %d", ours.TotalLength, lt.TotalSize)
	}
	if ours.Private != lt.Private {
		t.Errorf("private: swarmlab %v, libtorrent %v", ours.Private, lt.Private)
	}
	// In torrent order, pad files included and marked: inspect must show
	// the same layout libtorrent will use to map pieces to files.
	if got, want := ourFileList(ours, true), ltFileList(lt, multi, true); !slices.Equal(got, want) {
		t.Errorf("files:\n swarmlab   %v\n libtorrent %v", got, want)
	}
	if !slices.Equal(sorted(ours.Trackers), sorted(lt.Trackers)) {
		t.Errorf("trackers: swarmlab %v, libtorrent %v", ours.Trackers, lt.Trackers)
	}
	if !slices.Equal(webSeeds(ours.WebSeeds), webSeeds(lt.WebSeeds)) {
		t.Errorf("web seeds: swarmlab %v, libtorrent %v", ours.WebSeeds, lt.WebSeeds)
	}
	if ours.Comment != lt.Comment {
		t.Errorf("comment: swarmlab %q, libtorrent %q", ours.Comment, lt.Comment)
	}
}
