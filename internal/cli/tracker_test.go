package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// TestTrackerCommand runs "swarmlab tracker" in-process on loopback port 0,
// announces to it over HTTP, and interrupts it.
func TestTrackerCommand(t *testing.T) {
	dir := t.TempDir()
	listed := metainfo.Hash{1, 2, 3}
	wl := filepath.Join(dir, "whitelist")
	if err := os.WriteFile(wl, []byte("# torrents\n"+listed.HexString()+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"tracker", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0",
			"--interval", "5", "--whitelist", wl}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (stderr %q)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var httpAddr string
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "http="); ok {
			httpAddr = v
		}
	}
	if !strings.HasPrefix(line, "tracker listening ") || !strings.HasPrefix(httpAddr, "127.0.0.1:") ||
		!strings.Contains(line, "udp=127.0.0.1:") || !strings.Contains(line, "metrics=-") {
		t.Fatalf("listening line %q", line)
	}
	for _, tc := range []struct {
		h       metainfo.Hash
		failure bool
	}{{listed, false}, {metainfo.Hash{9}, true}} {
		req := tracker.AnnounceRequest{InfoHash: tc.h, PeerID: tracker.PeerID{1}, Port: 1234, Left: 0,
			NumWant: tracker.NumWantDefault, Compact: true}
		resp, err := http.Get("http://" + httpAddr + "/announce?" + string(tracker.AppendAnnounceQuery(nil, &req)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r, err := tracker.ParseAnnounceResponse(body)
		if err != nil || (r.Failure != "") != tc.failure || (!tc.failure && r.Interval.Seconds() != 5) {
			t.Errorf("announce %v: %+v, %v", tc.h, r, err)
		}
	}
	cancel()
	if code := <-done; code != ExitInterrupted {
		t.Errorf("exit code %d after interrupt, want %d (stderr %q)", code, ExitInterrupted, stderr.String())
	}
}

func TestTrackerBadFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "wl")
	if err := os.WriteFile(bad, []byte("nothex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tracker", "--http", "", "--udp", ""}, ExitUsage, "both off"},
		{[]string{"tracker", "--store", "bogus"}, ExitUsage, "--store"},
		{[]string{"tracker", "--interval", "soon"}, ExitUsage, "interval"},
		{[]string{"tracker", "--interval", "0.5"}, ExitUsage, "interval"},
		{[]string{"tracker", "--numwant", "500"}, ExitUsage, "numwant"},
		{[]string{"tracker", "--whitelist", bad, "--http", "127.0.0.1:0", "--udp", ""}, ExitFailure, "wl:1"},
		{[]string{"tracker", "--whitelist", filepath.Join(dir, "missing")}, ExitFailure, "missing"},
		{[]string{"tracker", "--http", "256.0.0.1:1", "--udp", ""}, ExitFailure, "http listener"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%q)", tc.args, code, tc.code, stderr)
		}
		checkOneLineError(t, stderr, tc.want)
	}
}
