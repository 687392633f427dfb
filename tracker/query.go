package tracker

import (
	"net/netip"
	"strings"
)

// QueryError is what the query parsers return: which parameter was wrong
// and why, worded to be sent back to the client as a failure reason.
type QueryError struct {
	Param  string
	Reason string
}

func (e *QueryError) Error() string {
	if e.Param == "" {
		return e.Reason
	}
	return e.Param + ": " + e.Reason
}

func queryErr(param, reason string) error { return &QueryError{Param: param, Reason: reason} }

// nextParam splits the first key=value pair off a query string. Pairs are
// separated by '&'; a pair without '=' has an empty value.
func nextParam(q string) (key, val, rest string) {
	pair := q
	if i := strings.IndexByte(q, '&'); i >= 0 {
		pair, rest = q[:i], q[i+1:]
	}
	if j := strings.IndexByte(pair, '='); j >= 0 {
		return pair[:j], pair[j+1:], rest
	}
	return pair, "", rest
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeInto percent-decodes s (with '+' as a space, as forms encode it)
// into dst and returns the decoded length. It fails on a bad escape and
// when the result would not fit dst, so a fixed-size field is decoded
// without allocating and checked for length in the same pass.
func unescapeInto(dst []byte, s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if n == len(dst) {
			return n + 1, false
		}
		c := s[i]
		switch c {
		case '%':
			if i+2 >= len(s) {
				return n, false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return n, false
			}
			c = hi<<4 | lo
			i += 2
		case '+':
			c = ' '
		}
		dst[n] = c
		n++
	}
	return n, true
}

// decode20 decodes a percent-encoded 20-byte value (info hash, peer id).
func decode20(dst *[20]byte, param, val string) error {
	n, ok := unescapeInto(dst[:], val)
	switch {
	case !ok && n > len(dst):
		return queryErr(param, "longer than 20 bytes")
	case !ok:
		return queryErr(param, "bad percent-encoding")
	case n != len(dst):
		return queryErr(param, "shorter than 20 bytes")
	}
	return nil
}

// parseUint reads a non-negative decimal integer no larger than max.
func parseUint(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

const maxInt64 = 1<<63 - 1

func parseCount(param, s string) (int64, error) {
	v, ok := parseUint(s, maxInt64)
	if !ok {
		return 0, queryErr(param, "not a non-negative integer")
	}
	return int64(v), nil
}

// parseKey reads the client key. BEP 3 leaves its format open: most clients
// send 8 hex digits, some decimal or arbitrary text, so anything that is not
// hex is folded to 32 bits with FNV-1a; only equality matters.
func parseKey(s string) uint32 {
	if len(s) > 0 && len(s) <= 8 {
		var v uint32
		ok := true
		for i := 0; i < len(s); i++ {
			d, isHex := unhex(s[i])
			if !isHex {
				ok = false
				break
			}
			v = v<<4 | uint32(d)
		}
		if ok {
			return v
		}
	}
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// parseIP reads the optional "ip" parameter. It may be a DNS name (BEP 3)
// or garbage; anything that is not a literal address is ignored, since
// trackers use it only as a hint.
func parseIP(s string) netip.Addr {
	var buf [64]byte
	n, ok := unescapeInto(buf[:], s)
	if !ok {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(string(buf[:n]))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}
	}
	return a.Unmap()
}

func parseBool(s string) bool { return s == "1" || s == "true" }

// ParseAnnounceQuery parses the query string of an HTTP announce (the part
// after '?', still percent-encoded). info_hash, peer_id and port are
// required; unknown parameters are ignored. Compact is true unless the
// query says compact=0: BEP 23 lets trackers answer compactly regardless,
// and every current client asks for it.
//
// It does not allocate unless the query carries a trackerid, or is
// malformed.
func ParseAnnounceQuery(rawQuery string) (AnnounceRequest, error) {
	r := AnnounceRequest{Left: LeftUnknown, NumWant: NumWantDefault, Compact: true}
	var haveHash, haveID, havePort bool
	for q := rawQuery; q != ""; {
		var key, val string
		key, val, q = nextParam(q)
		switch key {
		case "info_hash":
			if err := decode20((*[20]byte)(&r.InfoHash), key, val); err != nil {
				return r, err
			}
			haveHash = true
		case "peer_id":
			if err := decode20((*[20]byte)(&r.PeerID), key, val); err != nil {
				return r, err
			}
			haveID = true
		case "port":
			p, ok := parseUint(val, 65535)
			if !ok || p == 0 {
				return r, queryErr(key, "not a port number (1-65535)")
			}
			r.Port = uint16(p)
			havePort = true
		case "uploaded", "downloaded", "left":
			v, err := parseCount(key, val)
			if err != nil {
				return r, err
			}
			switch key {
			case "uploaded":
				r.Uploaded = v
			case "downloaded":
				r.Downloaded = v
			default:
				r.Left = v
			}
		case "event":
			switch val {
			case "", "empty", "paused": // BEP 21's "paused" is a regular announce
				r.Event = EventNone
			case "started":
				r.Event = EventStarted
			case "completed":
				r.Event = EventCompleted
			case "stopped":
				r.Event = EventStopped
			default:
				return r, queryErr(key, "not started, completed, stopped or empty")
			}
		case "numwant":
			if len(val) > 0 && val[0] == '-' {
				r.NumWant = NumWantDefault // some clients send -1 for "default"
				break
			}
			v, ok := parseUint(val, 1<<20)
			if !ok {
				return r, queryErr(key, "not a non-negative integer")
			}
			r.NumWant = int(v)
		case "key":
			r.Key, r.HasKey = parseKey(val), true
		case "compact":
			r.Compact = val != "0"
		case "no_peer_id":
			r.NoPeerID = parseBool(val)
		case "ip":
			r.IP = parseIP(val)
		case "trackerid":
			var buf [64]byte
			if n, ok := unescapeInto(buf[:], val); ok {
				r.TrackerID = string(buf[:n])
			}
		}
	}
	switch {
	case !haveHash:
		return r, queryErr("info_hash", "missing")
	case !haveID:
		return r, queryErr("peer_id", "missing")
	case !havePort:
		return r, queryErr("port", "missing")
	}
	return r, nil
}
