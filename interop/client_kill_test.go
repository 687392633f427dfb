package interop

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

// killDeadline bounds TestClientKillAndResume. The download is throttled
// to take about four seconds in all.
const killDeadline = 60 * time.Second

// alreadyVerified is what `swarmlab download` logs after checking the data
// it finds on disk, before it talks to any peer.
var alreadyVerified = regexp.MustCompile(`: (\d+) of (\d+) pieces already verified`)

// TestClientKillAndResume kills a download with SIGKILL halfway (no chance
// to clean up or save anything) and restarts it. The restarted run must
// find the pieces that were complete on disk, fetch only the rest, and end
// with the right bytes.
//
// Our seed is throttled (--max-up 2M) so that the download takes a few
// seconds and can be caught in the middle. The test hashes the partial
// file itself, independently of the client, both to know when to kill
// (a quarter of the pieces verify) and to know what the restart should
// report.
func TestClientKillAndResume(t *testing.T) {
	needTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), killDeadline)
	defer cancel()
	// 123 pieces of 64 KiB, the last 4,617 bytes.
	d := newSingleData(t, 8_000_009, 64<<10)
	torrent, info := d.torrent(t, "kill.torrent", deadTracker)
	mi, err := metainfo.Load(torrent)
	if err != nil {
		t.Fatal(err)
	}
	seed := startOurSeed(t, ctx, torrent, d.dir, "--no-trackers", "--max-up", "2M")

	base := t.TempDir()
	out := filepath.Join(base, "ours")
	file := filepath.Join(out, d.name)
	download := func(name, stats string) *proc {
		return startOurDownload(t, name, torrent, out, "--no-trackers", "--peer", seed.String(), "--stats", stats)
	}

	first := download("swarmlab download (to be killed)", filepath.Join(base, "stats-killed.json"))
	poll(t, ctx, "a quarter of the pieces to verify on disk", func() (bool, error) {
		have, err := verifiedOnDisk(file, &mi.Info)
		return count(have) >= info.Pieces/4, err
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.done:
	case <-ctx.Done():
		t.Fatal("the killed download did not exit")
	}
	var exitErr *exec.ExitError
	if !errors.As(first.err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the first download ended with %v before it could be killed; is --max-up throttling the seed?", first.err)
	}

	have, err := verifiedOnDisk(file, &mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	n := count(have)
	var haveBytes int64
	for i, ok := range have {
		if ok {
			haveBytes += mi.Info.PieceSize(i)
		}
	}
	t.Logf("killed with %d of %d pieces (%d bytes) verifiable on disk", n, info.Pieces, haveBytes)
	if n == info.Pieces {
		t.Fatal("every piece was on disk before the kill; the test did not interrupt a download")
	}

	statsPath := filepath.Join(base, "stats-resumed.json")
	second := download("swarmlab download (restarted)", statsPath)
	m := second.waitLine(t, ctx, alreadyVerified)
	reported, _ := strconv.Atoi(m[1])
	total, _ := strconv.Atoi(m[2])
	if total != info.Pieces {
		t.Errorf("restart reports %d pieces in the torrent, want %d", total, info.Pieces)
	}
	if reported < 1 {
		t.Errorf("restart reports %d pieces already verified, want at least 1", reported)
	}
	// Both checks hash the same bytes after the first process is gone.
	if reported != n {
		t.Errorf("restart reports %d pieces already verified; %d verify on disk", reported, n)
	}
	second.wait(t, ctx)
	d.check(t, out)

	var stats struct {
		Complete   bool  `json:"complete"`
		Downloaded int64 `json:"downloaded"`
		HashFails  int   `json:"hash_fails"`
	}
	b, err := os.ReadFile(statsPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &stats); err != nil {
		t.Fatalf("%s: %v", statsPath, err)
	}
	if !stats.Complete {
		t.Errorf("restarted run's stats say incomplete: %s", b)
	}
	// The pieces already on disk must not be fetched again. One piece of
	// slack allows for a block of a piece in flight being received twice
	// (an end-game duplicate), not for re-fetching what was verified.
	limit := info.TotalLength - haveBytes + info.PieceLength
	if stats.Downloaded > limit {
		t.Errorf("restarted run downloaded %d bytes; with %d of %d bytes already verified it should need at most %d",
			stats.Downloaded, haveBytes, info.TotalLength, limit)
	}
	t.Logf("restarted run downloaded %d bytes (limit %d)", stats.Downloaded, limit)
}

// verifiedOnDisk hashes each piece of a single-file torrent's data file
// and reports which match the torrent. A piece the file does not reach
// yet is missing; a missing file has no pieces.
func verifiedOnDisk(path string, info *metainfo.Info) ([]bool, error) {
	have := make([]bool, info.NumPieces())
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return have, err
		}
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, info.PieceLength)
	for i := range have {
		p := buf[:info.PieceSize(i)]
		if _, err := f.ReadAt(p, int64(i)*info.PieceLength); err != nil {
			if err == io.EOF {
				continue
			}
			return nil, err
		}
		have[i] = metainfo.Hash(sha1.Sum(p)) == info.PieceHash(i)
	}
	return have, nil
}

func count(have []bool) int {
	n := 0
	for _, ok := range have {
		if ok {
			n++
		}
	}
	return n
}
