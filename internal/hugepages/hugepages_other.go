//go:build !linux

package hugepages

import "time"

// Advise does nothing here: transparent huge pages are Linux's.
func Advise(interval time.Duration) (stop func()) { return func() {} }
