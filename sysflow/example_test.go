package sysflow_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// Flatten the records of a SysFlow file: each process event comes with its process and
// parent, as sf-apis' FlattenedSFReader returns them.
func ExampleFlatReader() {
	f, err := os.Open("../testdata/reference/alpine/alpine.sf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	file, err := sffile.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	r := sysflow.NewFlatReader(file)
	for {
		flat, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if pe, ok := flat.Rec.(*sysflow.ProcessEvent); ok {
			fmt.Printf("%s %s %s by %s (pid %d, parent %s) on %s\n", flat.Kind, sysflow.OpFlags(pe.OpFlags).Names()[0],
				flat.Process.Exe, flat.Process.UserName, flat.Process.OID.HPID, flat.Parent.Exe, flat.Header.Exporter)
		}
	}
	// Output:
	// PE CLONE /bin/busybox by root (pid 120512, parent /usr/bin/containerd-shim) on tests
	// PE CLONE /bin/busybox by root (pid 120839, parent /bin/busybox) on tests
	// PE EXEC /bin/touch by root (pid 120839, parent /bin/busybox) on tests
	// PE EXIT /bin/touch by root (pid 120839, parent /bin/busybox) on tests
	// PE CLONE /bin/busybox by root (pid 120512, parent /usr/bin/containerd-shim) on tests
	// PE CLONE /bin/busybox by root (pid 120847, parent /bin/busybox) on tests
	// PE EXEC /usr/bin/vi by root (pid 120847, parent /bin/busybox) on tests
	// PE EXIT /usr/bin/vi by root (pid 120847, parent /bin/busybox) on tests
}

// With WithEntities the reader returns entities too, each with what it references: here
// the files of a container.
func ExampleWithEntities() {
	f, err := os.Open("../testdata/reference/alpine/alpine.sf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	file, err := sffile.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	r := sysflow.NewFlatReader(file, sysflow.WithEntities())
	for {
		flat, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if flat.Kind == sysflow.KindFile {
			fmt.Printf("%s in container %s (%s)\n", flat.File.Path, flat.Container.Name, flat.Container.Image)
		}
	}
	// Output:
	// /dev/pts/0 in container alpine (alpine:latest:latest)
	// /root/.ash_history in container alpine (alpine:latest:latest)
	// /tmp/test in container alpine (alpine:latest:latest)
	// /etc/passwd in container alpine (alpine:latest:latest)
	// /test2 in container alpine (alpine:latest:latest)
}
