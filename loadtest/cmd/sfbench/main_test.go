package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/loadtest/bench"
)

func TestHelpListsTheFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"sfbench", "-h"}, func(string) string { return "" }, &out, &out)
	if err == nil {
		t.Fatal("-h returned no error")
	}
	for _, want := range []string{"-stack", "-kafka-brokers", "-profiles", "-events", "-cpuprofile", "-results", "SFSTREAM_"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestBadFlagsAreClearErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"sfbench", "-profiles", "nope"},
		{"sfbench", "-scaling", "1,x"},
		{"sfbench", "-state", "other"},
		{"sfbench", "-stack", "local", "-stack-env", filepath.Join(t.TempDir(), "missing.env")},
	} {
		if err := run(context.Background(), args, env, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestReadStackEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stack.env")
	if err := os.WriteFile(path, []byte("export SFSTREAM_KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9093\nexport SFSTREAM_SCHEMA_REGISTRY_URL=http://127.0.0.1:8081\nexport SFSTREAM_S3_BUCKET=b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg bench.Config
	if err := readStackEnv(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Kafka.Brokers, []string{"127.0.0.1:9092", "127.0.0.1:9093"}) || cfg.RegistryURL != "http://127.0.0.1:8081" {
		t.Errorf("brokers %v, registry %q", cfg.Kafka.Brokers, cfg.RegistryURL)
	}
}
