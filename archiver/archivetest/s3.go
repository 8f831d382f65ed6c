package archivetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sfstream/sfstream/internal/stack"
)

// S3 is an in-memory S3 server (gofakes3) that checks the access key of every request, as a
// real server does, and can be started late on a port reserved in advance.
type S3 struct {
	// Target is the archive target of the server, with the accepted credentials.
	Target stack.ArchiveTarget

	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
	h   http.Handler
}

// NewS3 reserves a loopback port for an S3 server with bucket and the given access key,
// without serving yet: until Start, the endpoint refuses connections.
func NewS3(t testing.TB, bucket, accessKey, secretKey string) *S3 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s := &S3{
		Target: stack.ArchiveTarget{Endpoint: addr, Bucket: bucket, AccessKey: accessKey, SecretKey: secretKey, Region: stack.DefaultS3Region},
		h:      checkAccessKey(accessKey, gofakes3.New(backend).Server()),
	}
	t.Cleanup(s.Stop)
	return s
}

// Start serves on the reserved port.
func (s *S3) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after the reservation
		if ln, err = net.Listen("tcp", s.Target.Endpoint); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("start s3: %v", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("s3 server: %v", err))
		}
	}()
}

// Stop stops serving.
func (s *S3) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		s.srv = nil
	}
}

// checkAccessKey answers 403 InvalidAccessKeyId, as S3 does, to requests signed with another
// access key (gofakes3 accepts any).
func checkAccessKey(key string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if !strings.Contains(auth, "Credential="+key+"/") && r.URL.Query().Get("X-Amz-Credential") == "" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			if r.Method != http.MethodHead {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>`)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}
