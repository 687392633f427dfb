package metainfo

// MetaInfo is a parsed .torrent file (BEP 3) with the common extensions:
// announce-list (BEP 12), url-list web seeds (BEP 19), the private flag
// (BEP 27) and hybrid v1+v2 fields read as v1 (BEP 52, BEP 47 pad files).
type MetaInfo struct {
	// Announce is the primary tracker URL, empty for trackerless torrents.
	Announce string
	// AnnounceList holds tracker tiers (BEP 12); when present clients use it
	// instead of Announce.
	AnnounceList [][]string
	// URLList holds web seed URLs (BEP 19).
	URLList []string
	// CreationDate is in seconds since the Unix epoch; 0 when absent.
	CreationDate int64
	Comment      string
	CreatedBy    string
	Encoding     string

	// Info is the decoded info dictionary.
	Info Info
	// InfoBytes is the info dictionary exactly as it appeared in the file;
	// the info hash is its SHA-1, so it is never re-encoded.
	InfoBytes []byte
	// InfoHash is the SHA-1 of InfoBytes.
	InfoHash Hash

	// Warnings lists things that are legal but unusual (for example a piece
	// length that is not a power of two). Parse fills it; errors go to the
	// returned error instead.
	Warnings []string
}

// Info is the info dictionary: what the info hash identifies.
type Info struct {
	// Name is the suggested file name (single-file) or directory name
	// (multi-file).
	Name string
	// PieceLength is the number of bytes in each piece but the last.
	PieceLength int64
	// Pieces is the concatenation of the pieces' 20-byte SHA-1 hashes.
	Pieces []byte
	// Private is the BEP 27 flag: use only the torrent's trackers.
	Private bool
	// Source is the optional "source" key some private trackers require.
	Source string
	// Length is the content length of a single-file torrent; 0 when Files
	// is used.
	Length int64
	// Files lists a multi-file torrent's files in order, pad files included;
	// nil for a single-file torrent.
	Files []File
	// MetaVersion is 2 for a hybrid v1+v2 torrent ("meta version"), 0 when
	// absent.
	MetaVersion int
}

// File is one entry of a multi-file torrent.
type File struct {
	// Path is the file's path below the torrent's directory, one element per
	// component. Parse guarantees every component is safe (see ValidateComponent).
	Path []string
	// Length is the file's size in bytes.
	Length int64
	// Attr holds BEP 47 attribute letters: 'p' pad, 'x' executable,
	// 'h' hidden, 'l' symlink.
	Attr string
	// SymlinkPath is the link target for files with the 'l' attribute.
	SymlinkPath []string
	// Offset is the file's first byte within the torrent's content (the
	// concatenation of all files). Computed, not stored in the torrent.
	Offset int64
}
