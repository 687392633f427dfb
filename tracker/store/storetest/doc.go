// Package storetest is the conformance suite for tracker stores. Every
// store.Store implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
//			s := store.NewMemory(opts)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite passes every time it uses explicitly, so it never waits, and it
// checks randomness only in ways a correct store passes with overwhelming
// probability whatever its random source.
package storetest
