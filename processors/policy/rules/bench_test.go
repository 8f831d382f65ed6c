package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/processors/policy/rules"
	"github.com/sfstream/sfstream/sysflow"
)

// BenchmarkDefaultRules evaluates the default rule set over a mix of records shaped like a
// busy node's (mostly file and network flows, a few execs), none of which fires, one record
// per iteration: records/s per core is 1e9 / ns/op.
func BenchmarkDefaultRules(b *testing.B) {
	s := defaultSet(b)
	mix := benchMix()
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

// benchMix is the record mix of the benchmarks.
func benchMix() []sysflow.Flat {
	return []sysflow.Flat{
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/www/index.html", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/log/nginx/access.log", sysflow.OpWriteSend, sysflow.OpenWronly|sysflow.OpenAppend),
		connect(fixture{exe: "/usr/bin/curl"}, 443),
		fileFlow(fixture{exe: "/usr/bin/python3"}, "/etc/hosts", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		exec(fixture{exe: "/usr/bin/ls", container: web}),
		fileFlow(fixture{exe: "/usr/sbin/nginx", container: web}, "/var/www/style.css", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0),
		connect(fixture{exe: "/usr/sbin/nginx", container: web}, 5432),
		fileFlow(fixture{exe: "/usr/lib/jvm/java"}, "/opt/app/lib.jar", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpMmap, 0),
	}
}

// BenchmarkRuleCount evaluates 1, 10 and 100 rules (the default set's shapes, repeated with
// other names and values) over the same mix: the cost of one rule is the slope.
func BenchmarkRuleCount(b *testing.B) {
	shapes := []string{
		"sf.type = PE and sf.opflags = EXEC and sf.container.id exists and sf.proc.name in (tool%[1]d, sh%[1]d)",
		"sf.type = FF and (sf.file.openflags = WRONLY or sf.opflags = WRITE) and sf.file.path startswith /etc%[1]d/",
		"sf.type = FF and sf.opflags = READ and sf.file.path in (/secret%[1]d, /key%[1]d)",
		"sf.type = NF and sf.opflags = CONNECT and sf.proc.name in (cat%[1]d, grep%[1]d)",
		"sf.type = PE and sf.opflags = SETUID and sf.ret = 0 and sf.proc.uid = %[1]d",
	}
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var src strings.Builder
			for i := range n {
				fmt.Fprintf(&src, "- rule: r%d\n  desc: d\n  condition: %s\n  output: \"%%sf.proc.exe\"\n  priority: INFO\n", i, fmt.Sprintf(shapes[i%len(shapes)], i))
			}
			s, err := rules.Compile(sysprint.QueryFields, rules.File{Name: "bench.yaml", Data: []byte(src.String())})
			if err != nil {
				b.Fatal(err)
			}
			mix := benchMix()
			var rec sysprint.FlatRecord
			var m []*rules.Rule
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				rec.Reset(mix[i%len(mix)])
				m = s.Match(m[:0], &rec)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
