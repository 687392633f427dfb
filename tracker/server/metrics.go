package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// Frontends, the "proto" label.
const (
	protoHTTP = iota
	protoUDP
	protoAPI
	numProtos
)

func protoName(p int) string {
	switch p {
	case protoHTTP:
		return "http"
	case protoUDP:
		return "udp"
	}
	return "api"
}

// metrics are a Server's Prometheus metrics, on a registry of its own. The
// counters the hot paths touch are resolved once here, so that counting an
// announce is one atomic add rather than a label lookup.
type metrics struct {
	reg       *prometheus.Registry
	announces [numProtos][4]prometheus.Counter // by event
	scrapes   [numProtos]prometheus.Counter
	connects  prometheus.Counter
	errorVec  *prometheus.CounterVec
	expired   prometheus.Counter
	httpConns prometheus.Gauge
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	announces := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "swarmlab_tracker_announces_total",
		Help: "Announces served, by frontend and event.",
	}, []string{"proto", "event"})
	scrapes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "swarmlab_tracker_scrapes_total",
		Help: "Scrapes served, by frontend.",
	}, []string{"proto"})
	m.connects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "swarmlab_tracker_udp_connects_total",
		Help: "UDP connect requests answered.",
	})
	m.errorVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "swarmlab_tracker_errors_total",
		Help: "Requests refused or dropped, by frontend and kind.",
	}, []string{"proto", "kind"})
	m.expired = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "swarmlab_tracker_expired_peers_total",
		Help: "Peers removed for not announcing within the peer TTL.",
	})
	m.httpConns = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "swarmlab_tracker_http_connections",
		Help: "Open HTTP connections.",
	})
	for p := range numProtos {
		for ev := range 4 {
			name := tracker.Event(ev).String()
			if name == "" {
				name = "none"
			}
			m.announces[p][ev] = announces.WithLabelValues(protoName(p), name)
		}
		m.scrapes[p] = scrapes.WithLabelValues(protoName(p))
	}
	m.reg.MustRegister(announces, scrapes, m.connects, m.errorVec, m.expired, m.httpConns,
		newStoreCollector(st),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) errors(p int, kind string) prometheus.Counter {
	return m.errorVec.WithLabelValues(protoName(p), kind)
}

func (m *metrics) failed(p int, err error) {
	kind := KindStore
	var f *Failure
	if errors.As(err, &f) {
		kind = f.Kind
	}
	m.errors(p, kind).Inc()
}

// storeCollector reports the store's totals when metrics are scraped, so
// the announce path never maintains gauges.
type storeCollector struct {
	st                    store.Store
	swarmsDesc, peersDesc *prometheus.Desc
}

func newStoreCollector(st store.Store) *storeCollector {
	return &storeCollector{
		st:         st,
		swarmsDesc: prometheus.NewDesc("swarmlab_tracker_swarms", "Swarms with at least one peer.", nil, nil),
		peersDesc:  prometheus.NewDesc("swarmlab_tracker_peers", "Peers across all swarms, by state.", []string{"state"}, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.swarmsDesc
	ch <- c.peersDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, err := c.st.Totals(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.swarmsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.swarmsDesc, prometheus.GaugeValue, float64(t.Swarms))
	ch <- prometheus.MustNewConstMetric(c.peersDesc, prometheus.GaugeValue, float64(t.Seeds), "seed")
	ch <- prometheus.MustNewConstMetric(c.peersDesc, prometheus.GaugeValue, float64(t.Peers-t.Seeds), "leecher")
}
