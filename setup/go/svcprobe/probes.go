package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tally is what a repeated probe saw: how often each answer came, and each failure kind.
type Tally struct {
	Target  string         `json:"target"`
	Count   int            `json:"count"`
	OK      int            `json:"ok"`
	Answers map[string]int `json:"answers"`
	Errors  map[string]int `json:"errors,omitempty"`
	Sample  string         `json:"sampleError,omitempty"`
	Millis  int64          `json:"durationMs"`
}

// Lookup is one name resolution.
type Lookup struct {
	Name    string   `json:"name"`
	Outcome string   `json:"outcome"`
	Addrs   []string `json:"addrs,omitempty"`
	CNAME   string   `json:"cname,omitempty"`
	SRV     []SRV    `json:"srv,omitempty"`
	PTR     []string `json:"ptr,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// SRV is one SRV record as the resolver returned it (the target is absolute: it ends in a dot).
type SRV struct {
	Target   string `json:"target"`
	Port     uint16 `json:"port"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
}

// What a lookup asks for: addresses (A and AAAA), the CNAME, the SRV records of the name, or
// the PTR names of an address.
const (
	askAddrs = iota
	askCNAME
	askSRV
	askPTR
)

func lookupKind(cname, srv, ptr bool) int {
	switch {
	case cname && !srv && !ptr:
		return askCNAME
	case srv && !cname && !ptr:
		return askSRV
	case ptr && !cname && !srv:
		return askPTR
	case !cname && !srv && !ptr:
		return askAddrs
	}
	usage()
	return askAddrs
}

// Dial is one TCP connection attempt.
type Dial struct {
	Target  string `json:"target"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	Millis  int64  `json:"durationMs"`
}

// lookup resolves name; with tcp, every query goes over TCP (Go's resolver speaks DNS over a
// stream when the connection it dials is not a packet one), so UDP and TCP are tested apart.
// SRV names go through the search list like any other (a partial _http._tcp.svc.ns.svc
// resolves); a PTR lookup takes an address and asks its in-addr.arpa or ip6.arpa name.
func lookup(name, server string, kind int, tcp bool, timeout time.Duration) Lookup {
	r := net.DefaultResolver
	if server != "" || tcp {
		if server != "" {
			if _, _, err := net.SplitHostPort(server); err != nil { // a bare address: 10.96.0.10, fd00::a or [fd00::a]
				server = net.JoinHostPort(strings.Trim(server, "[]"), "53")
			}
		}
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			if server != "" {
				address = server
			}
			if tcp {
				network = "tcp"
			}
			return (&net.Dialer{}).DialContext(ctx, network, address)
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res := Lookup{Name: name}
	var err error
	switch kind {
	case askCNAME:
		res.CNAME, err = r.LookupCNAME(ctx, name)
	case askSRV:
		var records []*net.SRV
		_, records, err = r.LookupSRV(ctx, "", "", name)
		for _, s := range records {
			res.SRV = append(res.SRV, SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
		}
	case askPTR:
		res.PTR, err = r.LookupAddr(ctx, name)
	default:
		res.Addrs, err = r.LookupHost(ctx, name)
	}
	res.Outcome = outcome(err)
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// httpTries GETs url count times and tallies the bodies; with keep, each body is cut down to
// its lines that match (k3s serves every component's metrics on one 3 MB page).
func httpTries(url string, count, concurrency int, timeout time.Duration, keep *regexp.Regexp) Tally {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	return repeat(url, count, concurrency, func() (string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20)) // metrics pages are large
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", &statusError{resp.StatusCode}
		}
		if keep != nil {
			var kept []string
			for _, line := range strings.Split(string(body), "\n") {
				if keep.MatchString(line) {
					kept = append(kept, line)
				}
			}
			return strings.Join(kept, "\n"), nil
		}
		return strings.TrimSpace(string(body)), nil
	})
}

func udpTries(addr string, count int, timeout time.Duration) Tally {
	return repeat(addr, count, 1, func() (string, error) {
		conn, err := net.DialTimeout("udp", addr, timeout)
		if err != nil {
			return "", err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(timeout))
		if _, err := conn.Write([]byte("hostname")); err != nil {
			return "", err
		}
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(buf[:n])), nil
	})
}

// Flow is one UDP flow: every datagram left from the same socket, so conntrack keeps one
// entry for it. Sequence holds each reply (the backend's name) or failure kind, in order.
type Flow struct {
	Target   string   `json:"target"`
	Local    string   `json:"local"`
	Sequence []string `json:"sequence"`
	Millis   int64    `json:"durationMs"`
}

func udpFlow(addr string, localPort, count int, interval, timeout time.Duration) Flow {
	start := time.Now()
	f := Flow{Target: addr}
	dialer := net.Dialer{Timeout: timeout, LocalAddr: &net.UDPAddr{Port: localPort}}
	conn, err := dialer.Dial("udp", addr)
	if err != nil {
		f.Sequence = append(f.Sequence, outcome(err))
		return f
	}
	defer conn.Close()
	f.Local = conn.LocalAddr().String()
	buf := make([]byte, 2048)
	for i := range count {
		if i > 0 {
			time.Sleep(interval)
		}
		_ = conn.SetDeadline(time.Now().Add(timeout))
		if _, err := conn.Write([]byte("hostname")); err != nil {
			f.Sequence = append(f.Sequence, outcome(err))
			continue
		}
		n, err := conn.Read(buf)
		if err != nil {
			f.Sequence = append(f.Sequence, outcome(err))
			continue
		}
		f.Sequence = append(f.Sequence, strings.TrimSpace(string(buf[:n])))
	}
	f.Millis = time.Since(start).Milliseconds()
	return f
}

func dial(addr string, timeout time.Duration) Dial {
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		conn.Close()
	}
	res := Dial{Target: addr, Outcome: outcome(err), Millis: time.Since(start).Milliseconds()}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// repeat runs try count times with at most concurrency in flight and tallies the answers.
func repeat(target string, count, concurrency int, try func() (string, error)) Tally {
	t := Tally{Target: target, Count: count, Answers: map[string]int{}, Errors: map[string]int{}}
	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				answer, err := try()
				mu.Lock()
				if err != nil {
					t.Errors[outcome(err)]++
					t.Sample = err.Error()
				} else {
					t.OK++
					t.Answers[answer]++
				}
				mu.Unlock()
			}
		}()
	}
	for range count {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	t.Millis = time.Since(start).Milliseconds()
	return t
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "HTTP status " + http.StatusText(e.code) }

// outcome names an error the way the suites' expectations do.
func outcome(err error) string {
	var dnsErr *net.DNSError
	var status *statusError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "nxdomain"
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "dns-timeout"
	case errors.As(err, &dnsErr):
		return "dns-error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timeout"
	case errors.As(err, &status):
		return "http-status"
	default:
		return "error"
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
