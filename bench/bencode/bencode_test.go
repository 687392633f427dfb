package bencode

import (
	"bytes"
	"reflect"
	"testing"

	abencode "github.com/anacrolix/torrent/bencode"
	jbencode "github.com/jackpal/bencode-go"
	sbencode "github.com/swarmlab/swarmlab/bencode"
	zbencode "github.com/zeebo/bencode"
)

// lib adapts one implementation to a common shape. The indirect call costs
// a few nanoseconds, the same for every library, against operations of half
// a microsecond and more (the fastest case, swarmlab decoding the tracker
// response into a struct, measured 0.57 µs on a 2-core VM).
type lib struct {
	name      string
	unmarshal func(data []byte, v any) error
	marshal   func(v any) ([]byte, error)
	decodeAny func(data []byte) (any, error)
	// stringsOnly: typed values must use string, not []byte, fields.
	stringsOnly bool
}

// typed returns the fixture's typed form for l.
func (l lib) typed(f fixture) typedForm {
	if l.stringsOnly {
		return f.typedS
	}
	return f.typed
}

// encodeInput is a value a library must encode to a fixture's bytes.
type encodeInput struct {
	kind string // "typed" or "any"
	v    any
}

// encodeInputs are the fixture's typed value for l and its generic value.
func (l lib) encodeInputs(f fixture) []encodeInput {
	return []encodeInput{{"typed", l.typed(f).value}, {"any", f.generic}}
}

// viaUnmarshal decodes a generic value the way most libraries do: by
// unmarshalling into an `any`.
func viaUnmarshal(unmarshal func([]byte, any) error) func([]byte) (any, error) {
	return func(data []byte) (any, error) {
		var v any
		err := unmarshal(data, &v)
		return v, err
	}
}

// ours is the library being measured; the others are references. The
// table printed by cmd/benchtable divides by ours.
const ours = "swarmlab"

var libs = []lib{
	{
		name:      ours,
		unmarshal: sbencode.Unmarshal,
		marshal:   sbencode.Marshal,
		decodeAny: viaUnmarshal(sbencode.Unmarshal),
	},
	{
		name:      "anacrolix",
		unmarshal: abencode.Unmarshal,
		marshal:   abencode.Marshal,
		decodeAny: viaUnmarshal(abencode.Unmarshal),
	},
	{
		name:      "zeebo",
		unmarshal: zbencode.DecodeBytes,
		marshal:   zbencode.EncodeBytes,
		decodeAny: viaUnmarshal(zbencode.DecodeBytes),
	},
	{
		// jackpal/bencode-go works on io.Reader and io.Writer only; wrapping
		// the bytes is part of using it.
		name: "jackpal",
		unmarshal: func(data []byte, v any) error {
			return jbencode.Unmarshal(bytes.NewReader(data), v)
		},
		marshal: func(v any) ([]byte, error) {
			var buf bytes.Buffer
			err := jbencode.Marshal(&buf, v)
			return buf.Bytes(), err
		},
		decodeAny: func(data []byte) (any, error) {
			return jbencode.Decode(bytes.NewReader(data))
		},
		stringsOnly: true,
	},
}

// TestEquivalence makes sure the benchmarks compare equal work: every
// library must decode each fixture to the expected typed and generic values
// and encode both back to the fixture's exact bytes.
func TestEquivalence(t *testing.T) {
	for _, f := range fixtures() {
		for _, l := range libs {
			t.Run(f.name+"/"+l.name, func(t *testing.T) {
				typed := l.typed(f)
				v := typed.new()
				if err := l.unmarshal(f.raw, v); err != nil {
					t.Fatalf("decode typed: %v", err)
				}
				if got := reflect.ValueOf(v).Elem().Interface(); !reflect.DeepEqual(got, typed.value) {
					t.Errorf("decode typed: value differs from the fixture")
				}
				g, err := l.decodeAny(f.raw)
				if err != nil {
					t.Fatalf("decode any: %v", err)
				}
				if !reflect.DeepEqual(g, f.generic) {
					t.Errorf("decode any: %T value differs from the fixture", g)
				}
				for _, in := range l.encodeInputs(f) {
					out, err := l.marshal(in.v)
					if err != nil {
						t.Fatalf("encode %s: %v", in.kind, err)
					}
					if !bytes.Equal(out, f.raw) {
						t.Errorf("encode %s: %d bytes differ from the fixture's %d", in.kind, len(out), len(f.raw))
					}
				}
			})
		}
	}
}

// Benchmark names are Decode|Encode/<fixture>/<typed|any>/<library>;
// cmd/benchtable groups on everything but the library.

func BenchmarkDecode(b *testing.B) {
	for _, f := range fixtures() {
		for _, l := range libs {
			newTyped := l.typed(f).new
			b.Run(f.name+"/typed/"+l.name, func(b *testing.B) {
				b.SetBytes(int64(len(f.raw)))
				b.ReportAllocs()
				for b.Loop() {
					// A fresh target each time: reusing one would let
					// libraries that recycle slices skip allocations.
					if err := l.unmarshal(f.raw, newTyped()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(f.name+"/any/"+l.name, func(b *testing.B) {
				b.SetBytes(int64(len(f.raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := l.decodeAny(f.raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, f := range fixtures() {
		for _, l := range libs {
			for _, in := range l.encodeInputs(f) {
				b.Run(f.name+"/"+in.kind+"/"+l.name, func(b *testing.B) {
					b.SetBytes(int64(len(f.raw)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := l.marshal(in.v); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
