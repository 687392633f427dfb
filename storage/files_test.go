package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

func openFiles(t *testing.T, dir string, info *metainfo.Info, opts storage.FileOptions) *storage.Files {
	t.Helper()
	s, err := storage.OpenFiles(dir, info, opts)
	if err != nil {
		t.Fatalf("OpenFiles: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tree returns every regular file below dir, by slash-separated relative
// path, with its content.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectOnly fails unless dir holds exactly the named entries.
func expectOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

func TestFilesRejectUnsafeNames(t *testing.T) {
	file := func(path ...string) metainfo.File { return metainfo.File{Path: path, Length: 10} }
	cases := map[string]*storagetest.Torrent{
		"name ..":       storagetest.SingleFile("..", 10, 16, 1),
		"name .":        storagetest.SingleFile(".", 10, 16, 1),
		"name empty":    storagetest.SingleFile("", 10, 16, 1),
		"name absolute": storagetest.SingleFile("/tmp/x", 10, 16, 1),
		"name with /":   storagetest.SingleFile("a/../../b", 10, 16, 1),
		"path ..":       storagetest.MultiFile("t", 16, 1, file("..", "x")),
		"path a/..":     storagetest.MultiFile("t", 16, 1, file("a", "..", "..", "x")),
		"path absolute": storagetest.MultiFile("t", 16, 1, file("/etc", "passwd")),
		"path with /":   storagetest.MultiFile("t", 16, 1, file("../x")),
		"path empty":    storagetest.MultiFile("t", 16, 1, file()),
		"path device":   storagetest.MultiFile("t", 16, 1, file("nul.txt")),
	}
	for name, tor := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			_, err := storage.OpenFiles(filepath.Join(base, "dl"), tor.Info, storage.FileOptions{})
			if !errors.Is(err, metainfo.ErrUnsafePath) {
				t.Fatalf("OpenFiles: %v, want an error wrapping ErrUnsafePath", err)
			}
			// Rejected before anything is created, the download
			// directory included.
			expectOnly(t, base)
		})
	}
}

func TestFilesSymlinkCannotEscape(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dl := filepath.Join(base, "dl")
	for _, d := range []string{outside, dl} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	symlink := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dl, name)); err != nil {
			t.Fatal(err)
		}
	}
	multi := func(name string) *storagetest.Torrent {
		return storagetest.MultiFile(name, 16, 1, metainfo.File{Path: []string{"x"}, Length: 40})
	}
	// Files outside with the names the torrents would write, so that a
	// write that escaped would change them rather than fail to find them.
	for _, name := range []string{"x", "target", "late-target"} {
		if err := os.WriteFile(filepath.Join(outside, name), []byte("not yours"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	victims := tree(t, outside)
	expectUntouched := func() {
		t.Helper()
		got := tree(t, outside)
		if len(got) != len(victims) {
			t.Fatalf("outside directory went from %d files to %d", len(victims), len(got))
		}
		for p, b := range victims {
			if !bytes.Equal(got[p], b) {
				t.Fatalf("outside file %s was changed", p)
			}
		}
	}

	// Links planted before the torrent is opened: to the outside
	// directory, relative and absolute, and to a file outside.
	symlink("../outside", "rel")
	symlink(outside, "abs")
	symlink("../outside/target", "file")
	for _, tor := range []*storagetest.Torrent{multi("rel"), multi("abs"), storagetest.SingleFile("file", 40, 16, 1)} {
		_, err := storage.OpenFiles(dl, tor.Info, storage.FileOptions{})
		if err == nil {
			t.Errorf("OpenFiles over link %q: no error", tor.Info.Name)
		} else if !strings.Contains(err.Error(), filepath.Join(dl, tor.Info.Name)) {
			t.Errorf("OpenFiles over link %q: error %q does not name the file", tor.Info.Name, err)
		}
	}

	// Links planted after opening, before the first write.
	late := multi("late")
	lateFile := storagetest.SingleFile("late-file", 40, 16, 1)
	for _, tor := range []*storagetest.Torrent{late, lateFile} {
		s := openFiles(t, dl, tor.Info, storage.FileOptions{})
		target := "../outside"
		if tor == lateFile {
			target = "../outside/late-target"
		}
		symlink(target, tor.Info.Name)
		if n, err := s.WriteAt(tor.Content, 0); err == nil {
			t.Errorf("WriteAt through link %q = %d, nil; want an error", tor.Info.Name, n)
		}
	}
	expectUntouched()

	// A link that stays inside the directory is followed.
	if err := os.Mkdir(filepath.Join(dl, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink("real", "inner")
	inner := multi("inner")
	s := openFiles(t, dl, inner.Info, storage.FileOptions{})
	if _, err := s.WriteAt(inner.Content, 0); err != nil {
		t.Fatalf("WriteAt through a link inside the directory: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(dl, "real", "x")); err != nil || !bytes.Equal(got, inner.Content) {
		t.Fatalf("file behind the inner link: %v, content equal: %v", err, bytes.Equal(got, inner.Content))
	}
	expectUntouched()
}

func TestFilesResume(t *testing.T) {
	tor := storagetest.Layouts()["multi"]
	dl := t.TempDir()
	n := tor.Info.NumPieces()

	// First session, on an Info built by hand whose offsets were never
	// computed: the storage must not rely on them.
	noOffsets := *tor.Info
	noOffsets.Files = slices.Clone(tor.Info.Files)
	for k := range noOffsets.Files {
		noOffsets.Files[k].Offset = 0
	}
	want := make([]bool, n)
	s := openFiles(t, dl, &noOffsets, storage.FileOptions{})
	for i := range n {
		off := int64(i) * tor.Info.PieceLength
		switch i % 4 {
		case 0, 2:
			if _, err := s.WriteAt(tor.Piece(i), off); err != nil {
				t.Fatal(err)
			}
			want[i] = true
		case 1:
			bad := bytes.Clone(tor.Piece(i))
			bad[len(bad)-1] ^= 0xff
			if _, err := s.WriteAt(bad, off); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := tree(t, dl)

	// Second session: opening changes nothing, and Verify finds what the
	// first one wrote.
	s = openFiles(t, dl, tor.Info, storage.FileOptions{})
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(have, want) {
		t.Fatalf("Verify after reopening = %v, want %v", have, want)
	}
	after := tree(t, dl)
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Errorf("%s changed by reopening and verifying", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("reopening and verifying went from %d files to %d", len(before), len(after))
	}

	// Finish the download: the files on disk are the torrent's files.
	for i := range n {
		if !have[i] {
			if _, err := s.WriteAt(tor.Piece(i), int64(i)*tor.Info.PieceLength); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := tree(t, dl)
	wantTree := map[string][]byte{}
	for _, f := range tor.Info.Files {
		if !f.IsPad() {
			wantTree["multi/"+strings.Join(f.Path, "/")] = tor.Content[f.Offset : f.Offset+f.Length]
		}
	}
	for p, b := range wantTree {
		if g, ok := got[p]; !ok || !bytes.Equal(g, b) {
			t.Errorf("%s: present %v, content right %v", p, ok, bytes.Equal(g, b))
		}
	}
	for p := range got {
		if _, ok := wantTree[p]; !ok {
			t.Errorf("unexpected file %s (pad files must not be created)", p)
		}
	}
	if fi, err := os.Stat(filepath.Join(dl, "multi", "c.bin")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("c.bin has the executable attribute but mode %v (%v)", fi.Mode(), err)
	}
}

func TestFilesRefuseLongerFile(t *testing.T) {
	for _, tor := range []*storagetest.Torrent{
		storagetest.SingleFile("one.bin", 100, 16, 1),
		storagetest.Layouts()["multi"],
	} {
		dl := t.TempDir()
		f := tor.Info.FileList()[0]
		p := filepath.Join(append([]string{dl, tor.Info.Name}, f.Path...)...)
		if !tor.Info.IsMultiFile() {
			p = filepath.Join(dl, tor.Info.Name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("user data "), int(f.Length)/10+1)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := storage.OpenFiles(dl, tor.Info, storage.FileOptions{})
		if !errors.Is(err, storage.ErrFileTooLong) || !strings.Contains(err.Error(), p) {
			t.Errorf("OpenFiles over a longer %s: %v, want ErrFileTooLong naming the file", p, err)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s was modified (%v)", p, err)
		}
	}
}

func TestFilesRefuseDirectory(t *testing.T) {
	tor := storagetest.SingleFile("one.bin", 100, 16, 1)
	dl := t.TempDir()
	if err := os.Mkdir(filepath.Join(dl, "one.bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.OpenFiles(dl, tor.Info, storage.FileOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("OpenFiles over a directory: %v, want a \"not a regular file\" error", err)
	}
}

// sparseSupported reports whether the file system under dir stores a
// file extended with Truncate without allocating its blocks.
func sparseSupported(t *testing.T, dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(8 << 20); err != nil {
		t.Fatal(err)
	}
	return allocated(t, f.Name()) < 8<<20
}

func allocated(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no block counts on this platform")
	}
	return st.Blocks * 512
}

func TestFilesLazyAndSparse(t *testing.T) {
	const size, pl = 8 << 20, 256 << 10
	tor := storagetest.SingleFile("big.bin", size, pl, 1)
	dl := t.TempDir()
	s := openFiles(t, dl, tor.Info, storage.FileOptions{})

	// Reading and verifying a fresh download creates nothing.
	if _, err := s.ReadAt(make([]byte, pl), 0); err != nil {
		t.Fatal(err)
	}
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(have, true) {
		t.Fatalf("Verify of a fresh download = %v", have)
	}
	expectOnly(t, dl)

	// One piece written: the file has its full length, but (where the
	// file system allows) not the blocks.
	if _, err := s.WriteAt(tor.Piece(3), 3*pl); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dl, "big.bin")
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != size {
		t.Fatalf("after one write: %v, %v; want a file of %d bytes", fi, err, size)
	}
	if !sparseSupported(t, t.TempDir()) {
		t.Skip("the file system does not keep sparse files")
	}
	if a := allocated(t, p); a >= size/2 {
		t.Errorf("%d of %d bytes allocated after writing one %d-byte piece", a, size, pl)
	}
}

func TestFilesOpenHandleCap(t *testing.T) {
	tor := storagetest.Layouts()["many-small"]
	const maxOpen = 3
	s := openFiles(t, t.TempDir(), tor.Info, storage.FileOptions{MaxOpenFiles: maxOpen})
	var wg sync.WaitGroup
	for i := range tor.Info.NumPieces() {
		wg.Go(func() {
			if _, err := s.WriteAt(tor.Piece(i), int64(i)*tor.Info.PieceLength); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := storage.OpenHandles(s); n > maxOpen {
		t.Errorf("%d handles open after the writes finished, cap %d", n, maxOpen)
	}
	have, err := storage.Verify(context.Background(), s, tor.Info, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(have, false) {
		t.Errorf("Verify = %v, want all pieces", have)
	}
	if n := storage.OpenHandles(s); n > maxOpen || n == 0 {
		t.Errorf("%d handles open after Verify, want 1 to %d", n, maxOpen)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync of files whose handles were closed: %v", err)
	}
}

func TestFilesReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	tor := storagetest.SingleFile("seed.bin", 100, 16, 1)
	dl := t.TempDir()
	p := filepath.Join(dl, "seed.bin")
	if err := os.WriteFile(p, tor.Content, 0o444); err != nil {
		t.Fatal(err)
	}
	s := openFiles(t, dl, tor.Info, storage.FileOptions{})
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil || slices.Contains(have, false) {
		t.Fatalf("Verify of read-only complete data = %v, %v", have, err)
	}
	if _, err := s.WriteAt([]byte{1}, 0); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("WriteAt into a read-only file: %v, want a permission error", err)
	}
}

// A file shorter than the torrent says, as another client or an older
// version may leave it, keeps its data; writes past its end count as
// written.
func TestFilesShortExistingFile(t *testing.T) {
	const pl = 64
	tor := storagetest.SingleFile("short.bin", 10*pl, pl, 3)
	dl := t.TempDir()
	if err := os.WriteFile(filepath.Join(dl, "short.bin"), tor.Content[:4*pl+10], 0o644); err != nil {
		t.Fatal(err)
	}
	s := openFiles(t, dl, tor.Info, storage.FileOptions{})
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, true, true, false, false, false, false, false, false}; !slices.Equal(have, want) {
		t.Fatalf("Verify over a short file = %v, want %v", have, want)
	}
	for i := 4; i < 10; i++ {
		if _, err := s.WriteAt(tor.Piece(i), int64(i)*pl); err != nil {
			t.Fatal(err)
		}
	}
	have, err = storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil || slices.Contains(have, false) {
		t.Fatalf("Verify after completing a short file = %v, %v", have, err)
	}
}

func TestFilesPreallocate(t *testing.T) {
	const size, pl = 8 << 20, 256 << 10
	tor := storagetest.SingleFile("big.bin", size, pl, 1)
	dl := t.TempDir()
	s := openFiles(t, dl, tor.Info, storage.FileOptions{Preallocate: true})
	if _, err := s.WriteAt(tor.Piece(3), 3*pl); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dl, "big.bin")
	if fi, err := os.Stat(p); err != nil || fi.Size() != size {
		t.Fatalf("after one write: %v, %v; want a file of %d bytes", fi, err, size)
	}
	if !preallocSupported(t, t.TempDir()) {
		t.Skip("the file system cannot reserve a file's blocks")
	}
	if a := allocated(t, p); a < size {
		t.Errorf("%d of %d bytes allocated after the first write into a preallocated file", a, size)
	}
	// What was reserved reads as zeros, and the piece written is intact.
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range have {
		if h != (i == 3) {
			t.Errorf("piece %d verified %v after writing only piece 3", i, h)
		}
	}
}
