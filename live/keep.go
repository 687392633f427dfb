package live

import (
	"net/netip"
	"time"
)

// Redial timing for kept peers (KeepPeers).
const (
	// keepFirstWait is the rest after a failed dial, doubled after each
	// failure up to keepMaxWait: a peer that is still starting (a seed
	// checking its files accepts and drops connections) is retried
	// within seconds, a dead address once a minute.
	keepFirstWait = time.Second
	keepMaxWait   = redialAfter
	// keepSettled: a connection that lasted this long was a working
	// one, so when it ends the peer is redialed after keepFirstWait
	// again. One that ends sooner (a duplicate of a connection the peer
	// made to us, or two seeds parting) counts as a failure.
	keepSettled = 30 * time.Second
)

// KeepPeers dials peers and keeps dialing each one while the torrent
// runs, whenever the connection from the last dial is gone: for peers a
// user named (swarmlab download --peer), which, unlike a tracker's, are
// given once and never come again. A banned address is given up.
func (t *Torrent) KeepPeers(addrs []netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	for _, a := range addrs {
		t.dialers.Add(1)
		go func() {
			defer t.dialers.Done()
			t.keep(a)
		}()
	}
}

func (t *Torrent) keep(a netip.AddrPort) {
	wait := keepFirstWait
	for {
		t.mu.Lock()
		closed := t.closed
		// Tracker answers that name the address leave it to us.
		t.dialed[a] = time.Now()
		t.mu.Unlock()
		if closed || t.isBanned(a, nil) {
			return
		}
		if cn := t.c.dial(t, a); cn != nil {
			began := time.Now()
			select {
			case <-cn.done:
			case <-t.stop:
				return
			}
			if time.Since(began) >= keepSettled {
				wait = keepFirstWait
			}
		}
		rest := time.NewTimer(wait)
		select {
		case <-rest.C:
		case <-t.stop:
			rest.Stop()
			return
		}
		wait = min(2*wait, keepMaxWait)
	}
}
