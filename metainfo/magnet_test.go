package metainfo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseMagnet(t *testing.T) {
	const hexHash = "ebdd17e2aa7799b7fed6d212faaea3b54a67d693"
	h := mustHash(t, hexHash)
	b32 := h.Base32String()
	tests := []struct {
		name string
		uri  string
		want Magnet
	}{
		{
			// As libtorrent 2.0.8 wrote it for the lt-hybrid fixture.
			"libtorrent hybrid",
			"magnet:?xt=urn:btih:ebdd17e2aa7799b7fed6d212faaea3b54a67d693&xt=urn:btmh:1220198649a315a977bcf9f088429dc89b55f7538c2aab936bb57bf81b283355e8bb&dn=hybrid&tr=http%3a%2f%2f127.0.0.1%3a6969%2fannounce",
			Magnet{InfoHash: h, DisplayName: "hybrid", Trackers: []string{"http://127.0.0.1:6969/announce"}},
		},
		{"hash only", "magnet:?xt=urn:btih:" + hexHash, Magnet{InfoHash: h}},
		{"upper-case hex and scheme", "MAGNET:?xt=urn:BTIH:" + strings.ToUpper(hexHash), Magnet{InfoHash: h}},
		{"base32", "magnet:?xt=urn:btih:" + b32, Magnet{InfoHash: h}},
		{"base32 lower case", "magnet:?xt=urn:btih:" + strings.ToLower(b32), Magnet{InfoHash: h}},
		{
			"all fields, order kept across tr and tr.N",
			"magnet:?dn=My+File%20%C3%A9&tr.1=udp%3A%2F%2F127.0.0.1%3A1&xt=urn:btih:" + hexHash +
				"&tr=http://127.0.0.1/a&tr.2=udp://127.0.0.1:2&ws=http%3A%2F%2F127.0.0.1%2Fws&x.pe=127.0.0.1:6881&x.pe=[::1]:6882",
			Magnet{
				InfoHash:    h,
				DisplayName: "My File é",
				Trackers:    []string{"udp://127.0.0.1:1", "http://127.0.0.1/a", "udp://127.0.0.1:2"},
				WebSeeds:    []string{"http://127.0.0.1/ws"},
				Peers:       []string{"127.0.0.1:6881", "[::1]:6882"},
			},
		},
		{"same hash twice", "magnet:?xt=urn:btih:" + hexHash + "&xt.1=urn:btih:" + b32, Magnet{InfoHash: h}},
		{"empty tr and ws dropped", "magnet:?xt=urn:btih:" + hexHash + "&tr=&ws=&&", Magnet{InfoHash: h}},
		{"first dn wins", "magnet:?xt=urn:btih:" + hexHash + "&dn=&dn=a&dn=b", Magnet{InfoHash: h, DisplayName: "a"}},
		{"unknown keys and fragment ignored", "magnet:?xt=urn:btih:" + hexHash + "&xl=10&so=0-2&kt=a+b#frag&dn=x", Magnet{InfoHash: h}},
		{"other urn ignored", "magnet:?xt=urn:sha1:ABC&xt=urn:btih:" + hexHash, Magnet{InfoHash: h}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMagnet(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			// And back: String must re-parse to the same magnet.
			again, err := ParseMagnet(got.String())
			if err != nil {
				t.Fatalf("re-parsing %q: %v", got.String(), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("round trip via %q gave %+v", got.String(), again)
			}
		})
	}
}

func TestParseMagnetErrors(t *testing.T) {
	const hexHash = "ebdd17e2aa7799b7fed6d212faaea3b54a67d693"
	tests := []struct {
		name, uri, want string
		v2only          bool
	}{
		{"empty", "", "not a magnet link", false},
		{"http", "http://127.0.0.1/?xt=urn:btih:" + hexHash, "not a magnet link", false},
		{"no query", "magnet:xt=urn:btih:" + hexHash, "missing '?'", false},
		{"no xt", "magnet:?dn=foo&tr=http://127.0.0.1/", "no info hash", false},
		{"empty query", "magnet:?", "no info hash", false},
		{"v2 only", "magnet:?xt=urn:btmh:1220af77ef796c5cc394ef3a8ac00aa69cd5da1d570f138ac5174b2e1dd3d7c86dbe&dn=hybrid",
			"v2-only torrents are not supported yet", true},
		{"short hash", "magnet:?xt=urn:btih:abcd", "want 40 hex or 32 base32", false},
		{"bad hex", "magnet:?xt=urn:btih:" + strings.Repeat("g", 40), "not hex", false},
		{"bad base32", "magnet:?xt=urn:btih:" + strings.Repeat("1", 32), "not base32", false},
		{"two hashes", "magnet:?xt=urn:btih:" + hexHash + "&xt=urn:btih:" + strings.Repeat("0", 40), "two different info hashes", false},
		{"bad escape", "magnet:?xt=urn:btih:" + hexHash + "&dn=%zz", "parameter", false},
		{"peer without port", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1", "x.pe", false},
		{"peer port zero", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1:0", "bad port", false},
		{"peer port too big", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1:65536", "bad port", false},
		{"peer empty host", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=:80", "empty host", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMagnet(tt.uri)
			if err == nil {
				t.Fatalf("ParseMagnet succeeded: %+v", m)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if errors.Is(err, ErrV2Only) != tt.v2only {
				t.Errorf("errors.Is(err, ErrV2Only) = %v", !tt.v2only)
			}
		})
	}
}

func TestMagnetString(t *testing.T) {
	m := Magnet{
		InfoHash:    mustHash(t, "EBDD17E2AA7799B7FED6D212FAAEA3B54A67D693"),
		DisplayName: "a b&c=d+é",
		Trackers:    []string{"udp://127.0.0.1:1/x?y=z", "http://127.0.0.1/"},
		WebSeeds:    []string{"http://127.0.0.1/ws/"},
		Peers:       []string{"[::1]:1"},
	}
	want := "magnet:?xt=urn:btih:ebdd17e2aa7799b7fed6d212faaea3b54a67d693" +
		"&dn=a+b%26c%3Dd%2B%C3%A9" +
		"&tr=udp%3A%2F%2F127.0.0.1%3A1%2Fx%3Fy%3Dz&tr=http%3A%2F%2F127.0.0.1%2F" +
		"&ws=http%3A%2F%2F127.0.0.1%2Fws%2F" +
		"&x.pe=%5B%3A%3A1%5D%3A1"
	if got := m.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	back, err := ParseMagnet(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*back, m) {
		t.Errorf("round trip gave %+v", *back)
	}
}

func TestMagnetKey(t *testing.T) {
	for key, want := range map[string]string{
		"tr": "tr", "tr.1": "tr", "TR.12": "tr", "x.pe": "x.pe", "xt.2": "xt", "tr.": "tr.", "tr.x": "tr.x", "a.b.3": "a.b",
	} {
		if got := magnetKey(key); got != want {
			t.Errorf("magnetKey(%q) = %q, want %q", key, got, want)
		}
	}
}
