// Package wire encodes and decodes the BitTorrent peer wire protocol: the
// handshake (BEP 3) with its reserved bits (BEP 4), every BEP 3 message,
// the fast extension (BEP 6: have all, have none, suggest, reject request,
// allowed fast) and the extension protocol's messages and handshake
// (BEP 10).
//
// It holds no policy. It never decides what to send or whether to trust a
// peer; it only turns bytes into messages and back, and refuses frames that
// no well-behaved peer sends (a length beyond the negotiated maximum, a
// bitfield of the wrong size, a payload of the wrong length for its type),
// so that the caller can drop the connection.
package wire
