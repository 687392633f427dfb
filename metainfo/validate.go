package metainfo

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// ErrUnsafePath is wrapped by every error about a file name or path
// component that could escape the download directory, collide with another
// file or name a device (the CVE-2009-1760 class of bugs).
var ErrUnsafePath = errors.New("unsafe path")

// ErrV2Only is wrapped by the error for torrents and magnet links that
// carry only a BitTorrent v2 (BEP 52) info hash.
var ErrV2Only = errors.New("v2-only torrents are not supported yet")

// MaxPieceLength is the largest piece length Parse accepts. A piece is
// verified as one unit, and peers and storage may hold a whole piece in
// memory; real torrents use at most a few tens of MiB.
const MaxPieceLength = 512 << 20

// ValidateComponent reports whether s is safe as one component of a file
// path (a file or directory name) on every platform we may write to. It
// rejects, wrapping ErrUnsafePath:
//   - "", "." and "..", which refer to other directories;
//   - '/' and '\\', which would split s into several components;
//   - NUL and other control characters, which truncate or garble names;
//   - a trailing dot or space, which Windows strips, so "a." and "a"
//     would be the same file there;
//   - a Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$,
//     CONOUT$) in any case, also with an extension, as in "nul.txt";
//   - a drive letter such as "C:" or "c:foo", which Windows resolves
//     outside the directory.
func ValidateComponent(s string) error {
	switch s {
	case "":
		return fmt.Errorf("%w: empty path component", ErrUnsafePath)
	case ".", "..":
		return fmt.Errorf("%w: path component %q refers to a directory", ErrUnsafePath, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/' || c == '\\':
			return fmt.Errorf("%w: path component %q contains a path separator", ErrUnsafePath, s)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: path component %q contains control character 0x%02x", ErrUnsafePath, s, c)
		}
	}
	if last := s[len(s)-1]; last == '.' || last == ' ' {
		return fmt.Errorf("%w: path component %q ends with a dot or space, which Windows strips", ErrUnsafePath, s)
	}
	if isWindowsDeviceName(s) {
		return fmt.Errorf("%w: path component %q is a reserved Windows device name", ErrUnsafePath, s)
	}
	if len(s) >= 2 && s[1] == ':' && isASCIILetter(s[0]) {
		return fmt.Errorf("%w: path component %q looks like a drive letter", ErrUnsafePath, s)
	}
	return nil
}

// isWindowsDeviceName reports whether Windows maps s to a device. Windows
// looks only at the part before the first dot, ignoring trailing spaces,
// and also accepts the superscript digits ¹²³ after COM and LPT.
func isWindowsDeviceName(s string) bool {
	base, _, _ := strings.Cut(s, ".")
	base = strings.TrimRight(base, " ")
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) < 4 {
		return false
	}
	prefix := strings.ToUpper(base[:3])
	if prefix != "COM" && prefix != "LPT" {
		return false
	}
	switch base[3:] {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// validatePath checks every component of a file's path.
func validatePath(what string, path []string) error {
	if len(path) == 0 {
		return fmt.Errorf("metainfo: %s: %w: empty path", what, ErrUnsafePath)
	}
	for _, c := range path {
		if err := ValidateComponent(c); err != nil {
			return fmt.Errorf("metainfo: %s %q: %w", what, path, err)
		}
	}
	return nil
}

// CheckLengths checks what the layout methods (NumPieces, PieceSize,
// Spans, HashPieces) rely on and returns the content length: a positive
// piece length, whole 20-byte piece hashes, no Length beside a files
// list, lengths that are not negative and whose sum fits in an int64, and
// one piece hash per PieceLength bytes of content. Parse guarantees all
// of it; an Info built by hand may not.
func (i *Info) CheckLengths() (int64, error) {
	if i.PieceLength <= 0 {
		return 0, fmt.Errorf("metainfo: info: piece length %d is not positive", i.PieceLength)
	}
	if len(i.Pieces)%HashSize != 0 {
		return 0, fmt.Errorf("metainfo: info: pieces is %d bytes, not a multiple of %d", len(i.Pieces), HashSize)
	}
	var total int64
	if i.Files == nil {
		if i.Length < 0 {
			return 0, fmt.Errorf("metainfo: info: negative length %d", i.Length)
		}
		total = i.Length
	} else {
		if i.Length != 0 {
			return 0, errors.New("metainfo: info has both length (single-file) and files (multi-file)")
		}
		if len(i.Files) == 0 {
			return 0, errors.New("metainfo: info: files list is empty")
		}
		for k, f := range i.Files {
			if f.Length < 0 {
				return 0, fmt.Errorf("metainfo: file %d: negative length %d", k, f.Length)
			}
			if total > math.MaxInt64-f.Length {
				return 0, fmt.Errorf("metainfo: file %d: total length overflows", k)
			}
			total += f.Length
		}
	}
	want := total / i.PieceLength
	if total%i.PieceLength != 0 {
		want++
	}
	if got := int64(i.NumPieces()); got != want {
		return 0, fmt.Errorf("metainfo: info: %d piece hashes, want %d for %d bytes at piece length %d", got, want, total, i.PieceLength)
	}
	return total, nil
}

// validate checks everything Parse promises about an Info and returns the
// warnings for legal oddities. It does not modify i, so that Encode can run
// it on an Info other goroutines are reading.
func (i *Info) validate() (warnings []string, err error) {
	if i.Name == "" {
		return nil, errors.New("metainfo: info: missing or empty name")
	}
	if err := ValidateComponent(i.Name); err != nil {
		return nil, fmt.Errorf("metainfo: info name: %w", err)
	}
	if _, err := i.CheckLengths(); err != nil {
		return nil, err
	}
	if i.PieceLength > MaxPieceLength {
		return nil, fmt.Errorf("metainfo: info: piece length %d is larger than the %d byte limit", i.PieceLength, MaxPieceLength)
	}
	if bits.OnesCount64(uint64(i.PieceLength)) != 1 {
		warnings = append(warnings, fmt.Sprintf("piece length %d is not a power of two", i.PieceLength))
	}
	if i.MetaVersion < 0 || i.MetaVersion > 2 {
		return nil, fmt.Errorf("metainfo: info: unsupported meta version %d", i.MetaVersion)
	}
	for k, f := range i.Files {
		if err := validatePath(fmt.Sprintf("file %d path", k), f.Path); err != nil {
			return nil, err
		}
		if strings.IndexByte(f.Attr, 'l') >= 0 && len(f.SymlinkPath) == 0 {
			return nil, fmt.Errorf("metainfo: file %d: symlink attribute without a symlink path", k)
		}
		if len(f.SymlinkPath) > 0 {
			// The target is relative to the torrent's root (BEP 47), so
			// ".." could point a link outside the download directory.
			if err := validatePath(fmt.Sprintf("file %d symlink path", k), f.SymlinkPath); err != nil {
				return nil, err
			}
		}
	}
	if err := checkCollisions(i.Files); err != nil {
		return nil, err
	}
	return warnings, nil
}

// checkCollisions rejects two files with the same path and a file whose
// path is also a directory of another file's path. Paths are compared
// exactly (byte for byte), as a case-sensitive file system would.
//
// It walks a trie of path components kept in a map, so the cost is linear
// in the number of components: joining every prefix into a string would be
// quadratic in the path depth, which a hostile torrent controls.
//
// Pad files are skipped: storage never writes them, and libtorrent gives
// pad files of the same size the same path (".pad/16384").
func checkCollisions(files []File) error {
	type edge struct {
		parent int
		name   string
	}
	type node struct {
		file  int  // index of the file that created the node
		isDir bool // a directory rather than a file
	}
	// Node 0 is the torrent's root directory.
	nodes := []node{{file: -1, isDir: true}}
	children := make(map[edge]int, len(files))
	for k, f := range files {
		if f.IsPad() {
			continue
		}
		parent := 0
		for depth, name := range f.Path {
			isDir := depth < len(f.Path)-1
			id, ok := children[edge{parent, name}]
			if !ok {
				id = len(nodes)
				nodes = append(nodes, node{file: k, isDir: isDir})
				children[edge{parent, name}] = id
				parent = id
				continue
			}
			n := nodes[id]
			switch {
			case !n.isDir && !isDir:
				return fmt.Errorf("metainfo: files %d and %d: %w: both have path %q", n.file, k, ErrUnsafePath, f.Path)
			case !n.isDir:
				return fmt.Errorf("metainfo: file %d: %w: path %q goes through file %d, which is not a directory", k, ErrUnsafePath, f.Path, n.file)
			case !isDir:
				return fmt.Errorf("metainfo: file %d: %w: path %q is also a directory of file %d", k, ErrUnsafePath, f.Path, n.file)
			}
			parent = id
		}
	}
	return nil
}
