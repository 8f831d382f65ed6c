package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

// kinds returns the kinds of records (type and operations) of the processes whose exe's base
// name is exe.
func kinds(recs []sysflow.Record, exe string) map[string]bool {
	procs := map[sysflow.OID]bool{}
	for _, r := range recs {
		if p, ok := r.(*sysflow.Process); ok && filepath.Base(p.Exe) == exe {
			procs[p.OID] = true
		}
	}
	out := map[string]bool{}
	for _, r := range recs {
		var oid sysflow.OID
		var flags int32
		switch x := r.(type) {
		case *sysflow.ProcessEvent:
			oid, flags = x.ProcOID, x.OpFlags
		case *sysflow.FileEvent:
			oid, flags = x.ProcOID, x.OpFlags
		case *sysflow.FileFlow:
			oid, flags = x.ProcOID, x.OpFlags&int32(sysflow.OpOpen)
		case *sysflow.NetworkFlow:
			oid, flags = x.ProcOID, x.OpFlags&int32(sysflow.OpConnect|sysflow.OpAccept)
		default:
			continue
		}
		if procs[oid] {
			out[r.Kind().String()+" "+strings.Join(sysflow.OpFlags(flags).Names(), "|")] = true
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// The rename workload of the reference captures (mv /tmp/test1 /tmp/test2), captured live
// and replayed from its capture, yields the same kinds of records for the mv process.
func TestLiveAndReplayGiveTheSameKinds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	// Replay.
	dir := t.TempDir()
	log, _ := service.NewLogger(io.Discard, "text", "error")
	o := runOptions{dataDir: dir, exporter: "tests", replay: filepath.Join(refDir, "rename", "rename.scap"),
		every: time.Hour, partitions: 1, refConfig: true, drainTimeout: time.Minute}
	if err := runPipeline(context.Background(), o, dir, log, io.Discard); err != nil {
		t.Fatal(err)
	}
	replayed, _, err := readArchive(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	want := kinds(replayed, "mv")

	// Live.
	sfstream := build(t, ".", "sfstream")
	live := t.TempDir()
	metrics := freePort(t)
	cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(live, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics), "--reference-config", "--log-level", "warn")
	cmd.Env = testkit.CleanEnv()
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 60*time.Second)
	time.Sleep(time.Second)
	for i := 0; i < 2; i++ {
		a, b := filepath.Join(live, fmt.Sprintf("test1-%d", i)), filepath.Join(live, fmt.Sprintf("test2-%d", i))
		if err := os.WriteFile(a, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mv", a, b).CombinedOutput(); err != nil {
			t.Fatalf("mv: %v: %s", err, out)
		}
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sfstream run: %v\n%s", err, stdout.String())
	}
	captured, _, err := readArchive(filepath.Join(live, "data", "archive"))
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(captured, "mv")
	t.Logf("replay kinds for mv: %v", sortedKeys(want))
	t.Logf("live kinds for mv:   %v", sortedKeys(got))
	if len(want) == 0 {
		t.Fatal("the replay produced no records for mv")
	}
	for k := range want {
		if !got[k] {
			t.Errorf("live capture lacks %q, which the replay has", k)
		}
	}
}
