package main

// The out-of-window test of kubernetes#74839, as upstream's regression-issue-74839 image does it,
// split into a server and a client that says what became of each connection.
//
//	svcprobe out-of-window-server --port P --ips IP[,IP]   a TCP server on :P that watches its own
//	        addresses on a raw socket (NET_RAW): when a client's handshake completes, it sends that
//	        client two segments out of window from its pod address, then asks the client over the
//	        connection whether it is still there
//	svcprobe out-of-window HOST:PORT [--count N]             N connections, one after another; each
//	        answers "survived" when it outlived the injected segment, or names how it ended
//
// Conntrack marks such a segment INVALID and does not reverse the Service's DNAT, so it reaches
// the client from the pod's address; the client, knowing no such connection, answers with a
// RST that the server takes as in-window, and the Service connection dies ("reset"). A proxy
// that drops INVALID packets, or conntrack tracking TCP liberally, keeps it alive.
//
// The first segment is upstream's: 100,000 bytes behind the window. Linux 6.1 and later no longer
// call a segment that far behind INVALID (netfilter "ignore overly delayed tcp packets",
// 6e250dcbff1d): they let it through with the connection's NAT, so the client only acknowledges
// it again. The second lies 2^30 bytes ahead, beyond any receive window, which every kernel marks
// INVALID ("SEQ is over the upper bound").

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	tcpFIN = 1 << 0
	tcpSYN = 1 << 1
	tcpRST = 1 << 2
	tcpPSH = 1 << 3
	tcpACK = 1 << 4
	// How far behind the client's view of the server's sequence upstream's segment is.
	outOfWindowBy = 100000
	// How far ahead of it the second segment is: beyond the largest window (2^30 with scale 14).
	aheadOfWindowBy = 1 << 30
)

// outOfWindow runs either side; the server never returns.
func outOfWindow(cmd string, args []string) any {
	if cmd == "out-of-window-server" {
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		port := fs.Int("port", 9000, "TCP port to serve and watch")
		ips := fs.String("ips", "", "the pod's addresses, comma-separated (status.podIPs), watched on raw sockets")
		parse(fs, args, 0)
		oowServe(*port, strings.Split(*ips, ","))
		return nil
	}
	fs, count := newFlags(cmd), 1
	fs.IntVar(&count, "count", 1, "connections to make, one after another (bounded to 100)")
	addr := parse(fs, args, 1)[0]
	timeout := *timeoutFlag
	return repeat(addr, max(1, min(count, 100)), 1, func() (string, error) { return oowTry(addr, timeout) })
}

// oowTry is one connection: the server's first line says it sent the segments, the client answers,
// and the server's last line says it still holds the connection. A server whose connection the
// client's RST killed sends nothing: the client then asks anyway, and the server's kernel, holding no
// such connection any more, answers with a RST ("reset").
func oowTry(addr string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	in := bufio.NewReader(conn)
	_ = conn.SetDeadline(time.Now().Add(timeout))
	first, err := in.ReadString('\n')
	switch {
	case err == nil && strings.TrimSpace(first) != "injected":
		return "", fmt.Errorf("server did not inject: %s", strings.TrimSpace(first))
	case err != nil && !isTimeout(err):
		return "", fmt.Errorf("waiting for the server to inject: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("still-here\n")); err != nil {
		return "", fmt.Errorf("after the out-of-window segments: %w", err)
	}
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("after the out-of-window segments: %w", err)
		}
		switch strings.TrimSpace(line) {
		case "injected":
			continue // the server was slow to say so: its answer follows
		case "not-injected":
			return "", fmt.Errorf("server did not inject: not-injected")
		default:
			return strings.TrimSpace(line), nil
		}
	}
}

// oowConn is what the raw side knows of one client connection, by its address as the server sees it.
type oowConn struct {
	synSeen  bool // the raw socket saw the client's SYN: the next ACK completes the handshake
	injected chan struct{}
}

type oowServer struct {
	port  int
	mu    sync.Mutex
	conns map[string]*oowConn
}

func (s *oowServer) conn(key string) *oowConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[key]
	if !ok {
		c = &oowConn{injected: make(chan struct{})}
		s.conns[key] = c
	}
	return c
}

// known is the connection of key if its SYN was seen and nothing was injected into it yet.
func (s *oowServer) known(key string) *oowConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[key]
	if c == nil || !c.synSeen {
		return nil
	}
	select {
	case <-c.injected:
		return nil // injected already: this is the connection's own traffic
	default:
		return c
	}
}

func (s *oowServer) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, key)
}

func oowServe(port int, ips []string) {
	log.SetOutput(os.Stdout)
	s := &oowServer{port: port, conns: map[string]*oowConn{}}
	for _, ip := range ips {
		addr := net.ParseIP(strings.TrimSpace(ip))
		if addr == nil {
			log.Fatalf("--ips: %q is not an address", ip)
		}
		network := "ip6:tcp"
		if addr.To4() != nil {
			network = "ip4:tcp"
		}
		raw, err := net.ListenIP(network, &net.IPAddr{IP: addr})
		if err != nil {
			log.Fatalf("raw socket on %s (needs NET_RAW): %v", addr, err)
		}
		go s.watch(raw, addr)
	}
	listener, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		log.Fatalf("listen on :%d: %v", port, err)
	}
	log.Printf("serving :%d, watching %s", port, strings.Join(ips, ","))
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		os.Exit(0)
	}()
	for {
		c, err := listener.Accept()
		if err != nil {
			log.Fatalf("accept: %v", err)
		}
		go s.handle(c)
	}
}

// handle waits for the raw side's injection, then asks the client whether the connection lives.
func (s *oowServer) handle(c net.Conn) {
	defer c.Close()
	key := c.RemoteAddr().String()
	state := s.conn(key)
	defer s.forget(key)
	select {
	case <-state.injected:
	case <-time.After(5 * time.Second):
		log.Printf("%s: no handshake seen on the raw socket", key)
		_, _ = c.Write([]byte("not-injected\n"))
		return
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("injected\n")); err != nil {
		log.Printf("ERROR: %s: connection lost after the out-of-window segment: %v", key, err)
		return
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		log.Printf("ERROR: %s: connection lost after the out-of-window segment: %v", key, err)
		return
	}
	if strings.TrimSpace(line) != "still-here" {
		log.Printf("ERROR: %s: unexpected %q", key, line)
		return
	}
	_, _ = c.Write([]byte("survived\n"))
	log.Printf("%s: survived the out-of-window segment", key)
}

// watch reads every TCP segment to addr: a SYN to our port records the client's sequence, the
// handshake's ACK gets the out-of-window segment sent back, and a RST is logged.
func (s *oowServer) watch(raw *net.IPConn, local net.IP) {
	buf := make([]byte, 65536)
	for {
		n, from, err := raw.ReadFrom(buf)
		if err != nil {
			log.Printf("raw read: %v", err)
			continue
		}
		seg := buf[:n]
		if len(seg) < 20 || int(binary.BigEndian.Uint16(seg[2:4])) != s.port {
			continue
		}
		srcPort := binary.BigEndian.Uint16(seg[0:2])
		seq, ack := binary.BigEndian.Uint32(seg[4:8]), binary.BigEndian.Uint32(seg[8:12])
		flags := seg[13]
		window := binary.BigEndian.Uint16(seg[14:16])
		remote := from.(*net.IPAddr).IP
		key := net.JoinHostPort(remote.String(), fmt.Sprint(srcPort))
		switch {
		case flags&tcpRST != 0:
			log.Printf("%s: RST received", key)
		case flags&tcpSYN != 0:
			state := s.conn(key)
			s.mu.Lock()
			state.synSeen = true
			s.mu.Unlock()
		case flags&tcpACK != 0 && flags&tcpFIN == 0:
			state := s.known(key)
			if state == nil {
				continue
			}
			// The client's next sequence is its ISN+1 (nothing sent yet); ours, as it acknowledged, is ack.
			sent := true
			for _, bad := range []struct {
				seq  uint32
				what string
			}{{ack - outOfWindowBy, fmt.Sprintf("%d behind", outOfWindowBy)}, {ack + aheadOfWindowBy, fmt.Sprintf("%d ahead", aheadOfWindowBy)}} {
				seg := oowSegment(local, remote, uint16(s.port), srcPort, bad.seq, seq, window, []byte("boom!!!"))
				if _, err := raw.WriteTo(seg, &net.IPAddr{IP: remote}); err != nil {
					log.Printf("%s: sending the out-of-window segment: %v", key, err)
					sent = false
					break
				}
				log.Printf("%s: out-of-window segment sent (seq %d, %s)", key, bad.seq, bad.what)
			}
			if sent {
				close(state.injected)
			}
		}
	}
}

// oowSegment is a PSH|ACK TCP segment with its checksum over the pseudo-header of src → dst.
func oowSegment(src, dst net.IP, srcPort, dstPort uint16, seq, ack uint32, window uint16, data []byte) []byte {
	seg := make([]byte, 20+len(data))
	binary.BigEndian.PutUint16(seg[0:], srcPort)
	binary.BigEndian.PutUint16(seg[2:], dstPort)
	binary.BigEndian.PutUint32(seg[4:], seq)
	binary.BigEndian.PutUint32(seg[8:], ack)
	seg[12] = 5 << 4 // data offset: 5 words, no options
	seg[13] = tcpPSH | tcpACK
	binary.BigEndian.PutUint16(seg[14:], window)
	copy(seg[20:], data)
	var pseudo []byte
	if s4, d4 := src.To4(), dst.To4(); s4 != nil && d4 != nil {
		pseudo = append(append(append([]byte{}, s4...), d4...), 0, syscall.IPPROTO_TCP, 0, 0)
		binary.BigEndian.PutUint16(pseudo[10:], uint16(len(seg)))
	} else {
		pseudo = append(append(append([]byte{}, src.To16()...), dst.To16()...), make([]byte, 8)...)
		binary.BigEndian.PutUint32(pseudo[32:], uint32(len(seg)))
		pseudo[39] = syscall.IPPROTO_TCP
	}
	binary.BigEndian.PutUint16(seg[16:], internetChecksum(append(pseudo, seg...)))
	return seg
}

// internetChecksum is RFC 1071's ones' complement sum.
func internetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
