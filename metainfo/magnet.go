package metainfo

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Magnet is a magnet link (BEP 9): enough to find peers and fetch the info
// dictionary from them.
type Magnet struct {
	// InfoHash is the v1 info hash (xt=urn:btih:).
	InfoHash Hash
	// DisplayName is the suggested name (dn), empty when absent.
	DisplayName string
	// Trackers are tracker URLs (tr), in the order given.
	Trackers []string
	// WebSeeds are web seed URLs (ws, BEP 19).
	WebSeeds []string
	// Peers are peer addresses as host:port (x.pe).
	Peers []string
}

// ParseMagnet parses a magnet link. It needs a v1 info hash, xt=urn:btih:
// followed by 40 hex or 32 base32 characters; a link with only a v2 hash
// (urn:btmh:) gets an error wrapping ErrV2Only. It reads dn, tr, ws and
// x.pe; numbered keys ("tr.1", "xt.2") count as the plain key, and other
// parameters are ignored. Empty tr and ws values are dropped.
func ParseMagnet(uri string) (*Magnet, error) {
	const scheme = "magnet:"
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return nil, errors.New("metainfo: not a magnet link: missing magnet: scheme")
	}
	rest, _, _ := strings.Cut(uri[len(scheme):], "#")
	query, ok := strings.CutPrefix(rest, "?")
	if !ok {
		return nil, errors.New("metainfo: magnet link: missing '?' after magnet:")
	}

	var m Magnet
	var haveV1, haveV2 bool
	// The query is split by hand rather than with url.ParseQuery so that
	// the order of trackers across "tr" and "tr.N" keys is kept.
	for param := range strings.SplitSeq(query, "&") {
		if param == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(param, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("metainfo: magnet link: parameter %q: %w", param, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("metainfo: magnet link: parameter %q: %w", param, err)
		}
		switch magnetKey(key) {
		case "xt":
			switch {
			case hasPrefixFold(value, "urn:btih:"):
				h, err := ParseHash(value[len("urn:btih:"):])
				if err != nil {
					return nil, fmt.Errorf("metainfo: magnet link: xt: %w", err)
				}
				if haveV1 && h != m.InfoHash {
					return nil, fmt.Errorf("metainfo: magnet link has two different info hashes, %s and %s", m.InfoHash, h)
				}
				m.InfoHash, haveV1 = h, true
			case hasPrefixFold(value, "urn:btmh:"):
				haveV2 = true
			}
		case "dn":
			if m.DisplayName == "" {
				m.DisplayName = value
			}
		case "tr":
			if value != "" {
				m.Trackers = append(m.Trackers, value)
			}
		case "ws":
			if value != "" {
				m.WebSeeds = append(m.WebSeeds, value)
			}
		case "x.pe":
			if err := checkPeerAddr(value); err != nil {
				return nil, fmt.Errorf("metainfo: magnet link: x.pe %q: %w", value, err)
			}
			m.Peers = append(m.Peers, value)
		}
	}
	switch {
	case haveV1:
		return &m, nil
	case haveV2:
		return nil, fmt.Errorf("metainfo: magnet link has only a v2 info hash (xt=urn:btmh:): %w", ErrV2Only)
	}
	return nil, errors.New("metainfo: magnet link has no info hash (xt=urn:btih:)")
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// magnetKey lower-cases a parameter name and strips a numeric suffix, so
// that "tr.1" and "TR" both read as "tr" while "x.pe" stays itself.
func magnetKey(key string) string {
	key = strings.ToLower(key)
	if dot := strings.LastIndexByte(key, '.'); dot >= 0 && dot < len(key)-1 {
		if _, err := strconv.ParseUint(key[dot+1:], 10, 32); err == nil {
			return key[:dot]
		}
	}
	return key
}

// checkPeerAddr accepts host:port with a non-empty host and a port in
// 1-65535; IPv6 hosts need brackets, as in "[::1]:6881".
func checkPeerAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("empty host")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// String formats the magnet link with the info hash in hex and the other
// parameters query-escaped, in a fixed order: xt, dn, tr, ws, x.pe.
// Parsing the result gives back an equal Magnet when no tracker or web
// seed is empty.
func (m *Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(m.InfoHash.HexString())
	if m.DisplayName != "" {
		b.WriteString("&dn=")
		b.WriteString(url.QueryEscape(m.DisplayName))
	}
	for _, tr := range m.Trackers {
		b.WriteString("&tr=")
		b.WriteString(url.QueryEscape(tr))
	}
	for _, ws := range m.WebSeeds {
		b.WriteString("&ws=")
		b.WriteString(url.QueryEscape(ws))
	}
	for _, pe := range m.Peers {
		b.WriteString("&x.pe=")
		b.WriteString(url.QueryEscape(pe))
	}
	return b.String()
}
