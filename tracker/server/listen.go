package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
)

// ListenConfig names the addresses Listen binds; an empty one is skipped.
type ListenConfig struct {
	HTTP, UDP, Metrics string
	// UDPSockets is how many sockets share the UDP port (SO_REUSEPORT,
	// Linux), each with its own read loop, so that packets are received
	// on every core. 0 means GOMAXPROCS; where SO_REUSEPORT is missing,
	// one socket is read by several loops instead.
	UDPSockets int
}

// udpReadBuffer is the receive buffer asked for each UDP socket. The
// usual default, about 200 KiB, holds only some 200 small datagrams (each
// is charged its kernel bookkeeping too), which a burst of announces
// overflows while a read loop waits for a CPU; a dropped announce costs a
// BEP 15 client a 15-second retry. With bench/tracker.sh at 100,000 peers
// on a busy 2-core machine, a few hundred announces a run were dropped
// that way. 4 MiB holds thousands, and costs memory only while full.
const udpReadBuffer = 4 << 20

// Listen opens the sockets lc names. The UDP address may have port 0:
// the first socket picks the port and the others join it.
func Listen(ctx context.Context, lc ListenConfig) (_ *Listeners, err error) {
	l := &Listeners{}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()
	var nlc net.ListenConfig
	if lc.HTTP != "" {
		if l.HTTP, err = nlc.Listen(ctx, "tcp", lc.HTTP); err != nil {
			return nil, fmt.Errorf("http listener: %w", err)
		}
	}
	if lc.Metrics != "" {
		if l.Metrics, err = nlc.Listen(ctx, "tcp", lc.Metrics); err != nil {
			return nil, fmt.Errorf("metrics listener: %w", err)
		}
	}
	if lc.UDP != "" {
		n := lc.UDPSockets
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		if !reusePortSupported {
			n = 1
		}
		if n > 1 {
			nlc.Control = setReusePort
		}
		addr := lc.UDP
		for i := range n {
			c, err := nlc.ListenPacket(ctx, "udp", addr)
			if err != nil {
				return nil, fmt.Errorf("udp socket %d of %d: %w", i+1, n, err)
			}
			if uc, ok := c.(*net.UDPConn); ok {
				// Best effort: the kernel caps it (net.core.rmem_max) and
				// says nothing.
				_ = uc.SetReadBuffer(udpReadBuffer)
			}
			l.UDP = append(l.UDP, c)
			addr = c.LocalAddr().String() // the others join the port the first got
		}
	}
	return l, nil
}

// HTTPAddr, UDPAddr and MetricsAddr return the bound addresses, or nil.
func (l *Listeners) HTTPAddr() net.Addr { return addrOf(l.HTTP) }

// UDPAddr returns the UDP sockets' common address, or nil.
func (l *Listeners) UDPAddr() net.Addr {
	if len(l.UDP) == 0 {
		return nil
	}
	return l.UDP[0].LocalAddr()
}

// MetricsAddr returns the metrics listener's address, or nil.
func (l *Listeners) MetricsAddr() net.Addr { return addrOf(l.Metrics) }

func addrOf(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

var errNoReusePort = errors.New("SO_REUSEPORT is not supported here")
