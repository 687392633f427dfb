package storage_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

// killChildEnv, when set to a directory, makes TestKillDuringWrites act as
// the child process that writes into it.
const killChildEnv = "SWARMLAB_STORAGE_KILL_CHILD"

// killTorrent is the torrent parent and child agree on: several files
// with a pad file, so that pieces span files and the handle cap (2 in the
// child) keeps evicting files that were written and not yet synced.
func killTorrent() *storagetest.Torrent {
	const pl = 64 << 10
	return storagetest.MultiFile("killed", pl, 42,
		metainfo.File{Path: []string{"a"}, Length: 10*pl + 123},
		storagetest.PadFile(pl-123),
		metainfo.File{Path: []string{"b", "c"}, Length: 20*pl + 5},
		metainfo.File{Path: []string{"b", "d"}, Length: 33*pl - 5},
	)
}

// TestKillDuringWrites checks that a process killed with SIGKILL while
// writing loses none of the pieces it had synced: the child writes pieces
// from several goroutines and prints each one's index after a successful
// Sync; the parent kills it mid-stream, reopens the directory and verifies.
//
// A SIGKILL leaves the page cache intact, so this does not test what
// reaches the disk (only a power cut would); it tests that nothing a
// synced piece needs is held in the process, and that reopening after a
// crash keeps every byte already written.
func TestKillDuringWrites(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(dir)
		return
	}
	tor := killTorrent()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWrites$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill partway through the pieces, so that other goroutines are in
	// the middle of writing theirs.
	killAfter := tor.Info.NumPieces() / 2
	var synced []int
	sc := bufio.NewScanner(stdout)
	for len(synced) < killAfter && sc.Scan() {
		s, ok := strings.CutPrefix(sc.Text(), "synced ")
		if !ok {
			continue // test framework output, if any
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("child printed %q", sc.Text())
		}
		synced = append(synced, i)
	}
	if len(synced) < killAfter {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child stopped after %d synced pieces: %v\n%s", len(synced), sc.Err(), stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL but ended with %v\n%s", err, stderr.String())
	}

	s, err := storage.OpenFiles(dir, tor.Info, storage.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range synced {
		if !have[i] {
			t.Errorf("piece %d was synced before the kill but does not verify", i)
		}
	}
	n := 0
	for _, ok := range have {
		if ok {
			n++
		}
	}
	t.Logf("%d pieces reported synced, %d of %d verify after the kill", len(synced), n, len(have))
}

// killChild writes the kill torrent's pieces into dir forever, from
// several goroutines, in 16 KiB blocks, printing "synced I" after piece
// I's blocks are written and Sync returned. Odd pieces go out in one
// vectored write of aligned blocks, which bypasses the page cache where
// the piece is aligned in its file. It ends by being killed; if the
// parent dies first, printing fails with SIGPIPE, which ends it too.
func killChild(dir string) {
	tor := killTorrent()
	s, err := storage.OpenFiles(dir, tor.Info, storage.FileOptions{MaxOpenFiles: 2, DirectWrites: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var (
		next  atomic.Int64
		outMu sync.Mutex
		wg    sync.WaitGroup
	)
	n := int64(tor.Info.NumPieces())
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)-1) % int(n)
				piece, off := tor.Piece(i), int64(i)*tor.Info.PieceLength
				var bufs [][]byte
				for k := 0; k < len(piece); k += 16 << 10 {
					b := piece[k:min(k+16<<10, len(piece))]
					if i%2 == 1 {
						bufs = append(bufs, append(storage.AlignedBuffer(len(b))[:0], b...))
						continue
					}
					if _, err := s.WriteAt(b, off+int64(k)); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(1)
					}
				}
				if _, err := s.WriteAtv(bufs, off); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				if err := s.Sync(); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				outMu.Lock()
				fmt.Printf("synced %d\n", i)
				outMu.Unlock()
			}
		})
	}
	wg.Wait()
}
