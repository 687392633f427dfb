//go:build !linux

package server

import "syscall"

const reusePortSupported = false

func setReusePort(network, address string, c syscall.RawConn) error { return errNoReusePort }
