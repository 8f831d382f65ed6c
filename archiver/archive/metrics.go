package archive

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/archiver/store"
)

// Label values.
const (
	kindHour = "hour"
	kindLate = "late"

	skipStored      = "stored"
	skipUndecodable = "undecodable"

	refProcess   = "process"
	refParent    = "parent"
	refFile      = "file"
	refContainer = "container"

	resultOK       = "ok"
	resultError    = "error"
	resultResolved = "resolved"
	resultTimeout  = "timeout"
)

type metrics struct {
	files          *prometheus.CounterVec
	bytes          prometheus.Counter
	records        prometheus.Counter
	entityRecords  prometheus.Counter
	uploadSeconds  prometheus.Histogram
	uploadFailures *prometheus.CounterVec
	openHours      prometheus.Gauge
	pendingUploads prometheus.Gauge
	stagingBytes   prometheus.Gauge
	paused         prometheus.Gauge
	lag            prometheus.Gauge
	late           prometheus.Counter
	missing        *prometheus.CounterVec
	skipped        *prometheus.CounterVec
	entityWait     prometheus.Histogram
	entityTimeouts prometheus.Counter
	refWait        prometheus.Histogram
	refWaits       *prometheus.CounterVec
	lookups        *prometheus.CounterVec
	forcedCloses   prometheus.Counter
	commits        *prometheus.CounterVec
	parquetFiles   *prometheus.CounterVec
	parquetBytes   prometheus.Counter
	parquetRows    prometheus.Counter
}

func newMetrics() *metrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "sfstream", Subsystem: "archiver", Name: name, Help: help}
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts(opts(name, help)))
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts(opts(name, help)))
	}
	vec := func(name, help string, label string, values ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts(opts(name, help)), []string{label})
		for _, s := range values {
			v.WithLabelValues(s)
		}
		return v
	}
	return &metrics{
		files:         vec("files_written_total", "Objects stored, by kind (hour, late).", "kind", kindHour, kindLate),
		bytes:         counter("bytes_written_total", "Bytes of the objects stored."),
		records:       counter("records_written_total", "Events and flows in the objects stored."),
		entityRecords: counter("entity_records_written_total", "Entity records (containers, processes, files) in the objects stored."),
		uploadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "sfstream", Subsystem: "archiver", Name: "upload_seconds",
			Help:    "Time to store one object, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12),
		}),
		uploadFailures: vec("upload_failures_total", "Failed attempts to store an object (each is retried), by reason.", "reason",
			store.ReasonNetwork, store.ReasonAuth, store.ReasonNoBucket, store.ReasonServer, store.ReasonLocal),
		openHours:      gauge("open_hours", "Objects open for writing (hours and late objects) on owned partitions."),
		pendingUploads: gauge("pending_uploads", "Closed objects waiting to be stored."),
		stagingBytes:   gauge("staging_bytes", "Bytes staged on local disk: open objects and objects waiting to be stored."),
		paused:         gauge("paused", "1 while fetching is paused because the staging directory is full."),
		lag:            gauge("lag", "Records of sysflow.events behind the high watermark, owned partitions."),
		late:           counter("late_records_total", "Records written to late objects (their hour had closed)."),
		missing: vec("missing_references_total", "References whose entity was not in the entity table after the reference wait, each written as a placeholder (an unknown process, file or container), by kind.", "kind",
			refProcess, refParent, refFile, refContainer),
		skipped: vec("skipped_records_total", "Records of sysflow.events not written, by reason: stored (already in a stored object, after a restart) or undecodable.", "reason",
			skipStored, skipUndecodable),
		entityWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "sfstream", Subsystem: "archiver", Name: "entity_wait_seconds",
			Help:    "Time a fetched batch of events waited for the entity table.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}),
		entityTimeouts: counter("entity_wait_timeouts_total", "Batches written before the entity table caught up (after the entity wait)."),
		refWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "sfstream", Subsystem: "archiver", Name: "reference_wait_seconds",
			Help:    "Time a fetched batch of events waited for entities it references that had not arrived (ancestors or files from lagging partitions); only batches that waited.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 12),
		}),
		refWaits:     vec("reference_waits_total", "Batches of events that waited for entities not yet arrived, by result: resolved (every entity came) or timeout (written with placeholders after the reference wait).", "result", resultResolved, resultTimeout),
		lookups:      vec("lookups_total", "Archive listings to find objects stored before a restart, by result.", "result", resultOK, resultError),
		forcedCloses: counter("forced_closes_total", "Open objects closed early because the staging directory was full."),
		commits:      vec("commits_total", "Offset commits of sysflow.events, by result.", "result", resultOK, resultError),
		parquetFiles: vec("parquet_files_written_total", "Parquet files stored beside the objects (--parquet), by kind (hour, late).", "kind", kindHour, kindLate),
		parquetBytes: counter("parquet_bytes_written_total", "Bytes of the Parquet files stored."),
		parquetRows:  counter("parquet_rows_written_total", "Rows (events and flows) of the Parquet files stored."),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		m.files, m.bytes, m.records, m.entityRecords, m.uploadSeconds, m.uploadFailures, m.openHours,
		m.pendingUploads, m.stagingBytes, m.paused, m.lag, m.late, m.missing, m.skipped, m.entityWait,
		m.entityTimeouts, m.refWait, m.refWaits, m.lookups, m.forcedCloses, m.commits,
		m.parquetFiles, m.parquetBytes, m.parquetRows,
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
