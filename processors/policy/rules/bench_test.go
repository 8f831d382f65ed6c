package rules_test

import (
	"testing"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/sysflow"
)

// BenchmarkDefaultRules evaluates the default rule set over a mix of records shaped like a
// busy node's (mostly file and network flows, a few execs), none of which fires, one record
// per iteration: records/s per core is 1e9 / ns/op.
func BenchmarkDefaultRules(b *testing.B) {
	s := defaultSet(b)
	mix := []sysflow.Flat{
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/www/index.html", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/log/nginx/access.log", sysflow.OpWriteSend, sysflow.OpenWronly|sysflow.OpenAppend),
		connect(fixture{exe: "/usr/bin/curl"}, 443),
		fileFlow(fixture{exe: "/usr/bin/python3"}, "/etc/hosts", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		exec(fixture{exe: "/usr/bin/ls", container: web}),
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/www/style.css", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		connect(fixture{exe: "/usr/sbin/nginx", container: web}, 5432),
		fileFlow(fixture{exe: "/usr/lib/jvm/java"}, "/opt/app/lib.jar", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpMmap, 0),
	}
	var rec sysprint.FlatRecord
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := range b.N {
		rec.Reset(mix[i%len(mix)])
		n += len(s.Match(nil, &rec))
	}
	if n != 0 {
		b.Fatalf("%d matches on benign records", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
