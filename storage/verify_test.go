package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

// Verify works on any io.ReaderAt, not only on a Storage.
func TestVerifyReaderAt(t *testing.T) {
	tor := storagetest.SingleFile("f", 1000, 64, 7)
	have, err := storage.Verify(context.Background(), bytes.NewReader(tor.Content), tor.Info, 0, nil)
	if err != nil || slices.Contains(have, false) {
		t.Fatalf("Verify of the right content = %v, %v", have, err)
	}
	bad := bytes.Clone(tor.Content)
	bad[64*5+17] ^= 0x80
	have, err = storage.Verify(context.Background(), bytes.NewReader(bad), tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range have {
		if ok != (i != 5) {
			t.Errorf("piece %d: %v after corrupting piece 5", i, ok)
		}
	}
}

type failingReader struct{ err error }

func (r failingReader) ReadAt(p []byte, off int64) (int, error) { return 0, r.err }

func TestVerifyErrors(t *testing.T) {
	tor := storagetest.SingleFile("f", 1000, 64, 7)
	ctx := context.Background()

	// A source shorter than the torrent says: the last pieces' state is
	// unknown, which is an error, not a "false".
	if _, err := storage.Verify(ctx, bytes.NewReader(tor.Content[:900]), tor.Info, 0, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Verify of short content: %v, want io.ErrUnexpectedEOF", err)
	}
	boom := errors.New("disk on fire")
	if _, err := storage.Verify(ctx, failingReader{boom}, tor.Info, 2, nil); !errors.Is(err, boom) {
		t.Errorf("Verify with a failing reader: %v, want %v", err, boom)
	}
	if _, err := storage.VerifyPiece(failingReader{boom}, tor.Info, 0, nil); !errors.Is(err, boom) {
		t.Errorf("VerifyPiece with a failing reader: %v, want %v", err, boom)
	}

	// Infos that Parse would reject, as a hand-built one might be.
	short := *tor.Info
	short.Pieces = short.Pieces[:len(short.Pieces)-metainfo.HashSize]
	ragged := *tor.Info
	ragged.Pieces = ragged.Pieces[:len(ragged.Pieces)-1]
	zeroPL := *tor.Info
	zeroPL.PieceLength = 0
	negative := *storagetest.MultiFile("m", 64, 1, metainfo.File{Path: []string{"a"}, Length: 100}).Info
	negative.Files = slices.Clone(negative.Files)
	negative.Files[0].Length = -100
	for name, info := range map[string]*metainfo.Info{
		"nil": nil, "piece missing": &short, "ragged pieces": &ragged,
		"zero piece length": &zeroPL, "negative length": &negative,
	} {
		if _, err := storage.Verify(ctx, bytes.NewReader(tor.Content), info, 0, nil); !errors.Is(err, storage.ErrInvalidInfo) {
			t.Errorf("Verify, %s: %v, want ErrInvalidInfo", name, err)
		}
		if _, err := storage.NewMemory(info); !errors.Is(err, storage.ErrInvalidInfo) {
			t.Errorf("NewMemory, %s: %v, want ErrInvalidInfo", name, err)
		}
		if _, err := storage.OpenFiles(t.TempDir(), info, storage.FileOptions{}); !errors.Is(err, storage.ErrInvalidInfo) {
			t.Errorf("OpenFiles, %s: %v, want ErrInvalidInfo", name, err)
		}
	}
}
