// Package metainfo reads and writes .torrent files and magnet links.
//
// Parse and Load read a .torrent file (BEP 3 with announce-list, web seeds
// and the private flag). Hybrid v1+v2 torrents (BEP 52, as libtorrent 2.x
// creates by default) are read as the v1 torrents they also are, BEP 47 pad
// files included; v2-only torrents are rejected for now. The info
// dictionary is kept byte for byte, because the info hash is the SHA-1 of
// exactly those bytes. Every file name and path component is checked
// before it can reach a file system (ValidateComponent), so a hostile
// torrent cannot name "../../etc/passwd" or a Windows device.
//
// Info's layout methods map pieces to the byte ranges of files
// (Spans, PieceSpans), and HashPieces hashes every piece on all cores,
// runs of them side by side where the processor allows, as creation and
// verification do.
// ParseMagnet and Magnet.String handle magnet links (BEP 9). Info.Encode
// and MetaInfo.Encode write canonical bencoding for torrent creation.
package metainfo
