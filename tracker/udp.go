package tracker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

// ProtocolID is the magic constant that opens a BEP 15 connect request.
const ProtocolID uint64 = 0x41727101980

// Action is a BEP 15 packet's action field.
type Action uint32

// BEP 15 actions.
const (
	ActionConnect  Action = 0
	ActionAnnounce Action = 1
	ActionScrape   Action = 2
	ActionError    Action = 3
)

// Fixed sizes of BEP 15 packets.
const (
	UDPConnectSize        = 16 // connect request and response
	UDPAnnounceSize       = 98 // announce request, before BEP 41 options
	UDPAnnounceHeaderSize = 20 // announce response, before the peers
	UDPScrapeHeaderSize   = 16 // scrape request, before the info hashes
	UDPErrorHeaderSize    = 8  // error response, before the message
	// UDPMaxScrapeHashes is the most info hashes BEP 15 expects in one
	// scrape ("up to about 74", what fits in a common MTU).
	UDPMaxScrapeHashes = 74
)

// BEP 41 option types.
const (
	optEndOfOptions = 0
	optNOP          = 1
	optURLData      = 2
)

// maxURLData bounds the BEP 41 URL data kept from one announce; a path and
// query that long is already more than any tracker URL needs.
const maxURLData = 1024

// UDPRequest is a parsed BEP 15 request. It is meant to be reused across
// packets: ParseUDPRequest overwrites every field and reuses the storage
// of InfoHashes and URLData, and nothing in it aliases the packet.
type UDPRequest struct {
	// ConnectionID is the protocol id for a connect request.
	ConnectionID  uint64
	Action        Action
	TransactionID uint32
	// Announce is set for ActionAnnounce. Its Compact is true and
	// NoPeerID false (UDP knows only the compact model), its IP is the
	// request's IPv4 field if non-zero, and its NumWant is NumWantDefault
	// for any negative num_want.
	Announce AnnounceRequest
	// URLData is the concatenated BEP 41 URL data of an announce: the
	// announce URL's path and query, which private trackers use to carry
	// a user's key.
	URLData []byte
	// InfoHashes is set for ActionScrape.
	InfoHashes []metainfo.Hash
}

// UDPError is a request that cannot be served; Reason is worded for an
// error response to the client.
type UDPError struct {
	Reason string
}

func (e *UDPError) Error() string { return e.Reason }

func udpErr(reason string) error { return &UDPError{Reason: reason} }

// ErrUDPShort is the parse failure for a packet too short to hold a BEP 15
// header; a server answers it with nothing at all, having no transaction id
// to address an error to.
var ErrUDPShort = errors.New("packet shorter than a BEP 15 header")

// ParseUDPRequest parses one BEP 15 request packet into req. maxScrape
// bounds the info hashes a scrape may carry (0 means UDPMaxScrapeHashes).
//
// On failure req still holds ConnectionID, Action and TransactionID when
// the packet had the 16 bytes for them; ErrUDPShort means it did not. A
// connect request must carry ProtocolID. Bytes after an announce are read
// as BEP 41 options, and options that are malformed or unknown end the
// option list rather than fail the announce, as BEP 41 allows.
func ParseUDPRequest(pkt []byte, req *UDPRequest, maxScrape int) error {
	req.Announce = AnnounceRequest{}
	req.URLData = req.URLData[:0]
	req.InfoHashes = req.InfoHashes[:0]
	if len(pkt) < 16 {
		req.ConnectionID, req.Action, req.TransactionID = 0, 0, 0
		return ErrUDPShort
	}
	req.ConnectionID = binary.BigEndian.Uint64(pkt)
	req.Action = Action(binary.BigEndian.Uint32(pkt[8:]))
	req.TransactionID = binary.BigEndian.Uint32(pkt[12:])
	switch req.Action {
	case ActionConnect:
		if req.ConnectionID != ProtocolID {
			return udpErr("connect without the BEP 15 protocol id")
		}
		return nil
	case ActionAnnounce:
		return parseUDPAnnounce(pkt, req)
	case ActionScrape:
		if maxScrape <= 0 {
			maxScrape = UDPMaxScrapeHashes
		}
		body := pkt[UDPScrapeHeaderSize:]
		if len(body)%metainfo.HashSize != 0 {
			return udpErr("scrape length is not a whole number of info hashes")
		}
		n := len(body) / metainfo.HashSize
		if n == 0 {
			return udpErr("scrape without info hashes")
		}
		if n > maxScrape {
			return udpErr("too many info hashes in one scrape")
		}
		for ; len(body) > 0; body = body[metainfo.HashSize:] {
			req.InfoHashes = append(req.InfoHashes, metainfo.Hash(body[:metainfo.HashSize]))
		}
		return nil
	}
	return udpErr("unknown action")
}

func parseUDPAnnounce(pkt []byte, req *UDPRequest) error {
	if len(pkt) < UDPAnnounceSize {
		return udpErr("announce shorter than 98 bytes")
	}
	a := &req.Announce
	a.InfoHash = metainfo.Hash(pkt[16:36])
	a.PeerID = PeerID(pkt[36:56])
	a.Downloaded = int64(binary.BigEndian.Uint64(pkt[56:]))
	a.Left = int64(binary.BigEndian.Uint64(pkt[64:]))
	a.Uploaded = int64(binary.BigEndian.Uint64(pkt[72:]))
	ev := binary.BigEndian.Uint32(pkt[80:])
	if ip := [4]byte(pkt[84:88]); ip != [4]byte{} {
		a.IP = netip.AddrFrom4(ip)
	}
	a.Key, a.HasKey = binary.BigEndian.Uint32(pkt[88:]), true
	a.NumWant = int(int32(binary.BigEndian.Uint32(pkt[92:])))
	a.Port = binary.BigEndian.Uint16(pkt[96:])
	a.Compact = true
	if a.NumWant < 0 {
		a.NumWant = NumWantDefault
	}
	if ev > uint32(EventStopped) {
		return udpErr("unknown event")
	}
	a.Event = Event(ev)
	if a.Downloaded < 0 || a.Left < 0 || a.Uploaded < 0 {
		return udpErr("negative byte count")
	}
	if a.Port == 0 {
		return udpErr("port 0")
	}
	// BEP 41 options.
	for opts := pkt[UDPAnnounceSize:]; len(opts) > 0; {
		switch opts[0] {
		case optEndOfOptions:
			return nil
		case optNOP:
			opts = opts[1:]
		case optURLData:
			if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
				return nil // truncated option: ignore the rest
			}
			n := int(opts[1])
			if len(req.URLData)+n > maxURLData {
				return udpErr("BEP 41 URL data too long")
			}
			req.URLData = append(req.URLData, opts[2:2+n]...)
			opts = opts[2+n:]
		default:
			return nil // unknown option: BEP 41 says to stop parsing
		}
	}
	return nil
}

func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// clampU32 converts a count or interval for a 32-bit field, saturating.
func clampU32(v int64) uint32 {
	if v < 0 {
		return 0
	}
	if v > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(v)
}

// AppendUDPConnectResponse appends a connect response.
func AppendUDPConnectResponse(buf []byte, txID uint32, connID uint64) []byte {
	buf = appendU32(buf, uint32(ActionConnect))
	buf = appendU32(buf, txID)
	return binary.BigEndian.AppendUint64(buf, connID)
}

// AppendUDPAnnounceResponse appends an announce response. Peers of the
// other family than v6 says are left out: a UDP response can carry only
// one, chosen by the family of the socket it travels on (BEP 15).
func AppendUDPAnnounceResponse(buf []byte, txID uint32, resp *AnnounceResponse, v6 bool) []byte {
	buf = AppendUDPAnnounceHeader(buf, txID, resp)
	return appendCompactEntries(buf, resp.Peers, !v6)
}

// AppendUDPAnnounceHeader appends the UDPAnnounceHeaderSize bytes that
// open an announce response (action, transaction id, interval, leechers,
// seeders) and no peers, for a server that writes the compact peer list
// itself.
func AppendUDPAnnounceHeader(buf []byte, txID uint32, resp *AnnounceResponse) []byte {
	buf = appendU32(buf, uint32(ActionAnnounce))
	buf = appendU32(buf, txID)
	buf = appendU32(buf, clampU32(seconds(resp.Interval)))
	buf = appendU32(buf, clampU32(int64(resp.Incomplete)))
	return appendU32(buf, clampU32(int64(resp.Complete)))
}

// AppendUDPScrapeResponse appends a scrape response with stats in request
// order.
func AppendUDPScrapeResponse(buf []byte, txID uint32, stats []ScrapeStats) []byte {
	buf = appendU32(buf, uint32(ActionScrape))
	buf = appendU32(buf, txID)
	for _, s := range stats {
		buf = appendU32(buf, clampU32(int64(s.Complete)))
		buf = appendU32(buf, clampU32(int64(s.Downloaded)))
		buf = appendU32(buf, clampU32(int64(s.Incomplete)))
	}
	return buf
}

// AppendUDPError appends an error response.
func AppendUDPError(buf []byte, txID uint32, msg string) []byte {
	buf = appendU32(buf, uint32(ActionError))
	buf = appendU32(buf, txID)
	return append(buf, msg...)
}

// AppendUDPConnectRequest appends a connect request.
func AppendUDPConnectRequest(buf []byte, txID uint32) []byte {
	buf = binary.BigEndian.AppendUint64(buf, ProtocolID)
	buf = appendU32(buf, uint32(ActionConnect))
	return appendU32(buf, txID)
}

// AppendUDPAnnounceRequest appends an announce request for r. urlData,
// when not empty, is sent as BEP 41 URL data options (the announce URL's
// path and query), which is how a UDP tracker learns a private key.
func AppendUDPAnnounceRequest(buf []byte, connID uint64, txID uint32, r *AnnounceRequest, urlData []byte) []byte {
	buf = binary.BigEndian.AppendUint64(buf, connID)
	buf = appendU32(buf, uint32(ActionAnnounce))
	buf = appendU32(buf, txID)
	buf = append(buf, r.InfoHash[:]...)
	buf = append(buf, r.PeerID[:]...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(max(r.Downloaded, 0)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(max(r.Left, 0)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(max(r.Uploaded, 0)))
	buf = appendU32(buf, uint32(r.Event))
	var ip [4]byte
	if r.IP.Is4() {
		ip = r.IP.As4()
	}
	buf = append(buf, ip[:]...)
	buf = appendU32(buf, r.Key)
	buf = appendU32(buf, uint32(int32(max(r.NumWant, -1))))
	buf = binary.BigEndian.AppendUint16(buf, r.Port)
	for len(urlData) > 0 {
		n := min(len(urlData), 255)
		buf = append(buf, optURLData, byte(n))
		buf = append(buf, urlData[:n]...)
		urlData = urlData[n:]
	}
	return buf
}

// AppendUDPScrapeRequest appends a scrape request for hashes.
func AppendUDPScrapeRequest(buf []byte, connID uint64, txID uint32, hashes []metainfo.Hash) []byte {
	buf = binary.BigEndian.AppendUint64(buf, connID)
	buf = appendU32(buf, uint32(ActionScrape))
	buf = appendU32(buf, txID)
	for i := range hashes {
		buf = append(buf, hashes[i][:]...)
	}
	return buf
}

// UDPResponse is a parsed BEP 15 response, for the client side.
type UDPResponse struct {
	Action        Action
	TransactionID uint32
	// ConnectionID is set for ActionConnect.
	ConnectionID uint64
	// Announce is set for ActionAnnounce: Interval, Complete (seeders),
	// Incomplete (leechers) and Peers.
	Announce AnnounceResponse
	// Scrape is set for ActionScrape, one entry per hash asked for.
	Scrape []ScrapeStats
	// Error is set for ActionError.
	Error string
}

// ParseUDPResponse parses a response packet. v6 says which peer size an
// announce response uses: 18 bytes if it came over IPv6, else 6.
func ParseUDPResponse(pkt []byte, v6 bool) (*UDPResponse, error) {
	if len(pkt) < 8 {
		return nil, fmt.Errorf("UDP tracker response of %d bytes", len(pkt))
	}
	r := &UDPResponse{
		Action:        Action(binary.BigEndian.Uint32(pkt)),
		TransactionID: binary.BigEndian.Uint32(pkt[4:]),
	}
	body := pkt[8:]
	switch r.Action {
	case ActionConnect:
		if len(body) < 8 {
			return nil, errors.New("UDP connect response shorter than 16 bytes")
		}
		r.ConnectionID = binary.BigEndian.Uint64(body)
	case ActionAnnounce:
		if len(body) < 12 {
			return nil, errors.New("UDP announce response shorter than 20 bytes")
		}
		r.Announce.Interval = time.Duration(binary.BigEndian.Uint32(body)) * time.Second
		r.Announce.Incomplete = int(binary.BigEndian.Uint32(body[4:]))
		r.Announce.Complete = int(binary.BigEndian.Uint32(body[8:]))
		size := 6
		if v6 {
			size = 18
		}
		var err error
		if r.Announce.Peers, err = AppendCompactPeers(nil, body[12:], size); err != nil {
			return nil, fmt.Errorf("UDP announce response: %w", err)
		}
	case ActionScrape:
		if len(body)%12 != 0 {
			return nil, errors.New("UDP scrape response is not a whole number of entries")
		}
		for ; len(body) > 0; body = body[12:] {
			r.Scrape = append(r.Scrape, ScrapeStats{
				Complete:   int(binary.BigEndian.Uint32(body)),
				Downloaded: int(binary.BigEndian.Uint32(body[4:])),
				Incomplete: int(binary.BigEndian.Uint32(body[8:])),
			})
		}
	case ActionError:
		r.Error = string(body)
	default:
		return nil, fmt.Errorf("UDP tracker response with unknown action %d", r.Action)
	}
	return r, nil
}
