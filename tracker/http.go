package tracker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmlab/swarmlab/bencode"
	"github.com/swarmlab/swarmlab/metainfo"
)

const hexUpper = "0123456789ABCDEF"

// appendEscaped percent-encodes b for a query string, leaving only RFC 3986
// unreserved characters bare.
func appendEscaped(buf []byte, b []byte) []byte {
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return buf
}

// AppendAnnounceQuery appends r as an HTTP announce query string, without
// the leading '?' or '&', for a client to add to the announce URL.
// LeftUnknown, NumWantDefault, a zero IP and absent key are left out.
func AppendAnnounceQuery(buf []byte, r *AnnounceRequest) []byte {
	buf = append(buf, "info_hash="...)
	buf = appendEscaped(buf, r.InfoHash[:])
	buf = append(buf, "&peer_id="...)
	buf = appendEscaped(buf, r.PeerID[:])
	buf = append(buf, "&port="...)
	buf = strconv.AppendUint(buf, uint64(r.Port), 10)
	buf = append(buf, "&uploaded="...)
	buf = strconv.AppendInt(buf, r.Uploaded, 10)
	buf = append(buf, "&downloaded="...)
	buf = strconv.AppendInt(buf, r.Downloaded, 10)
	if r.Left >= 0 {
		buf = append(buf, "&left="...)
		buf = strconv.AppendInt(buf, r.Left, 10)
	}
	if r.Compact {
		buf = append(buf, "&compact=1"...)
	} else {
		buf = append(buf, "&compact=0"...)
		if r.NoPeerID {
			buf = append(buf, "&no_peer_id=1"...)
		}
	}
	if r.Event != EventNone {
		buf = append(buf, "&event="...)
		buf = append(buf, r.Event.String()...)
	}
	if r.NumWant >= 0 {
		buf = append(buf, "&numwant="...)
		buf = strconv.AppendInt(buf, int64(r.NumWant), 10)
	}
	if r.HasKey {
		buf = append(buf, "&key="...)
		for shift := 28; shift >= 0; shift -= 4 {
			buf = append(buf, hexUpper[r.Key>>uint(shift)&15])
		}
	}
	if r.IP.IsValid() {
		buf = append(buf, "&ip="...)
		buf = appendEscaped(buf, []byte(r.IP.String()))
	}
	if r.TrackerID != "" {
		buf = append(buf, "&trackerid="...)
		buf = appendEscaped(buf, []byte(r.TrackerID))
	}
	return buf
}

// Bencoding helpers for the hand-written encoders below. The encoders write
// dictionary keys in sorted order themselves, as bencoding requires.

func appendBString(buf []byte, s string) []byte {
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, ':')
	return append(buf, s...)
}

func appendBInt(buf []byte, key string, v int64) []byte {
	buf = appendBString(buf, key)
	buf = append(buf, 'i')
	buf = strconv.AppendInt(buf, v, 10)
	return append(buf, 'e')
}

// seconds rounds d up to whole seconds, as the wire carries them, without
// overflowing near the largest Duration.
func seconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}

// AppendFailure appends the bencoded failure response with reason.
func AppendFailure(buf []byte, reason string) []byte {
	buf = append(buf, "d14:failure reason"...)
	buf = appendBString(buf, reason)
	return append(buf, 'e')
}

// AppendAnnounceResponse appends resp as a bencoded HTTP announce response.
// With compact, IPv4 peers go into "peers" as 6-byte entries (BEP 23) and
// IPv6 peers into "peers6" as 18-byte entries (BEP 7); otherwise "peers" is
// the BEP 3 list of dictionaries, with peer ids unless noPeerID. A response
// with Failure set carries only the failure reason.
func AppendAnnounceResponse(buf []byte, resp *AnnounceResponse, compact, noPeerID bool) []byte {
	if resp.Failure != "" {
		return AppendFailure(buf, resp.Failure)
	}
	buf = append(buf, 'd')
	buf = appendBInt(buf, "complete", int64(resp.Complete))
	buf = appendBInt(buf, "incomplete", int64(resp.Incomplete))
	buf = appendBInt(buf, "interval", seconds(resp.Interval))
	if resp.MinInterval > 0 {
		buf = appendBInt(buf, "min interval", seconds(resp.MinInterval))
	}
	buf = append(buf, "5:peers"...)
	if compact {
		n4, n6 := 0, 0
		for i := range resp.Peers {
			if resp.Peers[i].Addr.Addr().Is4() {
				n4++
			} else {
				n6++
			}
		}
		buf = appendCompact(buf, resp.Peers, n4, true)
		if n6 > 0 {
			buf = append(buf, "6:peers6"...)
			buf = appendCompact(buf, resp.Peers, n6, false)
		}
	} else {
		buf = append(buf, 'l')
		for i := range resp.Peers {
			p := &resp.Peers[i]
			buf = append(buf, "d2:ip"...)
			var ipb [64]byte
			buf = appendBString(buf, string(p.Addr.Addr().AppendTo(ipb[:0])))
			if !noPeerID {
				buf = append(buf, "7:peer id20:"...)
				buf = append(buf, p.ID[:]...)
			}
			buf = appendBInt(buf, "port", int64(p.Addr.Port()))
			buf = append(buf, 'e')
		}
		buf = append(buf, 'e')
	}
	if resp.TrackerID != "" {
		buf = append(buf, "10:tracker id"...)
		buf = appendBString(buf, resp.TrackerID)
	}
	if resp.Warning != "" {
		buf = append(buf, "15:warning message"...)
		buf = appendBString(buf, resp.Warning)
	}
	return append(buf, 'e')
}

// appendCompact writes the n peers of one family as a bencoded string of
// compact entries.
func appendCompact(buf []byte, peers []Peer, n int, v4 bool) []byte {
	size := 18
	if v4 {
		size = 6
	}
	buf = strconv.AppendInt(buf, int64(n*size), 10)
	buf = append(buf, ':')
	return appendCompactEntries(buf, peers, v4)
}

// appendCompactEntries appends the peers of one family (IPv4 if v4, else
// IPv6) as compact entries, the address then the port, big-endian: 6 bytes
// each (BEP 23) or 18 (BEP 7), as HTTP and UDP (BEP 15) responses carry
// them. Peers of the other family are left out.
func appendCompactEntries(buf []byte, peers []Peer, v4 bool) []byte {
	for i := range peers {
		a := peers[i].Addr.Addr()
		if a.Is4() != v4 {
			continue
		}
		if v4 {
			b := a.As4()
			buf = append(buf, b[:]...)
		} else {
			b := a.As16()
			buf = append(buf, b[:]...)
		}
		buf = binary.BigEndian.AppendUint16(buf, peers[i].Addr.Port())
	}
	return buf
}

// responseLimits bound what a client accepts from a tracker: a response is
// small and flat, so anything deep or huge is hostile.
func responseLimits() bencode.Options {
	return bencode.Options{Limits: bencode.Limits{MaxDepth: 4, MaxStringLength: 4 << 20, MaxTokens: 1 << 20}}
}

type wireAnnounce struct {
	Failure     string             `bencode:"failure reason"`
	Warning     string             `bencode:"warning message"`
	Interval    int64              `bencode:"interval"`
	MinInterval int64              `bencode:"min interval"`
	TrackerID   string             `bencode:"tracker id"`
	Complete    int64              `bencode:"complete"`
	Incomplete  int64              `bencode:"incomplete"`
	Peers       bencode.RawMessage `bencode:"peers"`
	Peers6      []byte             `bencode:"peers6"`
}

type wireDictPeer struct {
	IP     string `bencode:"ip"`
	PeerID []byte `bencode:"peer id"`
	Port   int64  `bencode:"port"`
}

// ParseAnnounceResponse decodes a bencoded HTTP announce response in either
// peer model (and "peers6"). A failure response decodes without error, with
// Failure set. Dictionary-model peers whose "ip" is a host name rather than
// an address literal are skipped, as are entries with an invalid port.
func ParseAnnounceResponse(body []byte) (*AnnounceResponse, error) {
	var w wireAnnounce
	if err := responseLimits().Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("tracker response: %w", err)
	}
	resp := &AnnounceResponse{Failure: w.Failure, Warning: w.Warning, TrackerID: w.TrackerID}
	if w.Failure != "" {
		return resp, nil
	}
	if w.Interval < 0 || w.MinInterval < 0 || w.Complete < 0 || w.Incomplete < 0 {
		return nil, errors.New("tracker response: negative interval or count")
	}
	const maxSec = int64(time.Duration(1<<63-1) / time.Second)
	resp.Interval = time.Duration(min(w.Interval, maxSec)) * time.Second
	resp.MinInterval = time.Duration(min(w.MinInterval, maxSec)) * time.Second
	resp.Complete, resp.Incomplete = int(min(w.Complete, 1<<31)), int(min(w.Incomplete, 1<<31))
	var err error
	switch {
	case len(w.Peers) == 0:
	case w.Peers[0] == 'l':
		var list []wireDictPeer
		if err := responseLimits().Unmarshal(w.Peers, &list); err != nil {
			return nil, fmt.Errorf("tracker response: peers: %w", err)
		}
		for _, dp := range list {
			a, err := netip.ParseAddr(dp.IP)
			if err != nil || dp.Port <= 0 || dp.Port > 65535 {
				continue
			}
			p := Peer{Addr: netip.AddrPortFrom(a.Unmap().WithZone(""), uint16(dp.Port))}
			if len(dp.PeerID) == len(p.ID) {
				copy(p.ID[:], dp.PeerID)
			}
			resp.Peers = append(resp.Peers, p)
		}
	default:
		var s []byte
		if err := responseLimits().Unmarshal(w.Peers, &s); err != nil {
			return nil, fmt.Errorf("tracker response: peers is neither a string nor a list")
		}
		if resp.Peers, err = AppendCompactPeers(resp.Peers, s, 6); err != nil {
			return nil, fmt.Errorf("tracker response: peers: %w", err)
		}
	}
	if resp.Peers, err = AppendCompactPeers(resp.Peers, w.Peers6, 18); err != nil {
		return nil, fmt.Errorf("tracker response: peers6: %w", err)
	}
	return resp, nil
}

// AppendCompactPeers decodes compact peer entries of size 6 (IPv4) or 18
// (IPv6) bytes, as BEP 23, BEP 7 and BEP 15 lay them out, and appends them
// to dst. Entries with port 0 are dropped.
func AppendCompactPeers(dst []Peer, b []byte, size int) ([]Peer, error) {
	if size != 6 && size != 18 {
		return dst, fmt.Errorf("compact peer size %d is not 6 or 18", size)
	}
	if len(b)%size != 0 {
		return dst, fmt.Errorf("%d bytes is not a whole number of %d-byte entries", len(b), size)
	}
	for ; len(b) > 0; b = b[size:] {
		var a netip.Addr
		if size == 6 {
			a = netip.AddrFrom4([4]byte(b[:4]))
		} else {
			a = netip.AddrFrom16([16]byte(b[:16])).Unmap()
		}
		port := uint16(b[size-2])<<8 | uint16(b[size-1])
		if port == 0 {
			continue
		}
		dst = append(dst, Peer{Addr: netip.AddrPortFrom(a, port)})
	}
	return dst, nil
}

// ParseScrapeQuery appends the info hashes of an HTTP scrape query to dst.
// It fails on a malformed info_hash and when the query holds more than max
// of them, so that a single request cannot make the tracker look up an
// unbounded number of swarms. Other parameters are ignored.
func ParseScrapeQuery(rawQuery string, dst []metainfo.Hash, max int) ([]metainfo.Hash, error) {
	n := 0
	for q := rawQuery; q != ""; {
		var key, val string
		key, val, q = nextParam(q)
		if key != "info_hash" {
			continue
		}
		if n == max {
			return dst, queryErr(key, "too many info hashes in one scrape")
		}
		var h metainfo.Hash
		if err := decode20((*[20]byte)(&h), key, val); err != nil {
			return dst, err
		}
		dst = append(dst, h)
		n++
	}
	return dst, nil
}

// AppendScrapeQuery appends an HTTP scrape query for hashes, without the
// leading '?'.
func AppendScrapeQuery(buf []byte, hashes []metainfo.Hash) []byte {
	for i := range hashes {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, "info_hash="...)
		buf = appendEscaped(buf, hashes[i][:])
	}
	return buf
}

// AppendScrapeResponse appends resp as a bencoded HTTP scrape response. It
// sorts resp.Files by info hash in place, since a bencoded dictionary's keys
// must be sorted, and writes a hash asked for twice once.
func AppendScrapeResponse(buf []byte, resp *ScrapeResponse) []byte {
	if resp.Failure != "" {
		return AppendFailure(buf, resp.Failure)
	}
	fs := resp.Files
	sortFiles(fs)
	buf = append(buf, "d5:filesd"...)
	for i := range fs {
		if i > 0 && fs[i].InfoHash == fs[i-1].InfoHash {
			continue
		}
		buf = append(buf, "20:"...)
		buf = append(buf, fs[i].InfoHash[:]...)
		buf = append(buf, 'd')
		buf = appendBInt(buf, "complete", int64(fs[i].Complete))
		buf = appendBInt(buf, "downloaded", int64(fs[i].Downloaded))
		buf = appendBInt(buf, "incomplete", int64(fs[i].Incomplete))
		buf = append(buf, 'e')
	}
	return append(buf, "ee"...)
}

func sortFiles(fs []ScrapeFile) {
	slices.SortFunc(fs, func(a, b ScrapeFile) int { return bytes.Compare(a.InfoHash[:], b.InfoHash[:]) })
}

type wireScrape struct {
	Failure string                          `bencode:"failure reason"`
	Files   map[string]wireScrapeStatsEntry `bencode:"files"`
}

type wireScrapeStatsEntry struct {
	Complete   int64 `bencode:"complete"`
	Downloaded int64 `bencode:"downloaded"`
	Incomplete int64 `bencode:"incomplete"`
}

// ParseScrapeResponse decodes a bencoded HTTP scrape response. Files come
// out sorted by info hash; keys that are not 20 bytes are skipped.
func ParseScrapeResponse(body []byte) (*ScrapeResponse, error) {
	var w wireScrape
	if err := responseLimits().Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("scrape response: %w", err)
	}
	resp := &ScrapeResponse{Failure: w.Failure}
	for k, v := range w.Files {
		if len(k) != metainfo.HashSize || v.Complete < 0 || v.Downloaded < 0 || v.Incomplete < 0 {
			continue
		}
		f := ScrapeFile{ScrapeStats: ScrapeStats{
			Complete: int(min(v.Complete, 1<<31)), Downloaded: int(min(v.Downloaded, 1<<31)),
			Incomplete: int(min(v.Incomplete, 1<<31)),
		}}
		copy(f.InfoHash[:], k)
		resp.Files = append(resp.Files, f)
	}
	sortFiles(resp.Files)
	return resp, nil
}

// ScrapeURL derives a tracker's scrape URL from its announce URL by the
// convention of BEP 48: the last path segment must start with "announce",
// which is replaced by "scrape". It reports false when the tracker has no
// scrape URL by that convention.
func ScrapeURL(announce string) (string, bool) {
	end := len(announce)
	if i := strings.IndexAny(announce, "?#"); i >= 0 {
		end = i
	}
	slash := strings.LastIndexByte(announce[:end], '/')
	if slash < 0 || !strings.HasPrefix(announce[slash+1:end], "announce") {
		return "", false
	}
	return announce[:slash+1] + "scrape" + announce[slash+1+len("announce"):], true
}
