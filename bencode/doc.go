// Package bencode encodes and decodes bencoding, the serialisation format of
// BitTorrent (BEP 3): .torrent files, tracker responses, DHT and extension
// messages.
//
// The API mirrors encoding/json: Marshal and Unmarshal work on Go values
// guided by `bencode:"name,omitempty"` struct tags, a Decoder reads a stream
// of values, and RawMessage keeps the exact bytes of a value so that, for
// example, a torrent's info dictionary can be hashed exactly as it was
// received.
//
// Decoding is built for hostile input. Every decode runs under Limits
// (nesting depth, string length, token count); a declared string length is
// checked against the bytes actually available before anything is allocated,
// so "99999999999:" costs nothing. Strict mode additionally rejects
// non-canonical encodings (unsorted or duplicate dictionary keys, leading
// zeros, "-0") that a lenient decode accepts.
package bencode
