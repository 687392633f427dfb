//go:build !linux

package server

import (
	"context"
	"net"
)

const batchSupported = false

func (s *Server) serveUDPBatch(ctx context.Context, c *net.UDPConn) error { panic("unreachable") }
