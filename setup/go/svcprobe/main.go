// Command svcprobe is the suites' client: it resolves and connects the way an application
// does (Go's resolver honours the pod's search list and ndots; every HTTP request opens a
// new connection so kube-proxy balances it), and prints one JSON object per call with a
// named outcome (ok, nxdomain, refused, unreachable, timeout, ...). It never retries: the
// helpers decide what a result means.
//
//	svcprobe idle                                     PID 1 of a client pod; exits on SIGTERM
//	svcprobe lookup NAME [--server IP:53] [--cname|--srv|--ptr] [--tcp]
//	                                                  A/AAAA records of NAME (or its CNAME, its SRV
//	                                                  records, or the PTR names of the address NAME)
//	svcprobe http URL [--count N] [--concurrency C] [--lines-matching RE]
//	                                                  GET N times, counts each body (or its lines matching RE)
//	svcprobe udp HOST:PORT [--count N]                one datagram per try, counts each reply
//	svcprobe udp-flow HOST:PORT [--count N] [--interval D] [--local-port P]
//	                                                  one socket (one conntrack entry): a datagram
//	                                                  every D, each reply or failure in order
//	svcprobe dial HOST:PORT                           TCP connect only
//	svcprobe first-answer [--interval D] [--deadline D] reads "ID URL" lines on stdin; prints, per
//	                                                  line, when URL first answered (one JSON line each)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var result any
	switch cmd {
	case "idle":
		idle()
		return
	case "lookup":
		fs, server, cname, srv, ptr, tcp := newFlags("lookup"), "", false, false, false, false
		fs.StringVar(&server, "server", "", "DNS server IP:port to ask instead of resolv.conf")
		fs.BoolVar(&cname, "cname", false, "look up the CNAME instead of addresses")
		fs.BoolVar(&srv, "srv", false, "look up the SRV records of NAME (_port._proto.service...) instead of addresses")
		fs.BoolVar(&ptr, "ptr", false, "look up the PTR names of the address NAME (its reverse record) instead of addresses")
		fs.BoolVar(&tcp, "tcp", false, "ask over TCP only (default: UDP, TCP when an answer is truncated)")
		name := parse(fs, args, 1)[0]
		result = lookup(name, server, lookupKind(cname, srv, ptr), tcp, *timeoutFlag)
	case "http":
		fs, count, conc, lines := newFlags("http"), 1, 1, ""
		fs.IntVar(&count, "count", 1, "requests to send (bounded to 10000)")
		fs.StringVar(&lines, "lines-matching", "", "keep only the body's lines matching this regular expression (a metric out of a large metrics page)")
		fs.IntVar(&conc, "concurrency", 1, "requests in flight at once")
		url := parse(fs, args, 1)[0]
		var keep *regexp.Regexp
		if lines != "" {
			keep = regexp.MustCompile(lines)
		}
		result = httpTries(url, bound(count), max(1, min(conc, 64)), *timeoutFlag, keep)
	case "udp":
		fs, count := newFlags("udp"), 1
		fs.IntVar(&count, "count", 1, "datagrams to send (bounded to 10000)")
		addr := parse(fs, args, 1)[0]
		result = udpTries(addr, bound(count), *timeoutFlag)
	case "udp-flow":
		fs, count, interval, local := newFlags("udp-flow"), 20, 250*time.Millisecond, 0
		fs.IntVar(&count, "count", 20, "datagrams to send (bounded to 10000)")
		fs.DurationVar(&interval, "interval", 250*time.Millisecond, "pause between datagrams")
		fs.IntVar(&local, "local-port", 0, "source port (0: any); the same port again continues the same conntrack entry")
		addr := parse(fs, args, 1)[0]
		result = udpFlow(addr, local, bound(count), interval, *timeoutFlag)
	case "out-of-window-server", "out-of-window":
		result = outOfWindow(cmd, args)
	case "dial":
		fs := newFlags("dial")
		addr := parse(fs, args, 1)[0]
		result = dial(addr, *timeoutFlag)
	case "first-answer":
		fs, interval, deadline := newFlags("first-answer"), 50*time.Millisecond, 60*time.Second
		fs.DurationVar(&interval, "interval", 50*time.Millisecond, "pause between tries of one target")
		fs.DurationVar(&deadline, "deadline", 60*time.Second, "give a target up after this long (bounded to 10m)")
		parse(fs, args, 0)
		firstAnswers(os.Stdin, max(interval, 10*time.Millisecond), min(deadline, 10*time.Minute), *timeoutFlag, 10000)
		return
	default:
		usage()
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

var timeoutFlag *time.Duration

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	timeoutFlag = fs.Duration("timeout", 3*time.Second, "time allowed for each try")
	return fs
}

// parse accepts flags before or after the positional arguments, as people type them.
func parse(fs *flag.FlagSet, args []string, want int) []string {
	var positional []string
	for {
		_ = fs.Parse(args)
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != want {
		usage()
	}
	return positional
}

func bound(n int) int { return max(1, min(n, 10000)) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: svcprobe idle | lookup NAME [--server IP:53] [--cname|--srv|--ptr] [--tcp] | http URL [--count N] [--concurrency C] [--lines-matching RE] | udp HOST:PORT [--count N] | udp-flow HOST:PORT [--count N] [--interval D] [--local-port P] | dial HOST:PORT | first-answer [--interval D] [--deadline D] < \"ID URL\" lines   (all take --timeout)")
	os.Exit(2)
}

// idle waits for SIGTERM or SIGINT so that a client pod stops at once when deleted.
func idle() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
