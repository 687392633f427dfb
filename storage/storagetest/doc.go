// Package storagetest is the conformance suite for storage.Storage
// backends, and generates torrents with known content for tests.
//
// A backend's test calls Run with a function that opens a fresh, empty
// storage for a given Info; Run then checks layouts with zero-length and
// pad files, boundary-crossing reads and writes, out-of-range calls,
// concurrent use (run it with -race) and verification.
package storagetest
