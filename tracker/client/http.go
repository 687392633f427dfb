package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

func (c *Client) httpAnnounce(ctx context.Context, u *url.URL, req *tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
	body, err := c.httpGet(ctx, withQuery(u, tracker.AppendAnnounceQuery(nil, req)))
	if err != nil {
		return nil, err
	}
	resp, err := tracker.ParseAnnounceResponse(body)
	if err != nil {
		return nil, err
	}
	if resp.Failure != "" {
		return nil, &FailureError{Reason: resp.Failure}
	}
	return resp, nil
}

func (c *Client) httpScrape(ctx context.Context, u *url.URL, hashes []metainfo.Hash) ([]tracker.ScrapeStats, error) {
	su := *u
	su.RawQuery, su.Fragment, su.RawFragment = "", "", ""
	scrape, ok := tracker.ScrapeURL(su.String())
	if !ok {
		return nil, ErrNoScrape
	}
	sp, err := url.Parse(scrape)
	if err != nil {
		return nil, err
	}
	// The announce URL's query (a private tracker's key, say) belongs on
	// the scrape URL too.
	sp.RawQuery = u.RawQuery
	body, err := c.httpGet(ctx, withQuery(sp, tracker.AppendScrapeQuery(nil, hashes)))
	if err != nil {
		return nil, err
	}
	resp, err := tracker.ParseScrapeResponse(body)
	if err != nil {
		return nil, err
	}
	if resp.Failure != "" {
		return nil, &FailureError{Reason: resp.Failure}
	}
	// resp.Files is sorted by hash; answer in the order asked.
	byHash := make(map[metainfo.Hash]tracker.ScrapeStats, len(resp.Files))
	for _, f := range resp.Files {
		byHash[f.InfoHash] = f.ScrapeStats
	}
	stats := make([]tracker.ScrapeStats, len(hashes))
	for i, h := range hashes {
		stats[i] = byHash[h]
	}
	return stats, nil
}

// withQuery returns u with query appended to whatever query it already
// has (a private tracker's key, for one), and without a fragment.
func withQuery(u *url.URL, query []byte) string {
	v := *u
	v.Fragment, v.RawFragment = "", ""
	switch {
	case v.RawQuery == "":
		v.RawQuery = string(query)
	case strings.HasSuffix(v.RawQuery, "&"):
		v.RawQuery += string(query)
	default:
		v.RawQuery += "&" + string(query)
	}
	return v.String()
}

// httpGet fetches target and returns the body of a 200 response, read up
// to the configured cap.
func (c *Client) httpGet(ctx context.Context, target string) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	hreq.Header.Set("User-Agent", c.cfg.UserAgent)
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	defer hresp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hresp.Body, c.cfg.MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if hresp.StatusCode == http.StatusOK && int64(len(body)) > c.cfg.MaxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", c.cfg.MaxResponse)
	}
	if hresp.StatusCode != http.StatusOK {
		// Some trackers send their failure reason with a 4xx status; it
		// says more than the status does.
		if r, err := tracker.ParseAnnounceResponse(body); err == nil && r.Failure != "" {
			return nil, &FailureError{Reason: r.Failure}
		}
		return nil, fmt.Errorf("HTTP %s: %q", hresp.Status, firstLine(body))
	}
	return body, nil
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// whole URL: the key of a private tracker, the info hash and peer id.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// firstLine returns the start of an error body for a message: its first
// line, at most 200 bytes. The caller quotes it, so whatever bytes a
// broken server sends cannot garble a log line.
func firstLine(body []byte) string {
	if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
		body = body[:i]
	}
	return string(bytes.TrimSpace(body[:min(len(body), 200)]))
}
