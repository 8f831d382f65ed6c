package sysprint

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Remote inputs: s3://bucket/prefix (an archive written by sf-archiver, or any SysFlow
// objects) and kafka://broker:port/topic (sysflow.events or sysflow.entities).
const (
	schemeS3    = "s3://"
	schemeKafka = "kafka://"
)

// Environment variables read when the flags leave a setting open.
const (
	envS3Endpoint      = "SFSTREAM_S3_ENDPOINT"
	envS3AccessKey     = "SFSTREAM_S3_ACCESS_KEY"
	envS3SecretKey     = "SFSTREAM_S3_SECRET_KEY"
	envS3SecretKeyFile = "SFSTREAM_S3_SECRET_KEY_FILE"
	envS3Secure        = "SFSTREAM_S3_SECURE"
	envS3Region        = "SFSTREAM_S3_REGION"
	envRegistryURL     = "SFSTREAM_SCHEMA_REGISTRY_URL"
)

// hourLayout is the form of -from and -to.
const hourLayout = "2006-01-02T15"

// remoteConfig holds the settings of s3:// and kafka:// paths. The S3 flags are sysprint's:
// -e/--s3endpoint, -p/--s3port, -a/--s3accesskey, -s/--s3secretkey, --secure.
type remoteConfig struct {
	endpoint  string
	port      int
	accessKey string
	secretKey string
	secure    optionalBool
	region    string
	from, to  string
	registry  string
	// getenv reads the environment; nil means os.Getenv.
	getenv func(string) string
}

// optionalBool is a boolean flag that knows whether it was given.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// addRemoteFlags registers the flags of remote paths on fs.
func addRemoteFlags(fs *flag.FlagSet, r *remoteConfig) {
	for _, name := range []string{"e", "s3endpoint"} {
		fs.StringVar(&r.endpoint, name, "", "S3 `host`, host:port or http(s)://host:port of s3:// paths (default $"+envS3Endpoint+")")
	}
	for _, name := range []string{"p", "s3port"} {
		fs.IntVar(&r.port, name, 0, "S3 `port` when -e has none (default 443 with --secure, else 80)")
	}
	for _, name := range []string{"a", "s3accesskey"} {
		fs.StringVar(&r.accessKey, name, "", "S3 access `key` (default $"+envS3AccessKey+")")
	}
	for _, name := range []string{"s", "s3secretkey"} {
		fs.StringVar(&r.secretKey, name, "", "S3 secret `key` (default $"+envS3SecretKey+" or the file $"+envS3SecretKeyFile+")")
	}
	fs.Var(&r.secure, "secure", "use https to S3 (default $"+envS3Secure+", else the endpoint URL's scheme, else true)")
	fs.StringVar(&r.region, "s3-region", "", "S3 `region` (default $"+envS3Region+" or us-east-1)")
	fs.StringVar(&r.from, "from", "", "s3://: only objects of this `hour` (YYYY-MM-DDTHH, UTC) and later")
	fs.StringVar(&r.to, "to", "", "s3://: only objects of this `hour` (YYYY-MM-DDTHH, UTC) and earlier")
	fs.StringVar(&r.registry, "registry", "", "schema registry `URL` of kafka:// paths (default $"+envRegistryURL+" or http://<first broker host>:8081)")
}

func (r *remoteConfig) env(name string) string {
	if r.getenv != nil {
		return r.getenv(name)
	}
	return os.Getenv(name)
}

// isRemote reports whether path is an s3:// or kafka:// path.
func isRemote(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, schemeS3) || strings.HasPrefix(p, schemeKafka)
}

// validate checks a remote path and the settings it needs that can be checked before
// reading anything.
func (r *remoteConfig) validate(path string) error {
	if _, _, err := r.hourRange(); err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToLower(path), schemeS3) {
		_, _, err := parseS3Path(path)
		return err
	}
	_, _, err := parseKafkaPath(path)
	return err
}

// hourRange returns the -from and -to hours; zero times when not given.
func (r *remoteConfig) hourRange() (from, to time.Time, err error) {
	if r.from != "" {
		if from, err = time.Parse(hourLayout, r.from); err != nil {
			return from, to, fmt.Errorf("-from %q: want YYYY-MM-DDTHH", r.from)
		}
	}
	if r.to != "" {
		if to, err = time.Parse(hourLayout, r.to); err != nil {
			return from, to, fmt.Errorf("-to %q: want YYYY-MM-DDTHH", r.to)
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, fmt.Errorf("-to %s is before -from %s", r.to, r.from)
	}
	return from, to, nil
}

// parseS3Path splits s3://bucket/prefix.
func parseS3Path(path string) (bucket, prefix string, err error) {
	rest := path[len(schemeS3):]
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s: want s3://bucket[/prefix]", path)
	}
	return bucket, prefix, nil
}

// parseKafkaPath splits kafka://host:port[,host:port...]/topic.
func parseKafkaPath(path string) (brokers []string, topic string, err error) {
	rest := path[len(schemeKafka):]
	hosts, topic, ok := strings.Cut(rest, "/")
	if !ok || hosts == "" || topic == "" || strings.Contains(topic, "/") {
		return nil, "", fmt.Errorf("%s: want kafka://broker:port/topic", path)
	}
	for _, h := range strings.Split(hosts, ",") {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, "", fmt.Errorf("%s: broker %q: want host:port", path, h)
		}
		brokers = append(brokers, h)
	}
	return brokers, topic, nil
}

// s3Settings is how to reach an S3 server.
type s3Settings struct {
	hostport             string
	secure               bool
	accessKey, secretKey string
	region               string
}

// s3 resolves the S3 settings from the flags, then the environment, then the defaults.
func (r *remoteConfig) s3() (s3Settings, error) {
	var s s3Settings
	endpoint := r.endpoint
	if endpoint == "" {
		endpoint = r.env(envS3Endpoint)
	}
	if endpoint == "" {
		return s, fmt.Errorf("s3: no endpoint: give -e HOST (and -p PORT) or set %s", envS3Endpoint)
	}
	s.secure = true // sysprint's default
	if v := r.env(envS3Secure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("s3: %s=%q: want true or false", envS3Secure, v)
		}
		s.secure = b
	}
	host := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("s3: endpoint %q: want host[:port] or http(s)://host[:port]", endpoint)
		}
		host, s.secure = u.Host, u.Scheme == "https"
	}
	if r.secure.set {
		s.secure = r.secure.value
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := r.port
		if port == 0 {
			port = 80
			if s.secure {
				port = 443
			}
		}
		host = net.JoinHostPort(host, strconv.Itoa(port))
	} else if r.port != 0 {
		return s, errors.New("s3: the endpoint has a port; -p would contradict it")
	}
	s.hostport = host
	s.accessKey = firstOf(r.accessKey, r.env(envS3AccessKey))
	s.secretKey = firstOf(r.secretKey, r.env(envS3SecretKey))
	if s.secretKey == "" {
		if file := r.env(envS3SecretKeyFile); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return s, fmt.Errorf("s3: %s: %w", envS3SecretKeyFile, err)
			}
			line, _, _ := strings.Cut(string(b), "\n")
			s.secretKey = strings.TrimSpace(line)
		}
	}
	s.region = firstOf(r.region, r.env(envS3Region), "us-east-1")
	return s, nil
}

// registryURL returns the schema registry of kafka:// paths with brokers.
func (r *remoteConfig) registryURL(brokers []string) string {
	if u := firstOf(r.registry, r.env(envRegistryURL)); u != "" {
		return strings.TrimRight(u, "/")
	}
	host, _, _ := net.SplitHostPort(brokers[0])
	return "http://" + net.JoinHostPort(host, "8081")
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
