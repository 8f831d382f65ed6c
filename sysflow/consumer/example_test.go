package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/sfstream/sfstream/sysflow/consumer"
)

// Read the records of a directory of SysFlow files that match an SFQL expression. FromS3 and
// FromKafka give the same Source.
func ExampleFromDir() {
	src, err := consumer.FromDir("../../testdata/reference/alpine", consumer.WithFilter("type = PE and opflags = EXEC"))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	for {
		flat, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s, child of %s, in container %s\n", flat.Kind, flat.Process.Exe, flat.Parent.Exe, flat.Container.Name)
	}
	// Output:
	// PE /bin/touch, child of /bin/busybox, in container alpine
	// PE /usr/bin/vi, child of /bin/busybox, in container alpine
}

// Follow the topics of a pipeline in a consumer group: each record comes joined with the
// entities of sysflow.entities, and the group's offsets advance as records are returned.
func ExampleFromKafka() {
	src, err := consumer.FromKafka(consumer.KafkaConfig{
		Brokers:     []string{"127.0.0.1:9092"},
		RegistryURL: "http://127.0.0.1:8081",
		Group:       "my-reader",
		Start:       consumer.AtEnd(),
	}, consumer.WithFilter("type = NF and net.dport = 443"))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for {
		flat, err := src.Next(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(flat.Process.Exe, flat.Resource())
	}
}
