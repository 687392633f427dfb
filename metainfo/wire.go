package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/swarmlab/swarmlab/bencode"
)

// MaxTorrentSize caps the size of a .torrent file Parse and Load accept.
// Real torrents with hundreds of thousands of files stay well below it; the
// cap bounds the memory a hostile file can make us spend.
const MaxTorrentSize = 64 << 20

// The wire structs below are the single definition of the bencoded layout:
// Parse decodes into them and the Encode methods marshal from them, so the
// key names cannot drift apart between reading and writing. Fields are
// listed in key order, which is also the order Marshal writes them in.

// torrentFile is the top-level dictionary of a .torrent file.
type torrentFile struct {
	Announce     string       `bencode:"announce,omitempty"`
	AnnounceList announceList `bencode:"announce-list,omitempty"`
	Comment      string       `bencode:"comment,omitempty"`
	CreatedBy    string       `bencode:"created by,omitempty"`
	CreationDate int64        `bencode:"creation date,omitempty"`
	Encoding     string       `bencode:"encoding,omitempty"`
	// Info stays raw: the info hash is defined over these exact bytes.
	Info    bencode.RawMessage `bencode:"info,omitempty"`
	URLList urlList            `bencode:"url-list,omitempty"`
}

// infoDict is the info dictionary. Length and Files are pointers so that
// "absent" and "zero" can be told apart: a torrent must carry exactly one
// of them, and a single-file torrent of 0 bytes still has a length.
type infoDict struct {
	// FileTree is the v2 file tree (BEP 52). It is only decoded to notice a
	// v2-only torrent; Info.Encode never writes it.
	FileTree bencode.RawMessage `bencode:"file tree,omitempty"`
	Files    *[]fileDict        `bencode:"files,omitempty"`
	Length   *int64             `bencode:"length,omitempty"`
	// MetaVersion is read but never written: a re-encoded info dictionary
	// has no v2 fields, so claiming version 2 would be a lie.
	MetaVersion int64  `bencode:"meta version,omitempty"`
	Name        string `bencode:"name"`
	// NameUTF8 is a non-standard key some clients write next to name when
	// name is in a legacy encoding; like libtorrent we prefer it.
	NameUTF8    string `bencode:"name.utf-8,omitempty"`
	PieceLength int64  `bencode:"piece length"`
	Pieces      []byte `bencode:"pieces"`
	Private     bool   `bencode:"private,omitempty"`
	Source      string `bencode:"source,omitempty"`
}

// fileDict is one entry of the info dictionary's files list.
type fileDict struct {
	Attr        string   `bencode:"attr,omitempty"`
	Length      *int64   `bencode:"length"`
	Path        []string `bencode:"path"`
	PathUTF8    []string `bencode:"path.utf-8,omitempty"`
	SymlinkPath []string `bencode:"symlink path,omitempty"`
}

// urlList is BEP 19's url-list, which creators write either as one string
// or as a list of strings. It is always written back as a list.
type urlList []string

// UnmarshalBencode accepts a string or a list of strings; empty strings are
// dropped because BEP 19 clients treat "url-list": "" as no web seed.
func (u *urlList) UnmarshalBencode(data []byte) error {
	*u = nil
	if len(data) > 0 && data[0] >= '0' && data[0] <= '9' {
		var s string
		if err := bencode.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != "" {
			*u = urlList{s}
		}
		return nil
	}
	var l []string
	if err := bencode.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("url-list: %w", err)
	}
	for _, s := range l {
		if s != "" {
			*u = append(*u, s)
		}
	}
	return nil
}

// announceList is BEP 12's list of tracker tiers.
type announceList [][]string

// UnmarshalBencode reads a list of lists of strings. Empty URLs and empty
// tiers are dropped so that callers can rely on every tier having a
// tracker; a tier written as a bare string (seen from broken creators) is
// read as a tier of one rather than failing the whole torrent.
func (a *announceList) UnmarshalBencode(data []byte) error {
	*a = nil
	var tiers []any
	if err := bencode.Unmarshal(data, &tiers); err != nil {
		return fmt.Errorf("announce-list: %w", err)
	}
	for ti, t := range tiers {
		var tier []string
		switch t := t.(type) {
		case string:
			if t != "" {
				tier = append(tier, t)
			}
		case []any:
			for _, u := range t {
				s, ok := u.(string)
				if !ok {
					return fmt.Errorf("announce-list: tier %d holds a %T, want string", ti, u)
				}
				if s != "" {
					tier = append(tier, s)
				}
			}
		default:
			return fmt.Errorf("announce-list: tier %d is a %T, want list", ti, t)
		}
		if len(tier) > 0 {
			*a = append(*a, tier)
		}
	}
	return nil
}

// decodeOptions returns the decoder settings for torrent files. The input
// is capped at MaxTorrentSize, and every token takes at least two bytes, so
// these limits only ever stop input that is too large anyway; the default
// nesting depth stays in force.
func decodeOptions(strict bool) bencode.Options {
	return bencode.Options{
		Limits: bencode.Limits{
			MaxStringLength: MaxTorrentSize,
			MaxTokens:       MaxTorrentSize,
		},
		Strict: strict,
	}
}

// Parse decodes and validates a .torrent file. Unknown keys are ignored.
// Parse returns an error wrapping ErrUnsafePath for a torrent naming a
// file that could escape its directory, and one wrapping ErrV2Only for a
// torrent that has no v1 piece hashes.
func Parse(data []byte) (*MetaInfo, error) {
	if len(data) > MaxTorrentSize {
		return nil, fmt.Errorf("metainfo: torrent is %d bytes, more than the %d byte limit", len(data), MaxTorrentSize)
	}
	if len(data) == 0 || data[0] != 'd' {
		return nil, errors.New("metainfo: not a torrent file: does not start with a bencoded dictionary")
	}
	var tf torrentFile
	if err := decodeOptions(false).Unmarshal(data, &tf); err != nil {
		return nil, fmt.Errorf("metainfo: not a valid torrent file: %w", err)
	}
	if len(tf.Info) == 0 {
		return nil, errors.New("metainfo: missing info dictionary")
	}
	m, err := ParseInfo(tf.Info)
	if err != nil {
		return nil, err
	}
	m.Announce = tf.Announce
	m.AnnounceList = tf.AnnounceList
	m.URLList = tf.URLList
	m.CreationDate = tf.CreationDate
	m.Comment = tf.Comment
	m.CreatedBy = tf.CreatedBy
	m.Encoding = tf.Encoding
	return m, nil
}

// ParseInfo decodes and validates a bare info dictionary, as fetched from
// peers for a magnet link (BEP 9). The returned MetaInfo has only Info,
// InfoBytes, InfoHash and Warnings set.
func ParseInfo(infoBytes []byte) (*MetaInfo, error) {
	if len(infoBytes) > MaxTorrentSize {
		return nil, fmt.Errorf("metainfo: info dictionary is %d bytes, more than the %d byte limit", len(infoBytes), MaxTorrentSize)
	}
	if len(infoBytes) == 0 || infoBytes[0] != 'd' {
		return nil, errors.New("metainfo: info is not a dictionary")
	}
	var d infoDict
	if err := decodeOptions(false).Unmarshal(infoBytes, &d); err != nil {
		return nil, fmt.Errorf("metainfo: invalid info dictionary: %w", err)
	}
	info, err := d.toInfo()
	if err != nil {
		return nil, err
	}
	warnings, err := info.validate()
	if err != nil {
		return nil, err
	}
	info.SetOffsets()

	// The hash covers the bytes as received, so a non-canonical encoding is
	// not wrong, but re-encoding it would give a different torrent: worth
	// telling whoever inspects the file.
	if err := decodeOptions(true).Valid(infoBytes); err != nil {
		warnings = append(warnings, fmt.Sprintf("info dictionary is not canonical bencoding (%v); its info hash is kept as received", err))
	}

	m := &MetaInfo{
		Info:      info,
		InfoBytes: bytes.Clone(infoBytes),
		InfoHash:  sha1.Sum(infoBytes),
		Warnings:  warnings,
	}
	return m, nil
}

// toInfo turns the wire form into an Info, checking what only the wire
// form can tell (which keys were present); Info.validate does the rest.
func (d *infoDict) toInfo() (Info, error) {
	hasV1Layout := d.Length != nil || d.Files != nil
	switch {
	case !hasV1Layout && (d.MetaVersion == 2 || len(d.FileTree) > 0):
		return Info{}, fmt.Errorf("metainfo: %w (info has v2 fields but no v1 length or files)", ErrV2Only)
	case d.MetaVersion < 0 || d.MetaVersion > 2:
		return Info{}, fmt.Errorf("metainfo: info: unsupported meta version %d", d.MetaVersion)
	case d.Length != nil && d.Files != nil:
		return Info{}, errors.New("metainfo: info has both length (single-file) and files (multi-file)")
	case !hasV1Layout:
		return Info{}, errors.New("metainfo: info has neither length (single-file) nor files (multi-file)")
	}
	info := Info{
		Name:        d.Name,
		PieceLength: d.PieceLength,
		Pieces:      d.Pieces,
		Private:     d.Private,
		Source:      d.Source,
		MetaVersion: int(d.MetaVersion),
	}
	if d.NameUTF8 != "" {
		info.Name = d.NameUTF8
	}
	if len(info.Pieces) == 0 {
		// One spelling for "no pieces", so that decoding, encoding and
		// decoding again compare equal.
		info.Pieces = nil
	}
	if d.Length != nil {
		info.Length = *d.Length
		return info, nil
	}
	// An empty list stays non-nil, for validate to reject.
	info.Files = make([]File, len(*d.Files))
	for i, fd := range *d.Files {
		if fd.Length == nil {
			return Info{}, fmt.Errorf("metainfo: file %d: missing length", i)
		}
		f := File{Path: fd.Path, Length: *fd.Length, Attr: fd.Attr}
		if len(fd.PathUTF8) > 0 {
			f.Path = fd.PathUTF8
		}
		if len(f.Path) == 0 {
			f.Path = nil
		}
		if len(fd.SymlinkPath) > 0 {
			f.SymlinkPath = fd.SymlinkPath
		}
		info.Files[i] = f
	}
	return info, nil
}

// Load reads and parses the .torrent file at path.
func Load(path string) (*MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer f.Close()
	// Read one byte past the cap so that an oversized file is reported as
	// such instead of as a truncated torrent.
	data, err := io.ReadAll(io.LimitReader(f, MaxTorrentSize+1))
	if err != nil {
		return nil, fmt.Errorf("metainfo: reading %s: %w", path, err)
	}
	if len(data) > MaxTorrentSize {
		return nil, fmt.Errorf("metainfo: %s is larger than the %d MiB limit for torrent files", path, MaxTorrentSize>>20)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Encode returns the canonical bencoding of the info dictionary, for
// creating a torrent: keys sorted, length for a single-file torrent or
// files for a multi-file one, private only when set, and no v2 keys. It
// refuses an Info that Parse would reject, so that we never write a
// torrent we would not read. File.Offset is not encoded (it is derived).
func (i *Info) Encode() ([]byte, error) {
	if _, err := i.validate(); err != nil {
		return nil, fmt.Errorf("metainfo: encoding info: %w", err)
	}
	d := infoDict{
		Name:        i.Name,
		PieceLength: i.PieceLength,
		Pieces:      i.Pieces,
		Private:     i.Private,
		Source:      i.Source,
	}
	if d.Pieces == nil {
		// pieces is a required key even when there are no pieces.
		d.Pieces = []byte{}
	}
	if i.Files == nil {
		length := i.Length
		d.Length = &length
	} else {
		files := make([]fileDict, len(i.Files))
		for k, f := range i.Files {
			length := f.Length
			files[k] = fileDict{
				Attr:        f.Attr,
				Length:      &length,
				Path:        f.Path,
				SymlinkPath: f.SymlinkPath,
			}
		}
		d.Files = &files
	}
	return bencode.Marshal(d)
}

// Encode returns the whole .torrent file. The info dictionary is written
// verbatim from InfoBytes, never re-encoded, so the info hash is
// preserved; empty optional fields are left out.
func (m *MetaInfo) Encode() ([]byte, error) {
	if len(m.InfoBytes) == 0 {
		return nil, errors.New("metainfo: encoding torrent: InfoBytes is empty")
	}
	// RawMessage is copied out verbatim, so make sure it holds exactly one
	// dictionary: otherwise we would write a corrupt file.
	if m.InfoBytes[0] != 'd' {
		return nil, errors.New("metainfo: encoding torrent: InfoBytes is not a bencoded dictionary")
	}
	if err := decodeOptions(false).Valid(m.InfoBytes); err != nil {
		return nil, fmt.Errorf("metainfo: encoding torrent: InfoBytes: %w", err)
	}
	tf := torrentFile{
		Announce:     m.Announce,
		AnnounceList: m.AnnounceList,
		Comment:      m.Comment,
		CreatedBy:    m.CreatedBy,
		CreationDate: m.CreationDate,
		Encoding:     m.Encoding,
		Info:         m.InfoBytes,
		URLList:      m.URLList,
	}
	return bencode.Marshal(tf)
}
