package server

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is the largest number of datagrams one system call receives or
// sends. Under load a read loop then pays the fixed cost of a system call
// and of Go's poller once per batch instead of once per packet; when idle
// a batch is a single packet and nothing waits for more.
const udpBatch = 32

// sockaddrSize holds a sockaddr_in6, which is larger than sockaddr_in.
const sockaddrSize = unix.SizeofSockaddrInet6

// mmsgConn receives and sends batches of datagrams with recvmmsg and
// sendmmsg (Linux), through the socket's RawConn so that waiting for
// readiness still goes through Go's poller. All its buffers and the
// closures handed to RawConn are made once, so a batch allocates nothing.
//
// The calls are raw system calls, which do not tell the scheduler that
// the goroutine left for the kernel. Both are non-blocking (MSG_DONTWAIT):
// they return within microseconds, having done or failed to do their work,
// so there is nothing to gain from letting the scheduler hand the P to
// another thread meanwhile, and much to lose: a sendmmsg that delivers a
// batch over loopback outlasts sysmon's 20 µs, and each such handoff woke
// a thread and switched contexts: with bench/tracker.sh at 100,000 peers,
// raw calls took the tracker's CPU per announce from 4.1 µs to 3.4 µs. The
// price is that a stop-the-world waits for a batch in the kernel to finish.
type mmsgConn struct {
	rc    syscall.RawConn
	bufs  [udpBatch][]byte
	names [udpBatch][sockaddrSize]byte
	iovs  [udpBatch]unix.Iovec
	hdrs  [udpBatch]unix.Mmsghdr
	n     int // datagrams in the last batch received

	outIovs [udpBatch]unix.Iovec
	outHdrs [udpBatch]unix.Mmsghdr
	nOut    int // datagrams queued for sending
	sent    int

	errno          syscall.Errno
	recvFn, sendFn func(fd uintptr) bool
}

func newMmsgConn(c *net.UDPConn) (*mmsgConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgConn{rc: rc}
	for i := range m.bufs {
		m.bufs[i] = make([]byte, maxUDPPacket+1)
		m.iovs[i].Base = &m.bufs[i][0]
		m.iovs[i].SetLen(len(m.bufs[i]))
		m.hdrs[i].Hdr.Iov = &m.iovs[i]
		m.hdrs[i].Hdr.Iovlen = 1
		m.hdrs[i].Hdr.Name = &m.names[i][0]
	}
	m.recvFn = func(fd uintptr) bool {
		for i := range m.hdrs {
			m.hdrs[i].Hdr.Namelen = sockaddrSize
			m.hdrs[i].Hdr.Flags = 0
		}
		r, _, e := syscall.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), udpBatch,
			unix.MSG_DONTWAIT, 0, 0)
		if e == syscall.EAGAIN || e == syscall.EINTR {
			return false // not ready: wait in the poller and retry
		}
		m.n, m.errno = int(r), e
		return true
	}
	m.sendFn = func(fd uintptr) bool {
		for m.sent < m.nOut {
			r, _, e := syscall.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.outHdrs[m.sent])),
				uintptr(m.nOut-m.sent), unix.MSG_DONTWAIT, 0, 0)
			switch {
			case e == syscall.EAGAIN:
				return false // socket buffer full: wait until writable
			case e == syscall.EINTR:
				continue
			case e != 0:
				// This datagram cannot be sent (say, its destination is
				// unreachable); the client will retry. Skip it.
				m.sent++
			default:
				m.sent += int(r)
			}
		}
		return true
	}
	return m, nil
}

// recv waits for and receives the next batch; it returns how many
// datagrams it holds.
func (m *mmsgConn) recv() (int, error) {
	m.n, m.errno = 0, 0
	if err := m.rc.Read(m.recvFn); err != nil {
		return 0, err
	}
	if m.errno != 0 {
		return 0, m.errno
	}
	return m.n, nil
}

// packet returns datagram i of the last batch and its sender.
func (m *mmsgConn) packet(i int) (pkt []byte, from netip.AddrPort) {
	pkt = m.bufs[i][:m.hdrs[i].Len]
	sa := &m.names[i]
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[0:2]) {
	case unix.AF_INET:
		from = netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		from = netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port)
	}
	return pkt, from
}

// queue adds a reply to datagram i of the last batch, addressed to its
// sender. out must stay unchanged until flush.
func (m *mmsgConn) queue(i int, out []byte) {
	k := m.nOut
	m.outIovs[k].Base = &out[0]
	m.outIovs[k].SetLen(len(out))
	m.outHdrs[k].Hdr = unix.Msghdr{
		Name:    &m.names[i][0],
		Namelen: m.hdrs[i].Hdr.Namelen,
		Iov:     &m.outIovs[k],
		Iovlen:  1,
	}
	m.nOut++
}

// flush sends the queued replies.
func (m *mmsgConn) flush() error {
	if m.nOut == 0 {
		return nil
	}
	m.sent = 0
	err := m.rc.Write(m.sendFn)
	m.nOut = 0
	return err
}

const batchSupported = true

// serveUDPBatch is serveUDP with batched system calls.
func (s *Server) serveUDPBatch(ctx context.Context, c *net.UDPConn) error {
	m, err := newMmsgConn(c)
	if err != nil {
		return err
	}
	// One worker per slot, since a reply lives in its worker's buffer
	// until the batch is sent; the error budget is the loop's.
	var workers [udpBatch]*udpWorker
	workers[0] = s.newUDPWorker()
	for i := 1; i < len(workers); i++ {
		workers[i] = s.newUDPWorker()
		workers[i].errors = workers[0].errors
	}
	var fails readFailures
	for {
		n, err := m.recv()
		if err != nil {
			if stop, err := fails.add(ctx, err); stop {
				return err
			}
			continue
		}
		fails.reset()
		now := s.cfg.Now()
		for i := 0; i < n; i++ {
			// A datagram too long for the buffer arrives cut to its
			// length, maxUDPPacket+1, and is dropped as oversized.
			pkt, from := m.packet(i)
			if out := workers[i].handle(pkt, from, now); len(out) > 0 {
				m.queue(i, out)
			}
		}
		_ = m.flush() // as in serveUDP: a lost reply is the client's to retry
	}
}
