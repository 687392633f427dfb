package live

import (
	"context"
	"net/netip"

	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/client"
)

// Announce runs the torrent's tracker announces until ctx is done: peers
// the trackers return are dialed, "completed" is sent when the last piece
// is verified, and "stopped" on the way out. The Client's peer id and
// listen port identify us. It returns the "stopped" announce's error.
func (t *Torrent) Announce(ctx context.Context, tc *client.Client, tiers *client.Tiers, onResult func(client.Result)) error {
	startedComplete := t.isComplete()
	a := client.NewAnnouncer(client.AnnouncerConfig{
		Announce: tiers.AnnounceWith(tc),
		InfoHash: t.meta.InfoHash,
		PeerID:   tracker.PeerID(t.c.cfg.PeerID),
		Port:     uint16(t.c.ListenPort()),
		Progress: func() client.Progress {
			s := t.Stats()
			return client.Progress{Uploaded: s.Uploaded, Downloaded: s.Downloaded, Left: s.Left}
		},
		OnAnnounce: func(r client.Result) {
			if r.Response != nil {
				addrs := make([]netip.AddrPort, 0, len(r.Response.Peers))
				for _, p := range r.Response.Peers {
					addrs = append(addrs, p.Addr)
				}
				t.AddPeers(addrs)
			}
			if onResult != nil {
				onResult(r)
			}
		},
	})
	if !startedComplete {
		go func() {
			select {
			case <-t.complete:
				a.Completed()
			case <-ctx.Done():
			}
		}()
	}
	return a.Run(ctx)
}

func (t *Torrent) isComplete() bool {
	select {
	case <-t.complete:
		return true
	default:
		return false
	}
}
