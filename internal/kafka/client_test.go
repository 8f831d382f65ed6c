package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/kafka"
)

func fastBackoff() kafka.Option { return kafka.WithBackoff(20*time.Millisecond, 100*time.Millisecond) }

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestDialBrokerDown(t *testing.T) {
	port := freePort(t)
	cfg := kafka.Config{Brokers: []string{"127.0.0.1:" + strconv.Itoa(port)}, DialTimeout: time.Second}

	t.Run("clear error when ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
		defer cancel()
		cl, err := kafka.Dial(ctx, cfg, fastBackoff())
		if err == nil {
			cl.Close()
			t.Fatal("dial succeeded without a broker")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no broker reachable after") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("connects once the broker comes up", func(t *testing.T) {
		var (
			mu      sync.Mutex
			cluster *kfake.Cluster
		)
		timer := time.AfterFunc(300*time.Millisecond, func() {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port))
			if err != nil {
				t.Errorf("start broker: %v", err)
				return
			}
			mu.Lock()
			cluster = c
			mu.Unlock()
		})
		defer func() {
			timer.Stop()
			mu.Lock()
			defer mu.Unlock()
			if cluster != nil {
				cluster.Close()
			}
		}()
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		start := time.Now()
		cl, err := kafka.Dial(ctx, cfg, fastBackoff())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer cl.Close()
		if time.Since(start) < 250*time.Millisecond {
			t.Errorf("connected before the broker was up")
		}
		if err := cl.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{kafka.SASLPlain, kafka.SASLScramSHA256, kafka.SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "sf", "s3cret"))
			pw := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := kafka.Config{Brokers: c.ListenAddrs(), SASL: kafka.SASL{Mechanism: mech, User: "sf", PasswordFile: pw}}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cl, err := kafka.Dial(ctx, cfg, fastBackoff())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			cl.Close()

			// Kafka answers a wrong password with SASL_AUTHENTICATION_FAILED, which Dial does
			// not retry; kfake closes the connection instead, so here Dial retries until the
			// deadline. Either way: an error, without the password.
			cfg.SASL = kafka.SASL{Mechanism: mech, User: "sf", Password: "wrong-pw"}
			wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer wcancel()
			cl, err = kafka.Dial(wctx, cfg, fastBackoff())
			if err == nil {
				cl.Close()
				t.Fatal("dial with a wrong password succeeded")
			}
			if strings.Contains(err.Error(), "wrong-pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// writeCerts writes a CA and a server certificate for 127.0.0.1 signed by it, and returns the
// server's TLS config and the CA file.
func writeCerts(t *testing.T) (*tls.Config, string) {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sfstream test ca"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}}, caFile
}

func TestTLS(t *testing.T) {
	srvCfg, caFile := writeCerts(t)
	c := newCluster(t, kfake.TLS(srvCfg))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name string
		tls  kafka.TLS
		ok   bool
	}{
		{"ca file", kafka.TLS{CAFile: caFile}, true},
		{"insecure skip verify", kafka.TLS{Enabled: true, InsecureSkipVerify: true}, true},
		{"unknown authority", kafka.TLS{Enabled: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			cl, err := kafka.Dial(ctx, kafka.Config{Brokers: c.ListenAddrs(), TLS: tt.tls}, fastBackoff())
			if err == nil {
				cl.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && time.Since(start) > 5*time.Second {
				t.Errorf("certificate failure was retried until the deadline: %v", err)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "m"))
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var clients []*kgo.Client
	// Two clients with distinct ids share the registry; a third with a duplicate id must not
	// panic.
	for _, id := range []string{"a", "b", "b"} {
		cl, err := kafka.Dial(ctx, kafka.Config{Brokers: c.ListenAddrs(), ClientID: id}, kafka.WithMetrics(reg, "test"))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		clients = append(clients, cl)
	}
	if err := clients[0].ProduceSync(ctx, &kgo.Record{Topic: "m", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// kgo calls the produce hook after the promise: poll.
	var found map[string]bool
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		found = clientMetrics(t, reg)
		if found["sfstream_test_produce_records_total/a"] && found["sfstream_test_connects_total/b"] {
			return
		}
	}
	t.Errorf("missing client metrics; have %v", found)
}

// clientMetrics returns "<metric>/<client_id>" of every metric in reg.
func clientMetrics(t *testing.T, reg prometheus.Gatherer) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "sfstream_test_") {
			t.Errorf("metric %s outside namespace sfstream, subsystem test", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "client_id" {
					found[mf.GetName()+"/"+l.GetValue()] = true
				}
			}
		}
	}
	return found
}
