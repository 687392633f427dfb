package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSeedAndDownload runs `seed` and `download` in-process over
// loopback: the download completes, exits 0, matches the source byte for
// byte, and writes a stats file that adds up.
func TestSeedAndDownload(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "album", "sub"), 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string]int{"album/a.bin": 700_001, "album/sub/b.bin": 123_457, "album/empty": 0}
	for name, size := range files {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		os.WriteFile(filepath.Join(src, name), b, 0o644)
	}
	torrent := filepath.Join(dir, "album.torrent")
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"create", "-o", torrent, "--piece-size", "16K", filepath.Join(src, "album")}, &out, &errb); code != 0 {
		t.Fatalf("create: %d %s", code, errb.String())
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	seedDone := make(chan int, 1)
	seedErr := newWatchWriter("listening on")
	go func() {
		seedDone <- Run(ctx, []string{"seed", "--listen", addr, torrent, src}, &bytes.Buffer{}, seedErr)
	}()
	defer func() {
		cancel()
		if code := <-seedDone; code != ExitInterrupted {
			t.Errorf("seed exited %d: %s", code, seedErr.String())
		}
	}()

	dl := filepath.Join(dir, "dl")
	stats := filepath.Join(dir, "stats.json")
	// The seeder verifies its data before it listens; a download started
	// earlier would find nobody there (and, without trackers, never
	// retry), so wait for the seeder's listening line.
	select {
	case <-seedErr.seen:
	case code := <-seedDone:
		t.Fatalf("seed exited %d: %s", code, seedErr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("seeder never started listening")
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer dcancel()
	var derr bytes.Buffer
	if code := Run(dctx, []string{"download", "-o", dl, "--peer", addr, "--stats", stats, torrent}, &bytes.Buffer{}, &derr); code != 0 {
		t.Fatalf("download exited %d: %s", code, derr.String())
	}
	for name, size := range files {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(dl, name))
		if err != nil || !bytes.Equal(got, want) || len(got) != size {
			t.Errorf("%s: downloaded copy differs (err %v)", name, err)
		}
	}
	var doc struct {
		Complete   bool    `json:"complete"`
		Seconds    float64 `json:"seconds_to_complete"`
		Downloaded int64   `json:"downloaded"`
		Peers      []struct {
			Downloaded int64 `json:"downloaded"`
		} `json:"peers"`
	}
	b, err := os.ReadFile(stats)
	if err != nil || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("stats file: %v %s", err, b)
	}
	if !doc.Complete || doc.Downloaded != 823_458 || len(doc.Peers) != 1 || doc.Peers[0].Downloaded != 823_458 || doc.Seconds <= 0 {
		t.Fatalf("stats %+v", doc)
	}
}

func TestTransferBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "x.torrent")
	os.WriteFile(garbage, []byte("not a torrent"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"download", garbage}, ExitFailure, "not a torrent"},
		{[]string{"download", "--picker", "nope", garbage}, ExitUsage, "unknown picker"},
		{[]string{"download", "--max-up", "fast", garbage}, ExitUsage, "--max-up"},
		{[]string{"download", "--peer", "nocolon", garbage}, ExitUsage, "HOST:PORT"},
		{[]string{"seed", garbage}, ExitUsage, "DATA_DIR"},
	} {
		var errb bytes.Buffer
		code := Run(context.Background(), tc.args, &bytes.Buffer{}, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q on one line", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}

// watchWriter collects output from another goroutine and closes seen the
// first time it contains want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchWriter(want string) *watchWriter {
	return &watchWriter{want: want, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestProgressLinesWhileSeeding: a seed logs its state once, then rarely;
// not every second forever.
func TestProgressLinesWhileSeeding(t *testing.T) {
	var buf bytes.Buffer
	p := newTransferProgress(&buf, 100)
	start := time.Now()
	for i := range 60 { // a minute of one-second updates
		p.updateAt(engine.Stats{Left: 0}, start.Add(time.Duration(i+1)*time.Second))
	}
	if n := strings.Count(buf.String(), "\n"); n < 1 || n > 3 {
		t.Fatalf("%d progress lines in a minute of seeding:\n%s", n, buf.String())
	}
}
