//go:build !docker

package testkit

import (
	"errors"
	"fmt"
	"testing"
)

// dockerEnv without the docker build tag: the tests were built without testcontainers-go.
func dockerEnv(testing.TB, *Env, func(string) string) error {
	return fmt.Errorf("%s=docker: %w", EnvStack,
		errors.New("docker mode needs the tests built with -tags docker and a Docker engine: make test-integration-docker"))
}
